/**
 * OP-initiated logout end to end: the real `oidc-provider` ends its session and makes its
 * own back-channel call to the demo app, which ends our session — in both session modes.
 * Front-channel: a GET with the provider's iss and the session's sid ends it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderLogoutEvent } from '../../src/index.js';
import { Agent } from '../support/agent.js';
import { type Stack, startStack } from '../support/stack.js';

const ALICE = { login: 'alice', password: 'alice-password' };

async function signIn(stack: Stack, agent = new Agent()) {
  await agent.loginAtProvider(`${stack.appUrl}/auth/login?returnTo=/api/me`, ALICE);
  return agent;
}

async function status(stack: Stack, agent: Agent): Promise<number> {
  return (await agent.fetch(`${stack.appUrl}/api/me`)).status;
}

/** Waits for the provider's back-channel call, which it makes while answering the end-session request. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe.each(['cookie', 'server'] as const)('back-channel logout from the real provider (%s mode)', (mode) => {
  let stack: Stack;
  const events: ProviderLogoutEvent[] = [];
  beforeAll(async () => {
    stack = await startStack({
      auth: { session: { mode }, onProviderLogout: (event) => void events.push(event) },
      client: { backchannel_logout_uri: 'BACKCHANNEL', backchannel_logout_session_required: true },
    });
  });
  afterAll(() => stack.close());

  it('when the user signs out at the provider directly then the provider calls us and our session ends', async () => {
    const agent = await signIn(stack);
    const otherDevice = await signIn(stack);
    expect(await status(stack, agent)).toBe(200);
    await agent.confirmProviderLogout(`${stack.provider.issuer}/session/end`);
    await until(() => events.length > 0, 'the back-channel call');
    expect(events[0]).toMatchObject({ channel: 'back-channel', provider: 'default', iss: stack.provider.issuer, sub: 'alice' });
    expect(events[0]!.sid).toEqual(expect.any(String));
    expect(events[0]!.ended).toBe(mode === 'server' ? 1 : null);
    expect(await status(stack, agent)).toBe(401);
    // The other device had its own provider session (another sid): it stays signed in.
    expect(await status(stack, otherDevice)).toBe(200);
  });
});

describe.each(['cookie', 'server'] as const)('front-channel logout (%s mode)', (mode) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ auth: { session: { mode } }, provider: { frontChannelLogout: true } });
  });
  afterAll(() => stack.close());

  async function sidOf(agent: Agent): Promise<string> {
    const body = (await (await agent.fetch(`${stack.appUrl}/api/me`)).json()) as { user: { sid: string } };
    return body.user.sid;
  }

  it('when the provider frames the URL with its iss and our sid then the session ends server-side', async () => {
    const agent = await signIn(stack);
    const sid = await sidOf(agent);
    const url = new URL(`${stack.appUrl}/auth/frontchannel-logout/default`);
    url.search = new URLSearchParams({ iss: stack.provider.issuer, sid }).toString();
    // The iframe request carries no cookie (cross-site, SameSite=Lax): a bare fetch is that request.
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toContain(`frame-ancestors ${stack.provider.issuer}`);
    expect(response.headers.get('x-frame-options')).toBeNull();
    expect(await status(stack, agent)).toBe(401);
  });

  it('when iss is wrong or only one of iss/sid is sent then nothing ends', async () => {
    const agent = await signIn(stack);
    const sid = await sidOf(agent);
    const queries: Array<Record<string, string>> = [
      { iss: 'https://evil.example', sid },
      { sid },
      { iss: stack.provider.issuer },
      { iss: `${stack.provider.issuer}/`, sid },
    ];
    for (const query of queries) {
      const response = await fetch(`${stack.appUrl}/auth/frontchannel-logout/default?${new URLSearchParams(query)}`);
      expect(response.status).toBe(200);
    }
    expect(await status(stack, agent)).toBe(200);
  });

  it('when called without parameters as a top-level page (not a frame) then nothing ends', async () => {
    const agent = await signIn(stack);
    const response = await agent.fetch(`${stack.appUrl}/auth/frontchannel-logout/default`, { headers: { 'sec-fetch-dest': 'document' } });
    expect(response.status).toBe(200);
    expect(await status(stack, agent)).toBe(200);
  });

  it('when called without parameters then it ends the session of the cookie it was sent', async () => {
    const agent = await signIn(stack);
    const response = await agent.fetch(`${stack.appUrl}/auth/frontchannel-logout/default`);
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie().some((c) => c.startsWith('oidc.session=;'))).toBe(true);
    expect(await status(stack, agent)).toBe(401);
  });
});
