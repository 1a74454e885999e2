/**
 * What every session backend offers (`SessionBackend`), and what does not depend on where a
 * session lives: cookie names and attributes, lifetimes, and the `Session` the app sees.
 */
import type { Channel, LogoutTarget } from '../registry.js';
import type { ExposedTokens, LogoutReason, ResolvedConfig, Session } from '../types.js';
import type { CookieAttributes } from './cookies.js';
import { type SessionRecord, type TokenRecord, userOf } from './record.js';

export interface ReadResult {
  record: SessionRecord | null;
  /**
   * A session that was there but is over: past its idle or absolute expiry, or ended by an
   * OP-initiated logout that this request is the first to see. `reason` is null when its end was
   * already reported (a revoked id).
   */
  ended: { record: SessionRecord; reason: LogoutReason | null } | null;
  /** `Set-Cookie` values the response must carry. */
  setCookies: string[];
  /** True when the store failed: the session reads as signed out (fail closed), though its cookie may be good. */
  unavailable?: boolean;
}

/** Sessions a bulk logout ended: how many stored ones (null in cookie mode), and those read for `onLogout`. */
export interface EndedSessions {
  count: number | null;
  sessions: Array<{ record: SessionRecord; tokens: TokenRecord }>;
}

/**
 * Where sessions live: sealed cookies (`CookieSessions`) or the store (`ServerSessions`).
 * Everything that differs between the two modes is behind this interface; the flows never ask
 * which mode they run in.
 */
export interface SessionBackend {
  /** Name of the cookie that identifies the session. */
  readonly sessionName: string;
  /** The request's session with every check of this mode applied (expiry; revocation and tombstones, or the stored session). */
  read(cookies: Map<string, string>): Promise<ReadResult>;
  readTokens(cookies: Map<string, string>, record: SessionRecord): Promise<TokenRecord | null>;
  /** A new login: keeps the session and returns the `Set-Cookie` values of its cookies. */
  write(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]>;
  /** Replaces the data of the request's session (refreshed tokens), keeping its identity. */
  update(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]>;
  /** `Set-Cookie` values that bring a request still carrying an older cookie of the session up to date. */
  resend(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]>;
  /** Ends one session where it lives, so that no copy of its cookie works any more. Cookies: `deleteCookies`. */
  end(cookies: Map<string, string>, record: SessionRecord): Promise<void>;
  /**
   * Ends, on every instance, the sessions of `target` that began at or before `at`. `report`:
   * read the ended sessions for `onLogout` (server mode; cookie sessions end when next seen).
   */
  endTarget(target: LogoutTarget, at: number, channel: Channel, report: boolean): Promise<EndedSessions>;
  /** `Set-Cookie` values deleting every session cookie the request carried; touches no store. */
  deleteCookies(cookies: Map<string, string>): string[];
  /**
   * The identity of the session cookie presented, found without the store (the CSRF token is
   * bound to it): the sealed session's id, or the digest of a server-mode id. Null when absent or malformed.
   */
  binding(cookies: Map<string, string>): Promise<string | null>;
}

/** Session cookies: `__Host-` on https (RFC 6265bis §4.1.3.2 pins host, Path=/, Secure). */
export function sessionCookieName(config: ResolvedConfig, kind: 'session' | 'tokens'): string {
  return `${config.secure ? '__Host-' : ''}${config.cookieName}.${kind}`;
}

export function sessionCookieAttributes(config: ResolvedConfig, maxAge: number): CookieAttributes {
  return { path: '/', secure: config.secure, sameSite: config.sameSite, maxAge };
}

/** When the session ends unless a request rolls its idle window first. */
export function expiresAt(config: ResolvedConfig, record: SessionRecord): number {
  return config.idleDuration > 0 ? Math.min(record.endsAt, record.touchedAt + config.idleDuration) : record.endsAt;
}

/** Idle expiry is enforced to within this many seconds: a session is re-written only when it is that stale. */
export function rollInterval(config: ResolvedConfig): number {
  return Math.max(1, Math.min(300, Math.floor(config.idleDuration / 10)));
}

export function needsRoll(config: ResolvedConfig, record: SessionRecord, now: number): boolean {
  return config.idleDuration > 0 && now - record.touchedAt >= rollInterval(config);
}

export function toSession(config: ResolvedConfig, record: SessionRecord, tokens: TokenRecord | null): Session {
  return {
    user: userOf(record),
    provider: record.provider,
    tokens: exposeTokens(config.exposeTokens, record, tokens),
    iss: record.issuer,
    sub: record.subject,
    ...(record.sid !== undefined ? { sid: record.sid } : {}),
    createdAt: Math.floor(record.createdAt),
    expiresAt: expiresAt(config, record),
  };
}

/** Streamlit's `st.user.tokens` semantics: only what the allowlist names, nothing by default. */
function exposeTokens(allow: readonly string[], record: SessionRecord, tokens: TokenRecord | null): ExposedTokens {
  const out: ExposedTokens = {};
  if (allow.length === 0) return out;
  if (allow.includes('id') && record.idToken) out.id = record.idToken;
  if (!tokens) return out;
  if (allow.includes('access') && tokens.accessToken) {
    out.access = tokens.accessToken;
    if (tokens.accessTokenExpiresAt !== undefined) out.accessExpiresAt = tokens.accessTokenExpiresAt;
  }
  if (allow.includes('refresh') && tokens.refreshToken) out.refresh = tokens.refreshToken;
  return out;
}
