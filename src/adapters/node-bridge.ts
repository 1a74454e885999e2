/**
 * Translation between Node's `http` objects and the Web `Request`/`Response` the core speaks,
 * for the Node adapters (node:http, Express, Fastify). Internal: nothing here decides anything
 * about authentication.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_FORM_BYTES } from '../core/body.js';
import type { Auth, Session } from '../core/types.js';
import { installNodeSealing } from './native-sealing.js';
import { installNodeVerifier } from './native-verify.js';
import { authRouteUrl, checkAuth, pathAndQueryOf } from './web.js';

/**
 * A Node body read up to the core's own form cap: its bytes, or the first bytes past the cap
 * (`truncated`: the rest was drained unread), or 'aborted' when the client went away.
 */
type NodeBody = { bytes: Uint8Array; truncated: boolean } | 'aborted';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** The adapter sets these from the body it actually forwards. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding']);

/**
 * What each Node adapter does when it is set up: checks `auth`, then installs node:crypto's
 * AES-GCM for sealing (a few microseconds where WebCrypto takes tens; the same format either
 * way) and its synchronous signature check for logout tokens.
 */
export function setUpNodeAdapter(auth: unknown, caller: string): asserts auth is Auth {
  checkAuth(auth, caller);
  installNodeSealing();
  installNodeVerifier();
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
