/**
 * The embedded default store: one process, no dependencies, Web/ES APIs only (it compiles under
 * `src/core/tsconfig.json` rules). Shared by nothing: several app instances need Redis or PostgreSQL.
 *
 * @example
 * import { memoryStore } from 'oidc-session/stores/memory';
 * const store = memoryStore({ maxEntries: 1_000_000 });
 * const auth = createAuth({ ...options, store });
 * // on shutdown (optional: the sweep timer never keeps the process alive)
 * await store.close();
 */
import { type Store, type StoreInfo, storeInfo } from '../core/store.js';
import { OidcSessionError } from '../errors.js';
import { assertString, assertStrings, positiveOption, unrefTimer, wholeSeconds } from './shared.js';

export interface MemoryStoreOptions {
  /** Most plain values plus set members held at once (default 5,000,000). */
  maxEntries?: number;
  /** How often expired entries are removed (default 60). Expired entries are invisible at once regardless. */
  sweepIntervalSeconds?: number;
}

export interface MemoryStore extends Store {
  readonly [storeInfo]: StoreInfo;
  /** Plain values plus set members held in memory, counting expired ones the sweep has not removed yet. */
  size(): number;
  /** Stops the sweep timer. The store keeps working; expired entries are then only dropped when read. */
  close(): Promise<void>;
}

const NAME = 'memoryStore';
const INFO: StoreInfo = Object.freeze({ name: 'memory', shared: false });
// setInterval's delay is a signed 32-bit count of milliseconds.
const MAX_TIMER_SECONDS = 2_147_483;

/** A plain value or a set, with the instant (ms since the epoch) it expires; one small object per key. */
interface Entry {
  value: string | Set<string>;
  expiresAt: number;
}

/**
 * Keys, their values and an index of keys by expiry bucket, so the sweep touches only buckets
 * that have fully expired: O(expired), however many entries live. Each key sits in exactly
 * one bucket (it moves when its expiry changes), so the index costs one Set slot per key, and
 * never more buckets than keys.
 */
class Entries {
  readonly map = new Map<string, Entry>();
  readonly buckets = new Map<number, Set<string>>();
  /** Plain values plus set members: what `maxEntries` bounds. */
  count = 0;
  /** Every bucket up to this one has been swept. */
  private sweptThrough: number;

  constructor(
    private readonly maxEntries: number,
    private readonly bucketMs: number,
  ) {
    this.sweptThrough = Math.floor(Date.now() / bucketMs);
  }

  /** The entry at `key` unless absent or expired; an expired entry is removed on the spot. */
  live(key: string, now: number): Entry | undefined {
    const entry = this.map.get(key);
    if (entry === undefined || entry.expiresAt > now) return entry;
    this.remove(key, entry);
    return undefined;
  }

  insert(key: string, value: string | Set<string>, expiresAt: number, weight: number): void {
    this.map.set(key, { value, expiresAt });
    this.count += weight;
    this.bucket(key, expiresAt);
  }

  remove(key: string, entry: Entry): void {
    this.map.delete(key);
    this.count -= weightOf(entry);
    this.unbucket(key, entry.expiresAt);
  }

  moveExpiry(key: string, entry: Entry, expiresAt: number): void {
    this.unbucket(key, entry.expiresAt);
    entry.expiresAt = expiresAt;
    this.bucket(key, expiresAt);
  }

  /**
   * Makes room for `extra` more entries or throws. Entries are never evicted to make room:
   * an evicted logout tombstone would bring an ended session back to life, so a full store
   * drops what has expired and then refuses the write, loudly. Records that something ended
   * (`set … 'greater'`: tombstones, revocation marks) may use a reserve above `maxEntries`, so
   * a store filled by logins never costs a logout.
   */
  ensureRoom(extra: number, now: number, reserved = false): void {
    const limit = this.maxEntries + (reserved ? reserveFor(this.maxEntries) : 0);
    if (this.count + extra <= limit) return;
    this.sweep(now);
    if (this.count + extra > limit) this.sweepCurrentBucket(now);
    if (this.count + extra > limit) {
      throw new OidcSessionError(
        'STORE_FULL',
        `${NAME}: full (maxEntries = ${this.maxEntries} live entries); the write is refused rather than evicting ` +
          'anything, because an evicted logout tombstone would bring an ended session back. ' +
          'Raise "maxEntries" or use a shared store (oidc-session/stores/redis or /postgres).',
      );
    }
  }

