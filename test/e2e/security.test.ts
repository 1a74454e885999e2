/**
 * Attacks found from outside, each reproduced against the real stack (the demo app, the real
 * `oidc-provider`) before its fix: store flooding by strangers, forged server ids, front-channel
 * logout as an opt-in, login CSRF by cookie tossing, leaking back-channel errors, logout during
 * a store outage, early revocation, hook spam, non-canonical encodings, future `iat`, and
 * claims stored twice in cookie mode.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LogoutReason, Session, Store } from '../../src/index.js';
import { type MemoryStore, memoryStore } from '../../src/stores/memory.js';
import { Agent, parseForms } from '../support/agent.js';
import { isSignedIn, mintSession } from '../support/sessions.js';
import { SECRET, type Stack, startStack } from '../support/stack.js';
import { TokenIssuer } from '../support/token-issuer.js';

const ALICE = { login: 'alice', password: 'alice-password' };

async function signIn(stack: Stack, agent = new Agent()) {
  await agent.loginAtProvider(`${stack.appUrl}/auth/login?returnTo=/api/me`, ALICE);
  return agent;
}

async function me(stack: Stack, cookie: Agent | string): Promise<number> {
  const response =
    typeof cookie === 'string'
      ? await fetch(`${stack.appUrl}/api/me`, { headers: { cookie } })
      : await cookie.fetch(`${stack.appUrl}/api/me`);
  return response.status;
}

async function csrf(stack: Stack, agent: Agent): Promise<string> {
  return ((await (await agent.fetch(`${stack.appUrl}/auth/csrf`)).json()) as { csrfToken: string }).csrfToken;
}

function frontchannelUrl(stack: Stack, query: Record<string, string>): string {
  return `${stack.appUrl}/auth/frontchannel-logout/default?${new URLSearchParams(query)}`;
}

/** A store that can be switched off, as a Redis or PostgreSQL outage would. */
function switchableStore(inner: Store): Store & { down: boolean } {
  const wrapper = { down: false } as Store & { down: boolean };
  for (const method of ['getMany', 'set', 'setIfAbsent', 'delete', 'addToSet', 'setMembers', 'removeFromSet'] as const) {
    (wrapper as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      if (wrapper.down) return Promise.reject(new Error('connection refused'));
      return (inner[method] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    };
  }
  return wrapper;
}

/** The same base64url text with the spare low bits of its last character changed: the same bytes, another spelling. */
function respell(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const spare = segment.length % 4 === 2 ? 4 : segment.length % 4 === 3 ? 2 : 0;
  if (spare === 0) throw new Error('this segment has no spare bits');
  const last = alphabet.indexOf(segment.at(-1)!);
  return segment.slice(0, -1) + alphabet[last ^ 1]!;
}

describe('front-channel logout is an opt-in, bounded per provider', () => {
  let stack: Stack;
  let store: MemoryStore;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('when front-channel logout is not enabled for the provider then its route does not exist and nothing is written', async () => {
    store = memoryStore();
    stack.rebuild({ auth: { store } });
    const agent = await signIn(stack);
    const sid = ((await (await agent.fetch(`${stack.appUrl}/api/me`)).json()) as { user: { sid: string } }).user.sid;
    const before = store.size();
    for (const s of [sid, 'x'.repeat(8000)]) {
      const response = await fetch(frontchannelUrl(stack, { iss: stack.provider.issuer, sid: s }));
      expect(response.status).toBe(404);
    }
    expect(store.size()).toBe(before);
    expect(await me(stack, agent)).toBe(200);
  });

  it('when a sid is longer than 255 bytes then it is refused without a write', async () => {
    store = memoryStore();
    stack.rebuild({ auth: { store }, provider: { frontChannelLogout: true } });
    const response = await fetch(frontchannelUrl(stack, { iss: stack.provider.issuer, sid: 'é'.repeat(128) }));
    expect(response.status).toBe(400);
    expect(store.size()).toBe(0);
    expect((await fetch(frontchannelUrl(stack, { iss: stack.provider.issuer, sid: 'x'.repeat(255) }))).status).toBe(200);
    expect(store.size()).toBe(1);
  });

  it('when strangers send more front-channel logouts than the budget then the rest are refused with 503 and not written', async () => {
    store = memoryStore();
    stack.rebuild({ auth: { store }, provider: { frontChannelLogout: true, frontchannel: { maxLogoutsPerMinute: 5 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await fetch(frontchannelUrl(stack, { iss: stack.provider.issuer, sid: `random-${i}` }))).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 503)).toHaveLength(7);
    expect(store.size()).toBe(5);
    expect(stack.logs.filter((l) => /front-channel logout budget/.test(l.message))).toHaveLength(1);
  });
});

describe('a full store never costs a genuine back-channel logout', () => {
  let issuer: TokenIssuer;
  let stack: Stack;
  beforeAll(async () => {
    issuer = await TokenIssuer.start();
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
    await issuer.close();
  });

  it('when the memory store is full of other entries then a signed logout token still ends the session', async () => {
    const store = memoryStore({ maxEntries: 50 });
    const auth = stack.rebuild({ auth: { store }, provider: { issuer: issuer.issuer, clientId: 'demo' } });
    const cookie = await mintSession(auth, SECRET, { sid: 'genuine' });
    for (let i = 0; store.size() < 50; i++) await store.set(`filler:${i}`, 'x', 3600);
    await expect(store.set('one-more', 'x', 3600)).rejects.toThrow(/full/);
    const response = await fetch(`${stack.appUrl}/auth/backchannel-logout/default`, {
      method: 'POST',
      body: new URLSearchParams({ logout_token: await issuer.logoutToken('demo', { sid: 'genuine' }) }),
    });
    expect(response.status).toBe(200);
    expect(await isSignedIn(auth, cookie)).toBe(false);
  });
});

describe('back-channel budgets, sizes and errors', () => {
  let issuer: TokenIssuer;
  let stack: Stack;
  beforeAll(async () => {
    issuer = await TokenIssuer.start();
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
    await issuer.close();
  });

  const post = async (token: string) =>
    fetch(`${stack.appUrl}/auth/backchannel-logout/default`, { method: 'POST', body: new URLSearchParams({ logout_token: token }) });

  it('when the provider cannot be reached then the caller gets a generic description and the log gets the detail', async () => {
    stack.rebuild({ provider: { issuer: 'http://127.0.0.1:1', clientId: 'demo' } });
    const header = btoa(JSON.stringify({ alg: 'RS256', typ: 'logout+jwt' })).replace(/=+$/, '');
    const payload = btoa(JSON.stringify({ iss: 'http://127.0.0.1:1', aud: 'demo' })).replace(/=+$/, '');
    const response = await post(`${header}.${payload}.c2ln`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error_description).not.toMatch(/127\.0\.0\.1|fetch failed|DISCOVERY_FAILED|bad port/);
    expect(stack.logs.some((l) => /DISCOVERY_FAILED/.test(l.message))).toBe(true);
  });

  it('when sid or sub is longer than 255 bytes then the token is refused without a write', async () => {
    const store = memoryStore();
    stack.rebuild({ auth: { store }, provider: { issuer: issuer.issuer, clientId: 'demo' } });
    for (const claims of [{ sid: 's'.repeat(256) }, { sid: undefined, sub: 'u'.repeat(256) }]) {
      const response = await post(await issuer.logoutToken('demo', claims));
      expect(response.status).toBe(400);
    }
    expect(store.size()).toBe(0);
  });

  it('when signed logouts exceed the per-minute budget then the rest are refused and not written', async () => {
    const store = memoryStore();
    stack.rebuild({ auth: { store }, provider: { issuer: issuer.issuer, clientId: 'demo', backchannel: { maxLogoutsPerMinute: 3 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(await issuer.logoutToken('demo', { sid: `s-${i}` }))).status);
    expect(statuses).toEqual([200, 200, 200, 400, 400, 400]);
    // A tombstone and a jti per accepted token, nothing for the refused ones.
    expect(store.size()).toBe(6);
    expect(stack.logs.filter((l) => /back-channel logout budget/.test(l.message))).toHaveLength(1);
  });

  it('when a logout token is spelled with non-canonical base64url then it is refused', async () => {
    const store = memoryStore();
    stack.rebuild({ auth: { store }, provider: { issuer: issuer.issuer, clientId: 'demo' } });
    const token = await issuer.logoutToken('demo', { sid: 'respelled' });
    // The signature covers the header and payload as spelled; only the signature's own spelling is free.
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const response = await post(`${header}.${payload}.${respell(signature)}`);
    expect(response.status).toBe(400);
    expect(store.size()).toBe(0);
    expect((await post(token)).status).toBe(200);
  });
});

describe('forged server-mode session ids write nothing', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('when strangers send random well-formed session ids then the store does not grow', async () => {
    const store = memoryStore();
    stack.rebuild({ auth: { store, session: { mode: 'server' } } });
    for (let i = 0; i < 20; i++) {
      const id = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
        .replaceAll('+', '-')
        .replaceAll('/', '_')
        .replace(/=+$/, '');
      const cookie = `oidc.session=${id}`;
      expect(await me(stack, cookie)).toBe(401);
      const csrfPage = await fetch(`${stack.appUrl}/auth/csrf`, { headers: { cookie } });
      expect(csrfPage.status).toBe(200);
    }
    expect(store.size()).toBe(0);
  });
});

describe('login is bound to the browser that started it', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  /** Signs in at the provider and stops where the browser would come back to our callback. */
  async function pendingCallback(agent: Agent): Promise<URL> {
    const result = await agent.follow(`${stack.appUrl}/auth/login`);
    const form = parseForms(await result.response.text(), result.url).find((f) => f.fields.some((x) => x.type === 'password'))!;
    const done = await agent.submitForm(result.url, form, ALICE, { stopAt: (u) => u.pathname === '/auth/callback' });
    if (done.url.pathname === '/auth/callback') return done.url;
    const consent = parseForms(await done.response.text(), done.url)[0]!;
    return (await agent.submitForm(done.url, consent, {}, { stopAt: (u) => u.pathname === '/auth/callback' })).url;
  }

  it('when an attacker replays his transaction cookie into another browser then that browser is not signed in', async () => {
    const attacker = new Agent();
    const callback = await pendingCallback(attacker);
    const cookies = attacker.cookies(callback);
    const tossed = Object.entries(cookies).filter(([name]) => name.includes('.tx.'));
    expect(tossed).toHaveLength(1);
    const victim = new Agent();
    const response = await victim.fetch(callback, { headers: { cookie: tossed.map(([n, v]) => `${n}=${v}`).join('; ') } });
    expect(response.status).toBe(400);
    expect(response.headers.getSetCookie().some((c) => /^oidc\.session=[^;]/.test(c))).toBe(false);
    // The browser that started the login still completes it.
    const own = await attacker.fetch(callback);
    expect(own.status).toBe(303);
    expect(await me(stack, attacker)).toBe(200);
  });
});

describe('logout always clears, whatever the store does', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it.each(['cookie', 'server'] as const)(
    'when the store is down then POST /auth/logout with a valid CSRF token clears the cookies (%s mode)',
    async (mode) => {
      const store = switchableStore(memoryStore());
      stack.rebuild({ auth: { store, session: { mode } } });
      const agent = await signIn(stack);
      const token = await csrf(stack, agent);
      store.down = true;
      const response = await agent.fetch(`${stack.appUrl}/auth/logout`, {
        method: 'POST',
        body: new URLSearchParams({ csrfToken: token }),
        headers: { origin: stack.appUrl },
      });
      expect(response.status).toBe(303);
      expect(response.headers.getSetCookie().some((c) => /^oidc\.session=;/.test(c))).toBe(true);
      store.down = false;
      expect(await me(stack, agent)).toBe(401);
    },
  );

  it('when the store is down at the end of a server-mode sign-in then the answer is 503 with Retry-After, not a 500', async () => {
    const store = switchableStore(memoryStore());
    stack.rebuild({ auth: { store, session: { mode: 'server' } } });
    const agent = new Agent();
    const result = await agent.follow(`${stack.appUrl}/auth/login`);
    const form = parseForms(await result.response.text(), result.url).find((f) => f.fields.some((x) => x.type === 'password'))!;
    let done = await agent.submitForm(result.url, form, ALICE, { stopAt: (u) => u.pathname === '/auth/callback' });
    if (done.url.pathname !== '/auth/callback') {
      const consent = parseForms(await done.response.text(), done.url)[0]!;
      done = await agent.submitForm(done.url, consent, {}, { stopAt: (u) => u.pathname === '/auth/callback' });
    }
    store.down = true;
    const response = await agent.fetch(done.url);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    store.down = false;
    expect(await me(stack, agent)).toBe(401);
  });

  it('when the store fails while a logout records its end then it retries, and a copy of the cookie is refused once the store is back', async () => {
    const inner = memoryStore();
    // Reads answer; writes fail for the first 600 ms of the logout (a failover in progress).
    let writesFailUntil = 0;
    const store = { ...switchableStore(inner) } as Store;
    for (const method of ['set', 'setIfAbsent', 'delete', 'addToSet', 'removeFromSet'] as const) {
      const write = (inner[method] as (...a: unknown[]) => Promise<unknown>).bind(inner);
      (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
        Date.now() < writesFailUntil ? Promise.reject(new Error('CLUSTERDOWN')) : write(...args);
    }
    (store as unknown as Record<string, unknown>).getMany = inner.getMany.bind(inner);
    stack.rebuild({ auth: { store } });
    const agent = await signIn(stack);
    const copy = agent.cookieHeader(`${stack.appUrl}/api/me`);
    const token = await csrf(stack, agent);
    writesFailUntil = Date.now() + 600;
    const response = await agent.fetch(`${stack.appUrl}/auth/logout`, {
      method: 'POST',
      body: new URLSearchParams({ csrfToken: token, federated: 'false' }),
      headers: { origin: stack.appUrl },
    });
    expect(response.status).toBe(303);
    expect(await me(stack, copy)).toBe(401);
  });

  it('when the store is down then a wrong CSRF token still clears nothing', async () => {
    const store = switchableStore(memoryStore());
    stack.rebuild({ auth: { store } });
    const agent = await signIn(stack);
    store.down = true;
    const response = await agent.fetch(`${stack.appUrl}/auth/logout`, {
      method: 'POST',
      body: new URLSearchParams({ csrfToken: 'forged' }),
      headers: { origin: stack.appUrl },
    });
    expect(response.status).toBe(403);
    store.down = false;
    expect(await me(stack, agent)).toBe(200);
  });
});

describe('revocation waits for the matching state', () => {
  const seen: string[] = [];
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      auth: { revokeOnLogout: true, refresh: {} },
      client: { grant_types: ['authorization_code', 'refresh_token'] },
      devProvider: {
        extraRoutes: (req) => {
          seen.push(new URL(req.url ?? '/', 'http://x').pathname);
          return false;
        },
      },
    });
  });
  afterAll(() => stack.close());

  it('when the logout callback is hit without our state then nothing is revoked and the state cookie survives', async () => {
    const agent = await signIn(stack);
    const logout = await agent.fetch(`${stack.appUrl}/auth/logout`, {
      method: 'POST',
      body: new URLSearchParams({ csrfToken: await csrf(stack, agent) }),
      headers: { origin: stack.appUrl },
    });
    expect(new URL(logout.headers.get('location')!).origin).toBe(stack.provider.issuer);
    seen.length = 0;
    // A cross-site GET while the user is still at the provider.
    for (const query of ['', '?state=wrong']) {
      const early = await agent.fetch(`${stack.appUrl}/auth/logout/callback${query}`);
      expect(early.status).toBe(200);
      expect(early.headers.getSetCookie()).toHaveLength(0);
    }
    expect(seen).not.toContain('/token/revocation');
    await agent.confirmProviderLogout(logout.headers.get('location')!);
    expect(seen).toContain('/token/revocation');
  });
});

