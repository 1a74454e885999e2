/**
 * `oidc-session/hono`: middleware for Hono, on any runtime (Node, Bun, Deno, Cloudflare Workers).
 * Web APIs only: it bundles for every platform. On Node, `installNodeSealing()` from
 * `oidc-session/node` adds the node:crypto fast path for sealed cookies.
 *
 * @example
 * const app = new Hono<OidcSessionEnv>();
 * app.use(oidcSession(auth));
 * app.get('/me', requireAuth(), (c) => c.json(c.get('auth')!.user));
 * serve({ fetch: app.fetch, port: 3000 });
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Auth, Session } from '../core/types.js';
import { authRouteUrl, checkAuth, pathAndQueryOf, recallAuth, rememberAuth, unauthenticated } from './web.js';

/** Hono environment with the typed `auth` variable: `new Hono<OidcSessionEnv>()`. */
export type OidcSessionEnv = { Variables: { auth: Session | null } };

/** Answers the auth routes; on every other request sets `c.get('auth')` and runs the rest. */
export function oidcSession(auth: Auth): MiddlewareHandler<OidcSessionEnv> {
  checkAuth(auth, 'oidcSession(auth)');
  return async (c, next) => {
    const url = authRouteUrl(auth, targetOf(c.req.url));
    const response = url ? await answerAuthRoute(auth, url, c.req.raw) : null;
    if (response) return response;
    rememberAuth(c.req.raw, auth);
    const { session, setCookies } = await auth.readSession(c.req.header('cookie'));
    c.set('auth', session);
    await next();
    for (const cookie of setCookies) c.header('set-cookie', cookie, { append: true });
  };
}

/** Lets signed-in requests through; others get 302 to the login page (browsers) or 401 JSON. */
export function requireAuth(): MiddlewareHandler<OidcSessionEnv> {
  return async (c, next) => {
    if (c.get('auth')) return next();
    const auth = recallAuth(c.req.raw, 'requireAuth()');
    return unauthenticated(auth, pathAndQueryOf(c.req.url), c.req.header('accept'), c.req.header('sec-fetch-mode'));
  };
}

/** Refreshes the tokens of the request's session now (needs the `refresh` option) and updates `c.get('auth')`. */
export async function refreshAuth(c: Context<OidcSessionEnv>): Promise<Session | null> {
  const { session, setCookies } = await recallAuth(c.req.raw, 'refreshAuth()').refresh(c.req.header('cookie'));
  for (const cookie of setCookies) c.header('set-cookie', cookie, { append: true });
  c.set('auth', session);
  return session;
}

/**
 * Path and query of Hono's absolute request URL (`http://host/p?q` → `/p?q`), without parsing
 * it again: the runtime already built it from the request target.
 */
function targetOf(url: string): string {
  const scheme = url.indexOf('://');
  const path = scheme < 0 ? -1 : url.indexOf('/', scheme + 3);
  return path < 0 ? pathAndQueryOf(url) : url.slice(path);
}

/**
 * The request is rebuilt on our configured origin: Hono's URL comes from the Host header,
 * which the core must never trust. The body stays the raw stream; the core caps what it reads.
 */
function answerAuthRoute(auth: Auth, url: URL, raw: Request): Promise<Response | null> {
  // `duplex` is required for a stream body and is not yet in the DOM typings.
  const init = { method: raw.method, headers: raw.headers, body: raw.body, duplex: 'half' };
  return auth.handle(new Request(url, init as RequestInit));
}
