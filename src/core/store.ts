/**
 * The one piece of shared state: a small async key-value interface with TTLs and sets.
 * Stores know nothing of OIDC; the registry (`registry.ts`) gives the keys their meaning.
 * Every entry has a TTL, so nothing grows without bound. Implementations: `oidc-session/stores/memory`
 * (the default, one process), `oidc-session/stores/redis`, `oidc-session/stores/postgres`,
 * `oidc-session/stores/durable-object` (Cloudflare Workers).
 *
 * Keys and members are opaque strings of any bytes a JavaScript string can hold (spaces, `&`,
 * `#`, `%`, `+`, quotes, backslashes, `:`…): a store must round-trip them exactly.
 */
export interface Store {
  /** Values of `keys`, in order; null for a missing or expired key. One round trip. */
  getMany(keys: readonly string[]): Promise<Array<string | null>>;
  /**
   * Sets `key` to `value` for `ttlSeconds` (replacing any value and TTL). With `'greater'`, atomically
   * keeps whichever of the stored and the new value is numerically larger, and the longer TTL:
   * two concurrent writers can never leave the smaller value behind (tombstone times only grow).
   * `'greater'` writes record that something ended (tombstones, revocation marks): a store with a
   * size bound must keep room for them, so that a store full of sessions never costs a logout.
   */
  set(key: string, value: string, ttlSeconds: number, only?: 'greater'): Promise<void>;
  /** Sets `key` only when it is absent (or expired); true when this call set it. Atomic. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Deletes keys (plain values or sets); missing keys are fine. */
  delete(keys: readonly string[]): Promise<void>;
  /** Adds `member` to the set at `key`; the set lives at least `ttlSeconds` from now (a TTL only grows). */
  addToSet(key: string, member: string, ttlSeconds: number): Promise<void>;
  /** Members of the set at `key` (empty when absent). */
  setMembers(key: string): Promise<string[]>;
  /** Removes members from the set at `key`. */
  removeFromSet(key: string, members: readonly string[]): Promise<void>;
  /** Optional: releases timers or connections the store owns (never the caller's client). */
  close?(): Promise<void>;
}

/** The methods a store must have: what `createAuth()` checks an app's own store against. */
export const STORE_METHODS = ['getMany', 'set', 'setIfAbsent', 'delete', 'addToSet', 'setMembers', 'removeFromSet'] as const;

/** Stores that live in one process say so, so the library can warn when several instances may run. */
export interface StoreInfo {
  readonly name: string;
  /** True when every instance of the app sees the same data (Redis, PostgreSQL). */
  readonly shared: boolean;
}

export const storeInfo: unique symbol = Symbol.for('oidc-session.store-info');

export type DescribedStore = Store & { readonly [storeInfo]?: StoreInfo };
