/**
 * The native logout-token check (node:crypto, installed by the Node adapters) must judge every
 * token exactly as jose does: each vector is sent twice — with the native verifier (its key set
 * cached by a first valid token) and with jose alone — and both answers must be the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installNodeVerifier } from '../../src/adapters/native-verify.js';
import { installNativeVerifier, nativeVerifier, selectKey } from '../../src/core/logout/native-jws.js';
import { type Auth, createAuth } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { TokenIssuer } from '../support/token-issuer.js';

const CLIENT = 'app';
let issuer: TokenIssuer;
beforeAll(async () => {
  issuer = await TokenIssuer.start();
  await issuer.addKey('ps-1', 'PS256');
  await issuer.addKey('ed-1', 'EdDSA');
});
afterAll(() => {
  installNativeVerifier(null);
  return issuer.close();
});

function makeAuth(alg: string, allowMissingExp = false): Auth {
  return createAuth({
    baseUrl: 'http://127.0.0.1:3999',
    secret: 'native-jws-secret-native-jws-secret-0123',
    providers: {
      op: { issuer: issuer.issuer, clientId: CLIENT, clientSecret: 's', idTokenSignedResponseAlg: alg, backchannel: { allowMissingExp } },
    },
    store: memoryStore(),
    logger: { warn: () => undefined, error: () => undefined },
  });
}

async function answer(auth: Auth, token: string): Promise<string> {
  const response = (await auth.handle(
    new Request('http://127.0.0.1:3999/auth/backchannel-logout/op', {
      method: 'POST',
      body: new URLSearchParams({ logout_token: token }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }),
  ))!;
  const text = await response.text();
  return `${response.status} ${text}`;
}

const now = () => Math.floor(Date.now() / 1000);
/** Changes one claim after signing: the signature no longer covers the payload. */
function tampered(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  return `${h}.${Buffer.from(JSON.stringify({ ...claims, sid: 'other' })).toString('base64url')}.${s}`;
}

const VECTORS: Array<[string, (kid: string) => Promise<string>]> = [
  ['valid', (kid) => issuer.logoutToken(CLIENT, { sid: `s-${Math.random()}` }, { kid })],
  ['expired', (kid) => issuer.logoutToken(CLIENT, { iat: now() - 600, exp: now() - 300 }, { kid })],
  ['expired within the tolerance', (kid) => issuer.logoutToken(CLIENT, { sid: `t-${Math.random()}`, exp: now() - 30 }, { kid })],
  ['no exp', (kid) => issuer.logoutToken(CLIENT, { exp: undefined }, { kid })],
  ['no jti', (kid) => issuer.logoutToken(CLIENT, { jti: undefined }, { kid })],
  ['no iat', (kid) => issuer.logoutToken(CLIENT, { iat: undefined }, { kid })],
  ['iat a string', (kid) => issuer.logoutToken(CLIENT, { iat: String(now()) }, { kid })],
  ['nbf in the future', (kid) => issuer.logoutToken(CLIENT, { nbf: now() + 600 }, { kid })],
  ['another audience', (kid) => issuer.logoutToken(CLIENT, { aud: 'someone-else' }, { kid })],
  ['two audiences', (kid) => issuer.logoutToken(CLIENT, { aud: [CLIENT, 'other'] }, { kid })],
  ['tampered payload', async (kid) => tampered(await issuer.logoutToken(CLIENT, {}, { kid }))],
];

describe.each([
  ['RS256', 'rs-1'],
  ['PS256', 'ps-1'],
  ['ES256', 'es-1'],
  ['EdDSA', 'ed-1'],
])('the native check agrees with jose (%s)', (alg, kid) => {
  it.each(VECTORS)('when a token is %s then both answer the same', async (_name, make) => {
    const token = await make(kid);
    installNodeVerifier();
    const withNative = makeAuth(alg);
    // A first valid token goes through jose and caches the key set the native path reads.
    expect(await answer(withNative, await issuer.logoutToken(CLIENT, { sid: `prime-${Math.random()}` }, { kid }))).toBe('200 ');
    const native = await answer(withNative, token);
    installNativeVerifier(null);
    const reference = await answer(makeAuth(alg), token);
    expect(native).toBe(reference);
  });
});

describe('the native path is the one taken, and stays within its limits', () => {
  it('when a key set is cached then a valid token is checked without jose (the verifier is called)', async () => {
    installNodeVerifier();
    const real = nativeVerifier()!;
    let calls = 0;
    installNativeVerifier({
      verify: (...args) => {
        calls++;
        return real.verify(...args);
      },
    });
    const auth = makeAuth('RS256');
    expect(await answer(auth, await issuer.logoutToken(CLIENT, { sid: 'first' }))).toBe('200 ');
    expect(calls).toBe(0);
    expect(await answer(auth, await issuer.logoutToken(CLIENT, { sid: 'second' }))).toBe('200 ');
    expect(calls).toBe(1);
  });

  it('when a token without exp is accepted by option then the native path still bounds it by maxTokenAge', async () => {
    installNodeVerifier();
    const auth = makeAuth('RS256', true);
    expect(await answer(auth, await issuer.logoutToken(CLIENT, { sid: 'prime' }))).toBe('200 ');
    expect(await answer(auth, await issuer.logoutToken(CLIENT, { sid: 'fresh', exp: undefined }))).toBe('200 ');
    expect(await answer(auth, await issuer.logoutToken(CLIENT, { sid: 'old', exp: undefined, iat: now() - 600 }))).toMatch(
      /^400 .*token expired/,
    );
  });

  it('when the key set has no key or several for a header then no key is chosen (jose decides)', () => {
    const rsa = { kty: 'RSA', n: 'x', e: 'AQAB' };
    expect(selectKey({ keys: [{ ...rsa, kid: 'a' }] }, { alg: 'RS256', kid: 'b' })).toBeUndefined();
    expect(selectKey({ keys: [rsa, { ...rsa, n: 'y' }] }, { alg: 'RS256' })).toBeUndefined();
    expect(selectKey({ keys: [{ ...rsa, use: 'enc' }] }, { alg: 'RS256' })).toBeUndefined();
    expect(selectKey({ keys: [{ ...rsa, alg: 'PS256' }] }, { alg: 'RS256' })).toBeUndefined();
    expect(
      selectKey(
        {
          keys: [
            { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' },
            { ...rsa, kid: 'k' },
          ],
        },
        { alg: 'RS256', kid: 'k' },
      ),
    ).toEqual({ ...rsa, kid: 'k' });
    expect(selectKey({ keys: [rsa] }, { alg: 'HS256' })).toBeUndefined();
  });
});
