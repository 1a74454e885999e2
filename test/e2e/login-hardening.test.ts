/**
 * What the callback refuses (RFC 9207 iss, pinned alg, nonce), client authentication
 * variants, secret rotation, token exposure, size limits and revocation of copied cookies —
 * all against the real `oidc-provider`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogoutReason } from '../../src/index.js';
import { Agent, parseForms } from '../support/agent.js';
import { SECRET, type Stack, startStack } from '../support/stack.js';

const ALICE = { login: 'alice', password: 'alice-password' };

async function signIn(stack: Stack, agent = new Agent()) {
  const result = await agent.loginAtProvider(`${stack.appUrl}/auth/login?returnTo=/api/me`, ALICE);
  return { agent, result };
}

async function me(stack: Stack, agent: Agent | string) {
  const response =
    typeof agent === 'string'
      ? await fetch(`${stack.appUrl}/api/me`, { headers: { cookie: agent } })
      : await agent.fetch(`${stack.appUrl}/api/me`);
  return {
    status: response.status,
    body: (await response.json()) as { user: Record<string, unknown> | null; tokens?: Record<string, unknown> },
  };
}

describe('the callback refuses what it must', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  async function pendingCallback(agent: Agent, authorize?: (url: URL) => void): Promise<URL> {
    const location = new URL((await agent.fetch(`${stack.appUrl}/auth/login`)).headers.get('location')!);
    authorize?.(location);
    const result = await agent.follow(location);
    const page = await result.response.text();
    expect(page).toContain('password');
    // Sign in at the provider but stop before the browser returns to the app.
    const form = parseForms(page, result.url).find((f) => f.fields.some((x) => x.type === 'password'))!;
    const done = await agent.submitForm(
      result.url,
      form,
      { login: ALICE.login, password: ALICE.password },
      { stopAt: (u) => u.pathname === '/auth/callback' },
    );
    if (done.url.pathname === '/auth/callback') return done.url;
    const consent = parseForms(await done.response.text(), done.url)[0]!;
    const back = await agent.submitForm(done.url, consent, {}, { stopAt: (u) => u.pathname === '/auth/callback' });
    return back.url;
  }

  it('when the iss parameter is altered or removed then the login is refused (RFC 9207)', async () => {
    for (const change of ['alter', 'remove'] as const) {
      const agent = new Agent();
      const url = await pendingCallback(agent);
      expect(url.searchParams.get('iss')).toBe(stack.provider.issuer);
      if (change === 'alter') url.searchParams.set('iss', `${stack.provider.issuer}/`);
      else url.searchParams.delete('iss');
      const response = await agent.fetch(url);
      expect(response.status).toBe(400);
      expect((await me(stack, agent)).status).toBe(401);
    }
    expect(stack.logs.some((l) => /RFC 9207/.test(l.message))).toBe(true);
  });

  it('when an error response carries a wrong iss then it is refused before its message is shown', async () => {
    const agent = new Agent();
    const state = new URL((await agent.fetch(`${stack.appUrl}/auth/login`)).headers.get('location')!).searchParams.get('state')!;
    const response = await agent.fetch(
      `${stack.appUrl}/auth/callback?state=${state}&iss=https%3A%2F%2Fevil.example&error=access_denied&error_description=spoofed`,
    );
    expect(response.status).toBe(400);
    expect(await response.text()).not.toContain('spoofed');
  });

  it('when the ID token nonce is not the one we sent then the login is refused', async () => {
    const agent = new Agent();
    const url = await pendingCallback(agent, (authorize) => authorize.searchParams.set('nonce', 'not-ours'));
    const response = await agent.fetch(url);
    expect(response.status).toBe(400);
    expect((await me(stack, agent)).status).toBe(401);
    expect(stack.logs.some((l) => /nonce/.test(l.message))).toBe(true);
  });

  it('when login is started again and again then only the newest attempts keep a cookie', async () => {
    const agent = new Agent();
    const states: string[] = [];
    for (let i = 0; i < 8; i++) {
      const location = (await agent.fetch(`${stack.appUrl}/auth/login?returnTo=/${'x'.repeat(900)}`)).headers.get('location')!;
      states.push(new URL(location).searchParams.get('state')!);
    }
    const attempts = agent.allCookies().filter((c) => c.name.startsWith('oidc.tx.'));
    // Four are kept, the newest among them (an upper bound alone would pass with none). Expiry has
    // whole seconds, so which older ones stay within one second is not fixed.
    const kept = attempts.map((c) => c.name);
    expect(kept).toHaveLength(4);
    expect(kept).toContain(`oidc.tx.${states.at(-1)}`);
    expect(states.map((state) => `oidc.tx.${state}`)).toEqual(expect.arrayContaining(kept));
    for (const cookie of attempts) expect(cookie.name.length + cookie.value.length).toBeLessThan(4096);
    const { result } = await signIn(stack, agent);
    expect(result.url.pathname).toBe('/api/me');
  });
});

describe('the ID token alg is pinned', () => {
  it('when the provider signs with another alg than configured then the login is refused', async () => {
    const stack = await startStack({ provider: { idTokenSignedResponseAlg: 'ES256' } });
    try {
      const { agent, result } = await signIn(stack);
      expect(result.response.status).toBe(400);
      expect((await me(stack, agent)).status).toBe(401);
    } finally {
      await stack.close();
    }
  });

  it('when both sides agree on ES256 then the login works', async () => {
    const stack = await startStack({ provider: { idTokenSignedResponseAlg: 'ES256' }, client: { id_token_signed_response_alg: 'ES256' } });
    try {
      const { agent } = await signIn(stack);
      expect((await me(stack, agent)).status).toBe(200);
    } finally {
      await stack.close();
    }
  });
});

describe('client authentication', () => {
  for (const method of ['client_secret_post', 'none'] as const) {
    it(`when the client uses ${method} then the code exchange works`, async () => {
      const stack = await startStack({
        provider: method === 'none' ? { clientSecret: undefined, tokenEndpointAuthMethod: 'none' } : { tokenEndpointAuthMethod: method },
        client:
          method === 'none' ? { token_endpoint_auth_method: 'none', client_secret: undefined } : { token_endpoint_auth_method: method },
      });
      try {
        const { agent } = await signIn(stack);
        expect((await me(stack, agent)).body.user).toMatchObject({ sub: 'alice' });
      } finally {
        await stack.close();
      }
    });
  }
});

describe('sessions across configuration changes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ auth: { exposeTokens: ['id', 'access'] } });
  });
  afterAll(() => stack.close());

  it('when access is exposed then the access token and its expiry are visible, and no refresh token', async () => {
    const { agent } = await signIn(stack);
    const { body } = await me(stack, agent);
    expect(Object.keys(body.tokens!).sort()).toEqual(['access', 'accessExpiresAt', 'id']);
    expect(body.tokens!.accessExpiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it('when the secret rotates then old cookies still read; once the old secret is dropped they do not', async () => {
    const { agent } = await signIn(stack);
    stack.rebuild({ auth: { exposeTokens: ['id', 'access'], secret: ['a-brand-new-secret-a-brand-new-secret-0001', SECRET] } });
    expect((await me(stack, agent)).status).toBe(200);
    stack.rebuild({ auth: { exposeTokens: ['id', 'access'], secret: 'a-brand-new-secret-a-brand-new-secret-0001' } });
    expect((await me(stack, agent)).status).toBe(401);
    stack.rebuild({ auth: { exposeTokens: ['id', 'access'] } });
  });
});

describe('refresh token exposure', () => {
  it('when refresh is exposed with its second opt-in then the provider-issued refresh token is visible', async () => {
    const stack = await startStack({
      auth: { exposeTokens: ['refresh'], allowRefreshTokenExposure: true },
      provider: { scopes: ['openid', 'offline_access'], authorizationParams: { prompt: 'consent' } },
      client: { grant_types: ['authorization_code', 'refresh_token'] },
    });
    try {
      const { agent } = await signIn(stack);
      const { body } = await me(stack, agent);
      expect(Object.keys(body.tokens!)).toEqual(['refresh']);
      expect(body.tokens!.refresh).toEqual(expect.any(String));
    } finally {
      await stack.close();
    }
  });
});

describe('size limits and revocation', () => {
  it('when claims are 10 KB then cookie mode refuses the login with a clear page instead of locking the user out', async () => {
    const stack = await startStack({ devProvider: { extraClaims: { alice: { bio: 'b'.repeat(10_000) } } } });
    try {
      const { agent, result } = await signIn(stack);
      expect(result.response.status).toBe(400);
      expect(await result.response.text()).toContain('more information than this app can keep');
      expect(stack.logs.some((l) => l.level === 'error' && /session\.mode "server"/.test(l.message))).toBe(true);
      // The browser is not locked out: the app still answers.
      expect((await me(stack, agent)).status).toBe(401);
    } finally {
      await stack.close();
    }
  });

  it('when claims are 10 KB then server mode keeps them server-side and the cookie stays tiny', async () => {
    const stack = await startStack({
      auth: { session: { mode: 'server' } },
      devProvider: { extraClaims: { alice: { bio: 'b'.repeat(10_000) } } },
    });
    try {
      const { agent } = await signIn(stack);
      const { status, body } = await me(stack, agent);
      expect(status).toBe(200);
      expect(body.user!.bio).toBe('b'.repeat(10_000));
      expect(agent.cookieHeader(stack.appUrl).length).toBeLessThan(200);
    } finally {
      await stack.close();
    }
  });

  it('when a session was signed out then a copy of its cookie taken before is refused too (cookie mode)', async () => {
    const reasons: LogoutReason[] = [];
    const stack = await startStack({ auth: { onLogout: (_s, reason) => void reasons.push(reason) } });
    try {
      const { agent } = await signIn(stack);
      const copy = agent.cookieHeader(stack.appUrl);
      const csrf = ((await (await agent.fetch(`${stack.appUrl}/auth/csrf`)).json()) as { csrfToken: string }).csrfToken;
      await agent.fetch(`${stack.appUrl}/auth/logout`, {
        method: 'POST',
        body: new URLSearchParams({ csrfToken: csrf, federated: 'false' }),
        headers: { origin: stack.appUrl },
      });
      expect((await me(stack, copy)).status).toBe(401);
      expect(reasons).toEqual(['local']);
    } finally {
      await stack.close();
    }
  });

  it('when a session expires then onLogout hears "expired" once the dead cookie is seen', async () => {
    const reasons: LogoutReason[] = [];
    const stack = await startStack({
      auth: { session: { absoluteDuration: 60, idleDuration: 0 }, onLogout: (_s, reason) => void reasons.push(reason) },
    });
    try {
      const { agent } = await signIn(stack);
      // The browser would drop the cookie at its Max-Age; a client that keeps sending it is the case here.
      const cookie = agent.cookieHeader(stack.appUrl);
      const realNow = Date.now;
      Date.now = () => realNow() + 61_000;
      try {
        expect((await me(stack, cookie)).status).toBe(401);
      } finally {
        Date.now = realNow;
      }
      expect(reasons).toEqual(['expired']);
    } finally {
      await stack.close();
    }
  });
});
