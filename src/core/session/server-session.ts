import { base64url, nowSeconds, randomId, utf8 } from '../encoding.js';
import { type SessionRegistry, sessionKey } from '../registry.js';
import type { Store } from '../store.js';
import type { ResolvedConfig } from '../types.js';
import { clearChunked, deleteCookie, serializeCookie } from './cookies.js';
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

/** What the store holds for one session. */
export interface StoredSession {
  r: SessionRecord;
  k: TokenRecord;
}

const COOKIE_ID = /^[A-Za-z0-9_-]{43}$/;
/** Entries of each hot-path cache: cookie id → store keys, stored JSON → parsed session. */
const CACHE_LIMIT = 4096;

/** The store keys of one cookie id, computed once: SHA-256 is an async WebCrypto call. */
interface IdKeys {
  hash: string;
  key: string;
  revoked: string;
}

/**
 * Server-mode sessions: the cookie holds only a random 256-bit id; the session lives in the
 * store under the SHA-256 of that id (a leaked store dump holds no usable cookie), indexed by
 * `(iss, sid)` and `(iss, sub)` so OP-initiated logout deletes exactly those sessions.
 */
export class ServerSessions implements SessionBackend {
  readonly sessionName: string;
  readonly #config: ResolvedConfig;
  readonly #store: Store;
  readonly #registry: SessionRegistry;
  // read() already fetched the tokens with the record: readTokens() reuses them.
  readonly #tokensOf = new WeakMap<SessionRecord, TokenRecord>();
  // The hot path, every request: a cookie id seen lately skips its SHA-256, and a stored value
  // seen lately (the memory store hands back the very same string) skips JSON.parse and the
  // shape checks. Both are pure functions of their key; expiry and revocation are still read
  // from the store on every request.
  readonly #keysOf = new BoundedMap<string, IdKeys>(CACHE_LIMIT);
  readonly #parsed = new BoundedMap<string, { raw: string; stored: StoredSession }>(CACHE_LIMIT);

  constructor(config: ResolvedConfig, registry: SessionRegistry) {
    this.#config = config;
    this.#store = config.store;
    this.#registry = registry;
    this.sessionName = sessionCookieName(config, 'session');
  }

