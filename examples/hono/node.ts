/** Node: `npx tsx examples/hono/node.ts` (with the variables app.ts lists). */
import { serve } from '@hono/node-server';
import { installNodeSealing } from '../../src/adapters/node.js';
import { authFromEnv, createApp } from './app.js';
import { listenAddress, storeFromEnv } from './store.js';

// Sealed cookies through node:crypto: faster than WebCrypto on Node, and interchangeable with it.
installNodeSealing();
const auth = authFromEnv(process.env, await storeFromEnv(process.env));
const { hostname, port } = listenAddress(process.env);
serve({ fetch: createApp(auth).fetch, hostname, port }, (info) => console.log(`listening on http://${hostname}:${info.port}`));
