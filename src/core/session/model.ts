import type { ExposedTokens, ResolvedConfig, Session, UserClaims } from '../types.js';
import type { CookieAttributes } from './cookies.js';

/** What a session holds (sealed in a cookie, or stored). Short keys: it travels on every request. */
export interface SessionRecord {
  v: 1;
  /** Our own random session id: binds the tokens to this login, and the CSRF token to this session. */
  id: string;
  /** Provider key. */
  p: string;
  iss: string;
  sub: string;
  sid?: string;
  u: UserClaims;
  /** Login time (epoch seconds, with milliseconds), absolute expiry and last touch (epoch seconds). */
  c: number;
  a: number;
  t: number;
}

/** The tokens of a session, kept apart from the claims so the hot path need not read them. */
export interface TokenRecord {
  v: 1;
  id: string;
  idt?: string;
  at?: string;
  /** Access token expiry (epoch seconds). */
  ate?: number;
  rt?: string;
}

export interface ReadResult {
  record: SessionRecord | null;
  /** Set when a session was there but is past its idle or absolute expiry. */
  expired: SessionRecord | null;
  /** `Set-Cookie` values the response must carry. */
  setCookies: string[];
}

/** Where sessions live: sealed cookies (`CookieSessions`) or the store (`ServerSessions`). */
export interface SessionBackend {
  /** Name of the cookie that identifies the session (the CSRF and logout routes need it). */
  readonly sessionName: string;
  read(cookies: Map<string, string>): Promise<ReadResult>;
  readTokens(cookies: Map<string, string>, record: SessionRecord): Promise<TokenRecord | null>;
  write(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]>;
  /** Replaces the data of the session the request carries (refreshed tokens), keeping its identity. */
  update(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]>;
  /** Ends the session where it lives and returns the `Set-Cookie` values that delete its cookies. */
  clear(cookies: Map<string, string>, record?: SessionRecord | null): Promise<string[]>;
}

/** Session cookies: `__Host-` on https (RFC 6265bis §4.1.3.2 pins host, Path=/, Secure). */
export function sessionCookieName(config: ResolvedConfig, kind: 'session' | 'tokens'): string {
  return `${config.secure ? '__Host-' : ''}${config.cookieName}.${kind}`;
}

export function sessionCookieAttributes(config: ResolvedConfig, maxAge: number): CookieAttributes {
  return { path: '/', secure: config.secure, sameSite: config.sameSite, maxAge };
}

export function expiresAt(config: ResolvedConfig, record: SessionRecord): number {
  return config.idleDuration > 0 ? Math.min(record.a, record.t + config.idleDuration) : record.a;
}

/** Idle expiry is enforced to within this many seconds: a session is re-written only when it is that stale. */
export function rollInterval(config: ResolvedConfig): number {
  return Math.max(1, Math.min(300, Math.floor(config.idleDuration / 10)));
}

export function needsRoll(config: ResolvedConfig, record: SessionRecord, now: number): boolean {
  return config.idleDuration > 0 && now - record.t >= rollInterval(config);
}

export function toSession(config: ResolvedConfig, record: SessionRecord, tokens: TokenRecord | null): Session {
  return {
    user: record.u,
    provider: record.p,
    tokens: exposeTokens(config.exposeTokens, tokens),
    iss: record.iss,
    sub: record.sub,
    ...(record.sid !== undefined ? { sid: record.sid } : {}),
    createdAt: Math.floor(record.c),
    expiresAt: expiresAt(config, record),
  };
}

/** Streamlit's `st.user.tokens` semantics: only what the allowlist names, nothing by default. */
function exposeTokens(allow: readonly string[], tokens: TokenRecord | null): ExposedTokens {
  const out: ExposedTokens = {};
  if (!tokens || allow.length === 0) return out;
  if (allow.includes('id') && tokens.idt) out.id = tokens.idt;
  if (allow.includes('access') && tokens.at) {
    out.access = tokens.at;
    if (tokens.ate !== undefined) out.accessExpiresAt = tokens.ate;
  }
  if (allow.includes('refresh') && tokens.rt) out.refresh = tokens.rt;
  return out;
}

export function isSessionRecord(value: unknown): value is SessionRecord {
  const r = value as SessionRecord | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    r.v === 1 &&
    typeof r.id === 'string' &&
    typeof r.p === 'string' &&
    typeof r.iss === 'string' &&
    typeof r.sub === 'string' &&
    typeof r.c === 'number' &&
    typeof r.a === 'number' &&
    typeof r.t === 'number' &&
    typeof r.u === 'object'
  );
}

export function isTokenRecord(value: unknown, record: SessionRecord): value is TokenRecord {
  const t = value as TokenRecord | null;
  return typeof t === 'object' && t !== null && t.v === 1 && t.id === record.id;
}
