import { nowSeconds } from '../encoding.js';
import type { Channel, LogoutTarget, SessionRegistry } from '../registry.js';
import type { ResolvedConfig } from '../types.js';
import { clearChunked, deleteCookie, readChunked, writeChunked } from './cookies.js';
import {
  type EndedSessions,
  expiresAt,
  needsRoll,
  type ReadResult,
  type SessionBackend,
  sessionCookieAttributes,
  sessionCookieName,
} from './model.js';
import { decodeSession, decodeTokens, encodeSession, encodeTokens, type SessionRecord, type TokenRecord, touched } from './record.js';
import type { Sealer } from './seal.js';

const SIGNED_OUT: ReadResult = Object.freeze({ record: null, ended: null, setCookies: [] }) as ReadResult;

/**
 * Cookie-mode sessions: the session lives in two sealed, chunked cookies, `…session` (claims
 * and ID token) and `…tokens`. The server keeps no session, so ending one leaves a record in
 * the store that every read checks: a revocation mark for one session id, a tombstone for
 * everything an OP-initiated logout names (see registry.ts).
 */
export class CookieSessions implements SessionBackend {
  readonly sessionName: string;
  readonly tokensName: string;
  readonly #config: ResolvedConfig;
  readonly #sealer: Sealer;
  readonly #registry: SessionRegistry;

  constructor(config: ResolvedConfig, sealer: Sealer, registry: SessionRegistry) {
    this.#config = config;
    this.#sealer = sealer;
    this.#registry = registry;
    this.sessionName = sessionCookieName(config, 'session');
    this.tokensName = sessionCookieName(config, 'tokens');
  }

  async read(cookies: Map<string, string>): Promise<ReadResult> {
    const record = await this.#open(cookies);
    // Absent, tampered, truncated, foreign or garbage: signed out, and any junk is removed.
    if (!record) return cookies.has(this.sessionName) || cookies.has(`${this.sessionName}.0`) ? this.#signedOut(cookies) : SIGNED_OUT;
    const now = nowSeconds();
    if (now >= expiresAt(this.#config, record)) return this.#signedOut(cookies, { record, reason: 'expired' });
    // One round trip: its revocation mark and every tombstone that could name it.
    const endedBy = await this.#registry.endedBy(record);
    // A revoked id was reported at its logout; a tombstone is news to this cookie.
    if (endedBy) return this.#signedOut(cookies, { record, reason: endedBy === 'local' ? null : endedBy });
    const setCookies = needsRoll(this.#config, record, now) ? await this.#writeSession(touched(record, now), cookies) : [];
    return { record, ended: null, setCookies };
  }

  /** The tokens of a session, or null when the tokens cookie is absent or belongs to another login. */
  async readTokens(cookies: Map<string, string>, record: SessionRecord): Promise<TokenRecord | null> {
    const sealed = readChunked(cookies, this.tokensName);
    if (sealed === undefined) return null;
    return decodeTokens(this.#sealer.cached(sealed, 'tokens') ?? (await this.#sealer.unseal(sealed, 'tokens')), record);
  }

  async write(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]> {
    const maxAge = record.endsAt - nowSeconds();
    const sealedTokens = await this.#sealer.seal(encodeTokens(tokens), 'tokens');
    return [
      ...(await this.#writeSession(record, cookies)),
      ...writeChunked(this.tokensName, sealedTokens, sessionCookieAttributes(this.#config, maxAge), cookies),
    ];
  }

  /** In cookie mode the data is the cookie: updating is writing it again. */
  update(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]> {
    return this.write(record, tokens, cookies);
  }

  resend(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]> {
    return this.write(record, tokens, cookies);
  }

  /** Deleting the cookie is not enough if a copy exists: the store remembers the id as long as it could live. */
  async end(_cookies: Map<string, string>, record: SessionRecord): Promise<void> {
    await this.#registry.revoke(record.id, record.endsAt - nowSeconds() + this.#config.clockTolerance);
  }

  /** Nothing to delete: a tombstone that every instance checks at the next read of each cookie. */
  async endTarget(target: LogoutTarget, at: number, channel: Channel): Promise<EndedSessions> {
    await this.#registry.tombstone(target, at, channel);
    return { count: null, sessions: [] };
  }

  /** Deletes the session and tokens cookies and every chunk of them the request carried. */
  deleteCookies(cookies: Map<string, string>): string[] {
    const attrs = sessionCookieAttributes(this.#config, 0);
    const out = [...clearChunked(this.sessionName, attrs, cookies), ...clearChunked(this.tokensName, attrs, cookies)];
    return out.length > 0 ? out : [deleteCookie(this.sessionName, attrs)];
  }

  async binding(cookies: Map<string, string>): Promise<string | null> {
    return (await this.#open(cookies))?.id ?? null;
  }

  /** The sealed session of the request, opened (a remembered value costs no decrypt), or null. */
  async #open(cookies: Map<string, string>): Promise<SessionRecord | null> {
    const sealed = readChunked(cookies, this.sessionName);
    if (sealed === undefined) return null;
    return decodeSession(this.#sealer.cached(sealed, 'session') ?? (await this.#sealer.unseal(sealed, 'session')));
  }

  #signedOut(cookies: Map<string, string>, ended: ReadResult['ended'] = null): ReadResult {
    return { record: null, ended, setCookies: this.deleteCookies(cookies) };
  }

  async #writeSession(record: SessionRecord, cookies: Map<string, string>): Promise<string[]> {
    const maxAge = record.endsAt - nowSeconds();
    const sealed = await this.#sealer.seal(encodeSession(record), 'session');
    return writeChunked(this.sessionName, sealed, sessionCookieAttributes(this.#config, maxAge), cookies);
  }
}
