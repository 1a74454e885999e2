/**
 * Logout parameters per provider: each preset's exact end-session URL, templates, removal of
 * standard parameters, the endSessionEndpoint stand-in, and the POST transport for long ID
 * tokens. The provider is a real HTTP discovery document (with or without end_session_endpoint).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Auth, createAuth, type ProviderOptions } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { type MintOptions, mintSession } from '../support/sessions.js';
import { TokenIssuer } from '../support/token-issuer.js';

const SECRET = 'logout-params-secret-logout-params-secret';
const APP = 'https://app.example.com';
const CALLBACK = `${APP}/auth/logout/callback`;

let plain: TokenIssuer; // discovery without end_session_endpoint (Cognito, Auth0 without OIDC logout, Google)
let oidcLogout: TokenIssuer; // discovery with end_session_endpoint (Entra, Keycloak, Okta)
beforeAll(async () => {
  plain = await TokenIssuer.start();
  oidcLogout = await TokenIssuer.start((issuer) => ({ end_session_endpoint: `${issuer}/oidc/logout?p=policy` }));
});
afterAll(async () => {
  await plain.close();
  await oidcLogout.close();
});

function makeAuth(issuer: TokenIssuer, provider: Partial<ProviderOptions>): Auth {
  return createAuth({
    baseUrl: APP,
    secret: SECRET,
    providers: { op: { issuer: issuer.issuer, clientId: 'app-client', clientSecret: 's', ...provider } },
    store: memoryStore(),
    logger: { warn: () => undefined, error: () => undefined },
  });
}

/** Signs a minted session out with POST /auth/logout and returns the response. */
async function logout(auth: Auth, session: MintOptions = {}): Promise<Response> {
  const cookie = await mintSession(auth, SECRET, session);
  const body = new URLSearchParams({ csrfToken: await auth.csrfToken(cookie) });
  const request = new Request(`${APP}/auth/logout`, {
    method: 'POST',
    body,
    headers: { cookie, origin: APP, 'content-type': 'application/x-www-form-urlencoded' },
  });
  return (await auth.handle(request))!;
}

async function endSessionUrl(auth: Auth, session: MintOptions = {}): Promise<URL> {
  const response = await logout(auth, session);
  expect(response.status).toBe(303);
  return new URL(response.headers.get('location')!);
}

