/**
 * The app's one auth instance. The options are a function: Next calls nothing here at build
 * time, so `next build` needs no secret; the first request reads the environment, the same
 * contract as `npm start` (examples/demo/main.ts):
 * OIDC_ISSUER / OIDC_CLIENT_ID / OIDC_CLIENT_SECRET (OIDC_<NAME>_* for more providers),
 * APP_URL, HOST, PORT, SESSION_SECRET, SESSION_MODE, SESSION_STORE (memory | redis://… | postgres://…),
 * EXPOSE_TOKENS, OIDC_FRONTCHANNEL_LOGOUT. `npm run demo:next` starts the embedded provider
 * first when OIDC_ISSUER is unset and sets those variables for it (scripts/demo.ts).
 * REFRESH_AUTOMATIC=<seconds> turns on automatic refresh (asking for offline_access).
 */
import { type AuthOptions, configFromEnv, type Store } from 'oidc-session';
import { createNextAuth } from 'oidc-session/next';
import { logoutLog } from './events';

export const auth = createNextAuth(async (): Promise<AuthOptions> => {
  const env = process.env;
  const options = configFromEnv({ ...env, APP_URL: appUrl() });
  const refresh = env.REFRESH_AUTOMATIC ? Number(env.REFRESH_AUTOMATIC) : undefined;
  const embedded = env.DEMO_EMBEDDED_PROVIDER === '1';
  for (const provider of Object.values(options.providers)) {
    if (embedded) provider.displayName = 'the demo provider';
    if (refresh !== undefined) {
      // OpenID Connect Core §11: offline_access comes with prompt=consent.
      provider.scopes = ['openid', 'profile', 'email', 'offline_access'];
      provider.authorizationParams = { prompt: 'consent' };
    }
  }
  return {
    ...options,
    store: (await openStore(env.SESSION_STORE ?? 'memory')).store,
    ...(refresh !== undefined ? { refresh: { automatic: refresh } } : {}),
    ...logoutLog().hooks,
    logger: {
      info: (m) => console.log(`[auth] ${m}`),
      warn: (m) => console.warn(`[auth] ${m}`),
      error: (m) => console.error(`[auth] ${m}`),
    },
  };
});

/** APP_URL, or http://HOST:PORT as `npm start` computes it. */
export function appUrl(): string {
  const host = process.env.HOST ?? '127.0.0.1';
  return process.env.APP_URL ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${process.env.PORT ?? 3000}`;
}

export function storeName(): string {
  const url = process.env.SESSION_STORE ?? 'memory';
  return url.startsWith('redis') ? 'redis' : url.startsWith('postgres') ? 'postgres' : 'memory';
}

/** SESSION_STORE: `memory`, `redis://…` (ioredis) or `postgres://…` (pg Pool). The clients are the app's own. */
async function openStore(url: string): Promise<{ store: Store }> {
  if (url === 'memory') return { store: (await import('oidc-session/stores/memory')).memoryStore() };
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    const [{ Redis }, { redisStore }] = await Promise.all([import('ioredis'), import('oidc-session/stores/redis')]);
    return { store: redisStore(new Redis(url, { maxRetriesPerRequest: 1 })) };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const [{ default: pg }, { postgresStore }] = await Promise.all([import('pg'), import('oidc-session/stores/postgres')]);
    return { store: postgresStore(new pg.Pool({ connectionString: url })) };
  }
  throw new Error(`SESSION_STORE must be "memory", a redis:// URL or a postgres:// URL (got ${JSON.stringify(url)})`);
}
