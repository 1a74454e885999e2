/**
 * `npm start`: the demo app on http://127.0.0.1:3000. With no OIDC_* variables it also
 * starts an embedded development OpenID provider on http://127.0.0.1:3001 (PROVIDER_PORT) and
 * configures itself against it; with OIDC_ISSUER / OIDC_CLIENT_ID / OIDC_CLIENT_SECRET / APP_URL /
 * SESSION_SECRET it runs against any provider. SESSION_MODE (cookie|server) and
 * SESSION_STORE (memory | redis://… | postgres://…) choose where sessions live. Every variable:
 * README.md beside this file.
 */
import type { AddressInfo } from 'node:net';
import { type AuthOptions, configFromEnv, createAuth, type Store } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { createDemoApp, createLogoutLog, type DemoInfo } from './app.js';
import { demoClient, startDevProvider } from './dev-provider.js';

const DEV_SECRET = 'demo-only-secret-do-not-use-in-production-0123456789';

async function main(): Promise<void> {
  const env = process.env;
  const host = env.HOST ?? '127.0.0.1';
  const port = Number(env.PORT ?? 3000);
  const embedded = !Object.keys(env).some((k) => /^OIDC_(?:[A-Z0-9_]+_)?ISSUER$/.test(k));
  const appUrl = env.APP_URL ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const { store, name: storeName } = await openStore(env.SESSION_STORE ?? 'memory');
  // The page's live panel of logouts hears of them through the library's hooks.
  const events = createLogoutLog();

  let options: AuthOptions = configFromEnv({ ...env, APP_URL: appUrl });
  let info: DemoInfo;
  if (embedded) {
    const provider = await startDevProvider({
      host: '127.0.0.1',
      port: Number(env.PROVIDER_PORT ?? 3001),
      clients: [demoClient(appUrl)],
    });
    options = {
      ...options,
      secret: env.SESSION_SECRET ? options.secret : DEV_SECRET,
      // Front-channel logout is an opt-in (it is unauthenticated); the demo shows every kind of logout.
      providers: {
        default: {
          issuer: provider.issuer,
          clientId: 'demo',
          clientSecret: 'demo-secret',
          displayName: 'the demo provider',
          frontChannelLogout: true,
        },
      },
      exposeTokens: env.EXPOSE_TOKENS ? options.exposeTokens : ['id', 'access'],
    };
    info = {
      mode: '',
      store: storeName,
      providerNote: `embedded development provider at ${provider.issuer}`,
      users: provider.users,
      events,
      providerSignOutUrl: `${provider.issuer}/session/end`,
    };
  } else {
    info = { mode: '', store: storeName, providerNote: `provider ${Object.values(options.providers)[0]?.issuer}`, events };
  }

  const auth = createAuth({
    ...options,
    store,
    ...events.hooks,
    logger: {
      info: (m) => console.log(`[auth] ${m}`),
      warn: (m) => console.warn(`[auth] ${m}`),
      error: (m) => console.error(`[auth] ${m}`),
    },
  });
  info.mode = auth.config.mode;
  const server = createDemoApp(auth, info).listen(port, host, () => {
    const { port: bound } = server.address() as AddressInfo;
    const listening = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
    // APP_URL is the public URL (behind a proxy, or another port): say both when they differ.
    const where = env.APP_URL && env.APP_URL.replace(/\/$/, '') !== listening ? `${listening}, public URL ${env.APP_URL}` : listening;
    console.log(`oidc-session demo (${info.mode} sessions, ${info.store} store): listening on ${where}`);
    if (info.users) console.log(`  sign in as ${info.users.map((u) => `${u.login} / ${u.password}`).join(' or ')}`);
  });
}

/** SESSION_STORE: `memory`, `redis://…` (ioredis), `redis-cluster://host:port,…` (ioredis Cluster) or `postgres://…` (pg Pool). The clients are the demo's own. */
async function openStore(url: string): Promise<{ store: Store; name: string }> {
  if (url === 'memory') return { store: memoryStore(), name: 'memory' };
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    const [{ Redis }, { redisStore }] = await Promise.all([import('ioredis'), import('../../src/stores/redis.js')]);
    return { store: redisStore(new Redis(url, { maxRetriesPerRequest: 1 })), name: 'redis' };
  }
  if (url.startsWith('redis-cluster://')) {
    // Seed nodes, comma-separated; the options are docs/stores.md's (fail fast while a master is down).
    const [{ Cluster }, { redisStore }] = await Promise.all([import('ioredis'), import('../../src/stores/redis.js')]);
    const seeds = url
      .slice('redis-cluster://'.length)
      .split(',')
      .map((node) => ({ host: node.split(':')[0]!, port: Number(node.split(':')[1] ?? 6379) }));
    const cluster = new Cluster(seeds, {
      redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 1000, commandTimeout: 1000 },
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
    });
    return { store: redisStore(cluster), name: 'redis-cluster' };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const [{ default: pg }, { postgresStore }] = await Promise.all([import('pg'), import('../../src/stores/postgres.js')]);
    return { store: postgresStore(new pg.Pool({ connectionString: url })), name: 'postgres' };
  }
  throw new Error(
    `SESSION_STORE must be "memory", a redis:// URL, redis-cluster://host:port,… or a postgres:// URL (got ${JSON.stringify(url)})`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
