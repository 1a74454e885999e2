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
 */
import { createHash } from 'node:crypto';
import { type Store, type StoreInfo, storeInfo } from '../core/store.js';
import { assertEncodable, assertString, assertStrings, wholeSeconds } from './shared.js';

/** An `ioredis` client (or Cluster): raw commands go through `call`. */
export interface IoRedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** A connected `node-redis` v4+ client: raw commands go through `sendCommand`. */
export interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
}

export type RedisClientLike = IoRedisLike | NodeRedisLike;

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

type Send = (args: string[]) => Promise<unknown>;

/** Both clients expose one raw-command entry point; everything else goes through it. */
function commandSender(client: unknown): Send {
  if (typeof client !== 'object' || client === null) {
    throw new TypeError(`${NAME}: "client" must be an ioredis or node-redis (v4+) client, got ${client === null ? 'null' : typeof client}`);
  }
  // ioredis also has a `sendCommand`, taking a Command object: test for `call` first.
  const { call, sendCommand } = client as { call?: unknown; sendCommand?: unknown };
  if (typeof call === 'function') return ([command, ...args]) => call.call(client, command, ...args) as Promise<unknown>;
  if (typeof sendCommand === 'function') return (args) => sendCommand.call(client, args) as Promise<unknown>;
  throw new TypeError(`${NAME}: "client" must be an ioredis client (with .call) or a node-redis v4+ client (with .sendCommand)`);
}

interface PendingGet {
  keys: string[];
  resolve(values: unknown[]): void;
  reject(error: unknown): void;
}

/**
 * MGET for every `getMany` made while one turn of the event loop runs (one per request on the
 * hot path): they go to Redis as one command, so dozens of concurrent requests cost one socket
 * write and one reply rather than one each. Each caller still gets its own keys' values, all
 * read at one instant; an error reaches every caller of the batch.
 */
function batchedMget(send: Send): (keys: string[]) => Promise<unknown[]> {
  let pending: PendingGet[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    send(['MGET', ...batch.flatMap((get) => get.keys)]).then(
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
  };
  return (keys) =>
    new Promise((resolve, reject) => {
      // setImmediate runs once the poll phase has handed over every socket that was ready.
      if (pending.length === 0) setImmediate(flush);
      pending.push({ keys, resolve, reject });
    });
}

interface PendingWrite {
  kind: 'S' | 'R';
  key: string;
  args: [string, string];
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * SETs and SREMs made while one turn of the event loop runs go to Redis as one script: a
 * logout ending 10,000 sessions writes tens of thousands of entries, and one command each
 * would cost far more (client-side) than the writes themselves.
 */
function batchedWrites(send: Send): (kind: 'S' | 'R', key: string, a: string, b?: string) => Promise<void> {
  let pending: PendingWrite[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    const keys = batch.map((write) => write.key);
    runScript(
      send,
      [WRITE_BATCH, WRITE_BATCH_SHA],
      keys,
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
  };
  return (kind, key, a, b = '') =>
    new Promise((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ kind, key, args: [a, b], resolve, reject });
    });
}

/** A store keeping its keys under `prefix` in the caller's Redis. */
export function redisStore(client: RedisClientLike, options: RedisStoreOptions = {}): RedisStore {
  const send = commandSender(client);
  const mget = batchedMget(send);
  const write = batchedWrites(send);
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
      const reply = await send(['SET', keyOf(key), checked(value, 'a value'), 'EX', String(wholeSeconds(ttlSeconds, NAME)), 'NX']);
      return reply === 'OK';
    },
    async delete(keys) {
      assertStrings(keys, '"keys"', NAME);
      if (keys.length > 0) await send(['DEL', ...keys.map(keyOf)]);
    },
    async addToSet(key, member, ttlSeconds) {
      const ttlMs = wholeSeconds(ttlSeconds, NAME) * 1000;
      await runScript(send, [ADD_TO_SET, ADD_TO_SET_SHA], [keyOf(key)], [checked(member, 'a member'), String(ttlMs)]);
    },
    async setMembers(key) {
      const members = await send(['SMEMBERS', keyOf(key)]);
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
    return await send(['EVALSHA', sha, ...tail]);
  } catch (error) {
    if (!String((error as { message?: unknown } | null)?.message).startsWith('NOSCRIPT')) throw error;
    return send(['EVAL', script, ...tail]);
  }
}
