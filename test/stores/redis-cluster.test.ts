/**
 * The Redis store on a real Redis Cluster (6 nodes, test/support/redis-cluster.ts), through both
 * clients' cluster APIs: ioredis `Cluster` and node-redis `createCluster`. A multi-key command
 * across slots is a CROSSSLOT error there, so this is where per-slot batching is proven.
 */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSlot, type RedisClientLike, redisStore } from '../../src/stores/redis.js';
import { clusterSeeds, lockCluster, rawCommand, requireCluster } from '../support/redis-cluster.js';
import { AWKWARD, runStoreSuite, type StoreHarness } from './suite.js';

// Held for the whole file: no other file's failover may kill a master under this suite.
const release = await lockCluster();
const available = await requireCluster();
if (!available) await release();
afterAll(release);

interface Client {
  client: RedisClientLike;
  close(): Promise<void>;
}

const clients = {
  ioredis: async (): Promise<Client> => {
    const client = new Cluster(clusterSeeds, { redisOptions: { maxRetriesPerRequest: 1 } });
    return { client, close: async () => void (await client.quit()) };
  },
  'node-redis': async (): Promise<Client> => {
    const client = createCluster({ rootNodes: clusterSeeds.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) });
    await client.connect();
    return { client, close: () => client.close() };
  },
};

/** Deletes every key under `pattern` on every master (SCAN, never KEYS). */
async function deleteKeys(pattern: string): Promise<void> {
  const admin = new Cluster(clusterSeeds);
  for (const node of admin.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      // Keys of one node may still span slots: one DEL each.
      await Promise.all(keys.map((key) => node.del(key)));
      cursor = next;
    } while (cursor !== '0');
  }
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

describe.runIf(available)('redis cluster', () => {
  for (const kind of ['ioredis', 'node-redis'] as const) {
    runStoreSuite(`redis cluster (${kind})`, harness(kind), { info: { name: 'redis', shared: true } });
  }

  describe('redis cluster specifics', () => {
    const run = `oidc-session-test:${randomUUID()}:`;
    let io: Cluster;
    let node: ReturnType<typeof createCluster>;

    beforeAll(async () => {
      io = new Cluster(clusterSeeds, { redisOptions: { maxRetriesPerRequest: 1 } });
      node = createCluster({ rootNodes: clusterSeeds.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) });
      await node.connect();
    });
    afterAll(async () => {
      await deleteKeys(`${run}*`);
      await io?.quit();
      await node?.close();
    });

    it('when keys hold awkward bytes, hash tags or none then hashSlot agrees with CLUSTER KEYSLOT', async () => {
      const keys = [...AWKWARD, 'plain', '{user1000}.following', 'foo{}{bar}', 'foo{{bar}}zap', 'foo{bar}{zap}', '{}', '}{', 'a{ü}b', '🔐'];
      for (const key of keys) {
        const full = `${run}${key}`;
        expect(hashSlot(full), full).toBe(Number(await rawCommand(7000, ['CLUSTER', 'KEYSLOT', full])));
      }
    });

    it.each(['ioredis', 'node-redis'] as const)(
      'when one getMany, delete and a turn of writes span every master then each reaches its slot and nothing fails (%s)',
      async (kind) => {
        const store = redisStore(kind === 'ioredis' ? io : node, { prefix: `${run}span-${kind}:` });
        const keys = Array.from({ length: 64 }, (_, i) => `k${i}`);
        // 64 keys cover all three masters' slot ranges (checked below): a single MGET or script would be CROSSSLOT.
        const owners = new Set(keys.map((key) => hashSlot(`${run}span-${kind}:${key}`)).map((slot) => Math.floor(slot / 5462)));
        expect(owners.size).toBe(3);
        await Promise.all(keys.map((key, i) => store.set(key, `v${i}`, 60)));
        await Promise.all(keys.map((key, i) => store.addToSet(`set-${key}`, `m${i}`, 60)));
        expect(await store.getMany(keys)).toEqual(keys.map((_, i) => `v${i}`));
        await Promise.all(keys.map((key, i) => store.removeFromSet(`set-${key}`, [`m${i}`])));
        await store.delete(keys.slice(0, 32));
        expect(await store.getMany(keys)).toEqual(keys.map((_, i) => (i < 32 ? null : `v${i}`)));
        expect(await store.setMembers('set-k0')).toEqual([]);
      },
    );
  });
});
