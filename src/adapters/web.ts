/**
 * What every adapter needs and no runtime lacks: Web APIs only (no `node:*`), so the Hono
 * adapter and the Next.js adapter bundle for any platform. The Node bridge (`node-bridge.ts`)
 * builds on it. Nothing here decides anything about authentication.
 */
import type { Auth } from '../core/types.js';

/**
 * Which `Auth` a request passed through, so that `requireAuth()` needs no argument: a property
 * under a symbol of our own, cheaper per request than a WeakMap entry (which the GC must track).
 */
const AUTH = Symbol('oidc-session.auth');

/** Throws a TypeError at setup when the argument is not what `createAuth()` returns. */
export function checkAuth(auth: unknown, caller: string): asserts auth is Auth {
  const candidate = auth as Partial<Auth> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.handle !== 'function' ||
    typeof candidate.readSession !== 'function'
  ) {
    throw new TypeError(`${caller}: "auth" must be the object returned by createAuth(options)`);
  }
}

export function rememberAuth(request: object, auth: Auth): void {
  (request as { [AUTH]?: Auth })[AUTH] = auth;
}

export function recallAuth(request: object, caller: string): Auth {
  const auth = (request as { [AUTH]?: Auth })[AUTH];
  if (!auth) throw new TypeError(`${caller} found no session middleware on this request: register oidcSession(auth) before it`);
  return auth;
}

/** Path and query of a request; an absolute-form target (`GET http://host/x`) keeps only its path. */
export function pathAndQueryOf(target: string | undefined): string {
  if (!target) return '/';
  if (target.startsWith('/')) return target;
  try {
    const url = new URL(target);
    return url.pathname + url.search;
  } catch {
    return '/';
  }
}

/**
 * The URL the core sees: our configured origin plus the request's path. The Host header is
 * never used, and concatenation (not `new URL(path, base)`) keeps `//evil.example` a path.
 */
export function publicUrl(auth: Auth, pathAndQuery: string): URL {
  // Never throws: a target that is not a path (`*`, or anything that does not parse) is `/`.
  if (pathAndQuery.startsWith('/')) {
    try {
      return new URL(auth.config.baseUrl + pathAndQuery);
    } catch {}
  }
  return new URL(`${auth.config.baseUrl}/`);
}

/** A path the WHATWG URL parser keeps as it is: no dot segment, escape, backslash, control or fragment. */
const PLAIN_PATH = /^\/[\w\-~!$&'()*+,;=:@/]*$/;

/**
 * The public URL of the auth route a request targets, or null for any other path. Most
 * requests are for the app: a plain path is told apart without parsing a URL; anything else
 * is parsed, exactly as the core would see it.
 */
export function authRouteUrl(auth: Auth, pathAndQuery: string): URL | null {
  const query = pathAndQuery.indexOf('?');
  const path = query < 0 ? pathAndQuery : pathAndQuery.slice(0, query);
  if (PLAIN_PATH.test(path) && !auth.isAuthPath(path)) return null;
  const url = publicUrl(auth, pathAndQuery);
  return auth.isAuthPath(url.pathname) ? url : null;
}

/**
 * The answer of `requireAuth` without a session: a browser navigating is sent to the login
 * page (and back here afterwards), any other client gets a 401 it can act on.
 */
export function unauthenticated(
  auth: Auth,
  pathAndQuery: string,
  accept: string | null | undefined,
  fetchMode: string | null | undefined,
): Response {
  const login = auth.loginUrl(pathAndQuery);
  const headers = { 'Cache-Control': 'no-store', Vary: 'Accept, Sec-Fetch-Mode' };
  if (fetchMode === 'navigate' || prefersHtml(accept)) {
    return new Response(null, { status: 302, headers: { ...headers, Location: login } });
  }
  return new Response(JSON.stringify({ error: 'unauthorized', login }), {
    status: 401,
    headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' },
  });
}

/** True when the media range with the highest quality (first on a tie) is HTML. */
function prefersHtml(accept: string | null | undefined): boolean {
  let best = { type: '', q: 0 };
  for (const range of (accept ?? '').split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const qParam = params.find((param) => param.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (type !== '' && q > best.q) best = { type, q };
  }
  return best.type === 'text/html' || best.type === 'application/xhtml+xml';
}
