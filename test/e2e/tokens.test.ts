/**
 * Token lifecycle against the real `oidc-provider`: refresh (manual, automatic, shared by
 * concurrent requests, `invalid_grant` ending the session, a network failure not ending it),
 * revocation at logout (after the end-session round trip; a hanging endpoint bounded by the
 * timeout), and "sign out everywhere".
 */
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogoutReason } from '../../src/index.js';
import { Agent } from '../support/agent.js';
import { type Stack, type StackOptions, startStack } from '../support/stack.js';

const ALICE = { login: 'alice', password: 'alice-password' };

/** A provider that issues refresh tokens, and an app that keeps them. */
function refreshing(overrides: StackOptions = {}): StackOptions {
  return {
    ...overrides,
    auth: { refresh: {}, exposeTokens: ['access', 'refresh'], allowRefreshTokenExposure: true, ...overrides.auth },
    provider: { scopes: ['openid', 'profile', 'offline_access'], authorizationParams: { prompt: 'consent' }, ...overrides.provider },
    client: { grant_types: ['authorization_code', 'refresh_token'], ...overrides.client },
  };
}

async function signIn(stack: Stack, agent = new Agent()) {
  await agent.loginAtProvider(`${stack.appUrl}/auth/login?returnTo=/api/me`, ALICE);
  return agent;
}

function countRefreshGrants(stack: Stack): { count: number } {
  const counter = { count: 0 };
  stack.provider.provider.on('grant.success', (ctx: unknown) => {
    if ((ctx as { oidc: { params: { grant_type?: string } } }).oidc.params.grant_type === 'refresh_token') counter.count++;
  });
  return counter;
}

/** Uses a refresh token directly at the provider's token endpoint, as another client would. */
async function tryRefreshToken(stack: Stack, refreshToken: string): Promise<number> {
  const response = await fetch(`${stack.provider.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('demo:demo-secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  return response.status;
}

async function csrf(stack: Stack, agent: Agent): Promise<string> {
  return ((await (await agent.fetch(`${stack.appUrl}/auth/csrf`)).json()) as { csrfToken: string }).csrfToken;
}

describe.each(['cookie', 'server'] as const)('refresh (%s mode)', (mode) => {
  let stack: Stack;
  const reasons: LogoutReason[] = [];
  beforeAll(async () => {
    stack = await startStack(refreshing({ auth: { session: { mode }, onLogout: (_s, reason) => void reasons.push(reason) } }));
  });
  afterAll(() => stack.close());

  it('when auth.refresh runs then new tokens come and sid and login time are kept', async () => {
    const agent = await signIn(stack);
    const cookie = agent.cookieHeader(stack.appUrl);
    const before = (await stack.auth.readSession(cookie)).session!;
    const result = await stack.auth.refresh(cookie);
    expect(result.session!.tokens.access).toEqual(expect.any(String));
    expect(result.session!.tokens.access).not.toBe(before.tokens.access);
    expect(result.session!.sid).toBe(before.sid);
    expect(result.session!.createdAt).toBe(before.createdAt);
    if (mode === 'cookie') expect(result.setCookies.some((c) => c.startsWith('oidc.tokens='))).toBe(true);
    else expect((await stack.auth.readSession(cookie)).session!.tokens.access).toBe(result.session!.tokens.access);
  });

  it('when many requests refresh at once then they share one refresh at the provider', async () => {
    const agent = await signIn(stack);
    const cookie = agent.cookieHeader(stack.appUrl);
    const grants = countRefreshGrants(stack);
    const results = await Promise.all(Array.from({ length: 6 }, () => stack.auth.refresh(cookie)));
    expect(grants.count).toBe(1);
    expect(new Set(results.map((r) => r.session!.tokens.access)).size).toBe(1);
  });

  it('when the provider refuses the refresh token (invalid_grant) then the session ends with reason refresh-failed', async () => {
    const agent = await signIn(stack);
    const cookie = agent.cookieHeader(stack.appUrl);
    const { refresh } = (await stack.auth.readSession(cookie)).session!.tokens;
    await fetch(`${stack.provider.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('demo:demo-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: refresh!, token_type_hint: 'refresh_token' }),
    });
    reasons.length = 0;
    const result = await stack.auth.refresh(cookie);
    expect(result.session).toBeNull();
    expect(reasons).toEqual(['refresh-failed']);
    expect((await stack.auth.readSession(cookie)).session).toBeNull();
  });
});

describe('automatic refresh', () => {
  it('when the access token is within the window then concurrent requests refresh it once', async () => {
    // The provider's access tokens live an hour: a two-hour window makes every request due.
    const stack = await startStack(refreshing({ auth: { refresh: { automatic: 7200 } } }));
    try {
      const grants = countRefreshGrants(stack);
      // The login lands on /api/me, whose request already refreshes (the token is due at once).
      const agent = await signIn(stack);
      const cookie = agent.cookieHeader(stack.appUrl);
      const responses = await Promise.all(Array.from({ length: 5 }, () => fetch(`${stack.appUrl}/api/me`, { headers: { cookie } })));
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      // One refresh for the landing request and the five after it: requests still carrying the
      // cookie from before share its result instead of spending the (possibly rotated) refresh token again.
      expect(grants.count).toBe(1);
      // Each response carries the refreshed cookies, so every tab gets them.
      for (const response of responses) expect(response.headers.getSetCookie().some((c) => c.startsWith('oidc.tokens='))).toBe(true);
    } finally {
      await stack.close();
    }
  });

  it('when the provider cannot be reached then the session is kept (a network failure is not a logout)', async () => {
    const stack = await startStack(refreshing());
    const agent = await signIn(stack);
    const cookie = agent.cookieHeader(stack.appUrl);
    await stack.provider.close();
    try {
      const result = await stack.auth.refresh(cookie);
      expect(result.session?.sub).toBe('alice');
      expect((await fetch(`${stack.appUrl}/api/me`, { headers: { cookie } })).status).toBe(200);
      expect(stack.logs.some((l) => /refresh failed .* session kept/.test(l.message))).toBe(true);
    } finally {
      await stack.close();
    }
  });
});