describe('provider presets produce the exact end-session URL', () => {
  it('cognito: /logout?client_id=…&logout_uri=… and nothing else', async () => {
    const auth = makeAuth(plain, { preset: 'cognito', endSessionEndpoint: 'https://myapp.auth.eu-west-1.amazoncognito.com/logout' });
    const url = await endSessionUrl(auth);
    expect(url.href).toBe(
      `https://myapp.auth.eu-west-1.amazoncognito.com/logout?client_id=app-client&logout_uri=${encodeURIComponent(CALLBACK)}`,
    );
  });

  it('cognito without endSessionEndpoint fails at startup saying what to set', () => {
    expect(() => makeAuth(plain, { preset: 'cognito' })).toThrow(/endSessionEndpoint" is required by the "cognito" preset/);
  });

  it('auth0 without OIDC end-session: {issuer}/v2/logout?client_id=…&returnTo=…', async () => {
    const auth = makeAuth(plain, { preset: 'auth0' });
    const url = await endSessionUrl(auth);
    expect(url.href).toBe(`${plain.issuer}/v2/logout?client_id=app-client&returnTo=${encodeURIComponent(CALLBACK)}`);
  });

  it('auth0 with OIDC end-session enabled: the standard RP-initiated logout', async () => {
    const auth = makeAuth(oidcLogout, { preset: 'auth0' });
    const url = await endSessionUrl(auth);
    expect(url.pathname).toBe('/oidc/logout');
    expect([...url.searchParams.keys()]).toEqual(['p', 'id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state']);
  });

  it('entra: logout_hint from the login_hint claim, standard parameters kept', async () => {
    const auth = makeAuth(oidcLogout, { preset: 'entra' });
    const url = await endSessionUrl(auth, { claims: { login_hint: 'O.aADr3…hint' }, idToken: 'h.p.s' });
    expect(url.searchParams.get('logout_hint')).toBe('O.aADr3…hint');
    expect(url.searchParams.get('id_token_hint')).toBe('h.p.s');
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(CALLBACK);
    expect(url.searchParams.get('p')).toBe('policy');
  });

  it('entra: a user without the login_hint claim gets no empty logout_hint', async () => {
    const url = await endSessionUrl(makeAuth(oidcLogout, { preset: 'entra' }));
    expect(url.searchParams.has('logout_hint')).toBe(false);
  });

  for (const preset of ['keycloak', 'okta'] as const) {
    it(`${preset}: standard RP-initiated logout with id_token_hint, client_id, post_logout_redirect_uri, state`, async () => {
      const url = await endSessionUrl(makeAuth(oidcLogout, { preset }), { idToken: 'h.p.s' });
      expect(
        url.href.startsWith(`${oidcLogout.issuer}/oidc/logout?p=policy&id_token_hint=h.p.s&client_id=app-client&post_logout_redirect_uri=`),
      ).toBe(true);
      expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    });
  }

  it('google: no end-session endpoint exists, so logout is local only', async () => {
    const auth = makeAuth(plain, { preset: 'google' });
    const url = await endSessionUrl(auth);
    expect(url.origin + url.pathname).toBe(CALLBACK);
  });
});

describe('logoutParams and endSessionEndpoint', () => {
  it('when logoutParams add, replace and remove parameters then templates are expanded', async () => {
    const auth = makeAuth(oidcLogout, {
      logoutParams: {
        returnTo: '{postLogoutRedirectUri}?from={clientId}',
        ui_locales: 'de',
        id_token_hint: null,
        tenant: '{claim.tid}',
        home: '{baseUrl}/',
        raw: '{idToken}',
        kept: '{unknown}',
      },
    });
    const url = await endSessionUrl(auth, { claims: { tid: 't-42' }, idToken: 'h.p.s' });
    expect(url.searchParams.has('id_token_hint')).toBe(false);
    expect(url.searchParams.get('returnTo')).toBe(`${CALLBACK}?from=app-client`);
    expect(url.searchParams.get('tenant')).toBe('t-42');
    expect(url.searchParams.get('home')).toBe(`${APP}/`);
    expect(url.searchParams.get('raw')).toBe('h.p.s');
    expect(url.searchParams.get('kept')).toBe('{unknown}');
    expect(url.searchParams.get('ui_locales')).toBe('de');
  });

  it('when discovery has no end_session_endpoint then endSessionEndpoint stands in', async () => {
    const url = await endSessionUrl(makeAuth(plain, { endSessionEndpoint: 'https://sso.example.com/logout' }));
    expect(url.origin + url.pathname).toBe('https://sso.example.com/logout');
    expect(url.searchParams.get('client_id')).toBe('app-client');
  });

  it('when discovery has an end_session_endpoint then it wins over the stand-in', async () => {
    const url = await endSessionUrl(makeAuth(oidcLogout, { endSessionEndpoint: 'https://sso.example.com/logout' }));
    expect(url.pathname).toBe('/oidc/logout');
  });
});

/** The auto-submitting end-session form: its action and its hidden fields, decoded. */
function endSessionForm(html: string): { action: string; fields: Record<string, string> } {
  const decode = (value: string) =>
    value.replace(/&(#(\d+)|amp|quot|lt|gt);/g, (_m, name: string, code?: string) =>
      code ? String.fromCharCode(Number(code)) : ({ amp: '&', quot: '"', lt: '<', gt: '>' } as Record<string, string>)[name]!,
    );
  const action = /<form method="post" action="([^"]*)">/.exec(html)?.[1];
  const fields = [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map(([, name, value]) => [
    decode(name!),
    decode(value!),
  ]);
  return { action: decode(action ?? ''), fields: Object.fromEntries(fields) };
}

describe('end-session transport', () => {
  const longIdToken = `h.${'p'.repeat(2500)}.s`;
  const endpoint = () => `${oidcLogout.issuer}/oidc/logout`;

  it('when the URL would pass 2,000 characters and transport is auto then an auto-submitting POST form is sent', async () => {
    const response = await logout(makeAuth(oidcLogout, { endSessionTransport: 'auto' }), { idToken: longIdToken });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain(`<form method="post" action="${oidcLogout.issuer}/oidc/logout?p=policy">`);
    expect(html).toContain(`<input type="hidden" name="id_token_hint" value="${longIdToken}">`);
    expect(html).toContain('<input type="hidden" name="client_id" value="app-client">');
    expect(endSessionForm(html).fields).toMatchObject({ post_logout_redirect_uri: CALLBACK, state: expect.stringMatching(/^[\w-]{22}$/) });
    const nonce = /<script nonce="([^"]+)">document\.forms\[0\]\.submit\(\)<\/script>/.exec(html)?.[1];
    expect(response.headers.get('content-security-policy')).toContain(`script-src 'nonce-${nonce}'`);
    // The local session is cleared by this response too.
    expect(response.headers.getSetCookie().some((c) => c.startsWith('__Host-oidc.session=;'))).toBe(true);
  });

  it('when the URL is short and transport is auto then it stays a 303 GET', async () => {
    const response = await logout(makeAuth(oidcLogout, { endSessionTransport: 'auto' }), { idToken: 'h.p.s' });
    expect(response.status).toBe(303);
    const url = new URL(response.headers.get('location')!);
    expect(url.origin + url.pathname).toBe(endpoint());
    expect(url.searchParams.get('id_token_hint')).toBe('h.p.s');
    expect(url.searchParams.get('client_id')).toBe('app-client');
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(CALLBACK);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('when transport is get then even a long URL is a 303', async () => {
    const response = await logout(makeAuth(oidcLogout, {}), { idToken: longIdToken });
    expect(response.status).toBe(303);
    const location = response.headers.get('location')!;
    expect(location.length).toBeGreaterThan(2000);
    const url = new URL(location);
    expect(url.origin + url.pathname).toBe(endpoint());
    expect(url.searchParams.get('id_token_hint')).toBe(longIdToken);
  });

  it('when transport is post then the form is used for any URL', async () => {
    const response = await logout(makeAuth(oidcLogout, { endSessionTransport: 'post' }), { idToken: 'h.p.s' });
    expect(response.status).toBe(200);
    expect(response.headers.get('location')).toBeNull();
    const form = endSessionForm(await response.text());
    // The endpoint's own query stays in the action; the logout parameters travel in the body.
    expect(form.action).toBe(`${endpoint()}?p=policy`);
    expect(form.fields).toEqual({
      id_token_hint: 'h.p.s',
      client_id: 'app-client',
      post_logout_redirect_uri: CALLBACK,
      state: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
    });
  });
});
