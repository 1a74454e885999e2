/**
 * `oidc-session/next`: Next.js (≥ 15, App Router) — route handlers for every auth route,
 * `getSession()` for server components, route handlers and server actions, and a `proxy.ts`
 * (`middleware.ts` on Next 15) helper that guards paths, rolls the idle window, refreshes tokens
 * and deletes dead cookies. Web APIs only.
 *
 * Two things Next does that the other adapters never meet are handled here by construction:
 * - Next evaluates one module in several bundles (route handlers, server components, the
 *   proxy), so a module-scope `createAuth()` gives one process several instances, each with its
 *   own memory store, and a back-channel logout received by one is unknown to the others. The
 *   instance lives in a process-wide registry instead, one per `key`.
 * - `next build` evaluates route modules without the run-time environment; the options are
 *   read (and validated) at the first request, never at import.
 *
 * @example
 * // auth.ts
 * export const auth = createNextAuth(() => configFromEnv(process.env));
 * // app/auth/[...oidc]/route.ts
 * export const { GET, POST } = auth.handlers;
 * // proxy.ts
 * export const proxy = auth.proxy({ protect: ['/account'] });
 * // app/page.tsx (a server component)
 * const session = await auth.getSession();
 */
import { createAuth } from '../config.js';
import type { Auth, AuthOptions, ExposedTokens, Session } from '../core/types.js';
import { type CookieStore, cookieHeaderAfter, cookieHeaderOf, parseSetCookie } from './next-cookies.js';
import { authRouteUrl, pathAndQueryOf, unauthenticated } from './web.js';

/** The options, or a function returning them that runs at the first request (so `next build` needs no secret). */
export type NextAuthOptions = AuthOptions | (() => AuthOptions | Promise<AuthOptions>);

export interface NextAuthSettings {
  /**
   * Name of the instance in the process-wide registry. Default `default`. Every module that
   * calls `createNextAuth()` with the same key shares one instance, whichever bundle it is in;
   * two apps of one process (two configurations) need two keys.
   */
  key?: string;
}

export interface ProxyOptions {
  /**
   * Which requests the proxy turns away without a session: 302 to the login page for a browser
   * navigation, 401 JSON for anything else. `true` (default): every request it runs for (choose
   * them with `config.matcher`); a list of path prefixes (`'/account'` covers `/account/x`); a
   * predicate; or `false` (never: the proxy only keeps sessions alive and tokens fresh).
   */
  protect?: boolean | readonly string[] | ((pathname: string) => boolean);
}

export interface NextAuth {
  /** `export const { GET, POST } = auth.handlers;` in `app/auth/[...oidc]/route.ts` (the `basePath`). */
  readonly handlers: { readonly GET: RouteHandler; readonly POST: RouteHandler };
  /**
   * The session of the current request, or null. In route handlers and server actions it also
   * rolls the idle window, deletes a dead cookie and refreshes tokens that are due. A server
   * component cannot set cookies: there it only reads (a due token is not refreshed, and a warning
   * says so once; `proxy()` refreshes before the render).
   */
  getSession(): Promise<Session | null>;
  /** The exposed tokens of the current session (see `exposeTokens`), or null; refreshed like `getSession()`. */
  getTokens(): Promise<ExposedTokens | null>;
  /**
   * Refreshes the tokens now (needs the `refresh` option) and saves the new cookies. Route
   * handlers and server actions only: in a server component it throws, since the rotated refresh
   * token could not be saved. A refresh the provider refuses ends the session (null).
   */
  refresh(): Promise<Session | null>;
  /** The CSRF token of the sign-out form (a POST to `{basePath}/logout` with field `csrfToken`). */
  csrfToken(): Promise<string>;
  /** `{basePath}/login?returnTo=…`, for a sign-in link or a `redirect()`. */
  loginUrl(returnTo?: string, provider?: string): Promise<string>;
  /** The proxy (`proxy.ts`, or `middleware.ts` on Next 15 with `runtime: 'nodejs'`). */
  proxy(options?: ProxyOptions): (request: Request) => Promise<Response>;
  /** The shared `Auth` instance, created on first use: `config`, `endUserSessions()`, … */
  instance(): Promise<Auth>;
}

export type RouteHandler = (request: Request) => Promise<Response>;

