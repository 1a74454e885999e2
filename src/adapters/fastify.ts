/**
 * `oidc-session/fastify`: a plugin for Fastify 5.
 *
 * @example
 * const app = Fastify();
 * await app.register(oidcSession, { auth });
 * app.get('/me', { preHandler: requireAuth }, async (request) => request.auth!.user);
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Auth, Session } from '../core/types.js';
import { answerAuthRouteIfAny, setUpNodeAdapter } from './node-bridge.js';
import { pathAndQueryOf, recallAuth, rememberAuth, unauthenticated } from './web.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user's session, or null; set by the `oidcSession` plugin. */
    auth: Session | null;
  }
}

export interface OidcSessionOptions {
  auth: Auth;
}

async function register(fastify: FastifyInstance, options: OidcSessionOptions): Promise<void> {
  const { auth } = options;
  setUpNodeAdapter(auth, 'app.register(oidcSession, { auth })');
  fastify.decorateRequest('auth', null);
  // onRequest runs before Fastify parses bodies, so the auth routes read the raw stream.
  fastify.addHook('onRequest', async (request, reply) => {
    const answering = answerAuthRouteIfAny(auth, request.raw);
    const response = answering && (await answering);
    if (response) return sendReply(reply, response);
    rememberAuth(request.raw, auth);
    const { session, setCookies } = await auth.readSession(request.headers.cookie);
    request.auth = session;
    if (setCookies.length > 0) reply.header('set-cookie', setCookies);
  });
}

/**
 * The plugin. Marked like `fastify-plugin` would mark it, so its hook and decorator apply
 * to the whole app rather than to a child context.
 */
export const oidcSession: FastifyPluginAsync<OidcSessionOptions> = Object.assign(register, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'oidc-session',
});

/** preHandler: lets signed-in requests through; others get 302 to the login page (browsers) or 401 JSON. */
export async function requireAuth(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.auth) return undefined;
  const auth = recallAuth(request.raw, 'requireAuth');
  const fetchMode = request.headers['sec-fetch-mode'];
  const path = pathAndQueryOf(request.raw.url);
  return sendReply(reply, unauthenticated(auth, path, request.headers.accept, Array.isArray(fetchMode) ? fetchMode[0] : fetchMode));
}

/** Refreshes the tokens of the request's session now (needs the `refresh` option) and updates `request.auth`. */
export async function refreshAuth(request: FastifyRequest, reply: FastifyReply): Promise<Session | null> {
  const { session, setCookies } = await recallAuth(request.raw, 'refreshAuth()').refresh(request.headers.cookie);
  if (setCookies.length > 0) reply.header('set-cookie', setCookies);
  request.auth = session;
  return session;
}

/** Sends a Web Response through `reply`, so the app's onSend hooks still see it. */
async function sendReply(reply: FastifyReply, response: Response): Promise<FastifyReply> {
  reply.code(response.status);
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') reply.header(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) reply.header('set-cookie', cookies);
  return reply.send(response.body ? Buffer.from(await response.arrayBuffer()) : undefined);
}
