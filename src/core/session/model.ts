import { jwtPayload } from '../encoding.js';
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
  /**
   * The user's claims that the ID token does not carry (userinfo's, a `sid` the refreshed token
   * dropped); with `idt`, all of them. Each claim is kept once: a large claim set (dozens of
   * groups) would otherwise fill the Cookie header twice. Read the user with `userOf()`.
   */
  u: UserClaims;
  /** The raw ID token: the user's claims, `id_token_hint` at logout, the exposed `id` token. */
  idt?: string;
  /** Login time (epoch seconds, with milliseconds), absolute expiry and last touch (epoch seconds). */
  c: number;
  a: number;
  t: number;
}

/** The tokens of a session, kept apart from the claims so the hot path need not read them. */
export interface TokenRecord {
  v: 1;
  id: string;
  at?: string;
  /** Access token expiry (epoch seconds). */
  ate?: number;
  rt?: string;
}

export interface ReadResult {
  record: SessionRecord | null;
  /** True when the store failed: the session reads as signed out (fail closed), though its cookie may be good. */
  unavailable?: boolean;
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

/** Claims that describe the ID token itself rather than the user. */
const PROTOCOL_CLAIMS = new Set(['aud', 'azp', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 's_hash', 'jti']);

/** The user's claims among an ID token's. */
export function userClaims(claims: Record<string, unknown>): UserClaims {
  const user: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(claims)) if (!PROTOCOL_CLAIMS.has(key)) user[key] = value;
  return user as UserClaims;
}

/**
 * Splits the user's claims into the record's two places: those the ID token carries are read
 * from it, only the rest is kept apart (`u`). The ID token's value wins for a claim in both.
 */
export function claimsRecord(user: UserClaims, idToken: string | undefined): { u: UserClaims; idt?: string } {
  const carried = idToken === undefined ? null : jwtPayload(idToken);
  if (!carried) return { u: user };
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(user)) if (!Object.hasOwn(carried, key) || PROTOCOL_CLAIMS.has(key)) rest[key] = value;
  return { u: rest as UserClaims, idt: idToken! };
}

// Records are frozen and shared by every request of a session (seal.ts caches them): the
// user is decoded from the ID token once per record, not once per request.
const users = new WeakMap<SessionRecord, UserClaims>();

/** The user's claims: those the ID token carries, and the rest kept beside it. */
export function userOf(record: SessionRecord): UserClaims {
  let user = users.get(record);
  if (user === undefined) {
    const carried = record.idt === undefined ? null : jwtPayload(record.idt);
    user = carried ? ({ ...record.u, ...userClaims(carried) } as UserClaims) : record.u;
    if (Object.isFrozen(record)) Object.freeze(user);
    users.set(record, user);
  }
  return user;
}

export function toSession(config: ResolvedConfig, record: SessionRecord, tokens: TokenRecord | null): Session {
  return {
    user: userOf(record),
    provider: record.p,
    tokens: exposeTokens(config.exposeTokens, record, tokens),
    iss: record.iss,
    sub: record.sub,
    ...(record.sid !== undefined ? { sid: record.sid } : {}),
    createdAt: Math.floor(record.c),
    expiresAt: expiresAt(config, record),
  };
}

/** Streamlit's `st.user.tokens` semantics: only what the allowlist names, nothing by default. */
function exposeTokens(allow: readonly string[], record: SessionRecord, tokens: TokenRecord | null): ExposedTokens {
  const out: ExposedTokens = {};
  if (allow.length === 0) return out;
  if (allow.includes('id') && record.idt) out.id = record.idt;
  if (!tokens) return out;
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
