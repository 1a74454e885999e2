/**
 * A shared store for Cloudflare Workers, in a Durable Object: every isolate of every Worker bound
 * to it sees one state, so a back-channel logout received by one isolate ends the session in all.
 * Web APIs only (no `node:*`, no `cloudflare:*` import), so it compiles under the core's rules.
 *
 * Two pieces: the Durable Object class `OidcSessionStore`, which your Worker exports and wrangler
 * binds (SQLite-backed storage), and `durableObjectStore(namespace)`, the `Store` the library
 * uses, which forwards each call to the object in one `fetch` round trip. See docs/stores.md.
 *
 * @example
 * // worker.ts
 * import { durableObjectStore } from 'oidc-session/stores/durable-object';
 * export { OidcSessionStore } from 'oidc-session/stores/durable-object';
 * let auth;
 * export default {
 *   fetch(request, env) {
 *     auth ??= createAuth({ ...options, store: durableObjectStore(env.OIDC_SESSION) });
 *     return auth.handle(request);
 *   },
 * };
 */
import { type Store, type StoreInfo, storeInfo } from '../core/store.js';
import { assertEncodable, assertString, assertStrings, positiveOption, wholeSeconds } from './shared.js';

/** What the store needs of a Durable Object namespace binding (`env.OIDC_SESSION`). */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: never): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

export interface DurableObjectStoreOptions {
  /**
   * Name of the Durable Object instance (default `oidc-session`); another name is another,
   * independent store, as another prefix is in Redis.
   */
  name?: string;
  /**
   * Instances the keys are spread over by hash (default 1, at most 256). One instance serves
   * roughly a thousand simple calls a second; raise this only when the app needs more. Changing it
   * on a live deployment moves every key to a fresh, empty instance: sessions end and logout
   * tombstones are forgotten, so choose it once.
   */
  shards?: number;
}

export interface DurableObjectStore extends Store {
  readonly [storeInfo]: StoreInfo;
  /** Does nothing: the binding is the runtime's. */
  close(): Promise<void>;
}

const NAME = 'durableObjectStore';
const INFO: StoreInfo = Object.freeze({ name: 'durable-object', shared: true });
const MAX_SHARDS = 256;
/** Any absolute URL does: the request goes to the object, never to the network. */
const ORIGIN = 'https://oidc-session.durable-object';

type Method = 'getMany' | 'set' | 'setIfAbsent' | 'delete' | 'addToSet' | 'setMembers' | 'removeFromSet';
const METHODS = new Set<string>(['getMany', 'set', 'setIfAbsent', 'delete', 'addToSet', 'setMembers', 'removeFromSet']);

/**
 * The one argument check of each call, run in the Worker (so a TypeError costs no round trip)
 * and again in the object (so nothing it receives can store an unreadable row). SQLite stores
 * text as UTF-8, where a lone surrogate would turn into U+FFFD and merge two keys: refused.
 */
function checkArguments(method: Method, args: readonly unknown[]): void {
  const [first, second, ttlSeconds, only] = args;
  switch (method) {
    case 'getMany':
    case 'delete':
      checkStrings(first, '"keys"');
      return;
    case 'setMembers':
      checkText(first, '"key"');
      return;
    case 'removeFromSet':
      checkText(first, '"key"');
      checkStrings(second, '"members"');
      return;
    case 'set':
      if (only !== undefined && only !== 'greater') {
        throw new TypeError(`${NAME}: "only" must be 'greater' or absent, got ${String(only)}`);
      }
      break;
  }
  checkText(first, '"key"');
  checkText(second, method === 'addToSet' ? '"member"' : '"value"');
  wholeSeconds(ttlSeconds as number, NAME);
}

function checkText(value: unknown, what: string): asserts value is string {
  assertString(value, what, NAME);
  assertEncodable(value, what, NAME);
}

function checkStrings(values: unknown, what: string): void {
  assertStrings(values as unknown[], what, NAME);
  for (const value of values as string[]) assertEncodable(value, `each of ${what}`, NAME);
}

/**
 * JSON carries every argument, including what it would otherwise lose (`undefined`, NaN,
 * ±Infinity), so the object checks exactly what the caller passed.
 */
function encode(args: readonly unknown[]): string {
  return JSON.stringify(args, (_, value: unknown) =>
    value === undefined || (typeof value === 'number' && !Number.isFinite(value)) ? { number: String(value) } : value,
  );
}

function decode(text: string): unknown[] {
  const args = JSON.parse(text, (_, value: unknown) => {
    const special = (value as { number?: unknown } | null)?.number;
    return typeof special === 'string' && Object.keys(value as object).length === 1 ? decodeSpecial(special) : value;
  });
  if (!Array.isArray(args)) throw new TypeError(`${NAME}: the request body must be a JSON array of arguments`);
  return args;
}

