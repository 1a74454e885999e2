/**
 * A whole stack for end-to-end tests: the demo app on a real port, the real development
 * provider (`oidc-provider`) with the app registered as a client, and a createAuth() between.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDemoApp } from '../../examples/demo/app.js';
import { type DevClient, type DevProvider, type DevProviderOptions, startDevProvider } from '../../examples/demo/dev-provider.js';
import { type Auth, type AuthOptions, createAuth, type ProviderOptions } from '../../src/index.js';

export const SECRET = 'e2e-secret-e2e-secret-e2e-secret-e2e-secret';

export interface StackOptions {
  auth?: Partial<AuthOptions>;
  provider?: Partial<ProviderOptions>;
  devProvider?: Partial<Omit<DevProviderOptions, 'clients'>>;
  client?: Partial<DevClient>;
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

export interface Stack {
  appUrl: string;
  provider: DevProvider;
  auth: Auth;
  logs: LogLine[];
  /** A new createAuth() (fresh discovery cache) on the same app URL. */
  rebuild(overrides?: StackOptions): Auth;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  let listener: RequestListener = (_req, res) => res.end();
  const server = createServer((req, res) => listener(req, res));
  const appUrl = await listen(server);
  const provider = await startDevProvider({
    ...options.devProvider,
    clients: [
      {
        client_id: 'demo',
        client_secret: 'demo-secret',
        redirect_uris: [`${appUrl}/auth/callback`],
        post_logout_redirect_uris: [`${appUrl}/auth/logout/callback`],
        ...options.client,
        // 'BACKCHANNEL' stands for this app's own endpoint, whose port is known only now.
        ...(options.client?.backchannel_logout_uri === 'BACKCHANNEL'
          ? { backchannel_logout_uri: `${appUrl}/auth/backchannel-logout/default` }
          : {}),
      },
    ],
  });
  const logs: LogLine[] = [];
  const stack: Stack = {
    appUrl,
    provider,
    logs,
    auth: undefined as unknown as Auth,
    rebuild(overrides = options) {
      const auth = createAuth({
        baseUrl: appUrl,
        secret: SECRET,
        providers: { default: { issuer: provider.issuer, clientId: 'demo', clientSecret: 'demo-secret', ...overrides.provider } },
        logger: captureLogs(logs),
        ...overrides.auth,
      });
      listener = createDemoApp(auth, { mode: 'cookie', store: 'memory', providerNote: 'test' }) as unknown as RequestListener;
      stack.auth = auth;
      return auth;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await provider.close();
    },
  };
  stack.rebuild();
  return stack;
}

function captureLogs(logs: LogLine[]) {
  const log = (level: LogLine['level']) => (message: string) => void logs.push({ level, message });
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
