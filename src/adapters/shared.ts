/**
 * Translation between Node's `http` objects and the Web `Request`/`Response` the core speaks.
 * Internal to the adapters: nothing here decides anything about authentication.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auth, Session } from '../core/types.js';

/** Our POST routes take small forms; a larger body is refused before the core sees it. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Why a body was not read: over the cap, or the client went away. */
export type BodyProblem = 'too-large' | 'aborted';

export const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** The adapter sets these from the body it actually forwards. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding']);

/** Which `Auth` a request passed through, so that `requireAuth()` needs no argument. */
const authByRequest = new WeakMap<object, Auth>();

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
  authByRequest.set(request, auth);
}

export function recallAuth(request: object, caller: string): Auth {
  const auth = authByRequest.get(request);
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
  return new URL(auth.config.baseUrl + pathAndQuery);
}

/**
 * Answers one of the auth routes from a Node request, or null for any other path (the body
 * is then left untouched for the app). `body` replaces the stream when a framework already
 * consumed it.
 */
export async function answerAuthRoute(
  auth: Auth,
  req: IncomingMessage,
  options: { path?: string; body?: Uint8Array } = {},
): Promise<Response | null> {
  const url = publicUrl(auth, options.path ?? pathAndQueryOf(req.url));
  if (!auth.isAuthPath(url.pathname)) return null;
  const method = req.method ?? 'GET';
  const body = BODY_METHODS.has(method) ? (options.body ?? (await readCappedBody(req))) : undefined;
  return forwardToAuth(auth, url, method, headersOf(req), body);
}

/** Hands a request to the core once its body is known to be small and complete. */
export async function forwardToAuth(
  auth: Auth,
  url: URL,
  method: string,
  headers: Headers,
  body: Uint8Array | BodyProblem | undefined,
): Promise<Response | null> {
  if (body === 'aborted') return badRequest();
  if (body === 'too-large' || (body && body.byteLength > MAX_BODY_BYTES)) return tooLarge();
  for (const name of FRAMING_HEADERS) headers.delete(name);
  if (body) headers.set('content-length', String(body.byteLength));
  return auth.handle(new Request(url, { method, headers, body: body as Uint8Array<ArrayBuffer> | undefined }));
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
 * Reads at most `limit` bytes, chunked bodies included. Past the cap the rest is drained,
 * not destroyed: destroying the socket would reset the client before it reads the 413.
 */
function readCappedBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Uint8Array | BodyProblem> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve(drain(req));
  // Read before us by something else: no 'end' would ever come.
  if (req.readableEnded) return Promise.resolve(new Uint8Array(0));
  if (req.destroyed) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: Uint8Array | BodyProblem) => {
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) finish(drain(req));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(Buffer.concat(chunks, size));
    const onAbort = () => finish('aborted');
    req.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onAbort).resume();
  });
}

function drain(req: IncomingMessage): 'too-large' {
  req.on('error', () => {}).resume();
  return 'too-large';
}

export function tooLarge(): Response {
  return new Response('Payload Too Large', {
    status: 413,
    // The unread rest of the body must not be taken for the next request on this connection.
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close' },
  });
}

export function badRequest(): Response {
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
export function appendSetCookies(res: ServerResponse, cookies: string[]): void {
  if (cookies.length > 0) res.appendHeader('set-cookie', cookies);
}

/** The hot path: the session from the Cookie header alone, its cookie updates applied to `res`. */
export async function readSessionInto(auth: Auth, req: IncomingMessage, res: ServerResponse): Promise<Session | null> {
  const { session, setCookies } = await auth.readSession(req.headers.cookie);
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

/** Reads a Web request body of at most `limit` bytes, for frameworks that hand us a Request (Hono). */
export async function readCappedWebBody(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array | BodyProblem> {
  if (Number(request.headers.get('content-length') ?? 0) > limit) return 'too-large';
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      size += read.value.byteLength;
      if (size > limit) return 'too-large';
      chunks.push(read.value);
    }
  } catch {
    return 'aborted';
  } finally {
    reader.releaseLock();
  }
  return concat(chunks, size);
}

/** Like Buffer.concat, without Buffer: the Hono adapter may run outside Node. */
function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