function decodeSpecial(text: string): number | undefined {
  return text === 'undefined' ? undefined : Number(text);
}

/** FNV-1a over UTF-16 code units: stable across isolates and releases, which the shard of a key must be. */
function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % shards;
}

/**
 * A store in the Durable Object instance `name` (or `shards` of them) of `namespace`. Every call
 * is one round trip to one object; `getMany` and `delete` over several shards send one request
 * to each object they touch, in parallel. Creating it does no I/O and starts no timer.
 *
 * @see https://developers.cloudflare.com/durable-objects/
 */
export function durableObjectStore(namespace: DurableObjectNamespaceLike, options: DurableObjectStoreOptions = {}): DurableObjectStore {
  const { idFromName, get } = (namespace ?? {}) as Partial<DurableObjectNamespaceLike>;
  if (typeof idFromName !== 'function' || typeof get !== 'function') {
    throw new TypeError(`${NAME}: "namespace" must be a Durable Object namespace binding (env.OIDC_SESSION), with idFromName and get`);
  }
  const name = options.name ?? 'oidc-session';
  if (typeof name !== 'string' || name === '') throw new TypeError(`${NAME}: "name" must be a non-empty string`);
  const shards = positiveOption(options.shards, 'shards', NAME, 1, true);
  if (shards > MAX_SHARDS) throw new TypeError(`${NAME}: "shards" must be at most ${MAX_SHARDS}, got ${shards}`);
  const ids: unknown[] = [];
  // The shard count is part of each instance name: another count starts from empty instances
  // rather than reading keys where they are not. Ids are made on first use: creating the store
  // touches nothing of the runtime's.
  const idOf = (shard: number) => (ids[shard] ??= namespace.idFromName(shards === 1 ? name : `${name}/${shard}of${shards}`));
  const call = (shard: number, method: Method, args: readonly unknown[]) => send(namespace, idOf(shard), method, args);
  const one = (method: Method, args: readonly unknown[]) => {
    checkArguments(method, args);
    return call(shardOf(args[0] as string, shards), method, args);
  };
  const store: DurableObjectStore = {
    [storeInfo]: INFO,
    async getMany(keys) {
      checkArguments('getMany', [keys]);
      if (keys.length === 0) return [];
      return (await spread(keys, shards, (shard, part) => call(shard, 'getMany', [part]))) as Array<string | null>;
    },
    async set(key, value, ttlSeconds, only) {
      await one('set', only === undefined ? [key, value, ttlSeconds] : [key, value, ttlSeconds, only]);
    },
    async setIfAbsent(key, value, ttlSeconds) {
      return (await one('setIfAbsent', [key, value, ttlSeconds])) === true;
    },
    async delete(keys) {
      checkArguments('delete', [keys]);
      if (keys.length > 0) await spread(keys, shards, (shard, part) => call(shard, 'delete', [part]));
    },
    async addToSet(key, member, ttlSeconds) {
      await one('addToSet', [key, member, ttlSeconds]);
    },
    async setMembers(key) {
      return (await one('setMembers', [key])) as string[];
    },
    async removeFromSet(key, members) {
      checkArguments('removeFromSet', [key, members]);
      if (members.length > 0) await call(shardOf(key, shards), 'removeFromSet', [key, members]);
    },
    async close() {},
  };
  return Object.freeze(store);
}

/**
 * Runs a multi-key call as one request per shard touched, in parallel, and puts the answers back
 * in the order of `keys` (for `delete`, whose answers are null, the order does not matter).
 */
async function spread(
  keys: readonly string[],
  shards: number,
  run: (shard: number, keys: string[]) => Promise<unknown>,
): Promise<unknown[]> {
  if (shards === 1) return (await run(0, [...keys])) as unknown[];
  const groups = new Map<number, number[]>();
  keys.forEach((key, index) => {
    const shard = shardOf(key, shards);
    const group = groups.get(shard);
    if (group === undefined) groups.set(shard, [index]);
    else group.push(index);
  });
  const results: unknown[] = new Array(keys.length).fill(null);
  await Promise.all(
    Array.from(groups, async ([shard, indexes]) => {
      const values = await run(
        shard,
        indexes.map((index) => keys[index] as string),
      );
      if (!Array.isArray(values)) return;
      indexes.forEach((index, i) => {
        results[index] = values[i];
      });
    }),
  );
  return results;
}

