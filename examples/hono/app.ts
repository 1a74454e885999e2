/**
 * One Hono app for every runtime: Node, Bun, Deno and Cloudflare Workers run this file unchanged.
 * Each runtime's entry (`node.ts`, `bun.ts`, `deno.ts`, `worker.ts`) only picks the store and
 * serves `app.fetch`. In your own app the imports are `oidc-session` and `oidc-session/hono`.
 *
 * Configuration comes from the environment, as `configFromEnv` reads it: `APP_URL`,
 * `SESSION_SECRET`, `OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`, and optionally
 * `SESSION_MODE`, `OIDC_FRONTCHANNEL_LOGOUT`, plus `OIDC_SCOPES` (space-separated) here.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { type OidcSessionEnv, oidcSession, refreshAuth, requireAuth } from '../../src/adapters/hono.js';
import { type Auth, type AuthOptions, configFromEnv, createAuth, type Store } from '../../src/index.js';

export type Env = Record<string, string | undefined>;

/**
 * `createAuth` from the environment. It does no I/O, starts no timer and draws no random value,
 * so it may run at module scope, even on Workers.
 */
export function authFromEnv(env: Env, store?: Store): Auth {
  return createAuth(withScopes(configFromEnv(env, store ? { store } : {}), env.OIDC_SCOPES));
}

/**
 * `OIDC_SCOPES` with `offline_access` asks for a refresh token, which the provider honours only
 * with `prompt=consent` (OpenID Connect Core §11), and turns on `auth.refresh()`.
 */
function withScopes(options: AuthOptions, scopeList: string | undefined): AuthOptions {
  const scopes = scopeList?.split(' ').filter(Boolean);
  if (!scopes) return options;
  const offline = scopes.includes('offline_access');
  const providers = Object.fromEntries(
    Object.entries(options.providers).map(([name, provider]) => [
      name,
      { ...provider, scopes, ...(offline ? { authorizationParams: { prompt: 'consent' } } : {}) },
    ]),
  );
  return { ...options, providers, ...(offline ? { refresh: {} } : {}) };
}

export function createApp(auth: Auth): Hono<OidcSessionEnv> {
  const app = new Hono<OidcSessionEnv>();
  // Answers /auth/* and sets c.get('auth') on every other request.
  app.use(oidcSession(auth));

  app.get('/', (c) => {
    const session = c.get('auth');
    return c.html(
      session
        ? html`<p>Signed in as ${String(session.user.name ?? session.sub)}.</p><p><a href="/auth/logout">Sign out</a></p>`
        : html`<p>Signed out.</p><p><a href="/auth/login">Sign in</a></p>`,
    );
  });

  app.get('/me', requireAuth(), (c) => {
    const { user, sub, sid, provider, expiresAt } = c.get('auth')!;
    return c.json({ sub, name: user.name, sid, provider, expiresAt });
  });

  // Without the middleware's help: any code holding the Web Request can read the session.
  app.get('/session', async (c) => {
    const session = await auth.getSession(c.req.raw);
    return c.json(session ? { sub: session.sub, sid: session.sid } : null);
  });

  // Renews the tokens now (needs OIDC_SCOPES with offline_access); the response re-sets the cookies.
  app.post('/refresh', requireAuth(), async (c) => {
    const session = await refreshAuth(c);
    return session ? c.json({ sub: session.sub, sid: session.sid }) : c.json({ error: 'unauthorized' }, 401);
  });

  return app;
}