describe('a dead cookie tells onLogout once', () => {
  let issuer: TokenIssuer;
  let stack: Stack;
  const ended: Array<{ session: Session; reason: LogoutReason }> = [];
  beforeAll(async () => {
    issuer = await TokenIssuer.start();
    stack = await startStack({
      provider: { issuer: issuer.issuer, clientId: 'demo' },
      auth: { onLogout: (session, reason) => void ended.push({ session, reason }) },
    });
  });
  afterAll(async () => {
    await stack.close();
    await issuer.close();
  });
  afterEach(() => {
    ended.length = 0;
  });

  it('when a cookie ended by a back-channel logout is replayed then the hook fires once and the cookie is deleted each time', async () => {
    const cookie = await mintSession(stack.auth, SECRET, { sid: 'replayed' });
    const response = await fetch(`${stack.appUrl}/auth/backchannel-logout/default`, {
      method: 'POST',
      body: new URLSearchParams({ logout_token: await issuer.logoutToken('demo', { sid: 'replayed' }) }),
    });
    expect(response.status).toBe(200);
    for (let i = 0; i < 4; i++) {
      const answer = await fetch(`${stack.appUrl}/api/me`, { headers: { cookie } });
      expect(answer.status).toBe(401);
      expect(answer.headers.getSetCookie().some((c) => /^oidc\.session=;/.test(c))).toBe(true);
    }
    expect(ended.map((e) => e.reason)).toEqual(['back-channel']);
  });

  it('when an expired cookie is replayed then the hook fires once', async () => {
    const auth = stack.rebuild({
      provider: { issuer: issuer.issuer, clientId: 'demo' },
      auth: { session: { absoluteDuration: 60 }, onLogout: (session, reason) => void ended.push({ session, reason }) },
    });
    const cookie = await mintSession(auth, SECRET, { createdAt: Math.floor(Date.now() / 1000) - 90 });
    for (let i = 0; i < 4; i++) expect(await me(stack, cookie)).toBe(401);
    expect(ended.map((e) => e.reason)).toEqual(['expired']);
  });
});

