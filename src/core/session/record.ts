/**
 * The session and its tokens as the code reads them — full names — and the one place where
 * they are mapped to the compact form that is sealed into cookies or written to the store
 * (short keys: it travels on every request). Every session is made by `newSession()`.
 */
import { jwtPayload, nowSeconds, randomId } from '../encoding.js';
import type { UserClaims } from '../types.js';

/** A signed-in session. Frozen: records are shared by every request of a session. */
export interface SessionRecord {
  /** Our own random id: binds the tokens to this login, the CSRF token to this session, names it in revocation marks. */
  readonly id: string;
  /** Key of the provider in `providers`. */
  readonly provider: string;
  readonly issuer: string;
  readonly subject: string;
  /** The provider's session id, when the ID token carried one. */
  readonly sid?: string;
  /**
   * The user's claims that the ID token does not carry (userinfo's, a `sid` a refreshed token
   * dropped). Each claim is kept once: a large claim set (dozens of groups) would otherwise fill
   * the Cookie header twice. The whole user is `userOf(record)`.
   */
  readonly claims: UserClaims;
  /** The raw ID token: the user's claims, `id_token_hint` at logout, the exposed `id` token. */
  readonly idToken?: string;
  /** Login time, epoch seconds with milliseconds ("ended at or before T" must not catch a login just after T). */
  readonly createdAt: number;
  /** Absolute expiry, epoch seconds. */
  readonly endsAt: number;
  /** When the idle window last rolled, epoch seconds. */
  readonly touchedAt: number;
}

/** The tokens of a session, kept apart from the claims so the hot path need not read them. */
export interface TokenRecord {
  /** The `id` of the session these tokens belong to: a tokens cookie of another login is refused. */
  readonly sessionId: string;
  readonly accessToken?: string;
  /** Epoch seconds. */
  readonly accessTokenExpiresAt?: number;
  readonly refreshToken?: string;
}

export interface NewSession {
  provider: string;
  issuer: string;
  subject: string;
  sid?: string | undefined;
  /** Every claim of the user: those the ID token carries are read from it, only the rest is stored beside it. */
  user: UserClaims;
  idToken?: string | undefined;
  absoluteDuration: number;
  /** Default: now. */
  createdAt?: number;
}

/** The one constructor of a session: a fresh random id, the claims split once, the lifetimes set. */
export function newSession(init: NewSession): SessionRecord {
  const createdAt = init.createdAt ?? Date.now() / 1000;
  return Object.freeze({
    id: randomId(),
    provider: init.provider,
    issuer: init.issuer,
    subject: init.subject,
    ...(init.sid !== undefined ? { sid: init.sid } : {}),
    ...splitClaims(init.user, init.idToken),
    createdAt,
    endsAt: Math.floor(createdAt) + init.absoluteDuration,
    touchedAt: nowSeconds(),
  });
}

/** The same session with the idle window rolled to `now`. */
export function touched(record: SessionRecord, now: number): SessionRecord {
  return Object.freeze({ ...record, touchedAt: now });
}

/** The same session (id, sid, login time) with new claims and ID token, after a refresh. */
export function withUser(record: SessionRecord, user: UserClaims, idToken: string | undefined, now: number): SessionRecord {
  const { claims: _claims, idToken: _idToken, ...identity } = record;
  return Object.freeze({ ...identity, ...splitClaims(user, idToken), touchedAt: now });
}

/** Claims that describe the ID token itself rather than the user. */
const PROTOCOL_CLAIMS = new Set(['aud', 'azp', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 's_hash', 'jti']);

/** The user's claims among an ID token's. */
export function userClaims(claims: Record<string, unknown>): UserClaims {
  const user: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(claims)) if (!PROTOCOL_CLAIMS.has(key)) user[key] = value;
  return user as UserClaims;
}

/** Claims the ID token carries are read from it; only the rest is kept apart. The ID token's value wins. */
function splitClaims(user: UserClaims, idToken: string | undefined): { claims: UserClaims; idToken?: string } {
  const carried = idToken === undefined ? null : jwtPayload(idToken);
  if (!carried) return { claims: user, ...(idToken !== undefined ? { idToken } : {}) };
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(user)) if (!Object.hasOwn(carried, key) || PROTOCOL_CLAIMS.has(key)) rest[key] = value;
  return { claims: rest as UserClaims, idToken: idToken! };
}