describe('revocation at logout', () => {
  const seen: string[] = [];
  let hang = false;
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(
      refreshing({
        auth: { revokeOnLogout: true, revocationTimeout: 1 },
        devProvider: {
          extraRoutes: (req: IncomingMessage) => {
            seen.push(new URL(req.url ?? '/', 'http://x').pathname);
            // A hanging revocation endpoint: the request is swallowed and never answered.
            return hang && req.url?.startsWith('/token/revocation') === true;
          },
        },
      }),
    );
  });
  afterAll(() => stack.close());

  it('when RP-initiated logout runs then the refresh token is revoked only after the provider ended its session', async () => {
    hang = false;
    const agent = await signIn(stack);
    const { refresh } = (await stack.auth.readSession(agent.cookieHeader(stack.appUrl))).session!.tokens;
    seen.length = 0;
    const logout = await agent.fetch(`${stack.appUrl}/auth/logout`, {
      method: 'POST',
      body: new URLSearchParams({ csrfToken: await csrf(stack, agent) }),
      headers: { origin: stack.appUrl },
    });
    expect(seen).not.toContain('/token/revocation'); // not before the end-session redirect
    await agent.confirmProviderLogout(logout.headers.get('location')!);
    const confirm = seen.indexOf('/session/end/confirm');
    const revocation = seen.indexOf('/token/revocation');
    expect(confirm).toBeGreaterThanOrEqual(0);
    expect(revocation).toBeGreaterThan(confirm);
    expect(await tryRefreshToken(stack, refresh!)).toBe(400);
  });

  it('when the revocation endpoint hangs then local logout still finishes, bounded by the timeout', async () => {
    hang = true;
    const agent = await signIn(stack);
    const started = Date.now();
    const response = await agent.fetch(`${stack.appUrl}/auth/logout`, {
      method: 'POST',
      body: new URLSearchParams({ csrfToken: await csrf(stack, agent), federated: 'false' }),
      headers: { origin: stack.appUrl },
    });
    expect(response.status).toBe(303);
    // A liveness bound, not a benchmark: the endpoint never answers, the 1 s timeout ends the wait.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(stack.logs.some((l) => /revocation at default timed out/.test(l.message))).toBe(true);
    expect((await agent.fetch(`${stack.appUrl}/api/me`)).status).toBe(401);
    hang = false;
  });
});

describe.each(['cookie', 'server'] as const)('sign out everywhere (%s mode)', (mode) => {
  it('when a user signs out with scope=all then their sessions on every device end, other users stay', async () => {
    const stack = await startStack({ auth: { session: { mode } } });
    try {
      const devices = [await signIn(stack), await signIn(stack), await signIn(stack)];
      const bob = new Agent();
      await bob.loginAtProvider(`${stack.appUrl}/auth/login`, { login: 'bob', password: 'bob-password' });
      const response = await devices[0]!.fetch(`${stack.appUrl}/auth/logout`, {
        method: 'POST',
        body: new URLSearchParams({ csrfToken: await csrf(stack, devices[0]!), scope: 'all', federated: 'false' }),
        headers: { origin: stack.appUrl },
      });
      expect(response.status).toBe(303);
      for (const device of devices) expect((await device.fetch(`${stack.appUrl}/api/me`)).status).toBe(401);
      expect((await bob.fetch(`${stack.appUrl}/api/me`)).status).toBe(200);
      // A login right after is a new session, not caught by the sign-out.
      const again = await signIn(stack, devices[1]!);
      expect((await again.fetch(`${stack.appUrl}/api/me`)).status).toBe(200);
    } finally {
      await stack.close();
    }
  });

  it('when scope=all comes with RP-initiated logout then the other devices end and the browser goes to the provider', async () => {
    const stack = await startStack({ auth: { session: { mode } } });
    try {
      const [here, other] = [await signIn(stack), await signIn(stack)];
      const response = await here.fetch(`${stack.appUrl}/auth/logout`, {
        method: 'POST',
        body: new URLSearchParams({ csrfToken: await csrf(stack, here), scope: 'all' }),
        headers: { origin: stack.appUrl },
      });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')!.startsWith(`${stack.provider.issuer}/session/end?`)).toBe(true);
      expect((await other.fetch(`${stack.appUrl}/api/me`)).status).toBe(401);
    } finally {
      await stack.close();
    }
  });

  it('when auth.endUserSessions runs then every session of that user ends', async () => {
    const stack = await startStack({ auth: { session: { mode } } });
    try {
      const devices = [await signIn(stack), await signIn(stack)];
      const ended = await stack.auth.endUserSessions({ provider: 'default', sub: 'alice' });
      expect(ended).toBe(mode === 'server' ? 2 : null);
      for (const device of devices) expect((await device.fetch(`${stack.appUrl}/api/me`)).status).toBe(401);
      await expect(stack.auth.endUserSessions({ provider: 'nope', sub: 'alice' })).rejects.toThrow(TypeError);
    } finally {
      await stack.close();
    }
  });
});