  /** Drops every bucket whose whole time span has passed. */
  sweep(now: number): void {
    const last = Math.floor(now / this.bucketMs);
    if (last <= this.sweptThrough) return;
    // After a long pause (or a clock jump) walking the bucket map beats walking every elapsed bucket number.
    if (last - this.sweptThrough > this.buckets.size) {
      for (const bucket of this.buckets.keys()) if (bucket <= last) this.dropBucket(bucket, now);
    } else {
      for (let bucket = this.sweptThrough + 1; bucket <= last; bucket++) this.dropBucket(bucket, now);
    }
    this.sweptThrough = last;
  }

  private sweepCurrentBucket(now: number): void {
    const keys = this.buckets.get(this.bucketOf(now));
    if (keys === undefined) return;
    for (const key of keys) this.live(key, now);
  }

  private dropBucket(bucket: number, now: number): void {
    const keys = this.buckets.get(bucket);
    if (keys === undefined) return;
    for (const key of keys) this.live(key, now);
    // live() unbuckets each expired key; an emptied bucket is gone already.
  }

  private bucketOf(expiresAt: number): number {
    return Math.ceil(expiresAt / this.bucketMs);
  }

  private bucket(key: string, expiresAt: number): void {
    const bucket = this.bucketOf(expiresAt);
    // A clock that stepped back can file a key under a bucket already swept: sweep it again later.
    if (bucket <= this.sweptThrough) this.sweptThrough = bucket - 1;
    const keys = this.buckets.get(bucket);
    if (keys === undefined) this.buckets.set(bucket, new Set([key]));
    else keys.add(key);
  }

  private unbucket(key: string, expiresAt: number): void {
    const bucket = this.bucketOf(expiresAt);
    const keys = this.buckets.get(bucket);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.buckets.delete(bucket);
  }
}

/** Room kept for logouts above `maxEntries`: 1%, at least 16 entries. */
function reserveFor(maxEntries: number): number {
  return Math.max(16, Math.ceil(maxEntries / 100));
}

function weightOf(entry: Entry): number {
  return typeof entry.value === 'string' ? 1 : entry.value.size;
}

function setOf(entry: Entry): Set<string> {
  if (typeof entry.value === 'string') throw new TypeError(`${NAME}: the key holds a plain value, not a set`);
  return entry.value;
}

/** A single-process store with TTLs, bounded by `maxEntries`. */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maxEntries = positiveOption(options.maxEntries, 'maxEntries', NAME, 5_000_000, true);
  const sweepSeconds = positiveOption(options.sweepIntervalSeconds, 'sweepIntervalSeconds', NAME, 60);
  if (sweepSeconds > MAX_TIMER_SECONDS) {
    throw new TypeError(`${NAME}: "sweepIntervalSeconds" must be at most ${MAX_TIMER_SECONDS}, got ${sweepSeconds}`);
  }
  // Buckets as wide as the sweep interval (at most a minute) make each sweep drop whole buckets.
  const entries = new Entries(maxEntries, Math.min(Math.max(sweepSeconds, 1), 60) * 1000);
  return Object.freeze(buildStore(entries, new Sweeper(entries, sweepSeconds)));
}

/**
 * The sweep timer, started by the first call rather than at creation: some runtimes (Cloudflare
 * Workers) forbid timers at module scope, where `createAuth()` and this store are made.
 */
class Sweeper {
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(
    private readonly entries: Entries,
    private readonly seconds: number,
  ) {}

  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => this.entries.sweep(Date.now()), this.seconds * 1000);
    unrefTimer(this.#timer);
  }

  stop(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }
}

