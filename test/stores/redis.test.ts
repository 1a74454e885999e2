import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisClientLike, redisStore } from '../../src/stores/redis.js';
import { probeRedis, redisUrl, requireService } from '../support/services.js';
import { runStoreSuite, type StoreHarness } from './suite.js';

const available = await requireService('redis', () => probeRedis());

/** A client of either library, with what the tests need around it. */
interface Client {
  client: RedisClientLike;
  close(): Promise<void>;
}

const clients = {
  ioredis: async (): Promise<Client> => {
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    return { client, close: async () => void (await client.quit()) };
  },
  'node-redis': async (): Promise<Client> => {
    const client = createClient({ url: redisUrl });
    await client.connect();
    return { client, close: () => client.close() };
  },
};

/** Deletes every key under `pattern` (SCAN, never KEYS), through a throwaway ioredis client. */
async function deleteKeys(pattern: string): Promise<void> {
  const admin = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await admin.quit();
}

function harness(kind: keyof typeof clients) {
  return async (): Promise<StoreHarness> => {
    const run = `oidc-session-test:${randomUUID()}:`;
    const opened: Client[] = [await clients[kind]()];
    const first = opened[0]!;
    return {
      store: redisStore(first.client, { prefix: `${run}main:` }),
      async reopen() {
        const next = await clients[kind]();
        opened.push(next);
        return redisStore(next.client, { prefix: `${run}main:` });
      },
      sibling: async () => redisStore(first.client, { prefix: `${run}other:` }),
      async cleanup() {
        await deleteKeys(`${run}*`);
        await Promise.all(opened.map((c) => c.close()));
      },
    };
  };
}

describe.runIf(available)('redis', () => {
  for (const kind of ['ioredis', 'node-redis'] as const) {
    runStoreSuite(`redis (${kind})`, harness(kind), { info: { name: 'redis', shared: true } });
  }

  describe('redis store specifics', () => {
    const run = `oidc-session-test:${randomUUID()}:`;
    let io: Redis;
    let node: ReturnType<typeof createClient>;

    beforeAll(async () => {
      io = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      node = createClient({ url: redisUrl });
      await node.connect();
    });
    afterAll(async () => {
      await deleteKeys(`${run}*`);
      await io?.quit();
      await node?.close();
    });

    it.each([
      ['null', null],
      ['a string', 'redis://127.0.0.1'],
      ['an object without call or sendCommand', { get() {} }],
    ])('when given %s instead of a client then it throws a TypeError at creation', (_, client) => {
      expect(() => redisStore(client as never)).toThrow(TypeError);
      expect(() => redisStore(client as never)).toThrow(/ioredis|node-redis/);
    });

    it('when a prefix is not a string then it throws a TypeError', () => {
      expect(() => redisStore(io, { prefix: 1 as never })).toThrow(/"prefix"/);
    });

    it('when writing then every key is prefixed and carries a TTL', async () => {
      const store = redisStore(io, { prefix: `${run}ttl:` });
      await store.set('plain', 'v', 100);
      await store.setIfAbsent('nx', 'v', 200);
      await store.addToSet('set', 'm', 300);
      expect(await io.get(`${run}ttl:plain`)).toBe('v');
      expect(await io.ttl(`${run}ttl:plain`)).toBeGreaterThan(90);
      expect(await io.ttl(`${run}ttl:nx`)).toBeGreaterThan(190);
      expect(await io.ttl(`${run}ttl:set`)).toBeGreaterThan(290);
      expect(await io.smembers(`${run}ttl:set`)).toEqual(['m']);
    });

    it('when a set TTL is raised and then a shorter add comes then the TTL stays the longer one', async () => {
      const store = redisStore(node, { prefix: `${run}grow:` });
      await store.addToSet('set', 'a', 100);
      await store.addToSet('set', 'b', 1000);
      await store.addToSet('set', 'c', 10);
      expect(await io.ttl(`${run}grow:set`)).toBeGreaterThan(990);
    });

    it('when a set has no TTL (written by someone else) then addToSet gives it one', async () => {
      await io.sadd(`${run}foreign:set`, 'x');
      await redisStore(io, { prefix: `${run}foreign:` }).addToSet('set', 'y', 50);
      expect(await io.ttl(`${run}foreign:set`)).toBeGreaterThan(40);
    });

    it.each(['ioredis', 'node-redis'] as const)(
      'when the server forgot the script (SCRIPT FLUSH) then addToSet falls back to EVAL (%s)',
      async (kind) => {
        const store = redisStore(kind === 'ioredis' ? io : node, { prefix: `${run}flush-${kind}:` });
        await store.addToSet('set', 'a', 60);
        await io.script('FLUSH');
        await store.addToSet('set', 'b', 60);
        await store.addToSet('set', 'c', 60);
        expect((await store.setMembers('set')).sort()).toEqual(['a', 'b', 'c']);
      },
    );

    it('when a key holds a lone surrogate then the write is refused before reaching Redis', async () => {
      const store = redisStore(io, { prefix: `${run}utf:` });
      await expect(store.set('\ud800', 'v', 60)).rejects.toThrow(/lone UTF-16 surrogate/);
      expect(await io.exists(`${run}utf:\ufffd`)).toBe(0);
    });

    it.each(['ioredis', 'node-redis'] as const)(
      'when Redis may evict keys under memory pressure then the first command logs a warning naming the setting (%s)',
      async (kind) => {
        const [, policy] = (await io.config('GET', 'maxmemory-policy')) as [string, string];
        const [, limit] = (await io.config('GET', 'maxmemory')) as [string, string];
        const warnings: string[] = [];
        const logger = { warn: (message: string) => void warnings.push(message) };
        try {
          await redisStore(kind === 'ioredis' ? io : node, { prefix: `${run}evict:`, logger }).getMany(['a']);
          await new Promise((resolve) => setTimeout(resolve, 50));
          expect(warnings.filter((w) => /maxmemory-policy/.test(w))).toHaveLength(policy === 'noeviction' || limit === '0' ? 0 : 1);
          await io.config('SET', 'maxmemory', '4gb');
          await io.config('SET', 'maxmemory-policy', 'allkeys-lru');
          warnings.length = 0;
          const store = redisStore(kind === 'ioredis' ? io : node, { prefix: `${run}evict:`, logger });
          await store.getMany(['a']);
          await store.set('b', 'v', 60);
          for (let i = 0; i < 100 && warnings.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
          await new Promise((resolve) => setTimeout(resolve, 50));
          expect(warnings).toEqual([expect.stringMatching(/maxmemory-policy allkeys-lru.*noeviction/)]);
        } finally {
          await io.config('SET', 'maxmemory-policy', policy);
          await io.config('SET', 'maxmemory', limit);
        }
      },
    );

    it('when closed then the caller’s client still works', async () => {
      const store = redisStore(node, { prefix: `${run}close:` });
      await store.close();
      expect(await node.ping()).toBe('PONG');
      await store.set('after-close', 'v', 60);
      expect(await store.getMany(['after-close'])).toEqual(['v']);
    });
  });
});
