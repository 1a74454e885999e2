/**
 * The library under test. The servers load it compiled by `tsc` (what users run, not tsx's
 * on-the-fly transform, which adds helpers of its own) from the directory the orchestrator
 * builds and names in OIDC_SESSION_BENCH_LIB; without it, straight from `src/` through tsx.
 */
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface Library {
  index: typeof import('../src/index.js');
  express: typeof import('../src/adapters/express.js');
  fastify: typeof import('../src/adapters/fastify.js');
  hono: typeof import('../src/adapters/hono.js');
  node: typeof import('../src/adapters/node.js');
  memory: typeof import('../src/stores/memory.js');
  redis: typeof import('../src/stores/redis.js');
}

export const LIBRARY_ENV = 'OIDC_SESSION_BENCH_LIB';
const REPO = new URL('..', import.meta.url);
/**
 * Compiles `src/` with the project's own build settings into a directory of this run's own
 * (under node_modules/, so the compiled files find jose and openid-client; never committed).
 * Returns the directory and a function that removes it.
 */
export function buildLibrary(): { dir: string; remove(): Promise<void> } {
  const dir = fileURLToPath(new URL(`node_modules/.cache/oidc-session-bench/lib-${process.pid}/`, REPO));
  const tsc = fileURLToPath(new URL('node_modules/typescript/bin/tsc', REPO));
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', dir, '--sourceMap', 'false', '--inlineSources', 'false'], {
    cwd: fileURLToPath(REPO),
    stdio: 'inherit',
  });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function loadLibrary(): Promise<Library> {
  const dir = process.env[LIBRARY_ENV];
  const base = dir ? pathToFileURL(dir.endsWith('/') ? dir : `${dir}/`) : new URL('../src/', import.meta.url);
  const load = (path: string) => import(new URL(dir ? `${path}.js` : `${path}.ts`, base).href);
  const [index, express, fastify, hono, node, memory, redis] = await Promise.all(
    ['index', 'adapters/express', 'adapters/fastify', 'adapters/hono', 'adapters/node', 'stores/memory', 'stores/redis'].map(load),
  );
  return { index, express, fastify, hono, node, memory, redis };
}
