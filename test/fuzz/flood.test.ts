/**
 * Anonymous floods (issue 9, items 1–3): requests that anyone can send, many times, must not
 * grow the store without bound nor cost a genuine logout.
 *
 * The contract: front-channel logout by `sid` is a per-provider opt-in (`frontChannelLogout:
 * true`; off, the route answers nothing and the app's 404 shows); `sid` longer than 255 bytes is
 * refused without a write; front-channel logouts are budgeted per provider per minute
 * (`frontchannel.maxLogoutsPerMinute`, default 60; past it 503 and no write); a session cookie
 * that names no stored session (server mode) writes nothing.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderLogoutEvent } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import type { Agent } from '../support/agent.js';
import { type Stack, startStack } from '../support/stack.js';
import { base64urlString, type CountingStore, countingStore, fuzzOptions, labelled, SEED, signIn } from './support.js';

const MAX_ID_BYTES = 255;
const PER_MINUTE = 60;
/** A flood spans at most two budget windows (it may straddle a minute boundary). */
const MAX_NEW_ENTRIES = 2 * PER_MINUTE;

/** sids a stranger sends: short random ones, ones at the length limit, 8,000-character ones, unicode. */
const sid = fc
  .oneof(
    { weight: 6, arbitrary: base64urlString(8, 64) },
    { weight: 1, arbitrary: fc.integer({ min: MAX_ID_BYTES - 2, max: MAX_ID_BYTES + 2 }).map((n) => 's'.repeat(n)) },
    { weight: 2, arbitrary: fc.integer({ min: 256, max: 8000 }).chain((n) => base64urlString(n)) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 60, maxLength: 200 }) },
  )
  .map((value) => labelled({ value }, `sid of ${value.length} characters: ${JSON.stringify(value.slice(0, 40))}…`));

const byteLength = (text: string) => new TextEncoder().encode(text).byteLength;

async function status(stack: Stack, agent: Agent): Promise<number> {
  const response = await agent.fetch(`${stack.appUrl}/api/me`);
  await response.body?.cancel();
  return response.status;
}

