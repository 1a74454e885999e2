/** Bun: `bun examples/hono/bun.ts` (with the variables app.ts lists). */
import { authFromEnv, createApp } from './app.js';
import { listenAddress, storeFromEnv } from './store.js';

// Typed here rather than with a global declaration: the project type-checks with Node's types.
interface BunServe {
  serve(options: { fetch: (request: Request) => Response | Promise<Response>; hostname: string; port: number }): { port: number };
}
const { Bun } = globalThis as unknown as { Bun: BunServe };

const auth = authFromEnv(process.env, await storeFromEnv(process.env));
const { hostname, port } = listenAddress(process.env);
const server = Bun.serve({ fetch: createApp(auth).fetch, hostname, port });
console.log(`listening on http://${hostname}:${server.port}`);