describe('sealed session cookies have one spelling', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('when a session cookie is respelled with other spare base64url bits then it reads as signed out', async () => {
    const cookie = await mintSession(stack.auth, SECRET);
    const [name, value] = cookie.split('; ')[0]!.split(/=(.*)/s) as [string, string];
    const parts = value.split('.');
    const tag = parts.length - 1;
    parts[tag] = respell(parts[tag]!);
    expect(await me(stack, cookie)).toBe(200);
    expect(await me(stack, `${name}=${parts.join('.')}`)).toBe(401);
  });
});

describe('an ID token issued in the future is refused at login', () => {
  let issuer: TokenIssuer;
  let stack: Stack;
  beforeAll(async () => {
    issuer = await TokenIssuer.start();
    stack = await startStack({ provider: { issuer: issuer.issuer, clientId: 'demo', clientSecret: 'demo-secret' } });
  });
  afterAll(async () => {
    await stack.close();
    await issuer.close();
  });

  async function loginWithIat(offset: number): Promise<number> {
    const agent = new Agent();
    const authorize = new URL((await agent.fetch(`${stack.appUrl}/auth/login`)).headers.get('location')!);
    const now = Math.floor(Date.now() / 1000);
    issuer.idTokenClaims = { sub: 'alice', nonce: authorize.searchParams.get('nonce'), iat: now + offset, exp: now + offset + 600 };
    const callback = new URL(`${stack.appUrl}/auth/callback`);
    callback.search = new URLSearchParams({ code: 'code-1', state: authorize.searchParams.get('state')! }).toString();
    const response = await agent.fetch(callback);
    await response.text();
    return response.status;
  }

  it('when iat is beyond the clock tolerance then the login is refused; within it, accepted', async () => {
    expect(await loginWithIat(600)).toBe(400);
    expect(stack.logs.some((l) => /iat .*future/.test(l.message))).toBe(true);
    expect(await loginWithIat(30)).toBe(303);
  });
});