/** One round trip: POST /<method> with the arguments; the answer is `{ result }` or `{ error }`. */
async function send(namespace: DurableObjectNamespaceLike, id: unknown, method: Method, args: readonly unknown[]): Promise<unknown> {
  // Stubs are cheap to make; a new one per call is only ever used by the request that made it.
  const stub = namespace.get(id as never);
  const response = await stub.fetch(`${ORIGIN}/${method}`, { method: 'POST', body: encode(args) });
  const text = await response.text();
  let answer: { result?: unknown; error?: { name?: unknown; message?: unknown } };
  try {
    answer = JSON.parse(text);
  } catch {
    throw new Error(
      `${NAME}: the Durable Object answered ${response.status} with no store reply; is "namespace" bound to OidcSessionStore?`,
    );
  }
  if (response.ok) return answer.result ?? null;
  const message = String(answer.error?.message ?? `HTTP ${response.status}`);
  throw answer.error?.name === 'TypeError' ? new TypeError(message) : new Error(`${NAME}: ${message}`);
}

/** The part of `DurableObjectState` the object uses (SQLite-backed storage). */
export interface DurableObjectStateLike {
  readonly storage: {
    readonly sql: { exec(query: string, ...bindings: unknown[]): { toArray(): Array<Record<string, unknown>> } };
    transactionSync<T>(closure: () => T): T;
    getAlarm(): Promise<number | null>;
    setAlarm(scheduledTime: number): Promise<void>;
  };
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
}

/** Rows removed per sweep statement, so one alarm never holds the object for long. */
const SWEEP_BATCH = 5_000;
/** Expiry instants are bound as SQLite integers; a TTL far beyond any use is clamped, never rejected. */
const FAR_FUTURE = 8_640_000_000_000_000;

const SCHEMA = `CREATE TABLE IF NOT EXISTS oidc_value (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS oidc_value_expires_at ON oidc_value (expires_at);
CREATE TABLE IF NOT EXISTS oidc_member (
  key TEXT NOT NULL,
  member TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (key, member)
);
CREATE INDEX IF NOT EXISTS oidc_member_expires_at ON oidc_member (expires_at);`;

/**
 * The Durable Object holding the entries, in its SQLite storage: plain values in one table, set
 * members in another (each member with its own expiry, which only grows). Expired rows are
 * invisible at once (every read filters on `expires_at`) and deleted by an alarm set for the
 * earliest expiry plus `sweepIntervalSeconds`, so nothing outlives its TTL by much more than that
 * and an object with no entries has no alarm at all.
 *
 * Atomicity: an instance runs one event at a time, and each call's reads and writes run in one
 * `transactionSync` with no `await` inside, so no other call can interleave between the read and
 * the write of `setIfAbsent` or `set … 'greater'`; the transaction also makes each call all or nothing.
 *
 * Bind it with a `new_sqlite_classes` migration (see docs/stores.md).
 *
 * @see https://developers.cloudflare.com/durable-objects/api/sqlite-storage-api/
 */
export class OidcSessionStore {
  /** How long after the earliest expiry the sweep runs; a subclass may change it. */
  protected readonly sweepIntervalSeconds: number = 60;
  readonly #state: DurableObjectStateLike;
  /** When the alarm will fire (ms since the epoch), or null when none is set. */
  #alarmAt: number | null = null;

  constructor(state: DurableObjectStateLike, _env?: unknown) {
    this.#state = state;
    state.storage.sql.exec(SCHEMA);
    // Read before any request runs, so the alarm bookkeeping starts from the truth.
    void state.blockConcurrencyWhile(async () => {
      this.#alarmAt = await state.storage.getAlarm();
    });
  }

  /** POST /<method> with a JSON array of arguments; answers `{ result }`, or `{ error }` with 400 or 500. */
  async fetch(request: Request): Promise<Response> {
    try {
      const method = new URL(request.url).pathname.slice(1);
      if (request.method !== 'POST' || !METHODS.has(method)) throw new TypeError(`${NAME}: unknown call ${request.method} /${method}`);
      const args = decode(await request.text());
      checkArguments(method as Method, args);
      const now = Date.now();
      const { result, expiresAt } = this.#state.storage.transactionSync(() => this.#apply(method as Method, args, now));
      if (expiresAt !== undefined) await this.#scheduleSweep(expiresAt);
      return Response.json({ result: result ?? null });
    } catch (error) {
      const name = error instanceof TypeError ? 'TypeError' : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      return Response.json({ error: { name, message } }, { status: name === 'TypeError' ? 400 : 500 });
    }
  }

