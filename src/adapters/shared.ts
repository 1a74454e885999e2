/**
 * Translation between Node's `http` objects and the Web `Request`/`Response` the core speaks.
 * Internal to the adapters: nothing here decides anything about authentication.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_FORM_BYTES } from '../core/body.js';
import type { Auth, Session } from '../core/types.js';
import { useNodeSealing } from './native-sealing.js';

/**
 * A Node body read up to the core's own form cap: its bytes, or the first bytes past the cap
 * (`truncated`: the rest was drained unread), or 'aborted' when the client went away.
 */
type NodeBody = { bytes: Uint8Array; truncated: boolean } | 'aborted';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** The adapter sets these from the body it actually forwards. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding']);

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
  // Every adapter passes here at setup: from now on sessions are sealed by node:crypto.
  useNodeSealing();
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
 * Answers one of the auth routes from a Node request, or null for any other path (the body
 * is then left untouched for the app). `body` replaces the stream when a framework already
 * consumed it. The core decides what an oversized body gets (413, or 400 on back-channel
 * logout); the Node stream is only capped so it is never buffered unbounded first.
 */
export async function answerAuthRoute(
  auth: Auth,
  req: IncomingMessage,
  options: { path?: string; body?: Uint8Array } = {},
): Promise<Response | null> {
  return answerAuthRouteIfAny(auth, req, options.path, () => options.body) ?? null;
}

/**
 * `answerAuthRoute`, with null returned at once (no promise) for a request that is not for an
 * auth route, so the app's requests take no detour. `body` is asked for only on an auth route.
 */
export function answerAuthRouteIfAny(
  auth: Auth,
  req: IncomingMessage,
  path = pathAndQueryOf(req.url),
  body?: () => Uint8Array | undefined,
): Promise<Response | null> | null {
  const url = authRouteUrl(auth, path);
  return url ? answerAt(auth, req, url, body?.()) : null;
}

async function answerAt(auth: Auth, req: IncomingMessage, url: URL, consumed: Uint8Array | undefined): Promise<Response | null> {
  const method = req.method ?? 'GET';
  const body = BODY_METHODS.has(method) ? (consumed ? { bytes: consumed, truncated: false } : await readCappedBody(req)) : undefined;
  if (body === 'aborted') return badRequest();
  const headers = headersOf(req);
  for (const name of FRAMING_HEADERS) headers.delete(name);
  if (body) headers.set('content-length', String(body.bytes.byteLength));
  const response = await auth.handle(new Request(url, { method, headers, body: body?.bytes as Uint8Array<ArrayBuffer> | undefined }));
  return response && body?.truncated ? closingConnection(response) : response;
}

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    // HTTP/2 pseudo-headers (`:path`) are not header names a Request accepts.
    if (value === undefined || name.startsWith(':')) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

/**
 * Reads at most `limit` bytes, chunked bodies included. Past the cap the bytes read so far
 * (more than `limit`: the core refuses them) are kept and the rest is drained, not destroyed:
 * destroying the socket would reset the client before it reads the refusal.
 */
function readCappedBody(req: IncomingMessage, limit = MAX_FORM_BYTES): Promise<NodeBody> {
  // Read before us by something else: no 'end' would ever come.
  if (req.readableEnded) return Promise.resolve({ bytes: new Uint8Array(0), truncated: false });
  if (req.destroyed) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: NodeBody) => {
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size <= limit) return;
      req.on('error', () => {}).resume();
      finish({ bytes: Buffer.concat(chunks, size), truncated: true });
    };
    const onEnd = () => finish({ bytes: Buffer.concat(chunks, size), truncated: false });
    const onAbort = () => finish('aborted');
    req.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onAbort).resume();
  });
}

/** The unread rest of a refused body must not be taken for the next request on this connection. */
function closingConnection(response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set('connection', 'close');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function badRequest(): Response {
  return new Response('Bad Request', {
    status: 400,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}

/** Writes a Web Response to Node: status, every header, each Set-Cookie on its own line, body. */
export async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value);
  }
  appendSetCookies(res, response.headers.getSetCookie());
  res.end(response.body ? Buffer.from(await response.arrayBuffer()) : undefined);
}

/** Adds Set-Cookie lines, keeping any the app or another middleware already set. */
function appendSetCookies(res: ServerResponse, cookies: string[]): void {
  if (cookies.length > 0) res.appendHeader('set-cookie', cookies);
}

/** The hot path: the session from the Cookie header alone, its cookie updates applied to `res`. */
export function readSessionInto(auth: Auth, req: IncomingMessage, res: ServerResponse): Promise<Session | null> {
  return auth.readSession(req.headers.cookie).then(({ session, setCookies }) => {
    appendSetCookies(res, setCookies);
    return session;
  });
}

/** `auth.refresh()` for a Node request: the refreshed session, its cookies added to `res`. */
export async function refreshInto(auth: Auth, req: IncomingMessage, res: ServerResponse): Promise<Session | null> {
  const { session, setCookies } = await auth.refresh(req.headers.cookie);
  appendSetCookies(res, setCookies);
  return session;
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
