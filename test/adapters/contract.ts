/**
 * The behaviour every adapter must show, run by each adapter's test file against a real
 * development provider, with the app on a real port (the provider redirects back to it).
 */
import { createServer, request, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DevProvider, startDevProvider } from '../../examples/demo/dev-provider.js';
import { createAuth } from '../../src/config.js';
import type { Auth } from '../../src/core/types.js';
import { Agent } from '../support/agent.js';

/**
 * Builds the app on `server` (already listening). The app must serve `GET /me` behind
 * `requireAuth` answering `{ sub }` from the adapter's session, `GET /public` answering
 * `{ signedIn }` without a guard, and `GET /refresh` answering `{ before, after }`: the access
 * token of the adapter's session before and after the adapter's refresh call. Returns a cleanup for anything beyond the server.
 */
export type AttachApp = (auth: Auth, server: Server) => Promise<(() => Promise<void>) | void>;

export interface Harness {
  baseUrl: string;
  auth: Auth;
  provider: DevProvider;
  discovery: { authorization_endpoint: string; end_session_endpoint: string };
}

const CLIENT = { client_id: 'adapter-test', client_secret: 'adapter-test-secret-0123456789abcdef' };
const ALICE = { login: 'alice', password: 'alice-password' };
const JSON_ACCEPT = { Accept: 'application/json' };

/** Registers the shared behaviour tests in the caller's `describe`; returns the running harness. */
export function adapterContract(attach: AttachApp): () => Harness {
  let harness: Harness | undefined;
  let cleanup: () => Promise<void> = async () => {};
  beforeAll(async () => {
    ({ harness, cleanup } = await startHarness(attach));
  });
  afterAll(() => cleanup());
  const h = () => harness!;

  it('when GET /auth/login then 302 to the authorization endpoint with PKCE S256', async () => {
    const response = await fetch(`${h().baseUrl}/auth/login`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(h().discovery.authorization_endpoint);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('client_id')).toBe(CLIENT.client_id);
    expect(location.searchParams.get('redirect_uri')).toBe(`${h().baseUrl}/auth/callback`);
  });

  it('when an auth route is requested with a foreign Host header then it is answered for the configured origin', async () => {
    const response = await rawGet(`${h().baseUrl}/auth/login`, { Host: 'evil.example' });
    expect(response.status).toBe(302);
    expect(new URL(response.location!).searchParams.get('redirect_uri')).toBe(`${h().baseUrl}/auth/callback`);
  });

  it('when the app calls the adapter refresh then the session gets a new access token', async () => {
    const agent = await signedInAgent(h());
    const response = await agent.fetch(`${h().baseUrl}/refresh`);
    expect(response.status).toBe(200);
    const { before, after } = (await response.json()) as { before?: string; after?: string };
    expect(before).toEqual(expect.any(String));
    expect(after).toEqual(expect.any(String));
    expect(after).not.toBe(before);
    expect(response.headers.getSetCookie().some((c) => c.startsWith('oidc.tokens='))).toBe(true);
  });

  it('when the user signs in at the provider then the protected route sees their claims', async () => {
    const agent = new Agent();
    const result = await agent.loginAtProvider(`${h().baseUrl}/auth/login?returnTo=/me`, ALICE);
    expect(result.url.href).toBe(`${h().baseUrl}/me`);
    expect(result.response.status).toBe(200);
    expect(await result.response.json()).toEqual({ sub: 'alice' });
    const again = await agent.fetch(`${h().baseUrl}/me`, { headers: JSON_ACCEPT });
    expect(await again.json()).toEqual({ sub: 'alice' });
  });

  it('when a browser without a session opens a protected page then 302 to the login route with returnTo', async () => {
    const response = await fetch(`${h().baseUrl}/me?tab=1`, { redirect: 'manual', headers: { Accept: 'text/html,*/*;q=0.8' } });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`/auth/login?returnTo=${encodeURIComponent('/me?tab=1')}`);
    // fetch() always sends its own Sec-Fetch-Mode (cors), so a navigation goes out through node:http.
    const navigating = await rawGet(`${h().baseUrl}/me`, { 'Sec-Fetch-Mode': 'navigate', Accept: '*/*' });
    expect(navigating.status).toBe(302);
  });

  it('when an API client without a session calls a protected route then 401 JSON with the login URL', async () => {
    const response = await fetch(`${h().baseUrl}/me`, { headers: JSON_ACCEPT });
    expect(response.status).toBe(401);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ error: 'unauthorized', login: '/auth/login?returnTo=%2Fme' });
  });

  it('when the session cookie is garbage then the app answers and every cookie deletion reaches the browser', async () => {
    const cookie = 'oidc.session=garbage; oidc.tokens=garbage';
    const response = await fetch(`${h().baseUrl}/public`, { headers: { cookie } });
    expect(await response.json()).toEqual({ signedIn: false });
    const deleted = response.headers.getSetCookie().map((line) => line.split('=')[0]);
    expect(deleted).toEqual(expect.arrayContaining(['oidc.session', 'oidc.tokens']));
  });

  it('when the user posts logout with the CSRF token then 303 to end_session_endpoint and the session is gone', async () => {
    const agent = await signedInAgent(h());
    const response = await postLogout(agent, h(), { csrfToken: await csrfTokenOf(agent, h()) });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(h().discovery.end_session_endpoint);
    expect(location.searchParams.get('client_id')).toBe(CLIENT.client_id);
    const me = await agent.fetch(`${h().baseUrl}/me`, { headers: JSON_ACCEPT });
    expect(me.status).toBe(401);
    // The provider shares the host 127.0.0.1 (cookies ignore ports): only ours must be gone.
    expect(Object.keys(agent.cookies(`${h().baseUrl}/me`)).filter((name) => name.startsWith('oidc.'))).toEqual([]);
  });

  it('when logout is posted without the CSRF token then 403 and the session stays', async () => {
    const agent = await signedInAgent(h());
    const response = await postLogout(agent, h(), {});
    expect(response.status).toBe(403);
    const me = await agent.fetch(`${h().baseUrl}/me`, { headers: JSON_ACCEPT });
    expect(me.status).toBe(200);
  });

  it('when a logout body is over 16 KiB then 413, with or without Content-Length', async () => {
    const form = `csrfToken=${'a'.repeat(17 * 1024)}`;
    const declared = await postLogoutRaw(h(), form);
    expect(declared.status).toBe(413);
    const chunked = await postLogoutRaw(h(), streamOf(form));
    expect(chunked.status).toBe(413);
  });

  it('when a back-channel logout body is over 16 KiB then the core answers 400 JSON, with or without Content-Length', async () => {
    // A provider posts server to server: no Origin, no cookie, nothing an adapter may refuse on.
    const form = `logout_token=${'a'.repeat(17 * 1024)}`;
    for (const body of [form, streamOf(form)]) {
      const response = await postForm(`${h().baseUrl}/auth/backchannel-logout/default`, body, {});
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    }
  });

  it('when the request target is absolute-form, * or has a malformed query then no 500 and the server stays up', async () => {
    const answered: Record<string, number> = {};
    for (const target of ['http://x/auth/login', '*', '/auth/login?%zz']) {
      answered[target] = await rawRequestLine(h().baseUrl, `GET ${target} HTTP/1.1`);
    }
    // An answer (not a dropped connection), and not a server error.
    expect(Object.entries(answered).filter(([, status]) => status < 200 || status >= 500)).toEqual([]);
    // The absolute-form target keeps its path: the login route answers it.
    expect(answered['http://x/auth/login']).toBe(302);
    const response = await fetch(`${h().baseUrl}/public`);
    expect(await response.json()).toEqual({ signedIn: false });
  });

  return h;
}

