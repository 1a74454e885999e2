/**
 * `oidc-session/express`: middleware for Express 5.
 *
 * @example
 * const app = express();
 * app.use(oidcSession(auth)); // before any body parser: it reads its own small forms
 * app.get('/me', requireAuth(), (req, res) => res.json(req.auth!.user));
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Auth, Session } from '../core/types.js';
import { answerAuthRouteIfAny, readSessionInto, refreshInto, sendResponse, setUpNodeAdapter } from './node-bridge.js';
import { pathAndQueryOf, recallAuth, rememberAuth, unauthenticated } from './web.js';

declare global {
  namespace Express {
    // @types/express-serve-static-core builds its Request from this open interface; merging
    // here (not into the 'express-serve-static-core' module) also works where that package
    // cannot be resolved from ours, as under pnpm.
    interface Request {
      /** The signed-in user's session, or null; set by `oidcSession(auth)`. */
      auth: Session | null;
    }
  }
}

/** Answers the auth routes; on every other request sets `req.auth` and calls `next()`. */
export function oidcSession(auth: Auth): RequestHandler {
  setUpNodeAdapter(auth, 'oidcSession(auth)');
  // A returned promise that rejects reaches Express 5's error handling, as an async function's would.
  return (req: Request, res: Response, next: NextFunction) => {
    const answering = answerAuthRouteIfAny(auth, req, pathAndQueryOf(req.originalUrl), () => consumedBody(req));
    if (!answering) return withSession(auth, req, res, next);
    return answering.then((response) => (response ? sendResponse(res, response) : withSession(auth, req, res, next)));
  };
}

/** Sets `req.auth` from the request's cookies, then hands over to the app. */
function withSession(auth: Auth, req: Request, res: Response, next: NextFunction): Promise<void> {
  rememberAuth(req, auth);
  return readSessionInto(auth, req, res).then((session) => {
    req.auth = session;
    next();
  });
}

/** Lets signed-in requests through; others get 302 to the login page (browsers) or 401 JSON. */
export function requireAuth(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.auth) return next();
    const auth = recallAuth(req, 'requireAuth()');
    return sendResponse(res, unauthenticated(auth, pathAndQueryOf(req.originalUrl), req.get('accept'), req.get('sec-fetch-mode')));
  };
}

/** Refreshes the tokens of `req`'s session now (needs the `refresh` option) and updates `req.auth`. */
export async function refreshAuth(req: Request, res: Response): Promise<Session | null> {
  req.auth = await refreshInto(recallAuth(req, 'refreshAuth()'), req, res);
  return req.auth;
}

/**
 * When a body parser mounted earlier already read the stream, the body is rebuilt from
 * `req.body`; undefined means the stream is still there to read.
 */
function consumedBody(req: Request): Uint8Array | undefined {
  if (!req.readableEnded) return undefined;
  const body: unknown = req.body;
  if (body === undefined || body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body);
  if (req.is('application/x-www-form-urlencoded')) return Buffer.from(toForm(body as object).toString());
  return Buffer.from(JSON.stringify(body));
}

function toForm(fields: object): URLSearchParams {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of [value].flat()) if (typeof item === 'string') form.append(name, item);
  }
  return form;
}
