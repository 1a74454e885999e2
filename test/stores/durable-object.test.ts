import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/store.js';
import { durableObjectStore } from '../../src/stores/durable-object.js';
import { requireWorkerd, Workerd } from './durable-object/workerd.js';
import { runStoreSuite, type StoreHarness } from './suite.js';

const available = await requireWorkerd();

/**
 * The suite against the store running inside workerd. `store` lives in one isolate; reopen()
 * restarts workerd on the persisted storage and hands back a store built in the other isolate,
 * so the restart test checks both durability and that two isolates share one state.
 */
function harness(shards?: number) {
  return async (): Promise<StoreHarness> => {
    const workerd = await Workerd.start();
    const options = shards === undefined ? {} : { shards };
    return {
      store: await workerd.remote({ store: options }),
      async reopen() {
        await workerd.restart();
        return workerd.remote({ isolate: 'b', store: options });
      },
      sibling: () => workerd.remote({ store: { ...options, name: 'sibling' } }),
      cleanup: () => workerd.dispose(),
    };
  };
}

describe.runIf(available)('durable-object', () => {
  runStoreSuite('durable-object (one instance)', harness(), { info: { name: 'durable-object', shared: true } });
  runStoreSuite('durable-object (3 shards)', harness(3), { info: { name: 'durable-object', shared: true } });

  describe('durable-object store specifics', () => {
    let workerd: Workerd;
    let counter = 0;
    const ns = () => `specific${++counter}:`;

    beforeAll(async () => {
      workerd = await Workerd.start();
    });
    afterAll(async () => {
      await workerd?.dispose();
    });

    describe('atomicity across isolates', () => {
      it('when 200 setIfAbsent calls race on one key from two isolates then exactly one returns true and its value is stored', async () => {
        const [a, b] = [await workerd.remote({ isolate: 'a' }), await workerd.remote({ isolate: 'b' })];
        const key = `${ns()}race`;
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).setIfAbsent(key, `writer-${i}`, 60)));
        const winners = results.flatMap((won, i) => (won ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(await a.getMany([key])).toEqual([`writer-${winners[0]}`]);
      });

      it("when 200 set 'greater' calls race from two isolates then the largest value is stored, and the longest TTL", async () => {
        const [a, b] = [await workerd.remote({ isolate: 'a' }), await workerd.remote({ isolate: 'b' })];
        const key = `${ns()}tombstone`;
        // Values in a scrambled order; the largest goes with the shortest TTL, the longest TTL with a small value.
        const writes = Array.from({ length: 200 }, (_, i) => ({
          value: String(1_700_000_000 + ((i * 77) % 200)),
          ttl: i === 0 ? 3600 : 1,
        }));
        await Promise.all(writes.map(({ value, ttl }, i) => (i % 2 ? a : b).set(key, value, ttl, 'greater')));
        expect(await b.getMany([key])).toEqual([String(1_700_000_199)]);
        // Past every one-second TTL, the value is still there: the one-hour TTL of a smaller value was kept.
        await new Promise((resolve) => setTimeout(resolve, 2100));
        expect(await a.getMany([key])).toEqual([String(1_700_000_199)]);
      });
    });

    describe('sweeping (a subclass with a one-second sweep interval)', () => {
      it('when entries expire then an alarm deletes their rows, keeps the live ones, and no alarm stays once the object is empty', async () => {
        const name = `${ns()}swept`;
        const store = await workerd.remote({ binding: 'SWEPT', store: { name } });
        await Promise.all([
          ...Array.from({ length: 50 }, (_, i) => store.set(`short${i}`, 'v', 1)),
          ...Array.from({ length: 30 }, (_, i) => store.addToSet('short-set', `m${i}`, 1)),
          store.set('long', 'v', 3600),
          store.addToSet('long-set', 'm', 3600),
        ]);
        expect(await workerd.get(`/rows?name=${encodeURIComponent(name)}`)).toMatchObject({ values: 51, members: 31 });
        const rows = await waitFor(
          () => workerd.get(`/rows?name=${encodeURIComponent(name)}`) as Promise<{ values: number; members: number; alarm: number | null }>,
          (seen) => seen.values === 1 && seen.members === 1,
        );
        // The next alarm waits for the long-lived entries, not sooner.
        expect(rows.alarm).toBeGreaterThan(Date.now() + 3_000_000);
        expect(await store.getMany(['long'])).toEqual(['v']);
        expect(await store.setMembers('long-set')).toEqual(['m']);

        await store.delete(['long', 'long-set']);
        await store.set('last', 'v', 1);
        const empty = await waitFor(
          () => workerd.get(`/rows?name=${encodeURIComponent(name)}`) as Promise<{ values: number; members: number; alarm: number | null }>,
          (seen) => seen.values === 0 && seen.members === 0,
        );
        expect(empty.alarm).toBeNull();
      });

      it('when the object restarts with expired rows then the alarm set before still removes them', async () => {
        const name = `${ns()}swept-restart`;
        await (await workerd.remote({ binding: 'SWEPT', store: { name } })).set('short', 'v', 1);
        await workerd.restart();
        const rows = await waitFor(
          () => workerd.get(`/rows?name=${encodeURIComponent(name)}`) as Promise<{ values: number; alarm: number | null }>,
          (seen) => seen.values === 0,
        );
        expect(rows.alarm).toBeNull();
      });
    });

    describe('shards', () => {
      it('when keys are spread over shards then getMany and delete across them keep the order and the effect', async () => {
        const k = ns();
        const sharded = await workerd.remote({ store: { shards: 4, name: `${k}sharded` } });
        const keys = Array.from({ length: 64 }, (_, i) => `${k}${i}`);
        await Promise.all(keys.map((key) => sharded.set(key, `value ${key}`, 60)));
        const reversed = [...keys].reverse();
        expect(await sharded.getMany([...reversed, `${k}missing`])).toEqual([...reversed.map((key) => `value ${key}`), null]);
        await sharded.delete(keys.filter((_, i) => i % 2 === 0));
        expect(await sharded.getMany(keys)).toEqual(keys.map((key, i) => (i % 2 === 0 ? null : `value ${key}`)));
      });

      it('when the shard count differs then it is another store (keys are never read from where they are not)', async () => {
        const k = ns();
        const two = await workerd.remote({ store: { shards: 2, name: `${k}s` } });
        const three = await workerd.remote({ store: { shards: 3, name: `${k}s` } });
        await two.set('a', 'two', 60);
        expect(await three.getMany(['a'])).toEqual([null]);
      });
    });

    it('when keys, values and members hold NUL then they round-trip exactly (SQLite text keeps it), distinct from their prefixes', async () => {
      const store = await workerd.remote();
      const k = ns();
      await store.set(`${k}a\0b`, 'x\0y', 60);
      await store.set(`${k}a`, 'prefix', 60);
      await store.addToSet(`${k}s\0`, '\0m\0', 60);
      await store.addToSet(`${k}s\0`, '\0m', 60);
      expect(await store.getMany([`${k}a\0b`, `${k}a`, `${k}a\0`])).toEqual(['x\0y', 'prefix', null]);
      expect((await store.setMembers(`${k}s\0`)).sort()).toEqual(['\0m', '\0m\0']);
      expect(await store.setMembers(`${k}s`)).toEqual([]);
    });
  });
});

