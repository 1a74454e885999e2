/**
 * `npm run demo:next`: installs this repository's library into the example, builds it and starts
 * it with `next start` (SKIP_BUILD=1 reuses the last build), honouring
 * the environment of `npm start` (examples/demo/main.ts). With no OIDC_*ISSUER variable it
 * first starts the embedded development provider (PROVIDER_PORT, default 3001) in this process
 * and hands `next start` the variables pointing at it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoClient, startDevProvider } from '../../demo/dev-provider.js';
import { installLibrary } from './install-library.js';

const DEV_SECRET = 'demo-only-secret-do-not-use-in-production-0123456789';
const exampleDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const nextBin = join(exampleDir, '../../node_modules/next/dist/bin/next');

async function main(): Promise<void> {
  const env = { ...process.env };
  const host = env.HOST ?? '127.0.0.1';
  const port = env.PORT ?? '3000';
  const appUrl = env.APP_URL ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  Object.assign(env, { HOST: host, PORT: port, APP_URL: appUrl });
  if (env.SKIP_BUILD !== '1') {
    installLibrary();
    await run([nextBin, 'build'], env);
  }
  if (!Object.keys(env).some((k) => /^OIDC_(?:[A-Z0-9_]+_)?ISSUER$/.test(k))) await startEmbeddedProvider(env, appUrl);
  const server = spawn(process.execPath, [nextBin, 'start', '--hostname', host, '--port', port], {
    cwd: exampleDir,
    env,
    stdio: 'inherit',
  });
  server.on('exit', (code) => process.exit(code ?? 1));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.kill(signal));
}

async function startEmbeddedProvider(env: NodeJS.ProcessEnv, appUrl: string): Promise<void> {
  const provider = await startDevProvider({
    host: '127.0.0.1',
    port: Number(env.PROVIDER_PORT ?? 3001),
    clients: [demoClient(appUrl)],
  });
  Object.assign(env, {
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: 'demo',
    OIDC_CLIENT_SECRET: 'demo-secret',
    // Front-channel logout is an opt-in (it is unauthenticated); the demo shows every kind of logout.
    OIDC_FRONTCHANNEL_LOGOUT: 'true',
    SESSION_SECRET: env.SESSION_SECRET || DEV_SECRET,
    EXPOSE_TOKENS: env.EXPOSE_TOKENS || 'id,access',
    DEMO_EMBEDDED_PROVIDER: '1',
  });
  console.log(`embedded development provider at ${provider.issuer}: sign in as alice / alice-password or bob / bob-password`);
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, args, { cwd: exampleDir, env, stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`next ${args[1]} exited with ${code}`))));
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
