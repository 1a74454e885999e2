import { nowSeconds } from '../encoding.js';
import type { ExposedTokens, ResolvedConfig, Session, SessionResult, UserClaims } from '../types.js';
import { type CookieAttributes, clearChunked, deleteCookie, readChunked, writeChunked } from './cookies.js';
import type { Sealer } from './seal.js';

const LARGE_COOKIES_BYTES = 8 * 1024;

/** What the session cookie holds (sealed). Short keys: this travels on every request. */
export interface SessionRecord {
  v: 1;
  /** Our own random session id: binds the tokens cookie and the CSRF token to this login. */
  id: string;
  /** Provider key. */
  p: string;
  iss: string;
  sub: string;
  sid?: string;
  u: UserClaims;
  /** Login time, absolute expiry, last touch (epoch seconds). */
  c: number;
  a: number;
  t: number;
}

/** What the tokens cookie holds (sealed), kept apart so the hot path need not decrypt it. */
export interface TokenRecord {
  v: 1;
  id: string;
  idt?: string;
  at?: string;
  /** Access token expiry (epoch seconds). */
  ate?: number;
  rt?: string;
}

export interface ReadResult extends SessionResult {
  record: SessionRecord | null;
  /** Set when a session cookie was there but is past its idle or absolute expiry. */
  expired: SessionRecord | null;
}

/**
 * Cookie-mode sessions: the session lives in two sealed, chunked cookies, `…session`
 * (claims) and `…tokens`. Nothing is stored server-side.
 */
export class CookieSessions {
  readonly sessionName: string;
  readonly tokensName: string;
  readonly #config: ResolvedConfig;
  readonly #sealer: Sealer;
  readonly #rollInterval: number;
  #warnedLarge = false;

  constructor(config: ResolvedConfig, sealer: Sealer) {
    this.#config = config;
    this.#sealer = sealer;
    // __Host- (RFC 6265bis §4.1.3.2) pins the cookie to this exact host, Path=/, Secure.
    const prefix = config.secure ? '__Host-' : '';
    this.sessionName = `${prefix}${config.cookieName}.session`;
    this.tokensName = `${prefix}${config.cookieName}.tokens`;
    // Idle expiry is enforced to within this many seconds: the cookie is re-sealed only
    // when it is that old, not on every response.
    this.#rollInterval = Math.max(1, Math.min(300, Math.floor(config.idleDuration / 10)));
  }

  attributes(maxAge: number): CookieAttributes {
    return { path: '/', secure: this.#config.secure, sameSite: this.#config.sameSite, maxAge };
  }

  async read(cookies: Map<string, string>): Promise<ReadResult> {
    const sealed = readChunked(cookies, this.sessionName);
    if (sealed === undefined) return { record: null, expired: null, session: null, setCookies: [] };
    const record = await this.#sealer.unseal<SessionRecord>(sealed, 'session');
    if (!isSessionRecord(record)) {
      // Tampered, truncated, foreign or garbage: signed out, and the junk is removed.
      return { record: null, expired: null, session: null, setCookies: this.clear(cookies) };
    }
    const now = nowSeconds();
    if (now >= this.expiresAt(record)) {
      return { record: null, expired: record, session: null, setCookies: this.clear(cookies) };
    }
    const setCookies =
      this.#config.idleDuration > 0 && now - record.t >= this.#rollInterval ? await this.#writeSession({ ...record, t: now }, cookies) : [];
    return { record, expired: null, session: null, setCookies };
  }

  /** The tokens of a session, or null when the tokens cookie is absent or belongs to another login. */
  async readTokens(cookies: Map<string, string>, record: SessionRecord): Promise<TokenRecord | null> {
    const sealed = readChunked(cookies, this.tokensName);
    if (sealed === undefined) return null;
    const tokens = await this.#sealer.unseal<TokenRecord>(sealed, 'tokens');
    return tokens && tokens.v === 1 && tokens.id === record.id ? tokens : null;
  }

  expiresAt(record: SessionRecord): number {
    return this.#config.idleDuration > 0 ? Math.min(record.a, record.t + this.#config.idleDuration) : record.a;
  }

  async write(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]> {
    const maxAge = record.a - nowSeconds();
    const sealedTokens = await this.#sealer.seal(tokens, 'tokens');
    const setCookies = [
      ...(await this.#writeSession(record, cookies)),
      ...writeChunked(this.tokensName, sealedTokens, this.attributes(maxAge), cookies),
    ];
    this.#warnIfLarge(setCookies);
    return setCookies;
  }

  // Node's http server refuses request headers over 16 KiB by default (431), and so do many
  // proxies: say so once, at the login that made the cookies that large.
  #warnIfLarge(setCookies: string[]): void {
    const bytes = setCookies.reduce((sum, line) => sum + line.length, 0);
    if (bytes > LARGE_COOKIES_BYTES && !this.#warnedLarge) {
      this.#warnedLarge = true;
      this.#config.logger.warn(
        `session cookies are ${bytes} bytes: requests may pass a 16 KiB header limit; request fewer scopes or claims, or expose fewer tokens`,
      );
    }
  }

  /** Deletes the session and tokens cookies and every chunk of them the request carried. */
  clear(cookies: Map<string, string>): string[] {
    const attrs = this.attributes(0);
    const out = [...clearChunked(this.sessionName, attrs, cookies), ...clearChunked(this.tokensName, attrs, cookies)];
    return out.length > 0 ? out : [deleteCookie(this.sessionName, attrs)];
  }

  toSession(record: SessionRecord, tokens: TokenRecord | null): Session {
    return {
      user: record.u,
      provider: record.p,
      tokens: exposeTokens(this.#config.exposeTokens, tokens),
      iss: record.iss,
      sub: record.sub,
      ...(record.sid !== undefined ? { sid: record.sid } : {}),
      createdAt: record.c,
      expiresAt: this.expiresAt(record),
    };
  }

  async #writeSession(record: SessionRecord, cookies: Map<string, string>): Promise<string[]> {
    const maxAge = record.a - nowSeconds();
    return writeChunked(this.sessionName, await this.#sealer.seal(record, 'session'), this.attributes(maxAge), cookies);
  }
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

function isSessionRecord(value: unknown): value is SessionRecord {
  const r = value as SessionRecord | null;
  return (
    r !== null &&
    r.v === 1 &&
    typeof r.id === 'string' &&
    typeof r.p === 'string' &&
    typeof r.sub === 'string' &&
    typeof r.a === 'number' &&
    typeof r.t === 'number' &&
    typeof r.u === 'object'
  );
}
