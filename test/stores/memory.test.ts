import { afterEach, describe, expect, it, vi } from 'vitest';
import { OidcSessionError } from '../../src/errors.js';
import { type MemoryStore, memoryStore } from '../../src/stores/memory.js';
import { runStoreSuite } from './suite.js';

runStoreSuite(
  'memory',
  async () => {
    const opened: MemoryStore[] = [];
    const open = () => {
      const store = memoryStore();
      opened.push(store);
      return store;
    };
    const store = open();
    return {
      store,
      // A restart of the process: a new instance, with nothing of the old one's.
      reopen: async () => open(),
      sibling: async () => open(),
      cleanup: async () => {
        await Promise.all(opened.map((s) => s.close()));
      },
    };
  },
  { info: { name: 'memory', shared: false } },
);

describe('memory store specifics', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('sweep (fake clock)', () => {
    it('when entries expire then they are invisible at once but held until the sweep, which then removes only them', async () => {
      vi.useFakeTimers();
      const store = memoryStore({ sweepIntervalSeconds: 60 });
      for (let i = 0; i < 1000; i++) await store.set(`short${i}`, 'v', 1);
      for (let i = 0; i < 5; i++) await store.addToSet('short-set', `m${i}`, 1);
      for (let i = 0; i < 10; i++) await store.set(`long${i}`, 'v', 3600);
      await store.addToSet('long-set', 'm', 3600);
      expect(store.size()).toBe(1016);

      vi.advanceTimersByTime(2_000);
      expect(store.size()).toBe(1016);
      vi.advanceTimersByTime(60_000);
      expect(store.size()).toBe(11);
      expect(await store.getMany(['long0', 'long9'])).toEqual(['v', 'v']);
      expect(await store.setMembers('long-set')).toEqual(['m']);
      await store.close();
    });

    it('when an expired entry is read before the sweep then the read removes it', async () => {
      vi.useFakeTimers();
      const store = memoryStore();
      await store.set('a', 'v', 1);
      await store.addToSet('s', 'm', 1);
      vi.advanceTimersByTime(1_500);
      expect(await store.getMany(['a'])).toEqual([null]);
      expect(await store.setMembers('s')).toEqual([]);
      expect(store.size()).toBe(0);
      await store.close();
    });

    it('when TTLs change (set again, set grows) then the sweep honours the latest expiry', async () => {
      vi.useFakeTimers();
      const store = memoryStore({ sweepIntervalSeconds: 1 });
      await store.set('shortened', 'v', 3600);
      await store.set('shortened', 'v', 1);
      await store.set('lengthened', 'v', 1);
      await store.set('lengthened', 'v', 3600);
      await store.addToSet('grown', 'a', 1);
      await store.addToSet('grown', 'b', 3600);
      vi.advanceTimersByTime(5_000);
      expect(store.size()).toBe(3);
      expect(await store.getMany(['shortened', 'lengthened'])).toEqual([null, 'v']);
      expect((await store.setMembers('grown')).sort()).toEqual(['a', 'b']);
      await store.close();
    });

    it('when the clock jumps far ahead then one sweep still removes everything expired', async () => {
      vi.useFakeTimers();
      const store = memoryStore({ sweepIntervalSeconds: 1 });
      await store.set('a', 'v', 10);
      await store.set('b', 'v', 86_400 * 365);
      vi.setSystemTime(Date.now() + 86_400_000 * 30);
      vi.advanceTimersByTime(1_000);
      expect(store.size()).toBe(1);
      await store.close();
    });

    it('when created then no timer runs until the first write (runtimes forbid timers at module scope)', async () => {
      vi.useFakeTimers();
      const before = vi.getTimerCount();
      const store = memoryStore();
      await store.getMany(['a']);
      expect(vi.getTimerCount()).toBe(before);
      await store.set('a', 'v', 60);
      expect(vi.getTimerCount()).toBe(before + 1);
      await store.set('b', 'v', 60);
      expect(vi.getTimerCount()).toBe(before + 1);
      await store.close();
    });

    it('when closed then its timer is gone and it keeps working', async () => {
      vi.useFakeTimers();
      const before = vi.getTimerCount();
      const store = memoryStore();
      await store.set('warm', 'v', 60);
      expect(vi.getTimerCount()).toBe(before + 1);
      await store.close();
      expect(vi.getTimerCount()).toBe(before);
      await store.set('a', 'v', 60);
      expect(await store.getMany(['a'])).toEqual(['v']);
    });
  });

  describe('maxEntries', () => {
    it('when full then a new key or member is refused with STORE_FULL, and nothing is evicted', async () => {
      const store = memoryStore({ maxEntries: 3 });
      await store.set('a', '1', 60);
      await store.set('b', '2', 60);
      await store.addToSet('s', 'm1', 60);
      const refusal = await store.set('c', '3', 60).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(OidcSessionError);
      expect(refusal).toMatchObject({ code: 'STORE_FULL', message: expect.stringMatching(/maxEntries = 3.*evict/) });
      await expect(store.setIfAbsent('c', '3', 60)).rejects.toMatchObject({ code: 'STORE_FULL' });
      await expect(store.addToSet('s', 'm2', 60)).rejects.toMatchObject({ code: 'STORE_FULL' });
      await expect(store.addToSet('t', 'm', 60)).rejects.toMatchObject({ code: 'STORE_FULL' });
      expect(await store.getMany(['a', 'b', 'c'])).toEqual(['1', '2', null]);
      expect(await store.setMembers('s')).toEqual(['m1']);
      expect(store.size()).toBe(3);
      await store.close();
    });

    it("when full then 'greater' writes (tombstones, revocation marks) use a reserve of 1%, at least 16, and no more", async () => {
      const store = memoryStore({ maxEntries: 3 });
      for (const key of ['a', 'b', 'c']) await store.set(key, '1', 60);
      await expect(store.set('d', '1', 60)).rejects.toMatchObject({ code: 'STORE_FULL' });
      for (let i = 0; i < 16; i++) await store.set(`tomb-${i}`, String(i), 60, 'greater');
      await expect(store.set('tomb-16', '1', 60, 'greater')).rejects.toMatchObject({ code: 'STORE_FULL' });
      expect(store.size()).toBe(19);
      await store.close();
    });

    it('when full then rewriting an existing key or re-adding a member still works', async () => {
      const store = memoryStore({ maxEntries: 2 });
      await store.set('a', '1', 60);
      await store.addToSet('s', 'm', 60);
      await store.set('a', 'one', 120);
      await store.addToSet('s', 'm', 120);
      expect(await store.getMany(['a'])).toEqual(['one']);
      await store.close();
    });

    it('when full of entries that have expired then they are dropped to make room, even before a sweep', async () => {
      vi.useFakeTimers();
      const store = memoryStore({ maxEntries: 3, sweepIntervalSeconds: 3600 });
      await store.set('old1', 'v', 1);
      await store.addToSet('old-set', 'm', 1);
      await store.set('live', 'v', 60);
      vi.advanceTimersByTime(1_001);
      await store.set('new1', 'v', 60);
      await store.set('new2', 'v', 60);
      expect(store.size()).toBe(3);
      await expect(store.set('new3', 'v', 60)).rejects.toMatchObject({ code: 'STORE_FULL' });
      await store.close();
    });

    it('when entries are deleted or members removed then their room is free again', async () => {
      const store = memoryStore({ maxEntries: 2 });
      await store.addToSet('s', 'a', 60);
      await store.addToSet('s', 'b', 60);
      await store.removeFromSet('s', ['a']);
      await store.set('x', 'v', 60);
      await store.delete(['s', 'x']);
      expect(store.size()).toBe(0);
      await store.set('y', 'v', 60);
      await store.set('z', 'v', 60);
      await store.close();
    });
  });

  describe('options', () => {
    it.each([
      [{ maxEntries: 0 }, /"maxEntries" must be a positive integer/],
      [{ maxEntries: 1.5 }, /"maxEntries"/],
      [{ maxEntries: '10' }, /"maxEntries"/],
      [{ sweepIntervalSeconds: 0 }, /"sweepIntervalSeconds" must be a positive number/],
      [{ sweepIntervalSeconds: 3_000_000 }, /"sweepIntervalSeconds" must be at most/],
    ])('when given %o then it throws a TypeError naming the option', (options, message) => {
      expect(() => memoryStore(options as never)).toThrow(TypeError);
      expect(() => memoryStore(options as never)).toThrow(message);
    });

    it('when used then the store object is frozen', async () => {
      const store = memoryStore();
      expect(Object.isFrozen(store)).toBe(true);
      await store.close();
    });
  });

  it('when a key holds a plain value then set operations on it reject with a TypeError', async () => {
    const store = memoryStore();
    await store.set('plain', 'v', 60);
    await expect(store.addToSet('plain', 'm', 60)).rejects.toThrow(TypeError);
    await expect(store.setMembers('plain')).rejects.toThrow(TypeError);
    expect(await store.getMany(['plain'])).toEqual(['v']);
    await store.close();
  });

  it('when a set holds 200,000 members then they can all be read, half removed, and the set deleted', async () => {
    const store = memoryStore();
    for (let i = 0; i < 200_000; i++) await store.addToSet('big', `session-${i}`, 3600);
    await store.set('neighbour', 'v', 3600);
    const members = await store.setMembers('big');
    expect(members).toHaveLength(200_000);
    expect(store.size()).toBe(200_001);
    await store.removeFromSet('big', members.slice(0, 100_000));
    expect(await store.setMembers('big')).toHaveLength(100_000);
    await store.delete(['big']);
    expect(await store.setMembers('big')).toEqual([]);
    expect(store.size()).toBe(1);
    expect(await store.getMany(['neighbour'])).toEqual(['v']);
    await store.close();
  });
});
