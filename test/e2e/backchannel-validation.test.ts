/**
 * Back-Channel Logout 1.0 §2.5–§2.8: every validation rule, each vector asserting the status
 * code AND that no session was ended by a refused token; then what a valid token ends, in
 * both session modes. Tokens come from a real HTTP issuer (discovery + JWKS) so the library's
 * whole path — discovery, JWKS fetch, kid lookup, signature — runs for real.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Auth, type AuthOptions, createAuth, type LogoutReason } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { isSignedIn, mintSession } from '../support/sessions.js';
import { BCL_EVENT, TokenIssuer } from '../support/token-issuer.js';

const CLIENT = 'app';
const SECRET = 'backchannel-secret-backchannel-secret-0123';

let issuer: TokenIssuer;
beforeAll(async () => {
  issuer = await TokenIssuer.start();
});
afterAll(() => issuer.close());
afterEach(() => vi.useRealTimers());

/** Every logout an instance reported through its hooks: `notice` for onProviderLogout, else the onLogout reason. */
const logouts = new WeakMap<Auth, Array<LogoutReason | 'notice'>>();
/** How many logouts the request that produced each response reported. */
const reported = new WeakMap<Response, number>();

function makeAuth(
  overrides: Partial<AuthOptions> = {},
  backchannel: NonNullable<AuthOptions['providers'][string]['backchannel']> = {},
): Auth {
  const log: Array<LogoutReason | 'notice'> = [];
  const auth = createAuth({
    baseUrl: 'http://127.0.0.1:3999',
    secret: SECRET,
    providers: { op: { issuer: issuer.issuer, clientId: CLIENT, clientSecret: 's', backchannel } },
    store: memoryStore(),
    logger: { warn: () => undefined, error: () => undefined },
    onProviderLogout: () => void log.push('notice'),
    onLogout: (_session, reason) => void log.push(reason),
    ...overrides,
  });
  logouts.set(auth, log);
  return auth;
}

/** Sends a request and remembers how many logouts it made the instance report. */
async function handle(auth: Auth, request: Request): Promise<Response> {
  const log = logouts.get(auth)!;
  const before = log.length;
  const response = (await auth.handle(request))!;
  reported.set(response, log.length - before);
  return response;
}

function post(auth: Auth, body: string | URLSearchParams, init: RequestInit = {}): Promise<Response> {
  const request = new Request('http://127.0.0.1:3999/auth/backchannel-logout/op', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    ...init,
  });
  return handle(auth, request);
}

function send(auth: Auth, token: string): Promise<Response> {
  return post(auth, new URLSearchParams({ logout_token: token }));
}

async function expectRefused(auth: Auth, response: Response, cookie: string, pattern?: RegExp): Promise<void> {
  expect(response.status).toBe(400);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('set-cookie')).toBeNull();
  const body = (await response.json()) as { error: string; error_description: string };
  expect(body.error).toBe('invalid_request');
  if (pattern) expect(body.error_description).toMatch(pattern);
  // A refused token ends nothing, not even a session other than the minted one: no hook heard of a logout.
  expect(reported.get(response)).toBe(0);
  expect(await isSignedIn(auth, cookie)).toBe(true);
}

const flipBit = (token: string) => {
  const [h, p, s] = token.split('.') as [string, string, string];
  const last = s.at(-2) === 'A' ? 'B' : 'A';
  return `${h}.${p}.${s.slice(0, -2)}${last}${s.slice(-1)}`;
};

