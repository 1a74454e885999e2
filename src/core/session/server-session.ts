import { base64url, nowSeconds, randomId, utf8 } from '../encoding.js';
import type { Channel, IndexEntry, LogoutTarget, SessionRegistry } from '../registry.js';
import type { Store } from '../store.js';
import type { ResolvedConfig } from '../types.js';
import { clearChunked, deleteCookie, serializeCookie } from './cookies.js';
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

/** What the store holds for one session. */
export interface StoredSession {
  record: SessionRecord;
  tokens: TokenRecord;
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
    if (id === undefined) return { record: null, ended: null, setCookies: [] };
    if (!COOKIE_ID.test(id)) return { record: null, ended: null, setCookies: this.deleteCookies(cookies) };
    const { key, revoked: revokedKey, hash } = await this.#keys(id);
    // One round trip: the session and its revocation mark (which outlives any late write-back).
    const [raw, revoked] = await this.#store.getMany([key, revokedKey]);
    const stored = revoked ? null : this.#parse(key, raw ?? null);
    // Unknown ids (ended, expired, never ours) read as signed out; the cookie is removed, and
    // nothing is written: a stranger's made-up id must never cost the store an entry.
    if (!stored) return { record: null, ended: null, setCookies: this.deleteCookies(cookies) };
    const now = nowSeconds();
    if (now >= expiresAt(this.#config, stored.record)) {
      await this.#delete(hash, stored.record);
      return { record: null, ended: { record: stored.record, reason: 'expired' }, setCookies: this.deleteCookies(cookies) };
    }
    if (needsRoll(this.#config, stored.record, now)) await this.#put(key, { record: touched(stored.record, now), tokens: stored.tokens });
    this.#tokensOf.set(stored.record, stored.tokens);
    return { record: stored.record, ended: null, setCookies: [] };
  }

  async readTokens(_cookies: Map<string, string>, record: SessionRecord): Promise<TokenRecord | null> {
    return this.#tokensOf.get(record) ?? null;
  }

  async write(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]> {
    // A fresh id at every login: an id planted before login (session fixation) is worthless.
    const id = randomId(32);
    const hash = await digest(id);
    await this.#put(sessionKey(hash), { record, tokens });
    await this.#registry.register({ ...record, id: hash }, record.endsAt - nowSeconds(), async (hashes) =>
      (await this.#readByHash(hashes)).map((stored) => stored !== null),
    );
    const previous = cookies.get(this.sessionName);
    if (previous !== undefined && previous !== id && COOKIE_ID.test(previous)) await this.#delete((await this.#keys(previous)).hash);
    return [serializeCookie(this.sessionName, id, sessionCookieAttributes(this.#config, record.endsAt - nowSeconds()))];
  }

  async update(record: SessionRecord, tokens: TokenRecord, cookies: Map<string, string>): Promise<string[]> {
    const id = cookies.get(this.sessionName);
    if (id === undefined || !COOKIE_ID.test(id)) return [];
    await this.#put((await this.#keys(id)).key, { record, tokens });
    return [];
  }

  /** The cookie holds only the id, which a refresh does not change: nothing to send. */
  async resend(): Promise<string[]> {
    return [];
  }

  async end(cookies: Map<string, string>, record: SessionRecord): Promise<void> {
    const id = cookies.get(this.sessionName);
    if (id !== undefined && COOKIE_ID.test(id)) await this.#delete((await this.#keys(id)).hash, record);
  }

  /**
   * Deletes the stored sessions the target's index names that began at or before `at` (index
   * entries carry login times: a session that began later is a fresh login, never ended by it).
   */
  async endTarget(target: LogoutTarget, at: number, _channel: Channel, report: boolean): Promise<EndedSessions> {
    const candidates = (await this.#registry.sessionIds(target)).filter((entry) => entry.createdAt <= at);
    // Reading the sessions costs O(k) parses: only for `onLogout`, or to check the sub of a
    // sid-named session (a token naming both).
    const read = report || (target.sid !== undefined && target.sub !== undefined);
    const stored = read ? await this.#readByHash(candidates.map((e) => e.id)) : null;
    const doomed: IndexEntry[] = [];
    const gone: IndexEntry[] = [];
    const ended: StoredSession[] = [];
    candidates.forEach((entry, i) => {
      const session = stored?.[i];
      if (stored && session === null) gone.push(entry);
      else if (!session || target.sub === undefined || session.record.subject === target.sub) {
        doomed.push(entry);
        if (session) ended.push(session);
      }
    });
    await this.#deleteByHash(
      doomed.map((e) => e.id),
      ended.map((s) => s.record),
    );
    // One removal for the target's index; the ended sessions' other index entries go at their
    // user's next login or logout (a stale entry points at nothing and is pruned then).
    await this.#registry.prune(target, [...doomed, ...gone]);
    return { count: doomed.length, sessions: report ? ended : [] };
  }

  deleteCookies(cookies: Map<string, string>): string[] {
    const attrs = sessionCookieAttributes(this.#config, 0);
    const out = clearChunked(this.sessionName, attrs, cookies);
    return out.length > 0 ? out : [deleteCookie(this.sessionName, attrs)];
  }

  async binding(cookies: Map<string, string>): Promise<string | null> {
    const id = cookies.get(this.sessionName);
    return id !== undefined && COOKIE_ID.test(id) ? (await this.#keys(id)).hash : null;
  }

  /**
   * Deletes stored sessions by the hashes the registry indexes, and marks them revoked first: a
   * request that read the session before and writes it back afterwards (an idle roll, a refresh)
   * cannot bring it back to life.
   */
  async #deleteByHash(hashes: readonly string[], records: readonly SessionRecord[] = []): Promise<void> {
    if (hashes.length === 0) return;
    await Promise.all(hashes.map((hash, i) => this.#registry.revoke(hash, this.#remaining(records[i]))));
    await this.#store.delete(hashes.map(sessionKey));
  }

  async #readByHash(hashes: readonly string[]): Promise<Array<StoredSession | null>> {
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

  /** `parse`, remembered per store key while the stored value stays the same (compared whole: a Redis reply is a new string each time). */
  #parse(key: string, raw: string | null): StoredSession | null {
    if (raw === null) return null;
    const known = this.#parsed.get(key);
    if (known?.raw === raw) return known.stored;
    const stored = parse(raw);
    if (stored) this.#parsed.set(key, { raw, stored });
    return stored;
  }

  async #put(key: string, stored: StoredSession): Promise<void> {
    const ttl = expiresAt(this.#config, stored.record) - nowSeconds();
    await this.#store.set(key, JSON.stringify({ r: encodeSession(stored.record), k: encodeTokens(stored.tokens) }), Math.max(1, ttl));
  }

  async #delete(hash: string, known?: SessionRecord): Promise<void> {
    const record = known ?? (await this.#readByHash([hash]))[0]?.record;
    // No stored session, nothing to end: no revocation mark for an id that was never ours.
    if (!record) return;
    await this.#deleteByHash([hash], [record]);
    await this.#registry.unregister({ ...record, id: hash });
  }

  /** Seconds a session could still live: how long its revocation mark must last. */
  #remaining(record: SessionRecord | undefined): number {
    return record ? record.endsAt - nowSeconds() + this.#config.clockTolerance : this.#config.absoluteDuration;
  }
}

/** Key of a stored session, from the SHA-256 of its cookie id. */
export const sessionKey = (digest: string) => `sess:${digest}`;

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

/** A stored value: `{ r, k }`, the compact session and tokens (record.ts). Null for anything else. */
function parse(raw: string | null): StoredSession | null {
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as { r?: unknown; k?: unknown } | null;
    const record = decodeSession(value?.r);
    const tokens = record ? decodeTokens(value?.k, record) : null;
    return record && tokens ? { record, tokens } : null;
  } catch {
    return null;
  }
}
