/**
 * A shared store on Redis, through the caller's own client: `ioredis` or `node-redis` (v4+).
 * Every key carries a TTL; sets expire as a whole, and their TTL only grows.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { redisStore } from 'oidc-session/stores/redis';
 * const store = redisStore(new Redis(process.env.REDIS_URL), { prefix: 'myapp:oidc:' });
 * const auth = createAuth({ ...options, store });
 * // the client stays yours: store.close() never quits it
 *
 * @example Redis Cluster (ioredis `Cluster` or node-redis `createCluster`): the same call
 * const store = redisStore(new Cluster([{ host: '10.0.0.1', port: 7000 }]));
 */
import { createHash } from 'node:crypto';
import { type Store, type StoreInfo, storeInfo } from '../core/store.js';
import { assertEncodable, assertString, assertStrings, wholeSeconds } from './shared.js';

/** An `ioredis` client or `Cluster` (which says so with `isCluster`): raw commands go through `call`. */
export interface IoRedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
  readonly isCluster?: boolean;
}

/** A connected `node-redis` v4+ client: raw commands go through `sendCommand`. */
export interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
}

/** A connected `node-redis` v4+ cluster (`createCluster`): raw commands name the key that routes them. */
export interface NodeRedisClusterLike {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  getMasters?: unknown;
  masters?: unknown;
}

export type RedisClientLike = IoRedisLike | NodeRedisLike | NodeRedisClusterLike;

export interface RedisStoreOptions {
  /** Put before every key, so several apps can share one Redis (default `oidc-session:`). */
  prefix?: string;
  /** Where the store's own warnings go (default `console.warn`), e.g. the eviction check below. */
  logger?: { warn(message: string): void };
}

export interface RedisStore extends Store {
  readonly [storeInfo]: StoreInfo;
  /** Does nothing: the client is the caller's to close. */
  close(): Promise<void>;
}

const NAME = 'redisStore';
const INFO: StoreInfo = Object.freeze({ name: 'redis', shared: true });

/**
 * SADD and the TTL in one atomic step. The TTL is raised only when the new one is longer (or the
 * key had none), so a short-lived member never shortens the life of the set it joins.
 */