describe('large claim sets are stored once in cookie mode', () => {
  let stack: Stack;
  const groups = Array.from({ length: 60 }, (_, i) => `engineering-platform-team-group-number-${i}`);
  beforeAll(async () => {
    stack = await startStack({ auth: { exposeTokens: ['id'] }, devProvider: { extraClaims: { alice: { groups } } } });
  });
  afterAll(() => stack.close());

  it('when the user has dozens of groups then the Cookie header stays under 8 KB and id_token_hint still works', async () => {
    const agent = await signIn(stack);
    const header = agent.cookieHeader(`${stack.appUrl}/api/me`);
    expect(new TextEncoder().encode(header).byteLength).toBeLessThan(8 * 1024);
    const body = (await (await agent.fetch(`${stack.appUrl}/api/me`)).json()) as {
      user: { groups: string[] };
      tokens: { id: string };
    };
    expect(body.user.groups).toEqual(groups);
    expect(body.tokens.id.split('.')).toHaveLength(3);
    const logout = await agent.fetch(`${stack.appUrl}/auth/logout`, {
      method: 'POST',
      body: new URLSearchParams({ csrfToken: await csrf(stack, agent) }),
      headers: { origin: stack.appUrl },
    });
    expect(new URL(logout.headers.get('location')!).searchParams.get('id_token_hint')).toBe(body.tokens.id);
  });
});
