import { Context } from './context.js';
import { csrfTokenFor } from './csrf.js';
import { describe } from './describe.js';
import { nowSeconds } from './encoding.js';
import { htmlPage, json, paragraph } from './html.js';
import { finishLogin, startLogin } from './login.js';
import { backchannelLogout, backchannelWrongMethod } from './logout/back-channel.js';
import { frontchannelLogout } from './logout/front-channel.js';
import { endSessions } from './logout/provider-sessions.js';
import { logout, logoutCallback, logoutConfirmation } from './logout/rp-initiated.js';
import { Refresher } from './refresh.js';
import { safeReturnTo } from './return-to.js';
import type { TokenRecord } from './session/record.js';
import { Sealer } from './session/seal.js';
import type { Auth, PublicConfig, ResolvedConfig, ResolvedProvider, Session, SessionResult } from './types.js';

type Route = (ctx: Context, request: Request, url: URL) => Promise<Response>;
type Routes = Partial<Record<'GET' | 'POST', Route>> & { other?: () => Response };

/** The routes under basePath, by sub-path and method. */
const ROUTES: Record<string, Routes> = {
  '/login': { GET: startLogin },
  '/callback': { GET: finishLogin },
  '/csrf': { GET: csrf },
  '/logout': { GET: logoutConfirmation, POST: (ctx, request) => logout(ctx, request) },
  '/logout/callback': { GET: logoutCallback },
};

/**
 * One back-channel endpoint per provider, and a front-channel one for the providers that opted
 * in (it is unauthenticated): the provider is known from the path.
 */
function providerRoutes(provider: ResolvedProvider): Record<string, Routes> {
  const routes: Record<string, Routes> = {
    [`/backchannel-logout/${provider.name}`]: {
      POST: (ctx, request) => backchannelLogout(ctx, request, provider),
      other: backchannelWrongMethod,
    },
  };
  if (provider.frontChannelLogout) {
    routes[`/frontchannel-logout/${provider.name}`] = { GET: (ctx, request, url) => frontchannelLogout(ctx, request, url, provider) };
  }
  return routes;
}

/**
 * Builds the one entry point, `handle(request) → Response | null`, and the session
 * readers the adapters use, from a validated, frozen configuration.
 */