const ADD_TO_SET = `redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;
const ADD_TO_SET_SHA = createHash('sha1').update(ADD_TO_SET).digest('hex');

/** SET that keeps the numerically larger value and the longer TTL, atomically. */
const SET_GREATER = `local old = tonumber(redis.call('GET', KEYS[1]))
local ttl = math.max(redis.call('PTTL', KEYS[1]), tonumber(ARGV[2]))
if old and old >= tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
return 1`;
const SET_GREATER_SHA = createHash('sha1').update(SET_GREATER).digest('hex');

/**
 * Plain SETs with a TTL and SREMs, many at once: each entry is applied on its own (`pcall`), so
 * one that fails (a wrong type) fails alone, and the failures come back as index, message pairs.
 * ARGV holds three strings per key: the kind, then the value and seconds (S) or the member (R).
 */
const WRITE_BATCH = `local failed = {}
for i = 1, #KEYS do
  local reply
  if ARGV[3 * i - 2] == 'S' then
    reply = redis.pcall('SET', KEYS[i], ARGV[3 * i - 1], 'EX', ARGV[3 * i])
  else
    reply = redis.pcall('SREM', KEYS[i], ARGV[3 * i - 1])
  end
  if type(reply) == 'table' and reply.err then
    failed[#failed + 1] = i
    failed[#failed + 1] = reply.err
  end
end
return failed`;
const WRITE_BATCH_SHA = createHash('sha1').update(WRITE_BATCH).digest('hex');

/** Sends one raw command; `key` is the key that routes it on a cluster (the first key it touches). */
type Send = (args: string[], key?: string) => Promise<unknown>;

interface Connection {
  send: Send;
  /** Hash slot of a key on a cluster; null for one server, where any keys go together. */
  slotOf: ((key: string) => number) | null;
}

/** Both clients expose one raw-command entry point; everything else goes through it. */
function connectionOf(client: unknown): Connection {
  if (typeof client !== 'object' || client === null) {
    throw new TypeError(`${NAME}: "client" must be an ioredis or node-redis (v4+) client, got ${client === null ? 'null' : typeof client}`);
  }
  // ioredis also has a `sendCommand`, taking a Command object: test for `call` first.
  const { call, sendCommand, isCluster, getMasters } = client as {
    call?: unknown;
    sendCommand?: unknown;
    isCluster?: unknown;
    getMasters?: unknown;
  };
  if (typeof call === 'function') {
    // An ioredis Cluster routes a command by the slot of its first key, EVALSHA's included.
    return {
      send: ([command, ...args]) => call.call(client, command, ...args) as Promise<unknown>,
      slotOf: isCluster === true ? hashSlot : null,
    };
  }
  if (typeof sendCommand === 'function') {
    // A node-redis cluster (v4: getMasters, v5+: masters) takes the routing key first; false: always the
    // master, since a replica may not have the latest revocation mark yet.
    if (typeof getMasters === 'function' || 'masters' in client) {
      return { send: (args, key) => sendCommand.call(client, key, false, args) as Promise<unknown>, slotOf: hashSlot };
    }
    return { send: (args) => sendCommand.call(client, args) as Promise<unknown>, slotOf: null };
  }
  throw new TypeError(`${NAME}: "client" must be an ioredis client (with .call) or a node-redis v4+ client (with .sendCommand)`);
}

/**
 * Calls made while one turn of the event loop runs, grouped by hash slot, so that each group
 * goes to Redis as one multi-key command: on one server there is one group; on a cluster a
 * multi-key command must name keys of one slot (else CROSSSLOT), so there is one per slot, all
 * sent at once. The groups of one turn are flushed in order of first use.
 */
function slotBatches<T extends { key: string }>(slotOf: Connection['slotOf'], flush: (batch: T[]) => void): (entry: T) => void {
  let pending = new Map<number, T[]>();
  const flushAll = () => {
    const groups = pending;
    pending = new Map();
    for (const batch of groups.values()) flush(batch);
  };
  return (entry) => {
    // setImmediate runs once the poll phase has handed over every socket that was ready.
    if (pending.size === 0) setImmediate(flushAll);
    const slot = slotOf === null ? 0 : slotOf(entry.key);
    const batch = pending.get(slot);
    if (batch) batch.push(entry);
    else pending.set(slot, [entry]);
  };
}

interface PendingGet {
  /** First key of the call's part in this slot: what the batch groups by. */
  key: string;
  keys: string[];
  resolve(values: unknown[]): void;
  reject(error: unknown): void;
}

/**
 * MGET for every `getMany` made while one turn of the event loop runs (one per request on the
 * hot path): they go to Redis as one command per slot, so dozens of concurrent requests cost one
 * socket write and one reply rather than one each. Each caller still gets its own keys' values;
 * an error reaches every caller of the batch. On one server a call's keys are read at one
 * instant; on a cluster, keys of several slots are read by several MGETs in parallel (one round
 * trip of wall time): the registry needs no more, since the marks it reads only ever appear.
 */
function batchedMget({ send, slotOf }: Connection): (keys: string[]) => Promise<unknown[]> {
  const enqueue = slotBatches<PendingGet>(slotOf, (batch) => {
    send(['MGET', ...batch.flatMap((get) => get.keys)], batch[0]!.key).then(
      (reply) => {
        const values = reply as unknown[];
        let offset = 0;
        for (const get of batch) {
          get.resolve(values.slice(offset, offset + get.keys.length));
          offset += get.keys.length;
        }
      },
      (error: unknown) => {
        for (const get of batch) get.reject(error);
      },
    );
  });
  const part = (keys: string[]) => new Promise<unknown[]>((resolve, reject) => enqueue({ key: keys[0]!, keys, resolve, reject }));
  return (keys) => {
    const slots = slotOf === null ? null : bySlot(keys, slotOf);
    if (slots === null || slots.size === 1) return part(keys);
    const values = new Array<unknown>(keys.length);
    const parts = [...slots.values()].map((indexes) =>
      part(indexes.map((i) => keys[i]!)).then((got) => {
        indexes.forEach((index, j) => {
          values[index] = got[j];
        });
      }),
    );
    return Promise.all(parts).then(() => values);
  };
}

/** Indexes of `keys` grouped by hash slot. */
function bySlot(keys: readonly string[], slotOf: (key: string) => number): Map<number, number[]> {
  const slots = new Map<number, number[]>();
  keys.forEach((key, i) => {
    const slot = slotOf(key);
    const indexes = slots.get(slot);
    if (indexes) indexes.push(i);
    else slots.set(slot, [i]);
  });
  return slots;
}

interface PendingWrite {
  kind: 'S' | 'R';
  key: string;
  args: [string, string];
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * SETs and SREMs made while one turn of the event loop runs go to Redis as one script per slot:
 * a logout ending 10,000 sessions writes tens of thousands of entries, and one command each
 * would cost far more (client-side) than the writes themselves.
 */
function batchedWrites(connection: Connection): (kind: 'S' | 'R', key: string, a: string, b?: string) => Promise<void> {
  const enqueue = slotBatches<PendingWrite>(connection.slotOf, (batch) => {
    runScript(
      connection.send,
      [WRITE_BATCH, WRITE_BATCH_SHA],
      batch.map((write) => write.key),
      batch.flatMap((write) => [write.kind, ...write.args]),
    ).then(
      (reply) => {
        const failed = new Map<number, string>();
        const list = reply as unknown[];
        for (let i = 0; i + 1 < list.length; i += 2) failed.set(Number(list[i]), String(list[i + 1]));
        batch.forEach((write, i) => {
          const message = failed.get(i + 1);
          if (message === undefined) write.resolve();
          else write.reject(new Error(message));
        });
      },
      (error: unknown) => {
        for (const write of batch) write.reject(error);
      },
    );
  });
  return (kind, key, a, b = '') => new Promise((resolve, reject) => enqueue({ kind, key, args: [a, b], resolve, reject }));
}

/** A store keeping its keys under `prefix` in the caller's Redis. */
export function redisStore(client: RedisClientLike, options: RedisStoreOptions = {}): RedisStore {
  const connection = connectionOf(client);
  const { send, slotOf } = connection;
  const mget = batchedMget(connection);
  const write = batchedWrites(connection);
  const prefix = options.prefix ?? 'oidc-session:';
  assertString(prefix, '"prefix"', NAME);
  const warn = options.logger?.warn.bind(options.logger) ?? ((message: string) => console.warn(`oidc-session: ${message}`));
  // Once, at the first command rather than at creation: nothing runs at import or createAuth() time.
  let evictionChecked = false;
  const checkEvictionOnce = () => {
    if (evictionChecked) return;
    evictionChecked = true;
    void warnIfEvicting(send, warn);
  };
  const keyOf = (key: string) => prefix + checked(key, 'a key');
  const store: RedisStore = {
    [storeInfo]: INFO,
    async getMany(keys) {
      checkEvictionOnce();
      assertStrings(keys, '"keys"', NAME);
      if (keys.length === 0) return [];
      const values = await mget(keys.map(keyOf));
      return values.map((value) => (typeof value === 'string' ? value : null));
    },
    async set(key, value, ttlSeconds, only) {
      checkEvictionOnce();
      const seconds = wholeSeconds(ttlSeconds, NAME);
      if (only === 'greater') {
        await runScript(send, [SET_GREATER, SET_GREATER_SHA], [keyOf(key)], [checked(value, 'a value'), String(seconds * 1000)]);
        return;
      }
      await write('S', keyOf(key), checked(value, 'a value'), String(seconds));
    },
    async setIfAbsent(key, value, ttlSeconds) {
      checkEvictionOnce();
      const stored = keyOf(key);
      const reply = await send(['SET', stored, checked(value, 'a value'), 'EX', String(wholeSeconds(ttlSeconds, NAME)), 'NX'], stored);
      return reply === 'OK';
    },
    async delete(keys) {
      assertStrings(keys, '"keys"', NAME);
      if (keys.length === 0) return;
      const stored = keys.map(keyOf);
      const groups = slotOf === null ? [stored] : [...bySlot(stored, slotOf).values()].map((indexes) => indexes.map((i) => stored[i]!));
      await Promise.all(groups.map((group) => send(['DEL', ...group], group[0])));
    },
    async addToSet(key, member, ttlSeconds) {
      const ttlMs = wholeSeconds(ttlSeconds, NAME) * 1000;
      await runScript(send, [ADD_TO_SET, ADD_TO_SET_SHA], [keyOf(key)], [checked(member, 'a member'), String(ttlMs)]);
    },
    async setMembers(key) {
      const stored = keyOf(key);
      const members = await send(['SMEMBERS', stored], stored);
      // node-redis with RESP3 may map a set reply to a Set.
      return Array.from(members as Iterable<string>);
    },
    async removeFromSet(key, members) {
      assertStrings(members, '"members"', NAME);
      if (members.length === 0) return;
      const setKey = keyOf(key);
      await Promise.all(members.map((member) => checked(member, 'a member')).map((member) => write('R', setKey, member)));
    },
    async close() {},
  };
  return Object.freeze(store);
}

/**
 * Tombstones and revocation marks must live until they expire: a Redis that evicts keys under
 * memory pressure (any `maxmemory-policy` but `noeviction`, since every key here has a TTL —
 * `volatile-*` policies included) may drop one and bring an ended session back. Managed
 * services often forbid CONFIG: then nothing is said.
 */
async function warnIfEvicting(send: Send, warn: (message: string) => void): Promise<void> {
  try {
    const policy = configValue(await send(['CONFIG', 'GET', 'maxmemory-policy']));
    const limit = configValue(await send(['CONFIG', 'GET', 'maxmemory']));
    if (policy === undefined || policy === 'noeviction' || limit === '0') return;
    warn(
      `${NAME}: Redis has maxmemory-policy ${policy} with maxmemory ${limit}: under memory pressure it may evict logout tombstones and revocation marks, and ended sessions would come back. Set maxmemory-policy noeviction (writes then fail, and logins fail closed), or give the sessions a Redis of their own.`,
    );
  } catch {
    // CONFIG is disabled (managed Redis) or the server is down: the first real command will say so.
  }
}

/** The value of a `CONFIG GET` reply: `[name, value]` (RESP2) or `{ name: value }` (RESP3 maps). */
function configValue(reply: unknown): string | undefined {
  if (Array.isArray(reply)) return reply[1] === undefined ? undefined : String(reply[1]);
  if (reply instanceof Map) return [...reply.values()].map(String)[0];
  if (typeof reply === 'object' && reply !== null) return Object.values(reply).map(String)[0];
  return undefined;
}

function checked(value: string, what: string): string {
  assertString(value, what, NAME);
  assertEncodable(value, what, NAME);
  return value;
}

/** EVALSHA of a script, falling back to EVAL (which also caches it) when the server does not know it yet. */
async function runScript(send: Send, [script, sha]: [string, string], keys: string[], args: string[]): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await send(['EVALSHA', sha, ...tail], keys[0]);
  } catch (error) {
    // A replica promoted by a failover starts with an empty script cache: EVAL caches it there too.
    if (!String((error as { message?: unknown } | null)?.message).startsWith('NOSCRIPT')) throw error;
    return send(['EVAL', script, ...tail], keys[0]);
  }
}

/**
 * The cluster hash slot of a key, as Redis computes it: CRC16 (XMODEM) of the key's UTF-8 bytes,
 * or of its hash tag (what lies between the first `{` and the next `}`, when not empty), mod 16384.
 *
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 */
export function hashSlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    // `{` and `}` are one byte in UTF-8 and never part of another character: string indexes do.
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code > 0x7f) return crc16(new TextEncoder().encode(key)) & 0x3fff;
    crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ code) & 0xff]!;
  }
  return crc & 0x3fff;
}

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

const CRC16_TABLE = Uint16Array.from({ length: 256 }, (_, n) => {
  let crc = n << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});