describe('front-channel flood without cookies (cookie mode, frontChannelLogout: true)', () => {
  let stack: Stack;
  let counting: CountingStore;
  const events: ProviderLogoutEvent[] = [];

  beforeAll(async () => {
    counting = countingStore();
    stack = await startStack({
      auth: { store: counting.store, onProviderLogout: (event) => void events.push(event) },
      provider: { frontChannelLogout: true },
      client: { backchannel_logout_uri: 'BACKCHANNEL', backchannel_logout_session_required: true },
    });
  });
  afterAll(() => stack?.close());

  // Catches: one tombstone per request for as long as a session lives (issue 9, item 1): sids of any
  // length stored, no per-minute budget, or a budget that still writes past its end.
  it('when thousands of strangers send random sids then the store stays bounded and long sids write nothing', async () => {
    const alice = await signIn(stack);
    expect(await status(stack, alice)).toBe(200);
    const before = counting.inner.size();
    counting.reset();
    await fc.assert(
      fc.asyncProperty(sid, async ({ value }) => {
        const url = new URL(`${stack.appUrl}/auth/frontchannel-logout/default`);
        url.search = new URLSearchParams({ iss: stack.provider.issuer, sid: value }).toString();
        const writes = counting.writes;
        const response = await fetch(url);
        await response.body?.cancel();
        const where = `sid of ${value.length} characters (${byteLength(value)} bytes)`;
        expect([200, 400, 503], `status for ${where}`).toContain(response.status);
        if (byteLength(value) > MAX_ID_BYTES) expect(counting.writes - writes, `writes for ${where}`).toBe(0);
        if (response.status === 503) expect(counting.writes - writes, `writes past the budget, ${where}`).toBe(0);
      }),
      fuzzOptions(400, { shrink: false }),
    );
    const grown = counting.inner.size() - before;
    expect(grown, `store entries added by 400 anonymous front-channel logouts (${counting.writes} writes)`).toBeLessThanOrEqual(
      MAX_NEW_ENTRIES,
    );
    // Nothing the stranger sent named alice's sid.
    expect(await status(stack, alice)).toBe(200);
  });

  // Catches: a flood (or a full store) that costs a genuine signed logout (issue 9, item 1: a
  // back-channel logout answered partial_logout and the user stayed signed in).
  it('when the flood is over then a genuine back-channel logout from the provider still ends the session', async () => {
    const agent = await signIn(stack);
    expect(await status(stack, agent)).toBe(200);
    // A flood of its own, so that this holds whatever the property above did before it failed.
    for (const value of fc.sample(base64urlString(8, 64), { seed: SEED, numRuns: 300 })) {
      const url = new URL(`${stack.appUrl}/auth/frontchannel-logout/default`);
      url.search = new URLSearchParams({ iss: stack.provider.issuer, sid: value }).toString();
      const response = await fetch(url);
      await response.body?.cancel();
    }
    await agent.confirmProviderLogout(`${stack.provider.issuer}/session/end`);
    for (let i = 0; i < 100 && !events.some((e) => e.channel === 'back-channel'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(events.filter((e) => e.channel === 'back-channel')).toHaveLength(1);
    expect(stack.logs.filter((line) => line.message.includes('back-channel logout refused'))).toEqual([]);
    expect(await status(stack, agent)).toBe(401);
  });
});

describe('front-channel flood into a small store (cookie mode, frontChannelLogout: true)', () => {
  let stack: Stack;
  const events: ProviderLogoutEvent[] = [];
  beforeAll(async () => {
    stack = await startStack({
      // Fewer entries than one minute's front-channel budget: the flood alone can fill it.
      auth: { store: memoryStore({ maxEntries: PER_MINUTE / 2 }), onProviderLogout: (event) => void events.push(event) },
      provider: { frontChannelLogout: true },
      client: { backchannel_logout_uri: 'BACKCHANNEL', backchannel_logout_session_required: true },
    });
  });
  afterAll(() => stack?.close());

  // Catches: a full store costing a genuine signed logout (issue 9: "a full store must never cost a
  // genuine back-channel logout"): the jti or tombstone write refused, partial_logout, user signed in.
  it('when strangers have filled the store then a genuine back-channel logout still ends the session', async () => {
    const agent = await signIn(stack);
    for (const value of fc.sample(base64urlString(8, 64), { seed: SEED, numRuns: PER_MINUTE })) {
      const url = new URL(`${stack.appUrl}/auth/frontchannel-logout/default`);
      url.search = new URLSearchParams({ iss: stack.provider.issuer, sid: value }).toString();
      const response = await fetch(url);
      await response.body?.cancel();
      expect(response.status, 'a full store is never a 500').not.toBe(500);
    }
    await agent.confirmProviderLogout(`${stack.provider.issuer}/session/end`);
    for (let i = 0; i < 100 && !events.some((e) => e.channel === 'back-channel'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(stack.logs.filter((line) => line.message.includes('back-channel logout refused')).map((line) => line.message)).toEqual([]);
    expect(events.filter((e) => e.channel === 'back-channel')).toHaveLength(1);
    expect(await status(stack, agent)).toBe(401);
  });
});

describe('front-channel flood when the provider did not opt in (the default)', () => {
  let stack: Stack;
  let counting: CountingStore;
  beforeAll(async () => {
    counting = countingStore();
    stack = await startStack({ auth: { store: counting.store } });
  });
  afterAll(() => stack?.close());

  // Catches: the unauthenticated sid route existing for every provider (issue 9, item 3).
  it('when strangers send iss and sid then the route answers nothing (404) and nothing is written', async () => {
    await fc.assert(
      fc.asyncProperty(sid, async ({ value }) => {
        const url = new URL(`${stack.appUrl}/auth/frontchannel-logout/default`);
        url.search = new URLSearchParams({ iss: stack.provider.issuer, sid: value }).toString();
        const response = await fetch(url);
        await response.body?.cancel();
        expect(response.status, `sid of ${value.length} characters`).toBe(404);
      }),
      fuzzOptions(40, { shrink: false }),
    );
    expect(counting.written.slice(0, 5), `${counting.writes} store writes`).toEqual([]);
  });
});

describe('forged session ids (server mode)', () => {
  let stack: Stack;
  let counting: CountingStore;
  let alice: Agent;
  let anonymousCsrf: string;

  beforeAll(async () => {
    counting = countingStore();
    stack = await startStack({ auth: { store: counting.store, session: { mode: 'server' } } });
    alice = await signIn(stack);
    anonymousCsrf = ((await (await fetch(`${stack.appUrl}/auth/csrf`)).json()) as { csrfToken: string }).csrfToken;
    counting.reset();
  });
  afterAll(() => stack?.close());

  // Catches: a revocation mark (or any entry) written for an id that was never stored (issue 9,
  // item 2), on any route: reading the session, the CSRF route, logout with or without a token.
  it('when strangers send well-formed random 43-character session ids then nothing is written', async () => {
    const route = fc.constantFrom('me', 'csrf', 'logout', 'logout-with-token');
    await fc.assert(
      fc.asyncProperty(base64urlString(43), route, async (id, which) => {
        const cookie = `oidc.session=${id}`;
        let response: Response;
        if (which === 'me') response = await fetch(`${stack.appUrl}/api/me`, { headers: { cookie } });
        else if (which === 'csrf') response = await fetch(`${stack.appUrl}/auth/csrf`, { headers: { cookie } });
        else {
          response = await fetch(`${stack.appUrl}/auth/logout`, {
            method: 'POST',
            redirect: 'manual',
            headers: { cookie, origin: stack.appUrl, 'content-type': 'application/x-www-form-urlencoded' },
            body: which === 'logout' ? '' : new URLSearchParams({ csrfToken: anonymousCsrf, federated: 'false' }).toString(),
          });
        }
        await response.body?.cancel();
        const where = `${which} with ${cookie}`;
        expect(response.status, where).toBeLessThan(500);
        if (which === 'me') expect(response.status, where).toBe(401);
        expect(counting.written.slice(0, 3), `store writes after ${where}`).toEqual([]);
      }),
      fuzzOptions(300, { shrink: false }),
    );
    expect(await status(stack, alice)).toBe(200);
  });
});
