import { Context } from './context.js';
import { csrfTokenFor } from './csrf.js';
import { htmlPage, json, paragraph } from './html.js';
import { finishLogin, startLogin } from './login.js';
import { logout, logoutCallback, logoutConfirmation } from './logout/rp-initiated.js';
import { describe } from './providers.js';
import { safeReturnTo } from './return-to.js';
import { parseCookies } from './session/cookies.js';
import { Sealer } from './session/seal.js';
import type { Auth, ResolvedConfig, Session, SessionResult } from './types.js';

type Route = (ctx: Context, request: Request, url: URL) => Promise<Response>;

/** The routes under basePath, by sub-path and method. */
const ROUTES: Record<string, Partial<Record<'GET' | 'POST', Route>>> = {
  '/login': { GET: (ctx, _request, url) => startLogin(ctx, url) },
  '/callback': { GET: finishLogin },
  '/csrf': { GET: csrf },
  '/logout': { GET: logoutConfirmation, POST: (ctx, request) => logout(ctx, request) },
  '/logout/callback': { GET: logoutCallback },
};

/**
 * Builds the one entry point, `handle(request) → Response | null`, and the session
 * readers the adapters use, from a validated, frozen configuration.
 */
export function createHandler(config: ResolvedConfig): Auth {
  // Key derivation is async (WebCrypto); it runs once, on first use.
  let contextPromise: Promise<Context> | undefined;
  const context = () => (contextPromise ??= Sealer.create(config.secrets).then((sealer) => new Context(config, sealer)));
  const paths = new Set(Object.keys(ROUTES).map((p) => config.basePath + p));

  async function handle(request: Request): Promise<Response | null> {
    const url = new URL(request.url);
    if (!paths.has(url.pathname)) return null;
    const routes = ROUTES[url.pathname.slice(config.basePath.length)]!;
    const route = routes[request.method as 'GET' | 'POST'];
    if (!route) return methodNotAllowed(Object.keys(routes));
    const ctx = await context();
    try {
      return await route(ctx, request, url);
    } catch (error) {
      // Every expected failure has its own page; this is a bug or an outage, logged once.
      ctx.logger.error(`${request.method} ${url.pathname} failed: ${describe(error)}`);
      return htmlPage({ status: 500, title: 'Something went wrong', body: paragraph('Please try again.') });
    }
  }

  async function readSession(cookieHeader: string | null | undefined): Promise<SessionResult> {
    const ctx = await context();
    const cookies = parseCookies(cookieHeader);
    const read = await ctx.sessions.read(cookies);
    if (read.expired) await ctx.hook('onLogout', ctx.sessions.toSession(read.expired, null), 'expired');
    const record = read.record;
    if (!record || !belongsToConfiguredProvider(config, record.p, record.iss)) {
      return { session: null, setCookies: record ? ctx.sessions.clear(cookies) : read.setCookies };
    }
    // The tokens cookie is decrypted only when the app may see a token.
    const tokens = config.exposeTokens.length > 0 ? await ctx.sessions.readTokens(cookies, record) : null;
    return { session: ctx.sessions.toSession(record, tokens), setCookies: read.setCookies };
  }

  async function getSession(request: Request): Promise<Session | null> {
    return (await readSession(request.headers.get('cookie'))).session;
  }

  async function csrfToken(cookieHeader: string | null | undefined): Promise<string> {
    const ctx = await context();
    return csrfTokenFor(ctx, (await ctx.sessions.read(parseCookies(cookieHeader))).record);
  }

  function loginUrl(returnTo?: string, provider?: string): string {
    const params = new URLSearchParams();
    if (provider !== undefined) params.set('provider', provider);
    const safe = returnTo === undefined ? null : safeReturnTo(returnTo, config.origin);
    if (safe !== null) params.set('returnTo', safe);
    const query = params.toString();
    return `${config.basePath}/login${query ? `?${query}` : ''}`;
  }

  return Object.freeze({
    config,
    handle,
    isAuthPath: (pathname: string) => paths.has(pathname),
    getSession,
    readSession,
    csrfToken,
    loginUrl,
  });
}

async function csrf(ctx: Context, request: Request): Promise<Response> {
  const { record } = await ctx.sessions.read(ctx.cookiesOf(request));
  return json({ csrfToken: await csrfTokenFor(ctx, record) });
}

function belongsToConfiguredProvider(config: ResolvedConfig, name: string, iss: string): boolean {
  return Object.hasOwn(config.providers, name) && config.providers[name]!.issuer === iss;
}

function methodNotAllowed(allowed: string[]): Response {
  return new Response('Method Not Allowed', {
    status: 405,
    headers: { Allow: allowed.join(', '), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}
