/**
 * Cloudflare Workers: `npx wrangler dev` in this folder (wrangler.jsonc), no `nodejs_compat`.
 * Sessions and logout tombstones live in a Durable Object, which every isolate shares: a
 * back-channel logout received by one isolate ends the session in all of them.
 */
import { env } from 'cloudflare:workers';
import { type DurableObjectNamespaceLike, durableObjectStore } from '../../src/stores/durable-object.js';
import { authFromEnv, createApp, type Env } from './app.js';

// The class the OIDC_SESSION binding names: the Worker's main module must export it.
export { OidcSessionStore } from '../../src/stores/durable-object.js';

// Module scope, where workerd forbids timers, I/O and random values: createAuth() and the store
// use none of them until the first request.
const bindings = env as Env & { OIDC_SESSION: DurableObjectNamespaceLike };
const auth = authFromEnv(bindings, durableObjectStore(bindings.OIDC_SESSION));

export default createApp(auth);
