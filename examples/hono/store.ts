/**
 * The store for the server runtimes (Node, Bun, Deno), from `SESSION_STORE`: `memory` (the
 * default), `redis://…` (through ioredis, or node-redis with `REDIS_CLIENT=node-redis`) or
 * `postgres://…` (pg). `SESSION_STORE_PREFIX` keeps several apps apart in one server: the key
 * prefix in Redis, the table prefix in PostgreSQL. Workers use the Durable Object store instead.
 */
import type { Store } from '../../src/index.js';
import type { Env } from './app.js';

export async function storeFromEnv(env: Env): Promise<Store | undefined> {
  const url = env.SESSION_STORE ?? 'memory';
  const prefix = env.SESSION_STORE_PREFIX;
  if (url === 'memory') return undefined;
  if (/^rediss?:\/\//.test(url)) {
    const { redisStore } = await import('../../src/stores/redis.js');
    const options = prefix ? { prefix: `${prefix}:` } : {};
    if (env.REDIS_CLIENT === 'node-redis') {
      const { createClient } = await import('redis');
      return redisStore(await createClient({ url }).connect(), options);
    }
    const { Redis } = await import('ioredis');
    return redisStore(new Redis(url, { maxRetriesPerRequest: 1 }), options);
  }
  if (/^postgres(?:ql)?:\/\//.test(url)) {
    const [{ default: pg }, { postgresStore }] = await Promise.all([import('pg'), import('../../src/stores/postgres.js')]);
    return postgresStore(new pg.Pool({ connectionString: url }), prefix ? { table: prefix } : {});
  }
  throw new Error(`SESSION_STORE must be "memory", a redis:// URL or a postgres:// URL (got ${JSON.stringify(url)})`);
}

/** `HOST` (default 127.0.0.1) and `PORT` (default 3000) to listen on. */
export function listenAddress(env: Env): { hostname: string; port: number } {
  return { hostname: env.HOST ?? '127.0.0.1', port: Number(env.PORT ?? 3000) };
}
