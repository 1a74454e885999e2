/**
 * Nothing at module scope that a runtime forbids: workerd (nodejs_compat off) refuses a module
 * whose top level sets a timer, does I/O or draws a random value, and a Worker that imports the
 * library and calls createAuth() there must load and answer. The controls show that workerd does
 * refuse each of those here, so the first test can fail.
 */
import { execFile } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Miniflare } from 'miniflare';
import { describe, expect, it } from 'vitest';
import { bundleWorker, INSTALL_HINT, runtimes, wranglerConfig } from './runtimes.js';

const WORKER = fileURLToPath(new URL('./module-scope/worker.ts', import.meta.url));

/** Loads `script` in workerd and requests `/`; a refusal throws with what workerd printed. */
async function load(script: string): Promise<{ status: number; body: unknown }> {
  let output = '';
  const miniflare = new Miniflare({
    modules: [{ type: 'ESModule', path: 'worker.js', contents: script }],
    compatibilityDate: wranglerConfig().compatibility_date,
    bindings: {
      APP_URL: 'https://app.example.com',
      SESSION_SECRET: 'x'.repeat(40),
      OIDC_ISSUER: 'https://login.example.com',
      OIDC_CLIENT_ID: 'app',
    },
    durableObjects: { STORE: { className: 'OidcSessionStore', useSQLite: true } },
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      for (const stream of [stdout, stderr]) {
        stream.on('data', (chunk: Buffer) => {
          output += chunk;
        });
      }
    },
  });
  try {
    const response = await miniflare.dispatchFetch('https://app.example.com/');
    const text = await response.text();
    return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : error}\nworkerd printed:\n${output}`);
  } finally {
    // A runtime that failed to start rejects here too: the error above is the one to report.
    await miniflare.dispose().catch(() => {});
  }
}

describe('module scope on workerd', () => {
  it('when a Worker imports the library and calls createAuth() at module scope then it loads and answers', async () => {
    expect(await load(await bundleWorker(WORKER))).toEqual({ status: 200, body: { ok: true, sessions: [null, null] } });
  });

  it.each([
    ['a timer', 'setTimeout(() => {}, 1000);'],
    ['a random value', 'crypto.getRandomValues(new Uint8Array(8));'],
    ['I/O', 'await fetch("https://login.example.com/");'],
  ])('when module scope sets %s then workerd refuses the Worker (the check above can fail)', async (_, statement) => {
    const script = `${statement}\n${await bundleWorker(WORKER)}`;
    await expect(load(script)).rejects.toThrow(/global scope|Disallowed/i);
  });
});

describe('module scope on Deno without --allow-env', () => {
  const deno = runtimes().find((runtime) => runtime.name === 'deno')!;
  const missing = deno.missing();
  if (missing && process.env.CI !== 'true')
    console.warn(`⚠️  SKIPPING the Deno module-scope test: ${missing}. Install it with: ${INSTALL_HINT}`);

  it.skipIf(missing && process.env.CI !== 'true')('when createAuth() runs at module scope then it needs no env permission', async () => {
    const script = fileURLToPath(new URL('./module-scope/deno-no-env.ts', import.meta.url));
    const args = ['run', '--no-prompt', '--allow-read', '--sloppy-imports', script];
    const { stdout } = await promisify(execFile)(deno.binary!, args, { env: { ...process.env, NO_COLOR: '1' } });
    expect(stdout.trim()).toBe('csrf 200');
  });
});