/** `Symbol.for`: the same symbol in every bundle of the process, hence one registry. */
const REGISTRY = Symbol.for('oidc-session.next.instances');
type Registry = Map<string, Promise<Auth>>;

/**
 * One `Auth` per key and process, whatever number of bundles evaluate the calling module.
 *
 * @example
 * export const auth = createNextAuth(() => configFromEnv(process.env, { store: redisStore(redis) }));
 */
export function createNextAuth(options: NextAuthOptions, settings: NextAuthSettings = {}): NextAuth {
  if (typeof options !== 'function' && (typeof options !== 'object' || options === null)) {
    throw new TypeError('createNextAuth(options): "options" must be the createAuth() options, or a function returning them');
  }
  const key = settings.key ?? 'default';
  if (typeof key !== 'string' || key === '') throw new TypeError('createNextAuth(options, settings): "key" must be a non-empty string');
  const instance = () => sharedInstance(key, options);
  const route: RouteHandler = (request) => answerRoute(instance, request);
  const warnings = new Set<string>();

  return Object.freeze({
    handlers: Object.freeze({ GET: route, POST: route }),
    getSession: () => currentSession(instance, warnings),
    getTokens: async () => (await currentSession(instance, warnings))?.tokens ?? null,
    refresh: () => refreshCurrentSession(instance),
    csrfToken: async () => {
      const store = await cookiesOfRequest();
      return (await instance()).csrfToken(cookieHeaderOf(store));
    },
    loginUrl: async (returnTo?: string, provider?: string) => (await instance()).loginUrl(returnTo, provider),
    proxy: (proxyOptions: ProxyOptions = {}) => createProxy(instance, protection(proxyOptions.protect ?? true)),
    instance,
  });
}

function sharedInstance(key: string, options: NextAuthOptions): Promise<Auth> {
  const holder = globalThis as { [REGISTRY]?: Registry };
  holder[REGISTRY] ??= new Map();
  const registry = holder[REGISTRY];
  let auth = registry.get(key);
  if (!auth) {
    const created = Promise.resolve()
      .then(() => (typeof options === 'function' ? options() : options))
      .then(createAuth);
    // A ConfigError stays: every request repeats its list of problems (nothing will change the
    // options). Anything else, such as a store that did not connect, is tried again next request.
    created.catch((error: unknown) => {
      if ((error as { code?: unknown })?.code !== 'CONFIG_INVALID' && registry.get(key) === created) registry.delete(key);
    });
    registry.set(key, created);
    auth = created;
  }
  return auth;
}

/**
 * The request is rebuilt on our configured origin: Next's URL comes from the Host header, which
 * the core must never trust. The body stays the raw stream; the core caps what it reads.
 */
async function answerRoute(instance: () => Promise<Auth>, request: Request): Promise<Response> {
  const auth = await instance();
  const url = authRouteUrl(auth, pathAndQueryOf(request.url));
  // `duplex` is required for a stream body and is not yet in the DOM typings.
  const init = { method: request.method, headers: request.headers, body: request.body, duplex: 'half' };
  const response = url ? await auth.handle(new Request(url, init as RequestInit)) : null;
  return response ?? new Response('Not Found', { status: 404, headers: { 'Cache-Control': 'no-store', 'Content-Type': 'text/plain' } });
}

/**
 * `cookies()` comes first: during `next build` it stops the prerendering of a page that reads
 * the session, before the options (and their secrets) are asked for. Next is imported when first
 * used, not with this module: importing it sets up Next's globals, which an import must not do.
 */
async function cookiesOfRequest(): Promise<CookieStore> {
  const { cookies } = await import('next/headers.js');
  return (await cookies()) as unknown as CookieStore;
}

async function currentSession(instance: () => Promise<Auth>, warnings: Set<string>): Promise<Session | null> {
  const store = await cookiesOfRequest();
  const auth = await instance();
  const cookieHeader = cookieHeaderOf(store);
  if (!canWriteCookies(store)) return readOnlySession(auth, cookieHeader, warnings);
  const { session, setCookies } = await auth.readSession(cookieHeader);
  saveCookies(auth, store, setCookies);
  return session;
}

