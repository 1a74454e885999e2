/**
 * `oidc-session/node`: the library in a plain `node:http` server.
 *
 * @example
 * const auth = createAuth({ baseUrl, secret, providers });
 * const oidc = createNodeAuth(auth);
 * createServer(async (req, res) => {
 *   if (await oidc.handle(req, res)) return;
 *   const session = await oidc.requireAuth(req, res);
 *   if (session) res.end(`Hello ${session.user.sub}`);
 * }).listen(3000);
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auth, Session } from '../core/types.js';
import { answerAuthRoute, checkAuth, pathAndQueryOf, readSessionInto, refreshInto, sendResponse, unauthenticated } from './shared.js';

export interface NodeAuth {
  /** Answers the auth routes (`/auth/login`, `/auth/callback`, …); true when it did, and `res` is then finished. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** The request's session or null; cookie updates (idle roll, removal) are added to `res`. */
  session(req: IncomingMessage, res: ServerResponse): Promise<Session | null>;
  /** The session, or null after answering `res` itself: 302 to the login page for a browser, 401 JSON otherwise. */
  requireAuth(req: IncomingMessage, res: ServerResponse): Promise<Session | null>;
  /** Refreshes the session's tokens now (needs the `refresh` option); null when it ended or there was none. */
  refresh(req: IncomingMessage, res: ServerResponse): Promise<Session | null>;
}

export function createNodeAuth(auth: Auth): NodeAuth {
  checkAuth(auth, 'createNodeAuth(auth)');

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const response = await answerAuthRoute(auth, req);
    if (!response) return false;
    await sendResponse(res, response);
    return true;
  }

  async function requireAuth(req: IncomingMessage, res: ServerResponse): Promise<Session | null> {
    const session = await readSessionInto(auth, req, res);
    if (session) return session;
    const { accept, 'sec-fetch-mode': fetchMode } = req.headers;
    await sendResponse(res, unauthenticated(auth, pathAndQueryOf(req.url), accept, firstOf(fetchMode)));
    return null;
  }

  return Object.freeze({
    handle,
    session: (req: IncomingMessage, res: ServerResponse) => readSessionInto(auth, req, res),
    requireAuth,
    refresh: (req: IncomingMessage, res: ServerResponse) => refreshInto(auth, req, res),
  });
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
