/**
 * Malformed back-channel logout requests to the demo app on a real port: odd content types,
 * 1 MB bodies (declared and streamed), repeated or missing `logout_token` fields, 5-part JWTs,
 * 3-part junk, base64url of non-JSON, JSON arrays as payload, huge JWT headers, unicode, other
 * methods. None of them carries a signature of the provider's key, so every one must be refused
 * the way the spec says (§2.8: 400 with a JSON `{error, error_description}`), none may answer
 * 5xx, none may write to the store, and no description may reveal internals (a URL of ours, a
 * `fetch failed`, a stack) to the anonymous caller.
 *
 * Two providers: `default`, the real development provider (discovery and JWKS work), and `down`,
 * whose issuer cannot be reached, so tokens naming it reach the discovery step and fail there.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../support/agent.js';
import { type Stack, startStack } from '../support/stack.js';
import { BCL_EVENT, TokenIssuer } from '../support/token-issuer.js';
import { base64urlString, type CountingStore, countingStore, fuzzOptions, labelled, signIn } from './support.js';

const DOWN_ISSUER = 'http://127.0.0.1:1';

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const b64json = (value: unknown) => b64(JSON.stringify(value));

interface Shot {
  method: string;
  provider: 'default' | 'down';
  contentType: string | undefined;
  body: Uint8Array<ArrayBuffer> | 'stream-1mb' | null;
  what: string;
}

describe('malformed back-channel logout requests', () => {
  let stack: Stack;
  let counting: CountingStore;
  let stranger: TokenIssuer;
  let alice: Agent;
  let aliceSid: string;

  beforeAll(async () => {
    counting = countingStore();
    stack = await startStack();
    stack.rebuild({
      auth: {
        store: counting.store,
        providers: {
          default: { issuer: stack.provider.issuer, clientId: 'demo', clientSecret: 'demo-secret' },
          down: { issuer: DOWN_ISSUER, clientId: 'demo', clientSecret: 'demo-secret' },
        },
      },
    });
    // A session whose sid the forged tokens name: a refusal must not end it.
    alice = await signIn(stack);
    const me = (await (await alice.fetch(`${stack.appUrl}/api/me`)).json()) as { user: { sid: string } };
    aliceSid = me.user.sid;
    stranger = await TokenIssuer.start();
    counting.reset();
  });
  afterAll(async () => {
    await stranger?.close();
    await stack?.close();
  });

  function issuerOf(provider: Shot['provider']): string {
    return provider === 'default' ? stack.provider.issuer : DOWN_ISSUER;
  }

  /** Claims that would pass every check but the signature. */
  function claims(provider: Shot['provider'], extra: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: issuerOf(provider),
      aud: 'demo',
      iat: now,
      exp: now + 120,
      jti: `j-${now}`,
      events: { [BCL_EVENT]: {} },
      sid: aliceSid,
      ...extra,
    };
  }

  /** logout_token values: every one malformed or unsigned by the provider. */
  function tokens(provider: Shot['provider']): fc.Arbitrary<{ token: string; what: string }> {
    // Mostly the provider's alg, so that most forgeries get past the cheap checks to discovery and the signature.
    const header = fc.constantFrom<Record<string, unknown>>(
      { alg: 'RS256' },
      { alg: 'RS256', typ: 'JWT' },
      { alg: 'RS256', typ: 'logout+jwt', kid: 'nope' },
      { alg: 'none' },
      { alg: 'HS256' },
      { alg: 'ES256' },
      { alg: 'RS256', crit: ['x'], x: 1 },
      { alg: 'RS256', jku: 'http://127.0.0.1:1/jwks' },
    );
    const junkSegment = base64urlString(0, 60);
    return fc.oneof(
      fc.constant({ token: '', what: 'empty' }),
      fc.array(junkSegment, { minLength: 5, maxLength: 5 }).map((parts) => ({ token: parts.join('.'), what: '5-part junk' })),
      fc.tuple(header, junkSegment).map(([h, cek]) => ({
        token: [b64json({ ...h, alg: 'RSA-OAEP', enc: 'A256GCM' }), cek, 'aXY', b64json(claims(provider)), 'dGFn'].join('.'),
        what: '5-part JWE-shaped',
      })),
      fc.array(junkSegment, { minLength: 3, maxLength: 3 }).map((parts) => ({ token: parts.join('.'), what: '3-part junk' })),
      fc.tuple(fc.string(), fc.string()).map(([h, p]) => ({ token: `${b64(h)}.${b64(p)}.c2ln`, what: 'base64url of non-JSON' })),
      fc.tuple(header, fc.array(fc.jsonValue(), { maxLength: 3 })).map(([h, array]) => ({
        token: `${b64json(h)}.${b64json(array)}.c2ln`,
        what: 'JSON array payload',
      })),
      fc.tuple(header, fc.jsonValue()).map(([h, p]) => ({ token: `${b64json(h)}.${b64json(p)}.c2ln`, what: 'any JSON payload' })),
      fc.tuple(header, fc.integer({ min: 1000, max: 9000 })).map(([h, size]) => ({
        token: `${b64json({ ...h, pad: 'h'.repeat(size) })}.${b64json(claims(provider))}.c2ln`,
        what: `huge header (${size})`,
      })),
      fc.tuple(header, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 })).map(([h, text]) => ({
        token: `${b64json(h)}.${b64json(claims(provider, { sid: text, sub: text, jti: text }))}.c2ln`,
        what: 'unicode claims, no signature',
      })),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map((text) => ({ token: text, what: 'unicode text' })),
      {
        weight: 6,
        arbitrary: fc.tuple(header, base64urlString(1, 400)).map(([h, signature]) => ({
          token: `${b64json(h)}.${b64json(claims(provider))}.${signature}`,
          what: 'claims right, signature forged',
        })),
      },
    );
  }

  function formOf(fields: ReadonlyArray<readonly [string, string]>): string {
    return new URLSearchParams(fields.map(([k, v]) => [k, v])).toString();
  }

  const encoder = new TextEncoder();

  function shots(): fc.Arbitrary<Shot> {
    const contentType = fc.constantFrom(
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded',
      undefined,
      '',
      'text/plain',
      'application/json',
      'multipart/form-data; boundary=XyZ',
      'application/x-www-form-urlencoded; charset=utf-8',
      'application/x-www-form-urlencoded; charset=iso-8859-1',
      'application/x-www-form-urlencoded; charset=utf-16le',
      'application/x-www-form-urlencoded;charset="UTF-8"',
      'APPLICATION/X-WWW-FORM-URLENCODED',
      'application/x-www-form-urlencodedx',
      'application/x-www-form-urlencoded, text/plain',
    );
    const provider = fc.constantFrom<Shot['provider']>('default', 'down');
    return provider.chain((p) => {
      const token = tokens(p);
      const body = fc.oneof(
        { weight: 6, arbitrary: token.map(({ token: t, what }) => ({ text: formOf([['logout_token', t]]), what })) },
        fc.array(token, { minLength: 2, maxLength: 4 }).map((list) => ({
          text: formOf(list.map(({ token: t }) => ['logout_token', t] as const)),
          what: `${list.length} logout_token fields`,
        })),
        token.map(({ token: t, what }) => ({ text: JSON.stringify({ logout_token: t }), what: `JSON body, ${what}` })),
        token.map(({ token: t, what }) => ({
          text: `--XyZ\r\nContent-Disposition: form-data; name="logout_token"\r\n\r\n${t}\r\n--XyZ--\r\n`,
          what: `multipart body, ${what}`,
        })),
        token.map(({ token: t, what }) => ({ text: `logout_token=${t}&logout_token`, what: `raw form with a bare repeat, ${what}` })),
        fc.constantFrom('', '&', '=', 'logout_token', 'logout_token=', 'LOGOUT_TOKEN=x', 'logout_token%00=x', '%ZZ=%').map((text) => ({
          text,
          what: `form ${JSON.stringify(text)}`,
        })),
        fc.constantFrom('a', '.').map((c) => ({ text: `logout_token=${c.repeat(1 << 20)}`, what: '1 MB logout_token' })),
      );
      const method = fc.oneof(
        { weight: 9, arbitrary: fc.constant('POST') },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH') },
      );
      return fc.tuple(method, contentType, body, fc.nat(19)).map(([m, type, { text, what }, streamed]) => {
        let shot: Shot;
        if (m === 'GET') shot = { method: m, provider: p, contentType: type, body: null, what: `GET (${what} dropped)` };
        else if (streamed === 0)
          shot = { method: m, provider: p, contentType: type, body: 'stream-1mb', what: '1 MB streamed body without a length' };
        else shot = { method: m, provider: p, contentType: type, body: encoder.encode(text), what };
        const shown = text.length > 300 ? `${text.slice(0, 300)}… (${text.length} characters)` : text;
        return labelled(shot, `${m} ${p} ${type ?? '(no content type)'}: ${shot.what}: ${JSON.stringify(shown)}`);
      });
    });
  }

  async function send(shot: Shot): Promise<Response> {
    const headers: Record<string, string> = {};
    if (shot.contentType !== undefined) headers['content-type'] = shot.contentType;
    const init: RequestInit & { duplex?: 'half' } = { method: shot.method, headers, redirect: 'manual' };
    if (shot.body === 'stream-1mb') {
      const chunk = encoder.encode(`logout_token=${'a'.repeat(64 * 1024 - 13)}`);
      let sent = 0;
      init.body = new ReadableStream({
        pull(controller) {
          if (sent++ < 16) controller.enqueue(chunk);
          else controller.close();
        },
      });
      init.duplex = 'half';
    } else if (shot.body !== null) {
      init.body = shot.body;
    }
    return fetch(`${stack.appUrl}/auth/backchannel-logout/${shot.provider}`, init);
  }

  // Catches: a 5xx or a non-JSON answer for a malformed request (a parser that throws, a body read
  // without a bound), a refusal shaped otherwise than §2.8, a write (jti claimed, tombstone) before
  // the signature is verified, and internals in error_description (issue 9, item 5).
  it('when the request is malformed in any way then the answer is 400 {error, error_description} and nothing is written', async () => {
    await fc.assert(
      fc.asyncProperty(shots(), async (shot) => {
        const where = `${shot.method} ${shot.provider} ${shot.contentType ?? '(no content type)'}: ${shot.what}`;
        let response: Response;
        try {
          response = await send(shot);
        } catch (error) {
          // The server may answer a huge body before reading it and close the connection: no answer to check then.
          if (shot.body === 'stream-1mb' || (shot.body instanceof Uint8Array && shot.body.length > 1 << 19)) return;
          throw error;
        }
        const text = await response.text();
        expect(response.status, `${where} → ${text.slice(0, 200)}`).toBe(400);
        expect(response.headers.get('content-type'), where).toMatch(/^application\/json/);
        expect(response.headers.get('set-cookie'), where).toBeNull();
        const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
        expect(body.error, where).toBe('invalid_request');
        expect(typeof body.error_description, where).toBe('string');
        const description = body.error_description as string;
        expect(description, `no internals in error_description: ${where}`).not.toMatch(
          /fetch failed|https?:\/\/|127\.0\.0\.1|ECONNREFUSED|bad port|\n\s+at /i,
        );
        expect(counting.writes, `store writes after ${where}: ${counting.written.join(', ')}`).toBe(0);
      }),
      fuzzOptions(160, { shrink: false }),
    );
  });

  // Catches: the property above passing because the route refuses everything: a real token from a
  // stranger's key is refused, the session the forged tokens named is still alive, and the route
  // answers at all (a genuine logout succeeding is proven in flood.test.ts and test/e2e).
  it('when the fuzzing is over then the session the forged tokens named is still signed in', async () => {
    const forged = await stranger.logoutToken('demo', { iss: stack.provider.issuer, sid: aliceSid });
    const response = await fetch(`${stack.appUrl}/auth/backchannel-logout/default`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: formOf([['logout_token', forged]]),
    });
    expect(response.status).toBe(400);
    await response.body?.cancel();
    expect((await alice.fetch(`${stack.appUrl}/api/me`)).status).toBe(200);
    expect(counting.writes).toBe(0);
  });
});
