/**
 * Logout tokens without `exp` (Back-Channel Logout drafts before errata set 1, e.g. Glewlwyd's
 * draft 06): refused by default with a log line naming the option and its environment variable;
 * accepted with `backchannel.allowMissingExp`, and then still bounded — `iat` within
 * `maxTokenAge`, and the `jti` claimed, so the same token never works twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Auth, type BackchannelOptions, createAuth } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { isSignedIn, mintSession } from '../support/sessions.js';
import { TokenIssuer } from '../support/token-issuer.js';

const CLIENT = 'app';
const SECRET = 'missing-exp-secret-missing-exp-secret-0123';

let issuer: TokenIssuer;
beforeAll(async () => {
  issuer = await TokenIssuer.start();
});
afterAll(() => issuer.close());

function makeAuth(name: string, backchannel: BackchannelOptions, logs: string[] = []): Auth {
  return createAuth({
    baseUrl: 'http://127.0.0.1:3999',
    secret: SECRET,
    providers: { [name]: { issuer: issuer.issuer, clientId: CLIENT, clientSecret: 's', backchannel } },
    store: memoryStore(),
    logger: { warn: (m) => void logs.push(m), error: (m) => void logs.push(m) },
  });
}

async function send(auth: Auth, name: string, token: string): Promise<Response> {
  const request = new Request(`http://127.0.0.1:3999/auth/backchannel-logout/${name}`, {
    method: 'POST',
    body: new URLSearchParams({ logout_token: token }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  return (await auth.handle(request))!;
}

const loggedInAMinuteAgo = () => ({ createdAt: Math.floor(Date.now() / 1000) - 60 });

describe('logout tokens without exp', () => {
  it('when allowMissingExp is off then the token is refused, the session stays, and the log names the option and its variable', async () => {
    const logs: string[] = [];
    const auth = makeAuth('glewlwyd', {}, logs);
    const cookie = await mintSession(auth, SECRET, { provider: 'glewlwyd', sid: 'draft-06', ...loggedInAMinuteAgo() });
    const response = await send(auth, 'glewlwyd', await issuer.logoutToken(CLIENT, { exp: undefined, sid: 'draft-06' }));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error_description: string };
    expect(body.error_description).toBe('claim exp is missing');
    expect(await isSignedIn(auth, cookie)).toBe(true);
    const line = logs.find((l) => l.startsWith('back-channel logout refused (provider=glewlwyd)'));
    expect(line).toContain('claim exp is missing');
    expect(line).toContain('providers.glewlwyd.backchannel.allowMissingExp: true');
    expect(line).toContain('OIDC_GLEWLWYD_BACKCHANNEL_ALLOW_MISSING_EXP=true');
  });

  it('when the provider is "default" then the log names OIDC_BACKCHANNEL_ALLOW_MISSING_EXP', async () => {
    const logs: string[] = [];
    const auth = makeAuth('default', {}, logs);
    await send(auth, 'default', await issuer.logoutToken(CLIENT, { exp: undefined }));
    expect(logs.join('\n')).toContain('(environment: OIDC_BACKCHANNEL_ALLOW_MISSING_EXP=true)');
  });

  it('when the token has an invalid exp then no allowMissingExp hint is given', async () => {
    const logs: string[] = [];
    const auth = makeAuth('op', {}, logs);
    await send(auth, 'op', await issuer.logoutToken(CLIENT, { exp: 'soon' }));
    expect(logs.join('\n')).toMatch(/refused/);
    expect(logs.join('\n')).not.toMatch(/allowMissingExp/);
  });

  it('when allowMissingExp is on then the token ends the session once, and its replay is refused (jti claimed)', async () => {
    const auth = makeAuth('glewlwyd', { allowMissingExp: true });
    const cookie = await mintSession(auth, SECRET, { provider: 'glewlwyd', sid: 'once', ...loggedInAMinuteAgo() });
    const token = await issuer.logoutToken(CLIENT, { exp: undefined, sid: 'once' });
    expect((await send(auth, 'glewlwyd', token)).status).toBe(200);
    expect(await isSignedIn(auth, cookie)).toBe(false);
    const replay = await send(auth, 'glewlwyd', token);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error_description: string }).error_description).toMatch(/replay/);
  });

  it('when allowMissingExp is on then a token whose iat is older than maxTokenAge is refused', async () => {
    const auth = makeAuth('glewlwyd', { allowMissingExp: true, maxTokenAge: 60 });
    const cookie = await mintSession(auth, SECRET, { provider: 'glewlwyd', sid: 'old', createdAt: Math.floor(Date.now() / 1000) - 600 });
    const now = Math.floor(Date.now() / 1000);
    const response = await send(auth, 'glewlwyd', await issuer.logoutToken(CLIENT, { exp: undefined, sid: 'old', iat: now - 300 }));
    expect(response.status).toBe(400);
    expect(await isSignedIn(auth, cookie)).toBe(true);
  });
});
