/**
 * The embedded development provider and the test Agent, proven against a throwaway relying party
 * built directly on openid-client (no code of this library involved).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS, type DevProvider, startDevProvider } from '../../examples/demo/dev-provider.js';
import { Agent, parseForms } from '../support/agent.js';

const CLIENT_ID = 'throwaway-rp';
const CLIENT_SECRET = 'throwaway-rp-secret';
const alice = { login: 'alice', password: 'alice-password' };

interface Callback {
  claims: Record<string, unknown>;
  idToken: string;
}

/** A minimal relying party: /login redirects to the provider, /callback redeems the code. */
class ThrowawayRp {
  readonly #server: Server;
  readonly #pending = new Map<string, { verifier: string; nonce: string }>();
  config: client.Configuration | undefined;
  base = '';
  readonly clientId: string;

  constructor(clientId = CLIENT_ID) {
    this.clientId = clientId;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      });
    });
  }

  get redirectUri(): string {
    return `${this.base}/callback`;
  }

  get postLogoutUri(): string {
    return `${this.base}/signed-out`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async discover(issuer: string): Promise<void> {
    this.config = await client.discovery(new URL(issuer), this.clientId, CLIENT_SECRET, undefined, {
      execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    if (url.pathname === '/login') return this.#startLogin(res);
    if (url.pathname === '/callback') return this.#finishLogin(url, res);
    if (url.pathname === '/signed-out') return send(res, 200, 'text/plain', 'signed out');
    send(res, 404, 'text/plain', 'not found');
  }

  async #startLogin(res: ServerResponse): Promise<void> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    this.#pending.set(state, { verifier, nonce });
    const target = client.buildAuthorizationUrl(this.#configuration(), {
      redirect_uri: this.redirectUri,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    res.writeHead(302, { location: target.href });
    res.end();
  }

  async #finishLogin(url: URL, res: ServerResponse): Promise<void> {
    const state = url.searchParams.get('state') ?? '';
    const pending = this.#pending.get(state);
    if (!pending) return send(res, 400, 'text/plain', 'unknown state');
    this.#pending.delete(state);
    const tokens = await client.authorizationCodeGrant(this.#configuration(), url, {
      pkceCodeVerifier: pending.verifier,
      expectedState: state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const body: Callback = { claims: { ...tokens.claims() }, idToken: tokens.id_token ?? '' };
    send(res, 200, 'application/json', JSON.stringify(body));
  }

  #configuration(): client.Configuration {
    if (!this.config) throw new Error('discover() first');
    return this.config;
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

async function discoveryOf(provider: DevProvider): Promise<Record<string, unknown>> {
  const response = await fetch(`${provider.issuer}/.well-known/openid-configuration`);
  return (await response.json()) as Record<string, unknown>;
}

describe('embedded development provider', () => {
  const rp = new ThrowawayRp();
  let provider: DevProvider;

  beforeAll(async () => {
    await rp.listen();
    provider = await startDevProvider({
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [rp.redirectUri],
          post_logout_redirect_uris: [rp.postLogoutUri],
        },
      ],
    });
    await rp.discover(provider.issuer);
  });

  afterAll(async () => {
    await rp.close();
    await provider?.close();
  });

  it('when discovered then it advertises RP-initiated and back-channel logout and S256 PKCE', async () => {
    const metadata = await discoveryOf(provider);
    expect(metadata.issuer).toBe(provider.issuer);
    expect(metadata.end_session_endpoint).toBe(`${provider.issuer}/session/end`);
    expect(metadata.backchannel_logout_supported).toBe(true);
    expect(metadata.backchannel_logout_session_supported).toBe(true);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(provider.users.map((user) => user.login)).toEqual(DEMO_USERS.map((user) => user.login));
  });

  it('when endSession is false then discovery has no end_session_endpoint', async () => {
    const bare = await startDevProvider({ clients: [], endSession: false });
    try {
      const metadata = await discoveryOf(bare);
      expect(metadata).not.toHaveProperty('end_session_endpoint');
      expect(metadata.backchannel_logout_supported).toBe(true);
    } finally {
      await bare.close();
    }
  });

  it('when asked to sign in then it lists the demo users and refuses a wrong password', async () => {
    const agent = new Agent();
    const { response } = await agent.follow(`${rp.base}/login`);
    const html = await response.text();
    for (const user of DEMO_USERS) {
      expect(html).toContain(user.login);
      expect(html).toContain(user.password);
    }
    await expect(agent.loginAtProvider(`${rp.base}/login`, { login: 'alice', password: 'nope' })).rejects.toThrow(/rejected the login/);
  });

  describe('one browser through login, silent re-login, logout and login again', () => {
    const agent = new Agent();
    let first: Callback;

    it('when a user signs in then the ID token carries sub, sid and name', async () => {
      const result = await agent.loginAtProvider(`${rp.base}/login`, alice);
      expect(result.sawLoginForm).toBe(true);
      expect(result.url.href.startsWith(rp.redirectUri)).toBe(true);
      expect(result.response.status).toBe(200);
      first = (await result.response.json()) as Callback;
      expect(first.claims).toMatchObject({ iss: provider.issuer, aud: CLIENT_ID, sub: 'alice', name: 'Alice Liddell' });
      expect(first.claims.sid).toEqual(expect.any(String));
      expect(first.claims.email).toBe('alice@example.test');
    });

    it('when the provider session lives then a second login shows no login form', async () => {
      const result = await agent.loginAtProvider(`${rp.base}/login`, alice);
      expect(result.sawLoginForm).toBe(false);
      expect(result.response.status).toBe(200);
      const second = (await result.response.json()) as Callback;
      expect(second.claims.sub).toBe('alice');
      expect(second.claims.sid).toBe(first.claims.sid);
    });

    it('when logout is confirmed at end_session_endpoint then the agent returns with the state', async () => {
      const endSession = client.buildEndSessionUrl(rp.config as client.Configuration, {
        id_token_hint: first.idToken,
        post_logout_redirect_uri: rp.postLogoutUri,
        state: 'xyz',
      });
      const result = await agent.confirmProviderLogout(endSession);
      expect(result.url.origin + result.url.pathname).toBe(rp.postLogoutUri);
      expect(result.url.searchParams.get('state')).toBe('xyz');
      expect(result.response.status).toBe(200);
      expect(agent.cookies(provider.issuer)).not.toHaveProperty('_session');
    });

    it('when the provider session ended then login asks for the password again', async () => {
      const result = await agent.loginAtProvider(`${rp.base}/login`, alice);
      expect(result.sawLoginForm).toBe(true);
      const third = (await result.response.json()) as Callback;
      expect(third.claims.sub).toBe('alice');
      expect(third.claims.sid).not.toBe(first.claims.sid);
    });
  });
});

describe('the provider as the demo runs it: first-party app, signed-out page, favicon', () => {
  const firstParty = new ThrowawayRp('first-party');
  const thirdParty = new ThrowawayRp('third-party');
  let provider: DevProvider;
  /** True when the sign-in went through the consent page (its form posts to /interaction/…/confirm). */
  const askedConsent = (chain: URL[]) => chain.some((url) => /^\/interaction\/[\w-]+\/confirm$/.test(url.pathname));

  beforeAll(async () => {
    await Promise.all([firstParty.listen(), thirdParty.listen()]);
    const registration = (rp: ThrowawayRp) => ({
      client_id: rp.clientId,
      client_secret: CLIENT_SECRET,
      redirect_uris: [rp.redirectUri],
      post_logout_redirect_uris: [rp.postLogoutUri],
    });
    provider = await startDevProvider({ clients: [{ ...registration(firstParty), firstParty: true }, registration(thirdParty)] });
    await Promise.all([firstParty.discover(provider.issuer), thirdParty.discover(provider.issuer)]);
  });

  afterAll(async () => {
    await Promise.all([firstParty.close(), thirdParty.close()]);
    await provider?.close();
  });

  it('when a user signs in to a first-party app for the first time then only the password is asked, and the scopes are granted', async () => {
    const result = await new Agent().loginAtProvider(`${firstParty.base}/login`, alice);
    expect(result.sawLoginForm).toBe(true);
    expect(askedConsent(result.chain)).toBe(false);
    const { claims } = (await result.response.json()) as Callback;
    expect(claims).toMatchObject({ aud: 'first-party', sub: 'alice', name: 'Alice Liddell', email: 'alice@example.test' });
  });

  it('when the same user signs in to another app then it still asks for consent', async () => {
    const result = await new Agent().loginAtProvider(`${thirdParty.base}/login`, alice);
    expect(askedConsent(result.chain)).toBe(true);
    expect(((await result.response.json()) as Callback).claims).toMatchObject({ aud: 'third-party', email: 'alice@example.test' });
  });

  /** The links of a page, as [href, text]. */
  const linksOf = (html: string) => [...html.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map(([, href, text]) => [href, text]);

  it('when a person signs out of the provider then the "Signed out" page links back to each app', async () => {
    const agent = new Agent();
    await agent.loginAtProvider(`${firstParty.base}/login`, alice);
    // "Yes, sign me out": oidc-provider does not say which app sent the person here.
    const result = await agent.confirmProviderLogout(`${provider.issuer}/session/end?client_id=first-party`);
    const html = await result.response.text();
    expect(html).toContain('<h1>Signed out</h1>');
    expect(linksOf(html)).toEqual([
      [`${firstParty.base}/`, 'Back to first-party'],
      [`${thirdParty.base}/`, 'Back to third-party'],
    ]);
  });

  it('when a person signs out of one app only at the provider then the "Signed out" page links back to that app', async () => {
    const agent = new Agent();
    await agent.loginAtProvider(`${firstParty.base}/login`, alice);
    const start = await agent.follow(`${provider.issuer}/session/end?client_id=first-party`);
    const form = parseForms(await start.response.text(), start.url).find((f) => f.fields.some((field) => field.name === 'xsrf'))!;
    // "No, only this application": the form without the logout button's value.
    const result = await agent.submitForm(start.url, form);
    const html = await result.response.text();
    expect(html).toContain('You are signed out of first-party.');
    expect(linksOf(html)).toEqual([[`${firstParty.base}/`, 'Back to the application']]);
  });

  it('when a browser asks for /favicon.ico then it gets an empty answer to cache, not a 404', async () => {
    const response = await fetch(`${provider.issuer}/favicon.ico`);
    expect(response.status).toBe(204);
    expect(response.headers.get('cache-control')).toBe('public, max-age=86400');
  });
});

describe('Agent against a provider on another site (issuerHost localhost)', () => {
  const rp = new ThrowawayRp();
  let provider: DevProvider;

  beforeAll(async () => {
    await rp.listen();
    provider = await startDevProvider({ issuerHost: 'localhost', clients: [] });
    await provider.addClient({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [rp.redirectUri],
      post_logout_redirect_uris: [rp.postLogoutUri],
    });
    await rp.discover(provider.issuer);
  });

  afterAll(async () => {
    await rp.close();
    await provider?.close();
  });

  it('when the redirects cross sites then login and logout still complete', async () => {
    const agent = new Agent();
    const login = await agent.loginAtProvider(`${rp.base}/login`, alice);
    expect(login.sawLoginForm).toBe(true);
    const { idToken, claims } = (await login.response.json()) as Callback;
    expect(claims.iss).toBe(provider.issuer);
    expect(Object.keys(agent.cookies(provider.issuer))).toContain('_session');
    expect(agent.cookies(rp.base)).not.toHaveProperty('_session');

    const endSession = client.buildEndSessionUrl(rp.config as client.Configuration, {
      id_token_hint: idToken,
      post_logout_redirect_uri: rp.postLogoutUri,
      state: 'cross',
    });
    const logout = await agent.confirmProviderLogout(endSession);
    expect(logout.url.searchParams.get('state')).toBe('cross');
    expect((await agent.loginAtProvider(`${rp.base}/login`, alice)).sawLoginForm).toBe(true);
  });
});

describe('Agent cookie jar', () => {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/set') {
      res.setHeader('set-cookie', ['plain=1; Path=/', 'scoped=2; Path=/only', 'strict=3; Path=/; SameSite=Strict', 'doomed=4']);
    }
    if (url.pathname === '/clear') res.setHeader('set-cookie', 'doomed=; Max-Age=0');
    const echo = {
      cookie: req.headers.cookie ?? '',
      origin: req.headers.origin ?? null,
      site: req.headers['sec-fetch-site'] ?? null,
    };
    send(res, 200, 'application/json', JSON.stringify(echo));
  });
  let base = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('when cookies are set then they follow host and path, not port, and Max-Age=0 deletes', async () => {
    const agent = new Agent();
    await agent.fetch(`${base}/set`);
    expect(agent.cookies(`${base}/`)).toEqual({ plain: '1', strict: '3', doomed: '4' });
    expect(agent.cookies(`${base}/only/page`)).toMatchObject({ scoped: '2', plain: '1' });
    expect(agent.cookies('http://127.0.0.1:1/')).toHaveProperty('plain');
    expect(agent.cookies('http://localhost:1/')).toEqual({});
    await agent.fetch(`${base}/clear`);
    expect(agent.cookies(`${base}/`)).not.toHaveProperty('doomed');
  });

  it('when a request comes from another site then SameSite decides which cookies go', async () => {
    const agent = new Agent();
    await agent.fetch(`${base}/set`);
    const cookiesFrom = async (init: Parameters<Agent['fetch']>[1]) =>
      (await (await agent.fetch(`${base}/echo`, init)).json()) as { cookie: string; origin: string | null; site: string | null };

    const navigation = await cookiesFrom({ initiator: 'http://localhost:9/page' });
    expect(navigation.cookie).toContain('plain=1');
    expect(navigation.cookie).not.toContain('strict=3');
    expect(navigation.site).toBe('cross-site');

    expect((await cookiesFrom({ initiator: 'http://localhost:9/page', frame: true })).cookie).toBe('');
    const post = await cookiesFrom({ initiator: 'http://localhost:9/page', method: 'POST', body: 'x=1' });
    expect(post).toEqual({ cookie: '', origin: 'http://localhost:9', site: 'cross-site' });

    const sameOrigin = await cookiesFrom({ initiator: `${base}/page`, method: 'POST', body: 'x=1' });
    expect(sameOrigin.cookie).toContain('strict=3');
    expect(sameOrigin.site).toBe('same-origin');
  });
});