function buildStore(entries: Entries, sweeper: Sweeper): MemoryStore {
  return {
    [storeInfo]: INFO,
    async getMany(keys) {
      assertStrings(keys, '"keys"', NAME);
      const now = Date.now();
      return keys.map((key) => {
        const value = entries.live(key, now)?.value;
        return typeof value === 'string' ? value : null;
      });
    },
    async set(key, value, ttlSeconds, only) {
      sweeper.start();
      assertString(key, '"key"', NAME);
      assertString(value, '"value"', NAME);
      const seconds = wholeSeconds(ttlSeconds, NAME);
      const now = Date.now();
      const existing = only === 'greater' ? entries.live(key, now) : undefined;
      // Synchronous read-compare-write: nothing can interleave in one process.
      if (typeof existing?.value === 'string' && Number(existing.value) >= Number(value)) {
        if (existing.expiresAt < now + seconds * 1000) entries.moveExpiry(key, existing, now + seconds * 1000);
        return;
      }
      // 'greater': the larger value, and the longer TTL of the two.
      const keep = only === 'greater' && existing !== undefined ? Math.max(seconds, Math.ceil((existing.expiresAt - now) / 1000)) : seconds;
      writePlain(entries, key, value, keep, now, only === 'greater');
    },
    async setIfAbsent(key, value, ttlSeconds) {
      sweeper.start();
      assertString(key, '"key"', NAME);
      assertString(value, '"value"', NAME);
      const seconds = wholeSeconds(ttlSeconds, NAME);
      const now = Date.now();
      if (entries.live(key, now) !== undefined) return false;
      writePlain(entries, key, value, seconds, now);
      return true;
    },
    async delete(keys) {
      assertStrings(keys, '"keys"', NAME);
      for (const key of keys) {
        const entry = entries.map.get(key);
        if (entry !== undefined) entries.remove(key, entry);
      }
    },
    async addToSet(key, member, ttlSeconds) {
      sweeper.start();
      assertString(key, '"key"', NAME);
      assertString(member, '"member"', NAME);
      addMember(entries, key, member, wholeSeconds(ttlSeconds, NAME), Date.now());
    },
    async setMembers(key) {
      assertString(key, '"key"', NAME);
      const entry = entries.live(key, Date.now());
      return entry === undefined ? [] : Array.from(setOf(entry));
    },
    async removeFromSet(key, members) {
      assertString(key, '"key"', NAME);
      assertStrings(members, '"members"', NAME);
      removeMembers(entries, key, members);
    },
    size: () => entries.count,
    async close() {
      sweeper.stop();
    },
  };
}

function writePlain(entries: Entries, key: string, value: string, seconds: number, now: number, reserved = false): void {
  const expiresAt = now + seconds * 1000;
  const existing = entries.live(key, now);
  if (existing === undefined) {
    entries.ensureRoom(1, now, reserved);
    entries.insert(key, value, expiresAt, 1);
    return;
  }
  // Replacing a set by a plain value frees all but one of its entries.
  entries.count += 1 - weightOf(existing);
  existing.value = value;
  entries.moveExpiry(key, existing, expiresAt);
}

function addMember(entries: Entries, key: string, member: string, seconds: number, now: number): void {
  const expiresAt = now + seconds * 1000;
  const existing = entries.live(key, now);
  if (existing === undefined) {
    entries.ensureRoom(1, now);
    entries.insert(key, new Set([member]), expiresAt, 1);
    return;
  }
  const members = setOf(existing);
  if (!members.has(member)) {
    entries.ensureRoom(1, now);
    members.add(member);
    entries.count += 1;
  }
  // A set's TTL only grows.
  if (expiresAt > existing.expiresAt) entries.moveExpiry(key, existing, expiresAt);
}

function removeMembers(entries: Entries, key: string, members: readonly string[]): void {
  const entry = entries.live(key, Date.now());
  if (entry === undefined) return;
  const set = setOf(entry);
  for (const member of members) if (set.delete(member)) entries.count -= 1;
  if (set.size === 0) entries.remove(key, entry);
}
