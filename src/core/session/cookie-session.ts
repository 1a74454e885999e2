import { nowSeconds } from '../encoding.js';
import type { ResolvedConfig } from '../types.js';
import { clearChunked, deleteCookie, readChunked, writeChunked } from './cookies.js';
import {
  expiresAt,
  isSessionRecord,
  isTokenRecord,
  needsRoll,
  type ReadResult,
  type SessionBackend,
  type SessionRecord,
  sessionCookieAttributes,
  sessionCookieName,
  type TokenRecord,
} from './model.js';
import type { Sealer } from './seal.js';

/**
 * Cookie-mode sessions: the session lives in two sealed, chunked cookies, `…session`
 * (claims) and `…tokens`. Nothing is stored server-side but tombstones (see registry.ts).
 */
export class CookieSessions implements SessionBackend {
  readonly sessionName: string;
  readonly tokensName: string;
  readonly #config: ResolvedConfig;
  readonly #sealer: Sealer;

  constructor(config: ResolvedConfig, sealer: Sealer) {
    this.#config = config;
    this.#sealer = sealer;
    this.sessionName = sessionCookieName(config, 'session');
    this.tokensName = sessionCookieName(config, 'tokens');
  }

  async read(cookies: Map<string, string>): Promise<ReadResult> {
    const sealed = readChunked(cookies, this.sessionName);
    if (sealed === undefined) return { record: null, expired: null, setCookies: [] };
    const record = this.#sealer.cached<SessionRecord>(sealed, 'session') ?? (await this.#sealer.unseal<SessionRecord>(sealed, 'session'));
    if (!isSessionRecord(record)) {
      // Tampered, truncated, foreign or garbage: signed out, and the junk is removed.
      return { record: null, expired: null, setCookies: await this.clear(cookies) };
    }
    const now = nowSeconds();
    if (now >= expiresAt(this.#config, record)) {
      return { record: null, expired: record, setCookies: await this.clear(cookies) };
    }
    const setCookies = needsRoll(this.#config, record, now) ? await this.#writeSession({ ...record, t: now }, cookies) : [];
    return { record, expired: null, setCookies };
  }

  /** The tokens of a session, or null when the tokens cookie is absent or belongs to another login. */
  async readTokens(cookies: Map<string, string>, record: SessionRecord): Promise<TokenRecord | null> {
    const sealed = readChunked(cookies, this.tokensName);
    if (sealed === undefined) return null;
    const tokens = this.#sealer.cached<TokenRecord>(sealed, 'tokens') ?? (await this.#sealer.unseal<TokenRecord>(sealed, 'tokens'));
    return isTokenRecord(tokens, record) ? tokens : null;
  }

  async write(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]> {
    const maxAge = record.a - nowSeconds();
    const sealedTokens = await this.#sealer.seal(tokens, 'tokens');
    return [
      ...(await this.#writeSession(record, cookies)),
      ...writeChunked(this.tokensName, sealedTokens, sessionCookieAttributes(this.#config, maxAge), cookies),
    ];
  }

  /** In cookie mode the data is the cookie: updating is writing it again. */
  update(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]> {
    return this.write(record, tokens, cookies);
  }

  /** Deletes the session and tokens cookies and every chunk of them the request carried. */
  async clear(cookies: Map<string, string>): Promise<string[]> {
    return this.deleteCookies(cookies);
  }

  deleteCookies(cookies: Map<string, string>): string[] {
    const attrs = sessionCookieAttributes(this.#config, 0);
    const out = [...clearChunked(this.sessionName, attrs, cookies), ...clearChunked(this.tokensName, attrs, cookies)];
    return out.length > 0 ? out : [deleteCookie(this.sessionName, attrs)];
  }

  async binding(cookies: Map<string, string>): Promise<string | null> {
    const sealed = readChunked(cookies, this.sessionName);
    if (sealed === undefined) return null;
    const record = this.#sealer.cached<SessionRecord>(sealed, 'session') ?? (await this.#sealer.unseal<SessionRecord>(sealed, 'session'));
    return isSessionRecord(record) ? record.id : null;
  }

  async #writeSession(record: SessionRecord, cookies: Map<string, string>): Promise<string[]> {
    const maxAge = record.a - nowSeconds();
    const sealed = await this.#sealer.seal(record, 'session');
    return writeChunked(this.sessionName, sealed, sessionCookieAttributes(this.#config, maxAge), cookies);
  }
}
