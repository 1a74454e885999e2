/**
 * `npm start`: the demo app on http://127.0.0.1:3000. With no OIDC_* variables it also
 * starts an embedded development OpenID provider on http://127.0.0.1:3001 and configures
 * itself against it; with OIDC_ISSUER / OIDC_CLIENT_ID / OIDC_CLIENT_SECRET / APP_URL /
 * SESSION_SECRET it runs against any provider.
 */
import type { AddressInfo } from 'node:net';
import { configFromEnv, createAuth } from '../../src/index.js';
import { createDemoApp, type DemoInfo } from './app.js';
import { startDevProvider } from './dev-provider.js';

const DEV_SECRET = 'demo-only-secret-do-not-use-in-production-0123456789';

async function main(): Promise<void> {
  const env = process.env;
  const host = env.HOST ?? '127.0.0.1';
  const port = Number(env.PORT ?? 3000);
  const embedded = !Object.keys(env).some((k) => /^OIDC_(?:[A-Z0-9_]+_)?ISSUER$/.test(k));
  const appUrl = env.APP_URL ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

  let info: DemoInfo;
  let options = configFromEnv({ ...env, APP_URL: appUrl }, embedded ? {} : undefined);
  if (embedded) {
    const provider = await startDevProvider({
      host: '127.0.0.1',
      port: Number(env.PROVIDER_PORT ?? 3001),
      clients: [
        {
          client_id: 'demo',
          client_secret: 'demo-secret',
          redirect_uris: [`${appUrl}/auth/callback`],
          post_logout_redirect_uris: [`${appUrl}/auth/logout/callback`],
          grant_types: ['authorization_code', 'refresh_token'],
        },
      ],
    });
    options = {
      ...options,
      secret: env.SESSION_SECRET ? options.secret : DEV_SECRET,
      providers: { default: { issuer: provider.issuer, clientId: 'demo', clientSecret: 'demo-secret', displayName: 'the demo provider' } },
      exposeTokens: env.EXPOSE_TOKENS ? options.exposeTokens : ['id', 'access'],
    };
    info = { mode: 'cookie', store: 'memory', providerNote: `embedded development provider at ${provider.issuer}`, users: provider.users };
  } else {
    info = { mode: env.SESSION_MODE ?? 'cookie', store: 'memory', providerNote: `provider ${Object.values(options.providers)[0]?.issuer}` };
  }

  const auth = createAuth({
    ...options,
    logger: {
      info: (m) => console.log(`[auth] ${m}`),
      warn: (m) => console.warn(`[auth] ${m}`),
      error: (m) => console.error(`[auth] ${m}`),
    },
  });
  const server = createDemoApp(auth, info).listen(port, host, () => {
    const { port: bound } = server.address() as AddressInfo;
    console.log(`oidc-session demo: open ${appUrl.replace(`:${port}`, `:${bound}`)}`);
    if (info.users) console.log(`  sign in as ${info.users.map((u) => `${u.login} / ${u.password}`).join(' or ')}`);
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
