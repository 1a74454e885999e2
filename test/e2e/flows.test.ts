/**
 * Login and logout end to end: the demo app, a real `oidc-provider`, and a browser-like agent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogoutLog } from '../../examples/demo/app.js';
import { Agent, parseForms } from '../support/agent.js';
import { type Stack, startStack } from '../support/stack.js';

const ALICE = { login: 'alice', password: 'alice-password' };

async function signIn(stack: Stack, returnTo = '/api/me', agent = new Agent()) {
  const result = await agent.loginAtProvider(`${stack.appUrl}/auth/login?returnTo=${encodeURIComponent(returnTo)}`, ALICE);
  return { agent, result };
}

async function me(stack: Stack, agent: Agent) {
  const response = await agent.fetch(`${stack.appUrl}/api/me`);
  return {
    status: response.status,
    body: (await response.json()) as { user: { sub: string; [k: string]: unknown } | null; tokens?: Record<string, unknown> },
  };
}

async function csrfToken(stack: Stack, agent: Agent): Promise<string> {
  const response = await agent.fetch(`${stack.appUrl}/auth/csrf`);
  return ((await response.json()) as { csrfToken: string }).csrfToken;
}

function postLogout(
  stack: Stack,
  agent: Agent,
  fields: Record<string, string>,
  headers: Record<string, string> = { origin: stack.appUrl },
) {
  return agent.fetch(`${stack.appUrl}/auth/logout`, { method: 'POST', body: new URLSearchParams(fields), headers });
}

describe('login', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('when a user signs in through the provider then /api/me shows the user and lands on returnTo', async () => {
    const { agent, result } = await signIn(stack, '/api/me?x=1');
    expect(result.sawLoginForm).toBe(true);
    expect(result.url.href).toBe(`${stack.appUrl}/api/me?x=1`);
    const { status, body } = await me(stack, agent);
    expect(status).toBe(200);
    expect(body.user).toMatchObject({ sub: 'alice', name: 'Alice Liddell', iss: stack.provider.issuer });
    expect(body.user).not.toHaveProperty('nonce');
    expect(body).toMatchObject({ provider: 'default', tokens: {} });
  });

  it('when the login starts then it uses PKCE S256, state and nonce, and a transaction cookie scoped to the auth routes', async () => {
    const agent = new Agent();
    const response = await agent.fetch(`${stack.appUrl}/auth/login`);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin).toBe(stack.provider.issuer);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('state')).toBeTruthy();
    expect(location.searchParams.get('nonce')).toBeTruthy();
    expect(location.searchParams.get('redirect_uri')).toBe(`${stack.appUrl}/auth/callback`);
    const [tx] = agent.allCookies();
    expect(tx).toMatchObject({ path: '/auth', httpOnly: true, sameSite: 'lax' });
    expect(tx!.name).toBe(`oidc.tx.${location.searchParams.get('state')}`);
  });

  it('when signed in then the session cookies are HttpOnly, SameSite=Lax, Path=/ and the transaction cookie is gone', async () => {
    const { agent } = await signIn(stack);
    const names = agent.allCookies().filter((c) => c.domain === '127.0.0.1' && c.name.startsWith('oidc.'));
    expect(names.map((c) => c.name).sort()).toEqual(['oidc.session', 'oidc.tokens']);
    for (const cookie of names) expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'lax', path: '/' });
  });

  it('when two login tabs run at once then both finish', async () => {
    const agent = new Agent();
    const a = (await agent.fetch(`${stack.appUrl}/auth/login?returnTo=/a`)).headers.get('location')!;
    const b = (await agent.fetch(`${stack.appUrl}/auth/login?returnTo=/b`)).headers.get('location')!;
    const first = await agent.loginAtProvider(b, ALICE);
    expect(first.url.pathname).toBe('/b');
    const second = await agent.loginAtProvider(a, ALICE);
    expect(second.sawLoginForm).toBe(false);
    expect(second.url.pathname).toBe('/a');
  });

  it('when returnTo points elsewhere then it is ignored and the user lands on /', async () => {
    for (const evil of [
      '//evil.example',
      'https://evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
      '/.//evil.example/x',
      '/a/..//evil.example',
      '/%2e%2e//evil.example',
    ]) {
      const { result } = await signIn(stack, evil);
      expect(result.url.href).toBe(`${stack.appUrl}/`);
    }
  });

  it('when a signed-in user replays the callback then they go on to the default page and keep the session', async () => {
    const { agent, result } = await signIn(stack, '/api/me');
    const callback = result.chain.find((u) => u.pathname === '/auth/callback')!;
    const replay = await agent.fetch(callback);
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toBe('/');
    expect((await me(stack, agent)).status).toBe(200);
  });

  it('when a signed-out browser replays a callback then it gets a 400 page saying to start again', async () => {
    const { result } = await signIn(stack);
    const callback = result.chain.find((u) => u.pathname === '/auth/callback')!;
    const response = await new Agent().fetch(callback);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Sign in again');
  });

  it('when the code was already used but the transaction cookie is back then it is a 400, not a 500', async () => {
    const agent = new Agent();
    const location = (await agent.fetch(`${stack.appUrl}/auth/login`)).headers.get('location')!;
    // The transaction cookie and the cookie binding the attempt to this browser, as they were before the login.
    const attempt = agent.allCookies().filter((c) => c.name.startsWith('oidc.tx.') || c.name === 'oidc.bind');
    expect(attempt.map((c) => c.name.split('.')[1])).toEqual(expect.arrayContaining(['tx', 'bind']));
    const cookie = attempt.map((c) => `${c.name}=${c.value}`).join('; ');
    // First the normal login, then the same callback with the old cookies put back.
    const done = await agent.loginAtProvider(location, ALICE);
    const callback = done.chain.find((u) => u.pathname === '/auth/callback')!;
    const logged = stack.logs.length;
    const replay = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
    expect(replay.status).toBe(400);
    // Only this request's lines: the token endpoint refused the used code.
    const refusals = stack.logs.slice(logged).filter((l) => l.level === 'warn' && l.message.startsWith('login refused'));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.message).toMatch(/token endpoint.*invalid_grant/);
  });

  it('when the callback has no state or garbage then it is a 400 page, never a 500', async () => {
    for (const query of ['', '?state=', '?code=x&state=%00%01', `?state=${'a'.repeat(5000)}`, '?iss=x&code=y&state=z']) {
      const response = await fetch(`${stack.appUrl}/auth/callback${query}`, { redirect: 'manual' });
      expect(response.status).toBe(400);
    }
  });

  it('when the provider answers with an error then the page shows it, escaped', async () => {
    const agent = new Agent();
    const location = new URL((await agent.fetch(`${stack.appUrl}/auth/login`)).headers.get('location')!);
    const state = location.searchParams.get('state')!;
    const response = await agent.fetch(
      `${stack.appUrl}/auth/callback?state=${state}&iss=${encodeURIComponent(stack.provider.issuer)}&error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}`,
    );
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('access_denied');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toContain('<script>');
  });

  it('when an unknown provider is asked for then it is a 400 page', async () => {
    const response = await fetch(`${stack.appUrl}/auth/login?provider=nope`, { redirect: 'manual' });
    expect(response.status).toBe(400);
  });
});

describe('session cookies', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ auth: { exposeTokens: ['id'], session: { idleDuration: 600, absoluteDuration: 3600 } } });
  });
  afterAll(() => stack.close());
  afterEach(() => vi.useRealTimers());

  it('when tokens are exposed then only the allowlisted ones are visible', async () => {
    const { agent } = await signIn(stack);
    const { body } = await me(stack, agent);
    expect(Object.keys(body.tokens!)).toEqual(['id']);
    expect(String(body.tokens!.id).split('.')).toHaveLength(3);
  });

  it('when a session cookie is tampered, truncated, foreign or garbage then the request is signed out, never a 500', async () => {
    const { agent } = await signIn(stack);
    const session = agent.cookies(stack.appUrl)['oidc.session']!;
    const foreign = stack.rebuild({ auth: { secret: 'another-secret-another-secret-another-secret' } });
    const { agent: other } = await signIn(stack);
    const foreignCookie = other.cookies(stack.appUrl)['oidc.session']!;
    stack.rebuild({ auth: { exposeTokens: ['id'], session: { idleDuration: 600, absoluteDuration: 3600 } } });
    // The foreign cookie is a real session, only sealed with another secret.
    const foreignHeader = Object.entries(other.cookies(stack.appUrl))
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    expect((await foreign.readSession(foreignHeader)).session).not.toBeNull();
    expect((await stack.auth.readSession(foreignHeader)).session).toBeNull();
    // One character always changed: replacing it with a fixed one would leave it as it was 1 time in 64.
    const tampered = `${session.slice(0, 40)}${session[40] === 'x' ? 'y' : 'x'}${session.slice(41)}`;
    expect(tampered).not.toBe(session);
    const variants = [tampered, session.slice(0, -5), foreignCookie, 'garbage', '', '%%%', `${session}.${session}`];
    for (const value of variants) {
      const response = await fetch(`${stack.appUrl}/api/me`, { headers: { cookie: `oidc.session=${value}` } });
      expect(response.status).toBe(401);
    }
    expect((await me(stack, agent)).status).toBe(200);
  });

  it("when the tokens cookie of another login is paired with a session then only the session's own ID token is exposed", async () => {
    const { agent: a } = await signIn(stack);
    const { agent: b } = await signIn(stack);
    const own = (await (await a.fetch(`${stack.appUrl}/api/me`)).json()) as { tokens: { id?: string } };
    expect(own.tokens.id).toEqual(expect.any(String));
    const cookie = `oidc.session=${a.cookies(stack.appUrl)['oidc.session']}; oidc.tokens=${b.cookies(stack.appUrl)['oidc.tokens']}`;
    const response = await fetch(`${stack.appUrl}/api/me`, { headers: { cookie } });
    // The ID token lives with the session's claims; the access token of b's login is not a's.
    expect(((await response.json()) as { tokens: object }).tokens).toEqual({ id: own.tokens.id });
  });

  it('when the idle time passes without a request then the session ends and its cookies are deleted', async () => {
    const { agent } = await signIn(stack);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 601_000 });
    const response = await agent.fetch(`${stack.appUrl}/api/me`);
    expect(response.status).toBe(401);
    expect(response.headers.getSetCookie().some((c) => c.startsWith('oidc.session=;') && c.includes('Max-Age=0'))).toBe(true);
  });

  it('when requests keep coming within the idle window then the cookie rolls and the session lives on', async () => {
    const { agent } = await signIn(stack);
    const start = Date.now();
    for (const minutes of [8, 16, 24]) {
      vi.useFakeTimers({ toFake: ['Date'], now: start + minutes * 60_000 });
      expect((await me(stack, agent)).status).toBe(200);
    }
  });

  it('when the absolute lifetime passes then the session ends even if active', async () => {
    const { agent } = await signIn(stack);
    const start = Date.now();
    for (let minutes = 9; minutes < 60; minutes += 9) {
      vi.useFakeTimers({ toFake: ['Date'], now: start + minutes * 60_000 });
      expect((await me(stack, agent)).status).toBe(200);
    }
    vi.useFakeTimers({ toFake: ['Date'], now: start + 3601_000 });
    expect((await me(stack, agent)).status).toBe(401);
  });

  // Node's http server and fetch refuse request/response headers over 16 KiB by default, and the
  // ID token in the tokens cookie carries the claims again: 3,500 bytes already needs chunks.
  it('when claims are large then the session cookie is chunked and still reads back', async () => {
    const big = await startStack({ devProvider: { extraClaims: { alice: { bio: 'b'.repeat(3500) } } } });
    try {
      const { agent } = await signIn(big);
      const chunks = Object.keys(agent.cookies(big.appUrl)).filter((n) => n.startsWith('oidc.session.'));
      expect(chunks.length).toBeGreaterThanOrEqual(2);
      const { status, body } = await me(big, agent);
      expect(status).toBe(200);
      expect(body.user!.bio).toBe('b'.repeat(3500));
    } finally {
      await big.close();
    }
  });
});

describe('logout', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('when our own page posts with Origin: null (Referrer-Policy no-referrer in Chromium) then same-origin is still accepted', async () => {
    const { agent } = await signIn(stack);
    const response = await postLogout(
      stack,
      agent,
      { csrfToken: await csrfToken(stack, agent), federated: 'false' },
      { origin: 'null', 'sec-fetch-site': 'same-origin' },
    );
    expect(response.status).toBe(303);
  });

  it('when GET /auth/logout then it shows a form and signs nobody out', async () => {
    const { agent } = await signIn(stack);
    const response = await agent.fetch(`${stack.appUrl}/auth/logout`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/<form method="post" action="\/auth\/logout"/);
    expect((await me(stack, agent)).status).toBe(200);
  });

  it('when RP-initiated logout runs then the provider session really ends and the state round trip returns to returnTo', async () => {
    const { agent } = await signIn(stack);
    const response = await postLogout(stack, agent, { csrfToken: await csrfToken(stack, agent), returnTo: '/goodbye' });
    expect(response.status).toBe(303);
    const endSession = new URL(response.headers.get('location')!);
    expect(`${endSession.origin}${endSession.pathname}`).toBe(`${stack.provider.issuer}/session/end`);
    expect(endSession.searchParams.get('client_id')).toBe('demo');
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.appUrl}/auth/logout/callback`);
    expect(endSession.searchParams.get('id_token_hint')!.split('.')).toHaveLength(3);
    const state = endSession.searchParams.get('state')!;
    expect(state).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    // The local session is gone before the provider is even asked.
    expect((await me(stack, agent)).status).toBe(401);

    const back = await agent.confirmProviderLogout(endSession);
    const callback = back.chain.find((u) => u.pathname === '/auth/logout/callback')!;
    expect(callback.searchParams.get('state')).toBe(state);
    expect(back.url.pathname).toBe('/goodbye');

    const again = await signIn(stack, '/api/me', agent);
    expect(again.result.sawLoginForm).toBe(true);
  });

  it('when local logout runs then the app is signed out but the provider is not', async () => {
    const { agent } = await signIn(stack);
    const response = await postLogout(stack, agent, { csrfToken: await csrfToken(stack, agent), federated: 'false' });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!, stack.appUrl);
    expect(location.pathname).toBe('/auth/logout/callback');
    expect(
      response.headers
        .getSetCookie()
        .filter((c) => c.includes('Max-Age=0'))
        .map((c) => c.split('=')[0]),
    ).toEqual(['oidc.session', 'oidc.tokens']);
    expect((await me(stack, agent)).status).toBe(401);
    const again = await signIn(stack, '/api/me', agent);
    expect(again.result.sawLoginForm).toBe(false);
  });

  it('when the post-logout callback has a wrong or missing state then it shows a neutral page and follows no returnTo', async () => {
    for (const tamper of [(state: string) => `${state}x`, () => 'tampered', () => null]) {
      // A fresh logout each time, so the state cookie is really there and only the state is wrong.
      const { agent } = await signIn(stack);
      const response = await postLogout(stack, agent, { csrfToken: await csrfToken(stack, agent), returnTo: '/next' });
      const endSession = new URL(response.headers.get('location')!);
      expect(agent.allCookies().some((c) => c.name === 'oidc.logout')).toBe(true);
      const state = tamper(endSession.searchParams.get('state')!);
      const page = await agent.fetch(`${stack.appUrl}/auth/logout/callback${state === null ? '' : `?state=${state}`}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('location')).toBeNull();
      expect(await page.text()).toContain('You are signed out');
    }
  });

  it('when the CSRF token is missing or wrong then logout is refused with 403 and the session stays', async () => {
    const { agent } = await signIn(stack);
    expect((await postLogout(stack, agent, {})).status).toBe(403);
    expect((await postLogout(stack, agent, { csrfToken: 'x'.repeat(43) })).status).toBe(403);
    const { agent: other } = await signIn(stack);
    expect((await postLogout(stack, agent, { csrfToken: await csrfToken(stack, other) })).status).toBe(403);
    expect((await me(stack, agent)).status).toBe(200);
  });

  it('when logout comes from another origin then it is refused even with a valid token', async () => {
    const { agent } = await signIn(stack);
    const token = await csrfToken(stack, agent);
    expect((await postLogout(stack, agent, { csrfToken: token }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await postLogout(stack, agent, { csrfToken: token }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // An opaque origin (sandboxed frame, data: URL) sends Origin: null and is cross-site.
    expect((await postLogout(stack, agent, { csrfToken: token }, { origin: 'null', 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await postLogout(stack, agent, { csrfToken: token }, { origin: 'null' })).status).toBe(403);
    expect((await me(stack, agent)).status).toBe(200);
  });

  it('when the logout body is not a form or is oversized then it is refused, not a 500', async () => {
    const { agent } = await signIn(stack);
    const json = await agent.fetch(`${stack.appUrl}/auth/logout`, {
      method: 'POST',
      body: JSON.stringify({ csrfToken: await csrfToken(stack, agent) }),
      headers: { 'content-type': 'application/json', origin: stack.appUrl },
    });
    expect(json.status).toBe(403);
    const huge = await postLogout(stack, agent, { csrfToken: 'x', pad: 'p'.repeat(20_000) });
    expect(huge.status).toBe(413);
    expect((await me(stack, agent)).status).toBe(200);
  });

  it('when the provider cannot be reached at logout then the local session is still cleared and the user is told', async () => {
    const down = await startStack();
    const { agent } = await signIn(down);
    const token = await csrfToken(down, agent);
    await down.provider.close();
    down.rebuild(); // a fresh instance: no cached discovery
    const response = await postLogout(down, agent, { csrfToken: token });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('could not be reached');
    expect((await me(down, agent)).status).toBe(401);
    await down.close().catch(() => undefined);
  });
});

describe('a provider without end_session_endpoint', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ devProvider: { endSession: false } });
  });
  afterAll(() => stack.close());

  it('when the user signs out then it is a local logout to the post-logout page', async () => {
    const { agent } = await signIn(stack);
    const response = await postLogout(stack, agent, { csrfToken: await csrfToken(stack, agent), returnTo: '/bye' });
    expect(response.status).toBe(303);
    const next = await agent.follow(new URL(response.headers.get('location')!, stack.appUrl));
    expect(next.url.pathname).toBe('/bye');
    expect((await me(stack, agent)).status).toBe(401);
  });
});

describe('userinfo', () => {
  it('when fetchUserInfo is on then userinfo claims are merged into the user', async () => {
    const stack = await startStack({ provider: { fetchUserInfo: true, scopes: ['openid', 'email'] } });
    try {
      const { agent } = await signIn(stack);
      const { body } = await me(stack, agent);
      expect(body.user).toMatchObject({ sub: 'alice', email: 'alice@example.test' });
    } finally {
      await stack.close();
    }
  });
});

describe('hooks and logs', () => {
  it('when users sign in and out then onLogin and onLogout see the session and the reason', async () => {
    const events: string[] = [];
    const stack = await startStack({
      auth: {
        onLogin: (session) => void events.push(`login ${session.sub} ${session.provider}`),
        onLogout: (session, reason) => void events.push(`logout ${session.sub} ${reason}`),
      },
    });
    try {
      const { agent } = await signIn(stack);
      await postLogout(stack, agent, { csrfToken: await csrfToken(stack, agent), federated: 'false' });
      const again = await signIn(stack, '/', agent);
      expect(again.result.url.pathname).toBe('/');
      await postLogout(stack, agent, { csrfToken: await csrfToken(stack, agent) });
      expect(events).toEqual(['login alice default', 'logout alice local', 'login alice default', 'logout alice rp-initiated']);
    } finally {
      await stack.close();
    }
  });

  it('when a hook throws then login still works and the error is logged', async () => {
    const stack = await startStack({
      auth: {
        onLogin: () => {
          throw new Error('hook broke');
        },
      },
    });
    try {
      const { agent } = await signIn(stack);
      expect((await me(stack, agent)).status).toBe(200);
      expect(stack.logs).toContainEqual({ level: 'error', message: expect.stringContaining('onLogin hook threw') });
    } finally {
      await stack.close();
    }
  });

  it('when logins and logouts are refused then each says why in one line without a token or secret', async () => {
    const stack = await startStack();
    try {
      const { agent, result } = await signIn(stack);
      await new Agent().fetch(result.chain.find((u) => u.pathname === '/auth/callback')!);
      await postLogout(stack, agent, { csrfToken: 'wrong' });
      const messages = stack.logs.map((l) => l.message);
      expect(messages).toContainEqual(expect.stringMatching(/^login refused: /));
      expect(messages).toContainEqual(expect.stringMatching(/^logout refused: wrong CSRF token/));
      const session = agent.cookies(stack.appUrl)['oidc.session']!;
      for (const line of stack.logs) {
        expect(line.message).not.toContain('\n');
        expect(line.message).not.toContain(session.slice(0, 30));
        expect(line.message).not.toContain('demo-secret');
        expect(line.message).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
      }
    } finally {
      await stack.close();
    }
  });
});

describe.each(['cookie', 'server'] as const)('the demo page (%s mode)', (mode) => {
  const events = createLogoutLog();
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ auth: { session: { mode }, ...events.hooks } });
  });
  afterAll(() => stack.close());

  it('when a person presses Sign out everywhere then the events panel logs their session as Everywhere, not as RP-initiated', async () => {
    const { agent } = await signIn(stack, '/');
    const { agent: otherDevice } = await signIn(stack, '/');
    const before = events.entries().length;
    const home = await agent.fetch(`${stack.appUrl}/`);
    const form = parseForms(await home.text(), `${stack.appUrl}/`).find((f) =>
      f.fields.some((x) => x.name === 'scope' && x.value === 'all'),
    )!;
    // To the provider's "Sign out?" page: the app's part is done by then.
    const done = await agent.submitForm(`${stack.appUrl}/`, form, {}, { stopAt: (url) => url.origin === stack.provider.issuer });
    expect(done.url.pathname).toBe('/session/end');
    expect((await me(stack, otherDevice)).status).toBe(401);
    const added = events
      .entries()
      .slice(0, events.entries().length - before)
      .reverse();
    expect(added.map((entry) => [entry.kind, entry.source])).toEqual([
      ['everywhere', 'session'],
      ['everywhere', 'session'],
    ]);
    expect(added[0]!.what).toMatch(/ended here: the user signed out everywhere; .* then the browser went to the provider\.$/);
    expect(added[1]!.what).toMatch(/signed out everywhere from another device/);
  });

  it('when a browser asks for /favicon.ico then it gets an empty answer to cache, not a 404', async () => {
    const response = await fetch(`${stack.appUrl}/favicon.ico`);
    expect(response.status).toBe(204);
    expect(response.headers.get('cache-control')).toBe('public, max-age=86400');
  });
});
