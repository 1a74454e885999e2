/**
 * Cookie sizes after a real login at `oidc-provider`: the session and tokens cookies, how many
 * chunks each takes, the Cookie header every later request carries and the largest Set-Cookie
 * line — for a typical token set, for a large claim set, in server mode, and for the peer.
 *
 *   node --import tsx bench/cookies.ts
 */
import { type DevClient, startDevProvider } from '../examples/demo/dev-provider.js';
import type { AuthOptions } from '../src/index.js';
import { Agent } from '../test/support/agent.js';
import { CLIENT_SECRET, freePort, type Mode, ours, PROTECTED_PATH, peer, type Running } from './apps.js';

export interface CookieRow {
  label: string;
  /** Bytes of the Cookie header a request to the app carries after login. */
  cookieHeaderBytes: number;
  /** The longest Set-Cookie line of the login's answer (browsers accept at least 4096). */
  largestSetCookieBytes: number;
  /** Each cookie by name (chunks `name.0`, `name.1`, … counted together). */
  cookies: Array<{ name: string; chunks: number; valueBytes: number }>;
}

export interface CookieReport {
  rows: CookieRow[];
}

/** A user with a large claim set: 60 groups and 12 roles, about 2.6 KB of JSON. */
const LARGE_CLAIMS = {
  groups: Array.from({ length: 60 }, (_, i) => `org-unit-${String(i).padStart(3, '0')}-engineering-staff`),
  roles: Array.from({ length: 12 }, (_, i) => `role:application-${i}:contributor`),
  department: 'Research and Development, Platform Engineering',
};

const REFRESHING: Partial<DevClient> = { grant_types: ['authorization_code', 'refresh_token'] };
const TOKEN_SET: Partial<AuthOptions> = { exposeTokens: ['id', 'access', 'refresh'], allowRefreshTokenExposure: true };
const OFFLINE = { scopes: ['openid', 'profile', 'email', 'offline_access'], authorizationParams: { prompt: 'consent' } };

interface Variant {
  label: string;
  user: 'alice' | 'bob';
  app: 'ours' | 'peer';
  mode?: Mode;
  auth?: Partial<AuthOptions>;
  provider?: { scopes: string[]; authorizationParams: Record<string, string> };
  client?: Partial<DevClient>;
}

const VARIANTS: Variant[] = [
  { label: 'oidc-session, defaults (ID + access token kept, none exposed)', user: 'alice', app: 'ours' },
  {
    label: 'oidc-session, ID + access + refresh token (offline_access), all exposed',
    user: 'alice',
    app: 'ours',
    auth: TOKEN_SET,
    provider: OFFLINE,
    client: REFRESHING,
  },
  {
    label: 'oidc-session, large claim set (60 groups, 12 roles), ID + access + refresh',
    user: 'bob',
    app: 'ours',
    auth: TOKEN_SET,
    provider: OFFLINE,
    client: REFRESHING,
  },
  {
    label: 'oidc-session, server mode',
    user: 'alice',
    app: 'ours',
    mode: 'server-memory',
    auth: TOKEN_SET,
    provider: OFFLINE,
    client: REFRESHING,
  },
  { label: 'express-openid-connect, ID + access token', user: 'alice', app: 'peer' },
  { label: 'express-openid-connect, ID + access + refresh token', user: 'alice', app: 'peer', provider: OFFLINE, client: REFRESHING },
];

const PASSWORDS = { alice: 'alice-password', bob: 'bob-password' };

/** Every Set-Cookie line the app sends, recorded as the agent's fetch goes by. */
function recordSetCookies(origin: string): string[] {
  const lines: string[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const response = await original(input, init);
    if (new URL(input instanceof Request ? input.url : input).origin === origin) lines.push(...response.headers.getSetCookie());
    return response;
  };
  return lines;
}

async function measure(variant: Variant, index: number, provider: Awaited<ReturnType<typeof startDevProvider>>): Promise<CookieRow> {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const clientId = `cookies-${index}`;
  const callback = variant.app === 'ours' ? `${appUrl}/auth/callback` : `${appUrl}/callback`;
  await provider.addClient({ client_id: clientId, client_secret: CLIENT_SECRET, redirect_uris: [callback], ...variant.client });
  const app: Running =
    variant.app === 'ours'
      ? await ours({
          adapter: 'node',
          mode: variant.mode ?? 'cookie',
          port,
          providers: { default: { issuer: provider.issuer, clientId, clientSecret: CLIENT_SECRET, ...variant.provider } },
          ...(variant.auth ? { options: variant.auth } : {}),
        })
      : await peer({
          port,
          issuer: provider.issuer,
          clientId,
          ...(variant.provider
            ? { scope: variant.provider.scopes.join(' '), authorizationParams: variant.provider.authorizationParams }
            : {}),
        });
  const original = globalThis.fetch;
  const setCookies = recordSetCookies(appUrl);
  try {
    const agent = new Agent();
    const start = variant.app === 'ours' ? `${appUrl}/auth/login?returnTo=${PROTECTED_PATH}` : `${appUrl}/login`;
    await agent.loginAtProvider(start, { login: variant.user, password: PASSWORDS[variant.user] });
    const jar = agent.cookies(`${appUrl}${PROTECTED_PATH}`);
    const byName = new Map<string, { chunks: number; valueBytes: number }>();
    for (const [name, value] of Object.entries(jar)) {
      const base = name.replace(/\.\d+$/, '');
      const entry = byName.get(base) ?? { chunks: 0, valueBytes: 0 };
      byName.set(base, { chunks: entry.chunks + 1, valueBytes: entry.valueBytes + value.length });
    }
    if (byName.size === 0) throw new Error(`${variant.label}: no cookie after login`);
    return {
      label: variant.label,
      cookieHeaderBytes: agent.cookieHeader(`${appUrl}${PROTECTED_PATH}`).length,
      largestSetCookieBytes: Math.max(
        ...setCookies.filter((line) => !/Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(line)).map((l) => l.length),
      ),
      cookies: [...byName].map(([name, size]) => ({ name, ...size })),
    };
  } finally {
    globalThis.fetch = original;
    await app.close();
  }
}

const provider = await startDevProvider({ issuerHost: 'localhost', clients: [], extraClaims: { bob: LARGE_CLAIMS } });
const rows: CookieRow[] = [];
for (const [index, variant] of VARIANTS.entries()) rows.push(await measure(variant, index, provider));
await provider.close();
process.stdout.write(`${JSON.stringify({ rows } satisfies CookieReport)}\n`);
process.exit(0);
