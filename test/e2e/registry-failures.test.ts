/**
 * The registry under stress: a store that fails (fail closed, partial_logout, recovery),
 * replay across instances, client isolation within one issuer, and deleted server sessions
 * that a late write must not bring back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Context } from '../../src/core/context.js';
import { touched } from '../../src/core/session/record.js';
import { Sealer } from '../../src/core/session/seal.js';
import type { Store } from '../../src/core/store.js';
import type { ResolvedConfig } from '../../src/core/types.js';
import { type Auth, type AuthOptions, createAuth } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { isSignedIn, mintSession } from '../support/sessions.js';
import { TokenIssuer } from '../support/token-issuer.js';

const SECRET = 'registry-failures-secret-registry-failures';
const APP = 'http://127.0.0.1:3998';

/** A real memory store that can be switched to failing, like a Redis that went away. */
function flakyStore(): Store & { down: boolean } {
  const inner = memoryStore();
  const wrapped = { down: false } as Store & { down: boolean };
  for (const method of ['getMany', 'set', 'setIfAbsent', 'delete', 'addToSet', 'setMembers', 'removeFromSet'] as const) {
    (wrapped as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      if (wrapped.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      return (inner[method] as (...a: unknown[]) => unknown)(...args);
    };
  }
  return wrapped;
}

let issuer: TokenIssuer;
beforeAll(async () => {
  issuer = await TokenIssuer.start();
});
afterAll(() => issuer.close());

function makeAuth(options: Partial<AuthOptions> = {}, logs: string[] = []): Auth {
  return createAuth({
    baseUrl: APP,
    secret: SECRET,
    providers: { op: { issuer: issuer.issuer, clientId: 'app', clientSecret: 's' } },
    logger: { warn: (m) => void logs.push(m), error: (m) => void logs.push(m) },
    ...options,
  });
}

async function backchannel(auth: Auth, token: string, provider = 'op'): Promise<Response> {
  return (await auth.handle(
    new Request(`${APP}/auth/backchannel-logout/${provider}`, {
      method: 'POST',
      body: new URLSearchParams({ logout_token: token }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }),
  ))!;
}

const earlier = () => Math.floor(Date.now() / 1000) - 60;

describe.each(['cookie', 'server'] as const)('a store that fails (%s mode)', (mode) => {
  it('when the store is down then requests are signed out without losing the cookie, and come back with the store', async () => {
    const store = flakyStore();
    const logs: string[] = [];
    const auth = makeAuth({ store, session: { mode } }, logs);
    const cookie = await mintSession(auth, SECRET, { createdAt: earlier() });
    store.down = true;
    const down = await auth.readSession(cookie);
    expect(down.session).toBeNull();
    expect(down.setCookies).toEqual([]);
    expect(logs.filter((l) => /session store failed/.test(l))).toHaveLength(1);
    store.down = false;
    expect(await isSignedIn(auth, cookie)).toBe(true);
  });

  it('when the store fails while a logout token is applied then 400 partial_logout, and the retry succeeds', async () => {
    const store = flakyStore();
    const auth = makeAuth({ store, session: { mode } });
    const cookie = await mintSession(auth, SECRET, { sid: 'retry-me', createdAt: earlier() });
    const token = await issuer.logoutToken('app', { sid: 'retry-me' });
    // Fail after the replay check: the jti must be released for the provider's retry.
    const setIfAbsent = store.setIfAbsent;
    store.setIfAbsent = async (...args) => {
      const result = await setIfAbsent(...args);
      store.down = true;
      return result;
    };
    const failed = await backchannel(auth, token);
    expect(failed.status).toBe(400);
    expect(((await failed.json()) as { error: string }).error).toBe('partial_logout');
    store.setIfAbsent = setIfAbsent;
    store.down = false;
    expect(await isSignedIn(auth, cookie)).toBe(true);
    expect((await backchannel(auth, token)).status).toBe(200);
    expect(await isSignedIn(auth, cookie)).toBe(false);
  });
});

describe('several instances and several clients', () => {
  it('when a logout token is replayed to another instance sharing the store then it is refused and ends nothing new', async () => {
    const store = memoryStore();
    const heard = { a: 0, b: 0 };
    // Server mode: the first delivery deletes what exists then and leaves no tombstone behind.
    const a = makeAuth({ store, session: { mode: 'server' }, onProviderLogout: () => void heard.a++ });
    const b = makeAuth({ store, session: { mode: 'server' }, onProviderLogout: () => void heard.b++, onLogout: () => void heard.b++ });
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.logoutToken('app', { sid: 'shared-replay', iat: now });
    expect((await backchannel(a, token)).status).toBe(200);
    expect(heard.a).toBe(1);
    // A session the token names, begun before its iat: an accepted replay would end it.
    const before = await mintSession(b, SECRET, { sid: 'shared-replay', createdAt: now - 60 });
    const replay = await backchannel(b, token);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error_description: string }).error_description).toMatch(/replay/);
    expect(heard.b).toBe(0);
    expect(await isSignedIn(b, before)).toBe(true);
  });

  it('when two clients of one issuer share a store then a logout token for one never ends the other', async () => {
    const store = memoryStore();
    const auth = createAuth({
      baseUrl: APP,
      secret: SECRET,
      store,
      providers: {
        one: { issuer: issuer.issuer, clientId: 'client-one', clientSecret: 's' },
        two: { issuer: issuer.issuer, clientId: 'client-two', clientSecret: 's' },
      },
      logger: { warn: () => undefined, error: () => undefined },
    });
    const one = await mintSession(auth, SECRET, { provider: 'one', sub: 'carol', sid: 'same-sid', createdAt: earlier() });
    const two = await mintSession(auth, SECRET, { provider: 'two', sub: 'carol', sid: 'same-sid', createdAt: earlier() });
    expect((await backchannel(auth, await issuer.logoutToken('client-one', { sub: 'carol', sid: undefined }), 'one')).status).toBe(200);
    expect(await isSignedIn(auth, one)).toBe(false);
    expect(await isSignedIn(auth, two)).toBe(true);
  });
});

describe('server mode: a deleted session stays deleted', () => {
  it('when a request that read the session writes it back after a logout then it is still signed out', async () => {
    const auth = makeAuth({ session: { mode: 'server' } });
    const cookie = await mintSession(auth, SECRET, { sid: 'late-write', createdAt: earlier() });
    const config = { ...auth.config, secrets: [SECRET] } as unknown as ResolvedConfig;
    const ctx = new Context(config, await Sealer.create([SECRET]));
    const cookies = new Map(cookie.split('; ').map((pair) => pair.split('=') as [string, string]));
    const { record } = await ctx.readSession(cookies);
    const tokens = await ctx.sessions.readTokens(cookies, record!);
    expect((await backchannel(auth, await issuer.logoutToken('app', { sid: 'late-write' }))).status).toBe(200);
    // What an idle roll or a refresh in flight would do: write the session it read earlier.
    await ctx.sessions.update(touched(record!, record!.touchedAt + 1), tokens!, cookies);
    expect(await isSignedIn(auth, cookie)).toBe(false);
  });
});