  async read(cookies: Map<string, string>): Promise<ReadResult> {
    const id = cookies.get(this.sessionName);
    if (id === undefined) return { record: null, expired: null, setCookies: [] };
    if (!COOKIE_ID.test(id)) return { record: null, expired: null, setCookies: this.deleteCookies(cookies) };
    const { key, revoked: revokedKey } = await this.#keys(id);
    // One round trip: the session and its revocation mark (which outlives any late write-back).
    const [raw, revoked] = await this.#store.getMany([key, revokedKey]);
    const stored = revoked ? null : this.#parse(key, raw ?? null);
    // Unknown ids (ended, expired, never ours) read as signed out; the cookie is removed, and
    // nothing is written: a stranger's made-up id must never cost the store an entry.
    if (!stored) return { record: null, expired: null, setCookies: this.deleteCookies(cookies) };
    const now = nowSeconds();
    if (now >= expiresAt(this.#config, stored.r)) {
      return { record: null, expired: stored.r, setCookies: await this.clear(cookies, stored.r) };
    }
    if (needsRoll(this.#config, stored.r, now)) await this.#put(key, { r: { ...stored.r, t: now }, k: stored.k });
    this.#tokensOf.set(stored.r, stored.k);
    return { record: stored.r, expired: null, setCookies: [] };
  }

  async readTokens(_cookies: Map<string, string>, record: SessionRecord): Promise<TokenRecord | null> {
    return this.#tokensOf.get(record) ?? null;
  }

  async write(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]> {
    // A fresh id at every login: an id planted before login (session fixation) is worthless.
    const id = randomId(32);
    const hash = await digest(id);
    await this.#put(sessionKey(hash), { r: record, k: tokens });
    await this.#registry.register({ ...record, id: hash }, record.a - nowSeconds(), async (hashes) =>
      (await this.readByHash(hashes)).map((stored) => stored !== null),
    );
    const previous = cookies.get(this.sessionName);
    if (previous !== undefined && previous !== id && COOKIE_ID.test(previous)) await this.#delete((await this.#keys(previous)).hash);
    return [serializeCookie(this.sessionName, id, sessionCookieAttributes(this.#config, record.a - nowSeconds()))];
  }

  async update(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]> {
    const id = cookies.get(this.sessionName);
    if (id === undefined || !COOKIE_ID.test(id)) return [];
    await this.#put((await this.#keys(id)).key, { r: record, k: tokens });
    return [];
  }

  async clear(cookies: Map<string, string>, record?: SessionRecord | null): Promise<string[]> {
    const id = cookies.get(this.sessionName);
    if (id !== undefined && COOKIE_ID.test(id)) await this.#delete((await this.#keys(id)).hash, record ?? undefined);
    return this.deleteCookies(cookies);
  }

  async binding(cookies: Map<string, string>): Promise<string | null> {
    const id = cookies.get(this.sessionName);
    return id !== undefined && COOKIE_ID.test(id) ? (await this.#keys(id)).hash : null;
  }

  deleteCookies(cookies: Map<string, string>): string[] {
    const attrs = sessionCookieAttributes(this.#config, 0);
    const out = clearChunked(this.sessionName, attrs, cookies);
    return out.length > 0 ? out : [deleteCookie(this.sessionName, attrs)];
  }

  /**
   * Deletes stored sessions by the hashes the registry indexes, and marks them revoked first: a
   * request that read the session before and writes it back afterwards (an idle roll, a refresh)
   * cannot bring it back to life.
   */
  async deleteByHash(hashes: readonly string[], records: readonly SessionRecord[] = []): Promise<void> {
    if (hashes.length === 0) return;
    await Promise.all(hashes.map((hash, i) => this.#registry.revoke(hash, this.#remaining(records[i]))));
    await this.#store.delete(hashes.map(sessionKey));
  }

  /** Reads stored sessions by hash (for OP-initiated logout, which must check when each began). */
  async readByHash(hashes: readonly string[]): Promise<Array<StoredSession | null>> {
    if (hashes.length === 0) return [];
    return (await this.#store.getMany(hashes.map(sessionKey))).map((raw) => parse(raw ?? null));
  }

  /** The keys of a cookie id: at once when seen lately, else after its SHA-256. */
  #keys(id: string): IdKeys | Promise<IdKeys> {
    return this.#keysOf.get(id) ?? this.#digestKeys(id);
  }

  async #digestKeys(id: string): Promise<IdKeys> {
    const hash = await digest(id);
    const keys = { hash, key: sessionKey(hash), revoked: this.#registry.revokedKey(hash) };
    this.#keysOf.set(id, keys);
    return keys;
  }

  /**
   * `parse`, remembered per store key while the stored value stays the same (compared whole,
   * not hashed: a Redis reply is a new string each time). The result is frozen: it is shared.
   */
  #parse(key: string, raw: string | null): StoredSession | null {
    if (raw === null) return null;
    const known = this.#parsed.get(key);
    if (known?.raw === raw) return known.stored;
    const stored = parse(raw);
    if (stored) this.#parsed.set(key, { raw, stored: deepFreeze(stored) });
    return stored;
  }

  async #put(key: string, stored: StoredSession): Promise<void> {
    const ttl = expiresAt(this.#config, stored.r) - nowSeconds();
    await this.#store.set(key, JSON.stringify(stored), Math.max(1, ttl));
  }

  async #delete(hash: string, known?: SessionRecord): Promise<void> {
    const record = known ?? (await this.readByHash([hash]))[0]?.r;
    // No stored session, nothing to end: no revocation mark for an id that was never ours.
    if (!record) return;
    await this.deleteByHash([hash], [record]);
    await this.#registry.unregister({ ...record, id: hash });
  }

  /** Seconds a session could still live: how long its revocation mark must last. */
  #remaining(record: SessionRecord | undefined): number {
    return record ? record.a - nowSeconds() + this.#config.clockTolerance : this.#config.absoluteDuration;
  }
}

/** The store key of a cookie id: base64url(SHA-256(id)). */
async function digest(id: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(id))));
}

/** A Map that forgets its oldest entry past `limit` (insertion order: a bounded FIFO). */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (this.size >= this.limit && !this.has(key)) this.delete(this.keys().next().value!);
    return super.set(key, value);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function parse(raw: string | null): StoredSession | null {
  if (raw === null) return null;
  try {
    const stored = JSON.parse(raw) as StoredSession;
    return isSessionRecord(stored?.r) && isTokenRecord(stored.k, stored.r) ? stored : null;
  } catch {
    return null;
  }
}
