/**
 * The Next.js example under test: built once (`next build`, with this repository's library
 * installed into examples/next/node_modules as npm would), then started with `next start` as
 * many times as the suite needs configurations, each a child process configured only through
 * the environment contract of `npm start`. The development provider runs in the test process
 * on `http://localhost:PORT` (another site than the apps on 127.0.0.1) with one client per app.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type DevClient, type DevProvider, startDevProvider } from '../../examples/demo/dev-provider.js';
import { installLibrary } from '../../examples/next/scripts/install-library.js';

const EXAMPLE_DIR = join(import.meta.dirname, '../../examples/next');
const NEXT_BIN = join(import.meta.dirname, '../../node_modules/next/dist/bin/next');
const SECRET = 'next-browser-secret-next-browser-secret';

/**
 * A copy of the example's sources of this run's own, under test-results/ (inside the repository,
 * where next and react resolve): several runs of the suite at once must not share a build.
 */
function copyExample(): string {
  const dir = join(import.meta.dirname, `../../test-results/next-example-${process.pid}-${Date.now()}`);
  cpSync(EXAMPLE_DIR, dir, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|\.next|next-env\.d\.ts)$/.test(source),
  });
  return dir;
}

/** `next build` of a copy of the example, without any of the variables it needs at run time; returns its directory. */
export async function buildExample(): Promise<string> {
  const dir = copyExample();
  installLibrary(dir);
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (/^(OIDC_|SESSION_|APP_URL$)/.test(key)) delete env[key];
  const { code, output } = await runToEnd(
    spawn(process.execPath, [NEXT_BIN, 'build'], { cwd: dir, env: { ...env, NEXT_TELEMETRY_DISABLED: '1' } }),
  );
  if (code !== 0) throw new Error(`next build failed (${code}):\n${output}`);
  return dir;
}

export function removeExample(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** A free port on 127.0.0.1: the app's URL must be known before its client is registered. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface NextApp {
  url: string;
  clientId: string;
  /** Everything the server printed, for failure messages. */
  output(): string;
  close(): Promise<void>;
}

/** `next start` of the example built in `dir`, with `env` on top of the provider's client settings. */
export async function startExample(
  dir: string,
  provider: DevProvider,
  port: number,
  clientId: string,
  env: Record<string, string> = {},
): Promise<NextApp> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [NEXT_BIN, 'start', '--hostname', '127.0.0.1', '--port', String(port)], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      NEXT_TELEMETRY_DISABLED: '1',
      HOST: '127.0.0.1',
      PORT: String(port),
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: clientId,
      OIDC_CLIENT_SECRET: `${clientId}-secret`,
      OIDC_FRONTCHANNEL_LOGOUT: 'true',
      SESSION_SECRET: SECRET,
      EXPOSE_TOKENS: 'id,access',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const app: NextApp = {
    url,
    clientId,
    output: () => output,
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  await waitUntilServing(app, child);
  return app;
}

/** Polls `/api/me` (401 when up) until the server answers, or fails with what it printed. */
async function waitUntilServing(app: NextApp, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}:\n${app.output()}`);
    try {
      const response = await fetch(`${app.url}/api/me`);
      if (response.status === 401) return;
      throw new Error(`GET /api/me answered ${response.status} before any sign-in:\n${app.output()}`);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`next start did not serve within 15 s:\n${app.output()}`);
}

function runToEnd(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

/** The client of one app: back-channel logout registered; refresh tokens allowed. */
export function exampleClient(clientId: string, port: number): DevClient {
  const appUrl = `http://127.0.0.1:${port}`;
  return {
    client_id: clientId,
    client_secret: `${clientId}-secret`,
    redirect_uris: [`${appUrl}/auth/callback`],
    post_logout_redirect_uris: [`${appUrl}/auth/logout/callback`],
    backchannel_logout_uri: `${appUrl}/auth/backchannel-logout/default`,
    backchannel_logout_session_required: true,
    grant_types: ['authorization_code', 'refresh_token'],
  };
}

/**
 * The provider, with a page that does what a provider's front-channel logout does:
 * `/test/frontchannel?app=URL&sid=…` frames that app's front-channel logout URL.
 */
export async function startProvider(clients: DevClient[]): Promise<DevProvider> {
  let issuer = '';
  const provider = await startDevProvider({
    host: '127.0.0.1',
    issuerHost: 'localhost',
    clients,
    extraRoutes: (req, res) => frontchannelPage(req, res, issuer),
  });
  issuer = provider.issuer;
  return provider;
}

export function frontchannelPageUrl(provider: DevProvider, app: NextApp, sid: string): string {
  return `${provider.issuer}/test/frontchannel?${new URLSearchParams({ app: app.url, sid })}`;
}

function frontchannelPage(req: IncomingMessage, res: ServerResponse, issuer: string): boolean {
  const url = new URL(req.url ?? '/', issuer);
  if (req.method !== 'GET' || url.pathname !== '/test/frontchannel') return false;
  const target = new URL(`${url.searchParams.get('app')}/auth/frontchannel-logout/default`);
  target.search = new URLSearchParams({ iss: issuer, sid: url.searchParams.get('sid') ?? '' }).toString();
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(
    `<!doctype html><title>Signing you out</title><h1>Signing you out of every app</h1>` +
      `<iframe title="the app" src="${target.href.replace(/&/g, '&amp;')}" width="600" height="200"></iframe>`,
  );
  return true;
}

/** Counts the refresh_token grants the provider answers from now on. */
export function countRefreshes(provider: DevProvider): { count(): number; stop(): void } {
  let refreshes = 0;
  const listener = (ctx: unknown) => {
    if ((ctx as { oidc: { params: { grant_type?: string } } }).oidc.params.grant_type === 'refresh_token') refreshes++;
  };
  provider.provider.on('grant.success', listener);
  return { count: () => refreshes, stop: () => void provider.provider.off('grant.success', listener) };
}