describe('logout token validation (each refused token ends nothing)', () => {
  let auth: Auth;
  let cookie: string;
  beforeAll(async () => {
    auth = makeAuth();
    cookie = await mintSession(auth, SECRET, { createdAt: Math.floor(Date.now() / 1000) - 600 });
  });

  it('when alg is none then it is refused', async () => {
    const claims = {
      iss: issuer.issuer,
      aud: CLIENT,
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 60,
      jti: 'n',
      events: { [BCL_EVENT]: {} },
      sid: 'sid-1',
    };
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    await expectRefused(auth, await send(auth, `${b64({ alg: 'none' })}.${b64(claims)}.`), cookie, /none/);
  });

  it('when another alg is used with a key the provider does publish then it is refused (alg pinned)', async () => {
    await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, {}, { kid: 'es-1' })), cookie, /alg "ES256"/);
  });

  it('when a bit of the signature is flipped then it is refused', async () => {
    await expectRefused(auth, await send(auth, flipBit(await issuer.logoutToken(CLIENT))), cookie, /signature/);
  });

  it('when iss is another issuer or has a trailing slash then it is refused', async () => {
    for (const iss of ['https://evil.example', `${issuer.issuer}/`, issuer.issuer.toUpperCase()]) {
      await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { iss })), cookie, /iss/);
    }
  });

  it('when aud is not us, or names another audience too, then it is refused', async () => {
    await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { aud: 'other' })), cookie, /aud/);
    await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { aud: [CLIENT, 'other'] })), cookie, /aud/);
  });

  it('when events is missing, lacks the logout member, or its value is not an object then it is refused', async () => {
    for (const events of [
      undefined,
      {},
      { other: {} },
      [BCL_EVENT],
      'x',
      { [BCL_EVENT]: true },
      { [BCL_EVENT]: 'x' },
      { [BCL_EVENT]: [] },
      { [BCL_EVENT]: null },
    ]) {
      await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { events })), cookie, /event/);
    }
  });

  it('when nonce is present then it is refused', async () => {
    await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { nonce: 'n' })), cookie, /nonce/);
  });

  it('when neither sub nor sid is present, or one is not a string, then it is refused', async () => {
    await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { sid: undefined })), cookie, /neither sub nor sid/);
    await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { sid: 42 })), cookie, /sid/);
    await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { sub: '' })), cookie, /sub/);
  });

  it('when the token has expired then it is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { iat: now - 600, exp: now - 300 })), cookie, /expired/);
  });

  it('when iat is in the future beyond the tolerance then it is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { iat: now + 3600, exp: now + 3700 })), cookie, /iat/);
  });

  it('when exp or iat or jti is missing then it is refused', async () => {
    await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { exp: undefined })), cookie, /exp/);
    await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { iat: undefined })), cookie, /iat/);
    await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, { jti: undefined })), cookie, /jti/);
  });

  it('when typ is something other than JWT or logout+jwt then it is refused', async () => {
    for (const typ of ['at+jwt', 'secevent+jwt', 'JOSE', '']) {
      await expectRefused(auth, await send(auth, await issuer.logoutToken(CLIENT, {}, { typ })), cookie, /typ/);
    }
  });

  it('when the request has no logout_token, two of them, or is not a form then it is refused', async () => {
    await expectRefused(auth, await post(auth, 'other=1'), cookie, /missing logout_token/);
    const token = await issuer.logoutToken(CLIENT);
    await expectRefused(auth, await post(auth, `logout_token=${token}&logout_token=${token}`), cookie, /more than one/);
    await expectRefused(
      auth,
      await post(auth, JSON.stringify({ logout_token: token }), { headers: { 'content-type': 'application/json' } }),
      cookie,
      /urlencoded/,
    );
  });

  it('when the token is garbage, encrypted or oversized then it is refused before any key lookup', async () => {
    // A fresh instance: the shared one has the JWKS cached already, so its counter could not move.
    const fresh = makeAuth();
    const session = await mintSession(fresh, SECRET, { createdAt: Math.floor(Date.now() / 1000) - 600 });
    const fetches = issuer.jwksRequests;
    for (const token of ['', 'a.b.c', 'x', 'a.b.c.d.e', '%%%.%%%.%%%', 'x'.repeat(9000)]) {
      await expectRefused(fresh, await send(fresh, token), session);
    }
    expect(issuer.jwksRequests).toBe(fetches);
    // The same instance does fetch the keys for a token worth verifying.
    expect((await send(fresh, await issuer.logoutToken(CLIENT, { sid: 'unrelated' }))).status).toBe(200);
    expect(issuer.jwksRequests).toBe(fetches + 1);
  });

  it('when the body is over 16 KiB then it is refused', async () => {
    await expectRefused(auth, await post(auth, `logout_token=x&pad=${'p'.repeat(20_000)}`), cookie, /too large/);
  });

  it('when the endpoint is called with GET then it answers 400 with Allow: POST', async () => {
    const response = await handle(auth, new Request('http://127.0.0.1:3999/auth/backchannel-logout/op'));
    expect(response.headers.get('allow')).toBe('POST');
    await expectRefused(auth, response, cookie, /POST/);
  });

  it('when the provider in the path is unknown then the route is not ours', async () => {
    expect(await auth.handle(new Request('http://127.0.0.1:3999/auth/backchannel-logout/nope', { method: 'POST' }))).toBeNull();
  });

  it('when a jti is replayed then the second delivery is refused and ends nothing', async () => {
    // Server mode: the first delivery deletes what exists then, and leaves no tombstone behind.
    const other = makeAuth({ session: { mode: 'server' } });
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.logoutToken(CLIENT, { sid: 'replay-sid', iat: now });
    const first = await send(other, token);
    expect(first.status).toBe(200);
    expect(reported.get(first)).toBe(1);
    // A session the token names, begun before its iat: an accepted replay would end it.
    const before = await mintSession(other, SECRET, { sid: 'replay-sid', createdAt: now - 60 });
    const response = await send(other, token);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error_description: string }).error_description).toMatch(/replay/);
    expect(reported.get(response)).toBe(0);
    expect(await isSignedIn(other, before)).toBe(true);
  });

  it('when kid is unknown then the JWKS is refetched once (rate-limited), and after rotation the new key works', async () => {
    const fresh = makeAuth();
    const start = Date.now();
    const session = await mintSession(fresh, SECRET, { sid: 'rotated', createdAt: Math.floor(start / 1000) - 60 });
    expect((await send(fresh, await issuer.logoutToken(CLIENT, { sid: 'unrelated' }))).status).toBe(200); // JWKS fetched
    await issuer.addKey('rs-2', 'RS256', false);
    // Past the 30 s cooldown: the first unknown kid refetches, the next one within 30 s does not.
    vi.useFakeTimers({ toFake: ['Date'], now: start + 31_000 });
    const before = issuer.jwksRequests;
    await expectRefused(fresh, await send(fresh, await issuer.logoutToken(CLIENT, { sid: 'rotated' }, { kid: 'rs-2' })), session, /key/);
    await expectRefused(fresh, await send(fresh, await issuer.logoutToken(CLIENT, { sid: 'rotated' }, { kid: 'rs-2' })), session, /key/);
    expect(issuer.jwksRequests - before).toBe(1);
    issuer.publish('rs-2');
    vi.useFakeTimers({ toFake: ['Date'], now: start + 62_000 });
    expect((await send(fresh, await issuer.logoutToken(CLIENT, { sid: 'rotated' }, { kid: 'rs-2' }))).status).toBe(200);
    expect(issuer.jwksRequests - before).toBe(2);
    expect(await isSignedIn(fresh, session)).toBe(false);
  });

  it('when typ is absent, JWT, or logout+jwt in any case then it is accepted', async () => {
    for (const typ of [null, 'JWT', 'jwt', 'logout+jwt', 'LOGOUT+JWT', 'application/logout+jwt']) {
      expect((await send(auth, await issuer.logoutToken(CLIENT, { sid: 'typ-test' }, { typ }))).status).toBe(200);
    }
  });

  it('when requireLogoutJwtTyp is set then only logout+jwt is accepted', async () => {
    const strict = makeAuth({}, { requireLogoutJwtTyp: true });
    const session = await mintSession(strict, SECRET, { sid: 'x', createdAt: Math.floor(Date.now() / 1000) - 60 });
    for (const typ of [null, 'JWT']) {
      await expectRefused(strict, await send(strict, await issuer.logoutToken(CLIENT, { sid: 'x' }, { typ })), session, /typ/);
    }
    expect((await send(strict, await issuer.logoutToken(CLIENT, { sid: 'x' }, { typ: 'application/logout+jwt' }))).status).toBe(200);
  });

  it('when allowMissingExp is set then a token without exp is bounded by iat + maxTokenAge', async () => {
    const lenient = makeAuth({}, { allowMissingExp: true, maxTokenAge: 60 });
    const session = await mintSession(lenient, SECRET, { createdAt: Math.floor(Date.now() / 1000) - 600 });
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(lenient, await send(lenient, await issuer.logoutToken(CLIENT, { exp: undefined, iat: now - 300 })), session);
    expect((await send(lenient, await issuer.logoutToken(CLIENT, { exp: undefined, sid: 'no-exp' }))).status).toBe(200);
  });

  it('when the token is valid then the answer is exactly 200, no-store, no cookie, no body', async () => {
    const response = await send(auth, await issuer.logoutToken(CLIENT, { sid: 'matches-nothing', aud: [CLIENT] }));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.text()).toBe('');
  });

  it('when unknown claims and extra form fields come along then they are ignored', async () => {
    const token = await issuer.logoutToken(CLIENT, { sid: 'extra', custom: { a: 1 }, events: { [BCL_EVENT]: { x: 1 }, other: 1 } });
    expect((await post(auth, new URLSearchParams({ logout_token: token, state: 'x', foo: 'bar' }))).status).toBe(200);
  });
});

