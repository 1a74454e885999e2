/**
 * workerd through miniflare for the Durable Object store tests: the test Worker (worker.ts) is
 * bundled with esbuild for the neutral platform (so a `node:` import in the store fails the build)
 * and loaded twice, as two Workers — two isolates, like two edge locations of one app — that
 * share one Durable Object namespace. Storage persists in a directory, so `restart()` is a new
 * workerd process reading what the last one wrote.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import type { Store, StoreInfo } from '../../../src/core/store.js';
import { storeInfo } from '../../../src/core/store.js';
import type { DurableObjectStoreOptions } from '../../../src/stores/durable-object.js';
import { type CallAnswer, decodeCall, encodeCall } from './codec.js';

/** The two Workers; each answers on its own host name. */
export type Isolate = 'a' | 'b';
const HOSTS: Record<Isolate, string> = { a: 'http://isolate-a.test', b: 'http://isolate-b.test' };

/** Not later than the installed workerd's own date (miniflare 4.20260426 ships workerd 2026-04-26). */
const COMPATIBILITY_DATE = '2026-04-01';

let bundled: Promise<string> | undefined;

/** The test Worker and the store it imports, as one ES module. */
function bundleWorker(): Promise<string> {
  bundled ??= build({
    entryPoints: [fileURLToPath(new URL('./worker.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  }).then((result) => result.outputFiles[0]?.text ?? '');
  return bundled;
}

function options(script: string, persist: string) {
  const modules = [{ type: 'ESModule' as const, path: 'worker.js', contents: script }];
  // nodejs_compat stays off: the store must need nothing of Node.
  const common = { modules, compatibilityDate: COMPATIBILITY_DATE };
  return {
    durableObjectsPersist: persist,
    workers: [
      {
        ...common,
        name: 'isolate-a',
        routes: ['isolate-a.test/*'],
        durableObjects: {
          STORE: { className: 'OidcSessionStore', useSQLite: true },
          SWEPT: { className: 'SweptStore', useSQLite: true },
        },
      },
      {
        ...common,
        name: 'isolate-b',
        routes: ['isolate-b.test/*'],
        durableObjects: {
          STORE: { className: 'OidcSessionStore', scriptName: 'isolate-a', useSQLite: true },
          SWEPT: { className: 'SweptStore', scriptName: 'isolate-a', useSQLite: true },
        },
      },
    ],
  };
}

export interface RemoteOptions {
  isolate?: Isolate;
  binding?: 'STORE' | 'SWEPT';
  store?: DurableObjectStoreOptions;
}

/** workerd with the test Worker, restartable on the same storage. */
export class Workerd {
  #miniflare: Miniflare;

  private constructor(
    miniflare: Miniflare,
    private readonly script: string,
    private readonly persist: string,
  ) {
    this.#miniflare = miniflare;
  }

  static async start(): Promise<Workerd> {
    const script = await bundleWorker();
    const persist = await mkdtemp(join(tmpdir(), 'oidc-session-do-'));
    const miniflare = new Miniflare(options(script, persist));
    await miniflare.ready;
    return new Workerd(miniflare, script, persist);
  }

  /** Stops workerd and starts a new one on the same persisted storage. */
  async restart(): Promise<void> {
    await this.#miniflare.dispose();
    this.#miniflare = new Miniflare(options(this.script, this.persist));
    await this.#miniflare.ready;
  }

  async dispose(): Promise<void> {
    await this.#miniflare.dispose();
    await rm(this.persist, { recursive: true, force: true });
  }

  /** GET on the test Worker of `isolate`, answered as JSON. */
  async get(path: string, isolate: Isolate = 'a'): Promise<unknown> {
    const response = await this.#miniflare.dispatchFetch(`${HOSTS[isolate]}${path}`);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  /**
   * A `Store` whose every method runs `durableObjectStore` inside the test Worker of `isolate`.
   * It follows restarts: it always talks to the current workerd, as an app reconnects.
   */
  async remote(remoteOptions: RemoteOptions = {}): Promise<Store & { readonly [storeInfo]: StoreInfo }> {
    const { isolate = 'a', binding = 'STORE', store: storeOptions } = remoteOptions;
    const call = async (method: keyof Store, args: unknown[]): Promise<unknown> => {
      const response = await this.#miniflare.dispatchFetch(`${HOSTS[isolate]}/call`, {
        method: 'POST',
        body: encodeCall({ binding, options: storeOptions, method, args }),
      });
      if (!response.ok) throw new Error(`${method}: the test Worker answered ${response.status}: ${await response.text()}`);
      const answer = decodeCall(await response.text()) as CallAnswer;
      if ('result' in answer) return answer.result;
      // The suite asks for TypeErrors by class: rebuild the class the store threw in workerd.
      throw answer.error.typeError
        ? new TypeError(answer.error.message)
        : Object.assign(new Error(answer.error.message), { name: answer.error.name });
    };
    const info = (await this.get('/info', isolate)) as StoreInfo;
    return {
      [storeInfo]: info,
      getMany: (keys) => call('getMany', [keys]) as Promise<Array<string | null>>,
      set: (...args) => call('set', args) as Promise<void>,
      setIfAbsent: (...args) => call('setIfAbsent', args) as Promise<boolean>,
      delete: (keys) => call('delete', [keys]) as Promise<void>,
      addToSet: (...args) => call('addToSet', args) as Promise<void>,
      setMembers: (key) => call('setMembers', [key]) as Promise<string[]>,
      removeFromSet: (...args) => call('removeFromSet', args) as Promise<void>,
    };
  }
}

/**
 * True when workerd starts here. False (after one loud line) when it does not and CI is not
 * 'true'; under CI=true it throws, so the test file fails instead of skipping.
 */
export async function requireWorkerd(): Promise<boolean> {
  try {
    checkBinary();
    await within(30_000, 'answer a probe Worker', probeWorker());
    return true;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const how = 'Install it with: flock /tmp/oidc-npm.lock npm install (miniflare brings workerd in @cloudflare/workerd-<platform>)';
    if (process.env.CI === 'true') {
      throw new Error(`workerd (miniflare) cannot start (${reason}); CI=true, so this suite fails instead of skipping. ${how}`, {
        cause: error,
      });
    }
    console.warn(`⚠️  SKIPPING the Durable Object store tests: workerd (miniflare) cannot start (${reason}). ${how}`);
    return false;
  }
}

/**
 * Runs the binary miniflare would spawn: a missing or unrunnable one would otherwise crash the
 * test process (an unhandled spawn error) instead of failing the probe.
 */
function checkBinary(): void {
  const fromMiniflare = createRequire(createRequire(import.meta.url).resolve('miniflare'));
  const binary = process.env.MINIFLARE_WORKERD_PATH ?? (fromMiniflare('workerd') as { default: string }).default;
  execFileSync(binary, ['--version'], { timeout: 20_000, stdio: 'pipe' });
}

async function probeWorker(): Promise<void> {
  const probe = new Miniflare({
    modules: true,
    script: 'export default { fetch: () => new Response("ok") }',
    compatibilityDate: COMPATIBILITY_DATE,
  });
  try {
    const text = await (await probe.dispatchFetch('http://probe.test/')).text();
    if (text !== 'ok') throw new Error(`the probe Worker answered ${JSON.stringify(text)}`);
  } finally {
    await probe.dispose().catch(() => {});
  }
}

async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`workerd did not ${what} within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