async function startHarness(attach: AttachApp): Promise<{ harness: Harness; cleanup: () => Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = await startDevProvider({
    clients: [
      {
        ...CLIENT,
        redirect_uris: [`${baseUrl}/auth/callback`],
        post_logout_redirect_uris: [`${baseUrl}/auth/logout/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
      },
    ],
  });
  const auth = createAuth({
    baseUrl,
    secret: 'x'.repeat(32) + 'adapter-tests',
    providers: {
      default: {
        issuer: provider.issuer,
        clientId: CLIENT.client_id,
        clientSecret: CLIENT.client_secret,
        // offline_access with prompt=consent: the provider issues a refresh token.
        scopes: ['openid', 'profile', 'offline_access'],
        authorizationParams: { prompt: 'consent' },
      },
    },
    exposeTokens: ['access'],
    refresh: {},
    logger: { warn: () => {}, error: (message) => console.error(message) },
  });
  const closeApp = await attach(auth, server);
  const discovery = await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json();
  const cleanup = async () => {
    await closeApp?.();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await provider.close();
  };
  return { harness: { baseUrl, auth, provider, discovery }, cleanup };
}

async function signedInAgent(h: Harness): Promise<Agent> {
  const agent = new Agent();
  const result = await agent.loginAtProvider(`${h.baseUrl}/auth/login?returnTo=/me`, ALICE);
  expect(result.response.status).toBe(200);
  return agent;
}

async function csrfTokenOf(agent: Agent, h: Harness): Promise<string> {
  const response = await agent.fetch(`${h.baseUrl}/auth/csrf`);
  const { csrfToken } = (await response.json()) as { csrfToken: string };
  expect(csrfToken).toEqual(expect.any(String));
  return csrfToken;
}

function postLogout(agent: Agent, h: Harness, fields: Record<string, string>): Promise<Response> {
  return agent.fetch(`${h.baseUrl}/auth/logout`, {
    method: 'POST',
    headers: { Origin: h.baseUrl, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
    initiator: `${h.baseUrl}/`,
  });
}

function postLogoutRaw(h: Harness, body: string | ReadableStream<Uint8Array>): Promise<Response> {
  return postForm(`${h.baseUrl}/auth/logout`, body, { Origin: h.baseUrl });
}

function postForm(url: string, body: string | ReadableStream<Uint8Array>, headers: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
    // Required by fetch for a streamed body, which goes out chunked, without Content-Length.
    duplex: 'half',
  } as RequestInit);
}

function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 4096) controller.enqueue(bytes.slice(at, at + 4096));
      controller.close();
    },
  });
}

/** A GET through node:http, which sends headers that fetch() overrides or refuses (Sec-Fetch-Mode, Host). */
export function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, location: response.headers.location });
    })
      .on('error', reject)
      .end();
  });
}

/**
 * Sends one request line over a bare socket (node:http and fetch() normalise the target) and
 * returns the status of the answer, or 0 when the server closed the connection without one.
 */
function rawRequestLine(baseUrl: string, requestLine: string): Promise<number> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(Number(port), hostname, () => {
      socket.write(`${requestLine}\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0)));
  });
}