// The user is decoded from the ID token once per (frozen, shared) record, not once per request.
const users = new WeakMap<SessionRecord, UserClaims>();

/** The user's claims: those the ID token carries, and the rest kept beside it. */
export function userOf(record: SessionRecord): UserClaims {
  let user = users.get(record);
  if (user === undefined) {
    const carried = record.idToken === undefined ? null : jwtPayload(record.idToken);
    user = deepFreeze(carried ? ({ ...record.claims, ...userClaims(carried) } as UserClaims) : record.claims);
    users.set(record, user);
  }
  return user;
}

/** Claims are shared by every request of a session: no request (or app code) may change what the next one sees. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// The compact form: what is sealed or stored. Only this section knows its keys.

interface CompactSession {
  v: 1;
  id: string;
  p: string;
  iss: string;
  sub: string;
  sid?: string;
  u: UserClaims;
  idt?: string;
  c: number;
  a: number;
  t: number;
}

interface CompactTokens {
  v: 1;
  id: string;
  at?: string;
  ate?: number;
  rt?: string;
}

export function encodeSession(record: SessionRecord): CompactSession {
  return {
    v: 1,
    id: record.id,
    p: record.provider,
    iss: record.issuer,
    sub: record.subject,
    ...(record.sid !== undefined ? { sid: record.sid } : {}),
    u: record.claims,
    ...(record.idToken !== undefined ? { idt: record.idToken } : {}),
    c: record.createdAt,
    a: record.endsAt,
    t: record.touchedAt,
  };
}

// An unsealed or parsed value is frozen and cached by its reader: decode it once.
const decodedSessions = new WeakMap<object, SessionRecord>();

/** The session in a sealed or stored value, or null when the value is not one. */
export function decodeSession(value: unknown): SessionRecord | null {
  if (typeof value !== 'object' || value === null) return null;
  const known = decodedSessions.get(value);
  if (known) return known;
  const c = value as Partial<CompactSession>;
  const valid =
    c.v === 1 &&
    typeof c.id === 'string' &&
    typeof c.p === 'string' &&
    typeof c.iss === 'string' &&
    typeof c.sub === 'string' &&
    (c.sid === undefined || typeof c.sid === 'string') &&
    (c.idt === undefined || typeof c.idt === 'string') &&
    typeof c.c === 'number' &&
    typeof c.a === 'number' &&
    typeof c.t === 'number' &&
    typeof c.u === 'object' &&
    c.u !== null;
  if (!valid) return null;
  const record: SessionRecord = Object.freeze({
    id: c.id!,
    provider: c.p!,
    issuer: c.iss!,
    subject: c.sub!,
    ...(c.sid !== undefined ? { sid: c.sid } : {}),
    claims: deepFreeze(c.u!),
    ...(c.idt !== undefined ? { idToken: c.idt } : {}),
    createdAt: c.c!,
    endsAt: c.a!,
    touchedAt: c.t!,
  });
  decodedSessions.set(value, record);
  return record;
}

export function encodeTokens(tokens: TokenRecord): CompactTokens {
  return {
    v: 1,
    id: tokens.sessionId,
    ...(tokens.accessToken !== undefined ? { at: tokens.accessToken } : {}),
    ...(tokens.accessTokenExpiresAt !== undefined ? { ate: tokens.accessTokenExpiresAt } : {}),
    ...(tokens.refreshToken !== undefined ? { rt: tokens.refreshToken } : {}),
  };
}

const decodedTokens = new WeakMap<object, TokenRecord>();

/** The tokens in a sealed or stored value, or null when it is not one, or belongs to another session. */
export function decodeTokens(value: unknown, session: SessionRecord): TokenRecord | null {
  if (typeof value !== 'object' || value === null) return null;
  let tokens = decodedTokens.get(value);
  if (!tokens) {
    const c = value as Partial<CompactTokens>;
    if (c.v !== 1 || typeof c.id !== 'string') return null;
    tokens = Object.freeze({
      sessionId: c.id,
      ...(typeof c.at === 'string' ? { accessToken: c.at } : {}),
      ...(typeof c.ate === 'number' ? { accessTokenExpiresAt: c.ate } : {}),
      ...(typeof c.rt === 'string' ? { refreshToken: c.rt } : {}),
    });
    decodedTokens.set(value, tokens);
  }
  return tokens.sessionId === session.id ? tokens : null;
}
