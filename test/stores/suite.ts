/**
 * The one conformance suite every store runs against a real server (docs/architecture.md, "Stores"). It pins the
 * contract of `Store` in src/core/store.ts — what the registry may rely on whatever the backend.
 *
 * Sets: every store guarantees that a member stays at least its own TTL and that no TTL shrinks;
 * Redis and memory expire a set as a whole (a later, longer add keeps earlier members), PostgreSQL
 * expires members one by one. The suite asserts only what all of them promise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Store, type StoreInfo, storeInfo } from '../../src/core/store.js';

export interface StoreHarness {
  store: Store;
  /**
   * A NEW store instance, as after a restart: on the same server for a shared store; for a store
   * that lives in the process (memory), a new, empty one.
   */
  reopen(): Promise<Store>;
  /** A store on the same server with another prefix/table (memory: another instance). */
  sibling(): Promise<Store>;
  /** Closes what the harness opened and deletes everything it wrote. */
  cleanup(): Promise<void>;
}

export interface SuiteOptions {
  /** What the store says of itself; `shared` also decides what the restart test expects. */
  info: StoreInfo;
}

/** Keys, members and values that must round-trip exactly. */
export const AWKWARD = [
  'with space',
  'a&b=c&d',
  '#fragment',
  '100%25 %zz',
  'a+b plus',
  "it's",
  'say "hi"',
  'back\\slash\\',
  'https://op.example/:sid:1',
  'ünïcödé ключ 鍵 مفتاح',
  'emoji 🔐🧑‍💻👍🏽',
  '*?[glob]{x}',
  '{"json":[1,2]}',
  'tab\there\nnew line\r\n',
  'select 1; -- drop',
  '',
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function runStoreSuite(name: string, factory: () => Promise<StoreHarness>, options: SuiteOptions): void {
  describe(`${name} store: Store conformance`, () => {
    let harness: StoreHarness;
    let store: Store;
    let counter = 0;
    /** A fresh key namespace for each use, so tests never see each other's data. */
    const ns = () => `t${++counter}:`;

    beforeAll(async () => {
      harness = await factory();
      store = harness.store;
    });
    afterAll(async () => {
      await harness?.cleanup();
    });

    it(`describes itself as ${JSON.stringify(options.info)}`, () => {
      expect((store as Store & { [storeInfo]?: StoreInfo })[storeInfo]).toEqual(options.info);
    });

    describe('plain values', () => {
      it('when no keys are asked then getMany gives an empty array', async () => {
        expect(await store.getMany([])).toEqual([]);
      });

      it('when a value is set then getMany returns it', async () => {
        const k = ns();
        await store.set(`${k}a`, 'value-a', 60);
        expect(await store.getMany([`${k}a`])).toEqual(['value-a']);
      });

      it('when keys are missing then getMany keeps the order and gives null in their place', async () => {
        const k = ns();
        await store.set(`${k}a`, 'A', 60);
        await store.set(`${k}c`, 'C', 60);
        const got = await store.getMany([`${k}missing1`, `${k}c`, `${k}b`, `${k}a`, `${k}c`, `${k}missing2`]);
        expect(got).toEqual([null, 'C', null, 'A', 'C', null]);
      });

      it('when a key is set again then the new value replaces the old one', async () => {
        const k = ns();
        await store.set(`${k}a`, 'old', 60);
        await store.set(`${k}a`, 'new', 60);
        expect(await store.getMany([`${k}a`])).toEqual(['new']);
      });

      it("when set with 'greater' meets a larger stored number then the larger one stays", async () => {
        const k = ns();
        await store.set(`${k}t`, '1700000100.5', 60, 'greater');
        await store.set(`${k}t`, '1700000050', 60, 'greater');
        expect(await store.getMany([`${k}t`])).toEqual(['1700000100.5']);
        await store.set(`${k}t`, '1700000200', 60, 'greater');
        expect(await store.getMany([`${k}t`])).toEqual(['1700000200']);
      });

      it("when many writers set with 'greater' at once then the largest value wins, whatever the order", async () => {
        const k = ns();
        const values = Array.from({ length: 40 }, (_, i) => String(1_700_000_000 + ((i * 37) % 40)));
        await Promise.all(values.map((value) => store.set(`${k}t`, value, 60, 'greater')));
        expect(await store.getMany([`${k}t`])).toEqual([String(1_700_000_039)]);
      });

      it('when setIfAbsent finds no key then it writes and returns true', async () => {
        const k = ns();
        expect(await store.setIfAbsent(`${k}a`, 'first', 60)).toBe(true);
        expect(await store.getMany([`${k}a`])).toEqual(['first']);
      });

      it('when setIfAbsent finds a key then it returns false and leaves the value alone', async () => {
        const k = ns();
        await store.set(`${k}a`, 'kept', 60);
        expect(await store.setIfAbsent(`${k}a`, 'lost', 60)).toBe(false);
        expect(await store.getMany([`${k}a`])).toEqual(['kept']);
      });

      it('when keys are deleted then plain values and sets are gone, and missing keys are fine', async () => {
        const k = ns();
        await store.set(`${k}a`, 'A', 60);
        await store.set(`${k}b`, 'B', 60);
        await store.addToSet(`${k}s`, 'm', 60);
        await store.delete([`${k}a`, `${k}s`, `${k}never-there`]);
        await store.delete([]);
        expect(await store.getMany([`${k}a`, `${k}b`])).toEqual([null, 'B']);
        expect(await store.setMembers(`${k}s`)).toEqual([]);
      });

      it('when a key was deleted then setIfAbsent can take it again', async () => {
        const k = ns();
        await store.set(`${k}a`, 'A', 60);
        await store.delete([`${k}a`]);
        expect(await store.setIfAbsent(`${k}a`, 'again', 60)).toBe(true);
        expect(await store.getMany([`${k}a`])).toEqual(['again']);
      });

      it('when a value is large (256 KB) then it round-trips exactly', async () => {
        const k = ns();
        const big = JSON.stringify({ claims: 'x🔐"\\'.repeat((256 * 1024) / 8) });
        await store.set(`${k}big`, big, 60);
        expect(await store.getMany([`${k}big`])).toEqual([big]);
      });
    });

    describe('sets', () => {
      it('when a set is absent then setMembers gives an empty array', async () => {
        expect(await store.setMembers(`${ns()}none`)).toEqual([]);
      });

      it('when members are added (one of them twice) then setMembers lists each once', async () => {
        const k = ns();
        await store.addToSet(`${k}s`, 'one', 60);
        await store.addToSet(`${k}s`, 'two', 60);
        await store.addToSet(`${k}s`, 'one', 60);
        expect((await store.setMembers(`${k}s`)).sort()).toEqual(['one', 'two']);
      });

      it('when members are removed then only those go, and unknown members are ignored', async () => {
        const k = ns();
        for (const member of ['a', 'b', 'c', 'd']) await store.addToSet(`${k}s`, member, 60);
        await store.removeFromSet(`${k}s`, ['b', 'd', 'not-a-member']);
        await store.removeFromSet(`${k}s`, []);
        expect((await store.setMembers(`${k}s`)).sort()).toEqual(['a', 'c']);
      });

      it('when the last member is removed then the set is empty, and adding starts it again', async () => {
        const k = ns();
        await store.addToSet(`${k}s`, 'only', 60);
        await store.removeFromSet(`${k}s`, ['only']);
        expect(await store.setMembers(`${k}s`)).toEqual([]);
        await store.addToSet(`${k}s`, 'next', 60);
        expect(await store.setMembers(`${k}s`)).toEqual(['next']);
      });

      it('when removing from or deleting an absent set then nothing fails', async () => {
        const k = ns();
        await store.removeFromSet(`${k}none`, ['x']);
        await store.delete([`${k}none`]);
        expect(await store.setMembers(`${k}none`)).toEqual([]);
      });

      it('when two sets share members then they stay independent', async () => {
        const k = ns();
        await store.addToSet(`${k}s1`, 'shared', 60);
        await store.addToSet(`${k}s2`, 'shared', 60);
        await store.removeFromSet(`${k}s1`, ['shared']);
        expect(await store.setMembers(`${k}s1`)).toEqual([]);
        expect(await store.setMembers(`${k}s2`)).toEqual(['shared']);
      });
    });

    describe('awkward strings', () => {
      it('when keys and values hold spaces, & # % + quotes \\ : unicode and emoji then they round-trip exactly', async () => {
        const k = ns();
        for (const s of AWKWARD) await store.set(`${k}${s}`, s, 60);
        expect(await store.getMany(AWKWARD.map((s) => `${k}${s}`))).toEqual(AWKWARD);
      });

      it('when set keys and members hold the same characters then they round-trip exactly', async () => {
        const k = ns();
        for (const s of AWKWARD) {
          await store.addToSet(`${k}set`, s, 60);
          await store.addToSet(`${k}${s}`, s, 60);
        }
        expect((await store.setMembers(`${k}set`)).sort()).toEqual([...AWKWARD].sort());
        for (const s of AWKWARD) expect(await store.setMembers(`${k}${s}`)).toEqual([s]);
        await store.removeFromSet(`${k}set`, AWKWARD.slice(0, 8));
        expect((await store.setMembers(`${k}set`)).sort()).toEqual(AWKWARD.slice(8).sort());
      });

      it('when keys differ only by case, trailing space or unicode normalisation then they stay distinct', async () => {
        const k = ns();
        const keys = ['Key', 'key', 'key ', 'caf\u00e9', 'cafe\u0301'];
        for (const [i, key] of keys.entries()) await store.set(`${k}${key}`, String(i), 60);
        expect(await store.getMany(keys.map((key) => `${k}${key}`))).toEqual(['0', '1', '2', '3', '4']);
      });

      it('when a string cannot be stored exactly (lone surrogate, NUL) then it round-trips or is refused with a TypeError, never altered', async () => {
        const k = ns();
        for (const [i, odd] of ['\ud800', 'a\udc00b', 'nul\0byte'].entries()) {
          await expectExactOrTypeError(store.set(`${k}key${odd}`, 'v', 60), async () => {
            expect(await store.getMany([`${k}key${odd}`, `${k}key\ufffd`, `${k}keya\ufffdb`])).toEqual(['v', null, null]);
          });
          await expectExactOrTypeError(store.set(`${k}value${i}`, odd, 60), async () => {
            expect(await store.getMany([`${k}value${i}`])).toEqual([odd]);
          });
          await expectExactOrTypeError(store.addToSet(`${k}set${i}`, odd, 60), async () => {
            expect(await store.setMembers(`${k}set${i}`)).toEqual([odd]);
          });
        }
      });
    });

    describe('TTL (real time: one wait of about 1.3 s shared by every case)', () => {
      const k = 'ttl:';
      const early: Record<string, unknown> = {};
      const late: Record<string, unknown> = {};

      beforeAll(async () => {
        const prefix = `${k}${ns()}`;
        const key = (name: string) => `${prefix}${name}`;
        const started = Date.now();
        await Promise.all([
          store.set(key('short'), 'v', 1),
          store.set(key('long'), 'v', 60),
          store.set(key('fraction'), 'v', 0.4),
          store.set(key('shrunk'), 'v', 60).then(() => store.set(key('shrunk'), 'v2', 1)),
          store.setIfAbsent(key('nx'), 'first', 1),
          store.addToSet(key('set-short'), 'a', 1).then(() => store.addToSet(key('set-short'), 'b', 1)),
          store.addToSet(key('set-grown'), 'a', 1).then(() => store.addToSet(key('set-grown'), 'a', 60)),
          store.addToSet(key('set-not-shrunk'), 'a', 60).then(() => store.addToSet(key('set-not-shrunk'), 'a', 1)),
          store.addToSet(key('set-mixed'), 'long', 60).then(() => store.addToSet(key('set-mixed'), 'short', 1)),
          // A larger value with a shorter TTL: the value wins, the longer TTL stays (store.ts).
          store.set(key('greater'), '10', 60, 'greater').then(() => store.set(key('greater'), '20', 1, 'greater')),
        ]);
        await sleep(Math.max(0, started + 600 - Date.now()));
        early.fraction = (await store.getMany([key('fraction')]))[0];
        early.short = (await store.getMany([key('short')]))[0];
        await sleep(Math.max(0, started + 1300 - Date.now()));
        late.values = await store.getMany([key('short'), key('long'), key('fraction'), key('shrunk')]);
        late.greater = (await store.getMany([key('greater')]))[0];
        late.nxRetaken = await store.setIfAbsent(key('nx'), 'second', 60);
        late.nxValue = (await store.getMany([key('nx')]))[0];
        late.setShort = await store.setMembers(key('set-short'));
        late.setGrown = await store.setMembers(key('set-grown'));
        late.setNotShrunk = await store.setMembers(key('set-not-shrunk'));
        late.setMixed = await store.setMembers(key('set-mixed'));
        late.readdShort = await store.addToSet(key('set-short'), 'fresh', 60).then(() => store.setMembers(key('set-short')));
      }, 15_000);

      it('when a TTL has not passed then the value is there', () => {
        expect(early.short).toBe('v');
        expect((late.values as unknown[])[1]).toBe('v');
      });

      it('when a TTL has passed then the value reads as null at once (no sweep needed)', () => {
        expect((late.values as unknown[])[0]).toBeNull();
      });

      it('when a TTL is fractional then it is rounded up to whole seconds, never down', () => {
        expect(early.fraction).toBe('v');
        expect((late.values as unknown[])[2]).toBeNull();
      });

      it('when set() replaces a value then it replaces the TTL too, even with a shorter one', () => {
        expect((late.values as unknown[])[3]).toBeNull();
      });

      it("when set with 'greater' writes a larger value with a shorter TTL then the value is new and the longer TTL stays", () => {
        expect(late.greater).toBe('20');
      });

      it('when a setIfAbsent value has expired then setIfAbsent takes the key again', () => {
        expect(late.nxRetaken).toBe(true);
        expect(late.nxValue).toBe('second');
      });

      it('when every TTL given to a set has passed then the set is empty', () => {
        expect(late.setShort).toEqual([]);
      });

      it('when a member is added again with a longer TTL then its life grows', () => {
        expect(late.setGrown).toEqual(['a']);
      });

      it('when a member is added again with a shorter TTL then its life does not shrink', () => {
        expect(late.setNotShrunk).toEqual(['a']);
      });

      it('when a short-lived member joins a long-lived set then the earlier members keep their TTL', () => {
        expect(late.setMixed).toContain('long');
      });

      it('when an expired set is added to again then only the new member is there (nothing comes back)', () => {
        expect(late.readdShort).toEqual(['fresh']);
      });
    });

    describe('setIfAbsent races', () => {
      it('when 50 calls race on one key then exactly one returns true and its value is stored', async () => {
        const key = `${ns()}race`;
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.setIfAbsent(key, `writer-${i}`, 60)));
        const winners = results.flatMap((won, i) => (won ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(await store.getMany([key])).toEqual([`writer-${winners[0]}`]);
      });

      it('when 20 keys each see 10 racing calls then every key has exactly one winner', async () => {
        const k = ns();
        const calls = Array.from({ length: 200 }, (_, i) => store.setIfAbsent(`${k}${i % 20}`, String(i), 60));
        const results = await Promise.all(calls);
        for (let key = 0; key < 20; key++) expect(results.filter((won, i) => won && i % 20 === key)).toHaveLength(1);
      });
    });

    describe('concurrency', () => {
      it('when 200 members are added at once then all 200 are there', async () => {
        const key = `${ns()}set`;
        await Promise.all(Array.from({ length: 200 }, (_, i) => store.addToSet(key, `m${i}`, 60)));
        const members = await store.setMembers(key);
        expect(members).toHaveLength(200);
        expect(new Set(members).size).toBe(200);
      });

      it('when adds, removes, deletes and reads run at once on disjoint data then every read is consistent and the end state exact', async () => {
        const k = ns();
        const added = Array.from({ length: 200 }, (_, i) => `a${i}`);
        const existing = Array.from({ length: 100 }, (_, i) => `b${i}`);
        const plain = Array.from({ length: 100 }, (_, i) => `${k}k${i}`);
        for (const member of existing) await store.addToSet(`${k}B`, member, 60);
        await Promise.all(plain.map((key) => store.set(key, `value of ${key}`, 60)));

        const reads: Array<Promise<void>> = [];
        for (let i = 0; i < 100; i++) {
          reads.push(
            store.setMembers(`${k}A`).then((members) => {
              expect(new Set(members).size).toBe(members.length);
              for (const member of members) expect(added).toContain(member);
            }),
            store.getMany(plain).then((values) => {
              values.forEach((value, j) => {
                expect([null, `value of ${plain[j]}`]).toContain(value);
              });
            }),
          );
        }
        await Promise.all([
          ...added.map((member) => store.addToSet(`${k}A`, member, 60)),
          ...existing.filter((_, i) => i % 2 === 0).map((member) => store.removeFromSet(`${k}B`, [member])),
          ...plain.slice(0, 50).map((key) => store.delete([key])),
          ...reads,
        ]);

        expect((await store.setMembers(`${k}A`)).sort()).toEqual([...added].sort());
        expect((await store.setMembers(`${k}B`)).sort()).toEqual(existing.filter((_, i) => i % 2 === 1).sort());
        const values = await store.getMany(plain);
        expect(values.slice(0, 50).every((value) => value === null)).toBe(true);
        expect(values.slice(50)).toEqual(plain.slice(50).map((key) => `value of ${key}`));
      });

      it('when 500 keys are deleted while being read then each read sees the value or null, and all end null', async () => {
        const k = ns();
        const keys = Array.from({ length: 500 }, (_, i) => `${k}${i}`);
        await Promise.all(keys.map((key) => store.set(key, key, 60)));
        const reads = await Promise.all([
          ...keys.map((key) => store.getMany([key])),
          ...keys.map((key) => store.delete([key]).then(() => store.getMany([key]))),
        ]);
        reads.slice(0, 500).forEach(([value], i) => {
          expect([null, keys[i]]).toContain(value);
        });
        expect(reads.slice(500).every(([value]) => value === null)).toBe(true);
        expect((await store.getMany(keys)).every((value) => value === null)).toBe(true);
      });

      it('when a set is deleted while members are added then the end state is a set of only later members or none', async () => {
        const key = `${ns()}set`;
        await Promise.all(Array.from({ length: 50 }, (_, i) => store.addToSet(key, `before${i}`, 60)));
        await Promise.all([store.delete([key]), ...Array.from({ length: 50 }, (_, i) => store.addToSet(key, `after${i}`, 60))]);
        const members = await store.setMembers(key);
        expect(members.every((member) => member.startsWith('after'))).toBe(true);
      });
    });

    describe('restart', () => {
      // Only the claim the store makes is registered (no skipped test): survival for a shared store,
      // a clean slate for one that lives in the process.
      if (options.info.shared) {
        it('when a NEW store instance is opened on the same server then it sees everything the first one wrote, and the first sees its writes', async () => {
          const k = ns();
          await store.set(`${k}plain`, 'kept', 60);
          await store.setIfAbsent(`${k}nx`, 'taken', 60);
          await store.addToSet(`${k}set`, 'member', 60);
          const reopened = await harness.reopen();
          expect(reopened).not.toBe(store);
          expect(await reopened.getMany([`${k}plain`, `${k}nx`])).toEqual(['kept', 'taken']);
          expect(await reopened.setIfAbsent(`${k}nx`, 'stolen', 60)).toBe(false);
          expect(await reopened.setMembers(`${k}set`)).toEqual(['member']);
          await reopened.addToSet(`${k}set`, 'from-reopened', 60);
          await reopened.delete([`${k}plain`]);
          expect((await store.setMembers(`${k}set`)).sort()).toEqual(['from-reopened', 'member']);
          expect(await store.getMany([`${k}plain`])).toEqual([null]);
        });
        return;
      }
      // A store that says it is not shared keeps its data in the process: a restart starts empty,
      // which is what its `shared: false` tells the library (and the user) to expect.
      it('when the process restarts (a new instance) then nothing written before is there', async () => {
        const k = ns();
        await store.set(`${k}plain`, 'kept', 60);
        await store.setIfAbsent(`${k}nx`, 'taken', 60);
        await store.addToSet(`${k}set`, 'member', 60);
        const reopened = await harness.reopen();
        expect(reopened).not.toBe(store);
        expect(await reopened.getMany([`${k}plain`, `${k}nx`])).toEqual([null, null]);
        expect(await reopened.setMembers(`${k}set`)).toEqual([]);
        expect(await reopened.setIfAbsent(`${k}nx`, 'mine', 60)).toBe(true);
        expect(await store.getMany([`${k}plain`, `${k}nx`])).toEqual(['kept', 'taken']);
      });
    });

    describe('isolation', () => {
      it('when another store uses another prefix/table (memory: another instance) then neither sees the other', async () => {
        const k = ns();
        const other = await harness.sibling();
        await store.set(`${k}a`, 'mine', 60);
        await store.addToSet(`${k}s`, 'mine', 60);
        await other.set(`${k}b`, 'theirs', 60);
        expect(await other.getMany([`${k}a`])).toEqual([null]);
        expect(await other.setMembers(`${k}s`)).toEqual([]);
        expect(await other.setIfAbsent(`${k}a`, 'theirs', 60)).toBe(true);
        await other.delete([`${k}s`]);
        expect(await store.getMany([`${k}a`, `${k}b`])).toEqual(['mine', null]);
        expect(await store.setMembers(`${k}s`)).toEqual(['mine']);
      });
    });

    describe('argument errors', () => {
      it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, '60'])(
        'when ttlSeconds is %s then every write rejects with a TypeError',
        async (ttl) => {
          const k = ns();
          const bad = ttl as number;
          await expect(store.set(`${k}a`, 'v', bad)).rejects.toThrow(TypeError);
          await expect(store.setIfAbsent(`${k}a`, 'v', bad)).rejects.toThrow(TypeError);
          await expect(store.addToSet(`${k}s`, 'm', bad)).rejects.toThrow(TypeError);
          expect(await store.getMany([`${k}a`])).toEqual([null]);
          expect(await store.setMembers(`${k}s`)).toEqual([]);
        },
      );

      it('when a key, value or member is not a string then the call rejects with a TypeError', async () => {
        const notString = 42 as unknown as string;
        await expect(store.set(notString, 'v', 60)).rejects.toThrow(TypeError);
        await expect(store.set('k', notString, 60)).rejects.toThrow(TypeError);
        await expect(store.getMany([notString])).rejects.toThrow(TypeError);
        await expect(store.delete([notString])).rejects.toThrow(TypeError);
        await expect(store.addToSet('k', notString, 60)).rejects.toThrow(TypeError);
        await expect(store.removeFromSet('k', [notString])).rejects.toThrow(TypeError);
      });
    });
  });
}

/** A write of an unstorable string either succeeds and then reads back exactly, or fails with a TypeError. */
async function expectExactOrTypeError(write: Promise<unknown>, verify: () => Promise<void>): Promise<void> {
  const outcome = await write.then(
    () => null,
    (error: unknown) => error,
  );
  if (outcome === null) await verify();
  else expect(outcome).toBeInstanceOf(TypeError);
}
