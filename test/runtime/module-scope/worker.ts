/**
 * A Worker that does at module scope what an app does there: imports every Web entry and calls
 * createAuth() with the default (memory) store and with the Durable Object store. workerd refuses
 * to load a module whose top level sets a timer, does I/O or draws a random value.
 */
import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import { oidcSession } from '../../../src/adapters/hono.js';
import { configFromEnv, createAuth } from '../../../src/index.js';
import { type DurableObjectNamespaceLike, durableObjectStore } from '../../../src/stores/durable-object.js';
import { memoryStore } from '../../../src/stores/memory.js';

export { OidcSessionStore } from '../../../src/stores/durable-object.js';

const options = {
  baseUrl: 'https://app.example.com',
  secret: 'module-scope-secret-module-scope-secret',
  providers: { default: { issuer: 'https://login.example.com', clientId: 'app', clientSecret: 'secret' } },
};
const withDefaultStore = createAuth(options);
const withMemoryStore = createAuth({ ...options, store: memoryStore() });
const fromEnv = createAuth(
  configFromEnv(env as Record<string, string>, { store: durableObjectStore(env.STORE as DurableObjectNamespaceLike) }),
);

const app = new Hono();
app.use(oidcSession(withDefaultStore));
app.get('/', async (c) => {
  // The first request may do what module scope may not: the session read touches the stores.
  const sessions = await Promise.all([withMemoryStore, fromEnv].map((auth) => auth.getSession(c.req.raw)));
  return c.json({ ok: true, sessions });
});
export default app;
