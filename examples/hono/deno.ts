/**
 * Deno: `deno run --allow-net --allow-env --allow-read --sloppy-imports examples/hono/deno.ts`
 * (with the variables app.ts lists). `--sloppy-imports` lets this repository's `.js` imports
 * reach its `.ts` sources; an app importing `oidc-session` from npm does not need it.
 */
import { authFromEnv, createApp } from './app.js';
import { listenAddress, storeFromEnv } from './store.js';

// Typed here rather than with a global declaration: the project type-checks with Node's types.
interface DenoRuntime {
  env: { toObject(): Record<string, string> };
  serve(
    options: { hostname: string; port: number; onListen(address: { hostname: string; port: number }): void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
}
const { Deno } = globalThis as unknown as { Deno: DenoRuntime };

const env = Deno.env.toObject();
const auth = authFromEnv(env, await storeFromEnv(env));
const { hostname, port } = listenAddress(env);
Deno.serve(
  { hostname, port, onListen: (address) => console.log(`listening on http://${hostname}:${address.port}`) },
  createApp(auth).fetch,
);
