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
import { answerAuthRouteIfAny, readSessionInto, refreshInto, sendResponse, setUpNodeAdapter } from './node-bridge.js';
import { pathAndQueryOf, unauthenticated } from './web.js';

export { installNodeSealing } from './native-sealing.js';
export { installNodeVerifier } from './native-verify.js';

/** What `handle` answers for the app's own requests: one settled promise, shared. */
const NOT_ANSWERED = Promise.resolve(false);

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
  setUpNodeAdapter(auth, 'createNodeAuth(auth)');

  function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const answering = answerAuthRouteIfAny(auth, req);
    if (!answering) return NOT_ANSWERED;
    return answering.then(async (response) => {
      if (!response) return false;
      await sendResponse(res, response);
      return true;
    });
  }

  function requireAuth(req: IncomingMessage, res: ServerResponse): Promise<Session | null> {
    return readSessionInto(auth, req, res).then((session) => session ?? refuse(req, res));
  }

  async function refuse(req: IncomingMessage, res: ServerResponse): Promise<null> {
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