export function createHandler(config: ResolvedConfig): Auth {
  // Key derivation is async (WebCrypto); it runs once, on first use.
  let contextPromise: Promise<Context> | undefined;
  const context = () => (contextPromise ??= Sealer.create(config.secrets).then((sealer) => new Context(config, sealer)));
  // Refreshes in flight and just done, per session: shared by the requests of this instance.
  const refresher = new Refresher();
  const table = new Map<string, Routes>();
  for (const [path, routes] of Object.entries(ROUTES)) table.set(config.basePath + path, routes);
  for (const provider of Object.values(config.providers)) {
    for (const [path, routes] of Object.entries(providerRoutes(provider))) table.set(config.basePath + path, routes);
  }

  async function handle(request: Request): Promise<Response | null> {
    const url = new URL(request.url);
    const routes = table.get(url.pathname);
    if (!routes) return null;
    const route = request.method === 'GET' || request.method === 'POST' ? routes[request.method] : undefined;
    if (!route) return routes.other?.() ?? methodNotAllowed(['GET', 'POST'].filter((m) => m in routes));
    const ctx = await context();
    try {
      return await route(ctx, request, url);
    } catch (error) {
      // Every expected failure has its own page; this is a bug or an outage, logged once.
      ctx.logger.error(`${request.method} ${url.pathname} failed: ${describe(error)}`);
      return htmlPage({ status: 500, title: 'Something went wrong', body: paragraph('Please try again.') });
    }
  }

  async function readSession(cookieHeader: string | null | undefined, hooks = true, force = false): Promise<SessionResult> {
    const ctx = await context();
    const cookies = ctx.cookiesFrom(cookieHeader);
    const { record, setCookies } = await ctx.readSession(cookies, { hooks });
    if (!record) return { session: null, setCookies };
    // The tokens cookie is decrypted only when the app may see a token or one may need refreshing.
    const needTokens = force || config.exposeTokens.length > 0 || config.autoRefresh !== null;
    const tokens = needTokens ? await ctx.sessions.readTokens(cookies, record) : null;
    if (hooks && (force || dueForRefresh(tokens))) {
      const outcome = await refresher.refresh(ctx, cookies, record, tokens, force);
      if (outcome.kind === 'ended') return { session: null, setCookies: outcome.setCookies };
      if (outcome.kind === 'refreshed') {
        return { session: ctx.toSession(outcome.record, outcome.tokens), setCookies: [...setCookies, ...outcome.setCookies] };
      }
    }
    return { session: ctx.toSession(record, tokens), setCookies };
  }

  function dueForRefresh(tokens: TokenRecord | null): boolean {
    return (
      config.autoRefresh !== null &&
      tokens?.refreshToken !== undefined &&
      tokens.accessTokenExpiresAt !== undefined &&
      tokens.accessTokenExpiresAt - nowSeconds() <= config.autoRefresh
    );
  }

  async function refresh(request: Request | string | null | undefined): Promise<SessionResult> {
    if (!config.refreshEnabled) throw new TypeError('refresh: set the "refresh" option (e.g. refresh: {}) so the refresh token is kept');
    const cookieHeader = typeof request === 'object' && request !== null ? request.headers.get('cookie') : request;
    return readSession(cookieHeader, true, true);
  }

  // Read-only: it cannot send cookies, so it fires no hook either (the hook would repeat on
  // every request still carrying the dead cookie).
  async function getSession(request: Request): Promise<Session | null> {
    return (await readSession(request.headers.get('cookie'), false)).session;
  }

  async function csrfToken(cookieHeader: string | null | undefined): Promise<string> {
    const ctx = await context();
    const cookies = ctx.cookiesFrom(cookieHeader);
    return csrfTokenFor(ctx, cookies, (await ctx.readSession(cookies)).record !== null);
  }

  async function endUserSessions(user: { provider: string; sub: string }): Promise<number | null> {
    const provider = Object.hasOwn(config.providers, user.provider) ? config.providers[user.provider] : undefined;
    if (!provider) throw new TypeError(`endUserSessions: unknown provider ${JSON.stringify(user.provider)}`);
    if (typeof user.sub !== 'string' || user.sub === '') throw new TypeError('endUserSessions: "sub" must be a non-empty string');
    return endSessions(await context(), { iss: provider.issuer, aud: provider.clientId, sub: user.sub }, Date.now() / 1000, 'everywhere');
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
    config: publicView(config),
    handle,
    isAuthPath: (pathname: string) => table.has(pathname),
    getSession,
    readSession: (cookieHeader: string | null | undefined) => readSession(cookieHeader),
    refresh,
    csrfToken,
    endUserSessions,
    loginUrl,
  });
}

/** The configuration without secrets: `auth.config` may end up in a log. */
function publicView(config: ResolvedConfig): PublicConfig {
  const { secrets: _secrets, providers, ...rest } = config;
  const publicProviders = Object.fromEntries(
    Object.entries(providers).map(([name, { clientSecret: _secret, ...provider }]) => [name, Object.freeze(provider)]),
  );
  return Object.freeze({ ...rest, providers: Object.freeze(publicProviders) });
}

async function csrf(ctx: Context, request: Request): Promise<Response> {
  const cookies = ctx.cookiesOf(request);
  const { record } = await ctx.readSession(cookies);
  return json({ csrfToken: await csrfTokenFor(ctx, cookies, record !== null) });
}

function methodNotAllowed(allowed: string[]): Response {
  return new Response('Method Not Allowed', {
    status: 405,
    headers: { Allow: allowed.join(', '), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}
