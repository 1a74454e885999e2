/**
 * Shared pieces of the fuzz and property tests: one fixed seed, a store that counts writes, and
 * a real sign-in through the development provider.
 */
import fc from 'fast-check';
import type { Store } from '../../src/core/store.js';
import { type MemoryStore, memoryStore } from '../../src/stores/memory.js';
import { Agent } from '../support/agent.js';
import type { Stack } from '../support/stack.js';

/**
 * One seed for every property: a failure prints it with the counterexample's path, and the run
 * replays exactly with `fc.assert(…, { seed, path })`. Change it on purpose, never per run.
 */
export const SEED = 20_261_201;

/**
 * Each property passes its own `numRuns`; the seed is the same everywhere. Properties over HTTP
 * stop at the first failure (`shrink: false`): shrinking would replay hundreds of requests past
 * the test timeout, and the printed counterexample is already a concrete request.
 */
export function fuzzOptions(numRuns: number, { shrink = true } = {}): fc.Parameters<unknown> {
  return { seed: SEED, numRuns, endOnFailure: !shrink };
}

export const ALICE = { login: 'alice', password: 'alice-password' };
export const BOB = { login: 'bob', password: 'bob-password' };

export interface CountingStore {
  store: Store;
  inner: MemoryStore;
  /** Calls of set, setIfAbsent, addToSet, delete and removeFromSet since the last reset. */
  readonly writes: number;
  /** The key (or first key) of each counted write, for the failure message. */
  readonly written: string[];
  reset(): void;
}

/** A Store over a memoryStore() that counts every call that may change it. */
export function countingStore(inner: MemoryStore = memoryStore()): CountingStore {
  const written: string[] = [];
  const note = (method: string, key: string) => void written.push(`${method} ${key.slice(0, 80)}`);
  const store: Store = {
    getMany: (keys) => inner.getMany(keys),
    setMembers: (key) => inner.setMembers(key),
    set(key, value, ttl, only) {
      note('set', key);
      return inner.set(key, value, ttl, only);
    },
    setIfAbsent(key, value, ttl) {
      note('setIfAbsent', key);
      return inner.setIfAbsent(key, value, ttl);
    },
    addToSet(key, member, ttl) {
      note('addToSet', key);
      return inner.addToSet(key, member, ttl);
    },
    delete(keys) {
      note('delete', keys[0] ?? '');
      return inner.delete(keys);
    },
    removeFromSet(key, members) {
      note('removeFromSet', key);
      return inner.removeFromSet(key, members);
    },
  };
  return {
    store,
    inner,
    get writes() {
      return written.length;
    },
    get written() {
      return [...written];
    },
    reset: () => void written.splice(0),
  };
}

/** Signs in for real (the provider's login and consent pages) and returns the agent holding the cookies. */
export async function signIn(stack: Stack, user = ALICE, returnTo = '/api/me', agent = new Agent()): Promise<Agent> {
  await agent.loginAtProvider(`${stack.appUrl}/auth/login?returnTo=${encodeURIComponent(returnTo)}`, user);
  return agent;
}

/** The `Cookie` header of `pairs`, in order (duplicates and odd names kept as given). */
export function cookieHeader(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([name, value]) => `${name}=${value}`).join('; ');
}

export const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A base64url string of exactly `length` characters. */
export function base64urlString(minLength: number, maxLength = minLength): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...BASE64URL), minLength, maxLength });
}

/** `value`, printed in a counterexample as `label` (a 16 KB cookie or 1 MB body is no help in a report). */
export function labelled<T extends object>(value: T, label: string): T {
  Object.defineProperty(value, fc.toStringMethod, { value: () => label, enumerable: false });
  return value;
}