async function refreshCurrentSession(instance: () => Promise<Auth>): Promise<Session | null> {
  const store = await cookiesOfRequest();
  const auth = await instance();
  if (!canWriteCookies(store)) {
    throw new TypeError(
      'refresh() needs a route handler, a server action or the proxy: a server component cannot set cookies, so the new tokens (and a rotated refresh token) would be lost',
    );
  }
  const { session, setCookies } = await auth.refresh(cookieHeaderOf(store));
  saveCookies(auth, store, setCookies);
  return session;
}

/**
 * Next hands server components a sealed store whose `set` and `delete` are one shared function
 * that throws; route handlers and server actions get a writable store with a method of each.
 * Telling them apart before reading matters: a refresh whose cookies cannot be saved would
 * lose the rotated refresh token. A wrong answer fails safe (no refresh), or loudly in `saveCookies`.
 */
function canWriteCookies(store: CookieStore): boolean {
  return typeof store.set === 'function' && (store.set as unknown) !== store.delete;
}

function saveCookies(auth: Auth, store: CookieStore, setCookies: readonly string[]): void {
  try {
    for (const line of setCookies) store.set(parseSetCookie(line));
  } catch (error) {
    auth.config.logger.error(
      `the session's cookies could not be saved here (${String(error)}); read the session in a route handler or server action`,
    );
    throw error;
  }
}

/** Read-only: no idle roll, no refresh, no hook. A due access token is returned as it is, and said so once. */
async function readOnlySession(auth: Auth, cookieHeader: string, warnings: Set<string>): Promise<Session | null> {
  const session = await auth.getSession(new Request(auth.config.baseUrl, { headers: { cookie: cookieHeader } }));
  const expiresAt = session?.tokens.accessExpiresAt;
  const due = auth.config.autoRefresh !== null && expiresAt !== undefined && expiresAt - Date.now() / 1000 <= auth.config.autoRefresh;
  if (due && !warnings.has('refresh')) {
    warnings.add('refresh');
    auth.config.logger.warn(
      'a server component read a session whose access token is due for refresh; it cannot set cookies, so it did not refresh. Refresh in proxy.ts (auth.proxy()), which runs before the render',
    );
  }
  return session;
}

function protection(protect: NonNullable<ProxyOptions['protect']>): (pathname: string) => boolean {
  if (typeof protect === 'boolean') return () => protect;
  if (typeof protect === 'function') return protect;
  if (!Array.isArray(protect) || protect.some((prefix) => typeof prefix !== 'string' || !prefix.startsWith('/'))) {
    throw new TypeError('proxy({ protect }): "protect" must be true, false, a function, or a list of paths such as ["/account"]');
  }
  const prefixes = protect.map((prefix) => prefix.replace(/\/+$/, ''));
  return (pathname) => prefixes.some((prefix) => prefix === '' || pathname === prefix || pathname.startsWith(`${prefix}/`));
}

/**
 * Reads the session of every request the proxy runs for, with its side effects (idle roll,
 * refresh, dead cookie removal), sends the cookies to the browser and hands them to the render
 * as its `Cookie` header, so that server components see the same session the browser will.
 */
function createProxy(instance: () => Promise<Auth>, protects: (pathname: string) => boolean): (request: Request) => Promise<Response> {
  return async (request) => {
    const [auth, { NextResponse }] = await Promise.all([instance(), import('next/server.js')]);
    const url = new URL(request.url);
    if (auth.isAuthPath(url.pathname)) return NextResponse.next();
    const cookieHeader = request.headers.get('cookie');
    const { session, setCookies } = await auth.readSession(cookieHeader);
    let response: Response;
    if (!session && protects(url.pathname)) {
      response = absoluteLocation(
        auth,
        unauthenticated(auth, url.pathname + url.search, request.headers.get('accept'), request.headers.get('sec-fetch-mode')),
      );
    } else {
      const headers = new Headers(request.headers);
      if (setCookies.length > 0) headers.set('cookie', cookieHeaderAfter(cookieHeader, setCookies, url.pathname));
      response = NextResponse.next({ request: { headers } });
    }
    for (const cookie of setCookies) response.headers.append('Set-Cookie', cookie);
    return response;
  };
}

/** Next refuses a proxy redirect to a relative URL: the login page on our configured origin. */
function absoluteLocation(auth: Auth, response: Response): Response {
  const location = response.headers.get('location');
  if (location !== null) response.headers.set('location', new URL(location, auth.config.baseUrl).href);
  return response;
}