describe('durable-object store options (no runtime needed)', () => {
  const namespace = { idFromName: (name: string) => name, get: () => ({ fetch: async () => new Response('{}') }) };

  it.each([
    ['null', null],
    ['an object without idFromName', { get() {} }],
    ['a string', 'OIDC_SESSION'],
  ])('when given %s instead of a namespace then it throws a TypeError naming "namespace"', (_, value) => {
    expect(() => durableObjectStore(value as never)).toThrow(TypeError);
    expect(() => durableObjectStore(value as never)).toThrow(/"namespace"/);
  });

  it.each([
    [{ name: '' }, /"name" must be a non-empty string/],
    [{ name: 1 }, /"name"/],
    [{ shards: 0 }, /"shards" must be a positive integer/],
    [{ shards: 1.5 }, /"shards"/],
    [{ shards: 1000 }, /"shards" must be at most 256/],
  ])('when given %o then it throws a TypeError naming the option', (options, message) => {
    expect(() => durableObjectStore(namespace, options as never)).toThrow(TypeError);
    expect(() => durableObjectStore(namespace, options as never)).toThrow(message);
  });

  it('when created then it is frozen and has touched nothing of the runtime', () => {
    let touched = 0;
    const counting = { idFromName: () => touched++, get: () => ({ fetch: async () => new Response('{}') }) };
    const store: Store = durableObjectStore(counting);
    expect(Object.isFrozen(store)).toBe(true);
    expect(touched).toBe(0);
  });
});

/** Polls until `done` holds (the sweep runs on the object's own alarm), failing after 20 s. */
async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`still not done after 20 s: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