  /** Deletes expired rows, then sets the next alarm for what is left. */
  async alarm(): Promise<void> {
    this.#alarmAt = null;
    const now = Date.now();
    const full = this.#state.storage.transactionSync(() => {
      const values = this.#rows(
        `DELETE FROM oidc_value WHERE key IN (SELECT key FROM oidc_value WHERE expires_at <= ? LIMIT ?) RETURNING 1`,
        now,
        SWEEP_BATCH,
      );
      const members = this.#rows(
        `DELETE FROM oidc_member WHERE rowid IN (SELECT rowid FROM oidc_member WHERE expires_at <= ? LIMIT ?) RETURNING 1`,
        now,
        SWEEP_BATCH,
      );
      return values.length === SWEEP_BATCH || members.length === SWEEP_BATCH;
    });
    // A full batch means more may be expired: go on right away, in a new alarm.
    if (full) return this.#setAlarm(now);
    const [next] = this.#rows(
      'SELECT min(expires_at) AS at FROM (SELECT min(expires_at) AS expires_at FROM oidc_value UNION ALL SELECT min(expires_at) FROM oidc_member)',
    );
    if (typeof next?.at === 'number') await this.#setAlarm(Math.max(next.at, now) + this.sweepIntervalSeconds * 1000);
  }

  /** The call itself, run inside one synchronous transaction; `expiresAt` is set when it wrote an entry. */
  #apply(method: Method, args: unknown[], now: number): { result?: unknown; expiresAt?: number } {
    const [key, second, ttlSeconds, only] = args as [string, unknown, number, unknown];
    const expiry = () => Math.min(now + wholeSeconds(ttlSeconds, NAME) * 1000, FAR_FUTURE);
    switch (method) {
      case 'getMany':
        return { result: (args[0] as string[]).map((one) => this.#live(one, now)?.value ?? null) };
      case 'setMembers':
        return { result: this.#rows('SELECT member FROM oidc_member WHERE key = ? AND expires_at > ?', key, now).map((row) => row.member) };
      case 'delete':
        for (const one of args[0] as string[]) {
          this.#state.storage.sql.exec('DELETE FROM oidc_value WHERE key = ?', one);
          this.#state.storage.sql.exec('DELETE FROM oidc_member WHERE key = ?', one);
        }
        return {};
      case 'removeFromSet':
        for (const member of second as string[])
          this.#state.storage.sql.exec('DELETE FROM oidc_member WHERE key = ? AND member = ?', key, member);
        return {};
      case 'addToSet': {
        const expiresAt = expiry();
        // A member's expiry only grows; an expired row comes back as a fresh add.
        this.#state.storage.sql.exec(
          `INSERT INTO oidc_member (key, member, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (key, member) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
          key,
          second,
          expiresAt,
        );
        return { expiresAt };
      }
      case 'setIfAbsent':
        if (this.#live(key, now) !== undefined) return { result: false };
        return { result: true, expiresAt: this.#write(key, second as string, expiry()) };
      case 'set':
        return {
          expiresAt:
            only === 'greater' ? this.#setGreater(key, second as string, expiry(), now) : this.#write(key, second as string, expiry()),
        };
    }
  }

  /**
   * Keeps the numerically larger value (compared as the memory store does) and, whichever value
   * wins, the later expiry: a later logout never shortens the life of a tombstone.
   */
  #setGreater(key: string, value: string, expiresAt: number, now: number): number {
    const existing = this.#live(key, now);
    if (existing === undefined) return this.#write(key, value, expiresAt);
    const kept = Number(existing.value) >= Number(value) ? existing.value : value;
    return this.#write(key, kept, Math.max(existing.expiresAt, expiresAt));
  }

  #write(key: string, value: string, expiresAt: number): number {
    this.#state.storage.sql.exec(
      `INSERT INTO oidc_value (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      key,
      value,
      expiresAt,
    );
    return expiresAt;
  }

  #live(key: string, now: number): { value: string; expiresAt: number } | undefined {
    const [row] = this.#rows('SELECT value, expires_at FROM oidc_value WHERE key = ? AND expires_at > ?', key, now);
    return row === undefined ? undefined : { value: row.value as string, expiresAt: row.expires_at as number };
  }

  #rows(query: string, ...bindings: unknown[]): Array<Record<string, unknown>> {
    return this.#state.storage.sql.exec(query, ...bindings).toArray();
  }

  /**
   * Makes sure an alarm fires within `sweepIntervalSeconds` of `expiresAt`. Writes whose expiry
   * is later than the pending alarm change nothing, so most writes set no alarm.
   */
  async #scheduleSweep(expiresAt: number): Promise<void> {
    const wanted = expiresAt + this.sweepIntervalSeconds * 1000;
    if (this.#alarmAt !== null && this.#alarmAt <= wanted) return;
    await this.#setAlarm(Math.min(wanted, FAR_FUTURE));
  }

  async #setAlarm(at: number): Promise<void> {
    this.#alarmAt = at;
    await this.#state.storage.setAlarm(at);
  }
}