describe.each(['cookie', 'server'] as const)('what a valid logout token ends (%s mode)', (mode) => {
  let auth: Auth;
  const earlier = () => Math.floor(Date.now() / 1000) - 60;
  beforeAll(() => {
    auth = makeAuth({ session: { mode } });
  });

  it('when the token has a sid then exactly that session ends; another browser of the same user survives', async () => {
    const first = await mintSession(auth, SECRET, { sub: 'u1', sid: 'browser-a', createdAt: earlier() });
    const second = await mintSession(auth, SECRET, { sub: 'u1', sid: 'browser-b', createdAt: earlier() });
    expect((await send(auth, await issuer.logoutToken(CLIENT, { sub: 'u1', sid: 'browser-a' }))).status).toBe(200);
    expect(await isSignedIn(auth, first)).toBe(false);
    expect(await isSignedIn(auth, second)).toBe(true);
  });

  it('when the token has only sub then every session of that user ends and other users survive', async () => {
    const sessions = await Promise.all(
      ['s1', 's2', 's3'].map((sid) => mintSession(auth, SECRET, { sub: 'u2', sid, createdAt: earlier() })),
    );
    const other = await mintSession(auth, SECRET, { sub: 'u3', sid: 's1', createdAt: earlier() });
    expect((await send(auth, await issuer.logoutToken(CLIENT, { sub: 'u2', sid: undefined }))).status).toBe(200);
    for (const cookie of sessions) expect(await isSignedIn(auth, cookie)).toBe(false);
    expect(await isSignedIn(auth, other)).toBe(true);
  });

  it('when sid holds spaces, &, #, %, +, quotes and backslashes then it matches exactly', async () => {
    const sid = `a b&c#d%e+f'g"h\\i:j`;
    const exact = await mintSession(auth, SECRET, { sub: 'u4', sid, createdAt: earlier() });
    const near = await mintSession(auth, SECRET, { sub: 'u4', sid: `a b&c#d%e+f'g"h\\i:k`, createdAt: earlier() });
    const encoded = await mintSession(auth, SECRET, { sub: 'u4', sid: encodeURIComponent(sid), createdAt: earlier() });
    expect((await send(auth, await issuer.logoutToken(CLIENT, { sub: 'u4', sid }))).status).toBe(200);
    expect(await isSignedIn(auth, exact)).toBe(false);
    expect(await isSignedIn(auth, near)).toBe(true);
    expect(await isSignedIn(auth, encoded)).toBe(true);
  });

  it('when a session began after the token was issued then the token does not end it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const fresh = await mintSession(auth, SECRET, { sub: 'u5', sid: 'late', createdAt: now });
    const token = await issuer.logoutToken(CLIENT, { sub: 'u5', sid: undefined, iat: now - 30, exp: now + 60 });
    expect((await send(auth, token)).status).toBe(200);
    expect(await isSignedIn(auth, fresh)).toBe(true);
  });

  it('when the user logs in again after a logout then the old session stays ended', async () => {
    const old = await mintSession(auth, SECRET, { sub: 'u6', sid: 'old', createdAt: earlier() });
    expect((await send(auth, await issuer.logoutToken(CLIENT, { sub: 'u6', sid: undefined }))).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 5_000 });
    const fresh = await mintSession(auth, SECRET, { sub: 'u6', sid: 'new' });
    expect(await isSignedIn(auth, fresh)).toBe(true);
    expect(await isSignedIn(auth, old)).toBe(false);
  });

  it('when a token matches no session then it is still 200 (already logged out is success)', async () => {
    expect((await send(auth, await issuer.logoutToken(CLIENT, { sub: 'nobody', sid: 'none' }))).status).toBe(200);
  });
});
