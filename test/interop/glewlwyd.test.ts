/**
 * Interop with a second, independent provider: a real Glewlwyd process (Debian's package, a C
 * implementation), configured by the test, in cookie mode and in server mode on Redis. Every
 * flow: login, RP-initiated logout with `state`, front-channel and back-channel logout sent by
 * Glewlwyd itself, sign out everywhere — and what Glewlwyd does differently (logout tokens
 * without `exp`, client_secret_basic with form-encoded secrets), handled or reported.
 *
 * Each app below is the demo app with its own client at Glewlwyd:
 * - `front` registers only a front-channel logout URI (and opts in with `frontChannelLogout`);
 * - `back` registers only a back-channel logout URI and accepts tokens without `exp`;
 * - `strict` registers a back-channel logout URI with the default policy (exp required).
 * One app ending another's session through Glewlwyd shows which channel did it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoApp } from '../../examples/demo/app.js';
import { type Auth, createAuth, type ProviderLogoutEvent, type ProviderOptions, type Store } from '../../src/index.js';
import { redisStore } from '../../src/stores/redis.js';
import { Agent } from '../support/agent.js';
import {
  confirmGlewlwydLogout,
  GLEWLWYD_USER,
  type Glewlwyd,
  type GlewlwydClient,
  requireGlewlwyd,
  signInAtGlewlwyd,
  startGlewlwyd,
} from '../support/glewlwyd.js';
import { probeRedis, redisUrl, requireService } from '../support/services.js';

const available = requireGlewlwyd();
const redisUp = available && (await requireService('redis', () => probeRedis()));
const MODES = (redisUp ? ['cookie', 'server'] : ['cookie']) as Array<'cookie' | 'server'>;
const SECRET = 'glewlwyd-interop-secret-glewlwyd-interop-0123';
/** The provider's key in `providers`: its routes are /auth/…-logout/glewlwyd. */
const NAME = 'glewlwyd';

type Channel = 'front' | 'back' | 'strict';

interface App {
  url: string;
  clientId: string;
  auth: Auth;
  logs: string[];
  events: ProviderLogoutEvent[];
  /** A new createAuth() on the same URL and client, with these provider options on top. */
  configure(overrides: Partial<ProviderOptions>): void;
  close(): Promise<void>;
}

interface AppOptions {
  mode: 'cookie' | 'server';
  channel: Channel;
  store?: Store;
  /** Default: 48 hex digits (letters and digits only: see the client_secret_basic quirk). */
  clientSecret?: string;
}

let glewlwyd: Glewlwyd;
const apps: App[] = [];

async function startApp(options: AppOptions): Promise<App> {
  let listener: RequestListener = (_req, res) => res.end();
  const server = createServer((req, res) => listener(req, res));
  const url = await listen(server);
  // Letters and digits only, like the secret: client_secret_basic form-encodes the client_id too.
  const clientId = `${options.channel}${options.mode}${randomBytes(4).toString('hex')}`;
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('hex');
  await glewlwyd.addClient(clientFor(url, clientId, clientSecret, options.channel));
  const logs: string[] = [];
  const events: ProviderLogoutEvent[] = [];
  const log = (message: string) => void logs.push(message);
  // Every app lives on 127.0.0.1, and cookies do not tell ports apart: like apps sharing a host,
  // each needs its own cookie names — and its own secret, or one would read another's cookie.
  const cookieName = clientId;
  const secret = randomBytes(32).toString('base64url');
  const base: ProviderOptions = {
    issuer: glewlwyd.issuer,
    clientId,
    clientSecret,
    displayName: 'Glewlwyd',
    ...(options.channel === 'front' ? { frontChannelLogout: true } : {}),
    ...(options.channel === 'back' ? { backchannel: { allowMissingExp: true } } : {}),
  };
  const app: App = {
    url,
    clientId,
    auth: undefined as unknown as Auth,
    logs,
    events,
    configure(overrides) {
      app.auth = createAuth({
        baseUrl: url,
        secret,
        cookies: { name: cookieName },
        providers: { [NAME]: { ...base, ...overrides } },
        exposeTokens: ['id'],
        session: { mode: options.mode },
        ...(options.store ? { store: options.store } : {}),
        logger: { debug: log, info: log, warn: log, error: log },
        onProviderLogout: (event) => void events.push(event),
      });
      listener = createDemoApp(app.auth, {
        mode: options.mode,
        store: options.store ? 'redis' : 'memory',
        providerNote: 'Glewlwyd',
      }) as unknown as RequestListener;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  app.configure({});
  apps.push(app);
  return app;
}

function clientFor(url: string, clientId: string, clientSecret: string, channel: Channel): GlewlwydClient {
  return {
    clientId,
    clientSecret,
    redirectUris: [`${url}/auth/callback`],
    postLogoutRedirectUris: [`${url}/auth/logout/callback`],
    ...(channel === 'front'
      ? { frontchannelLogoutUri: `${url}/auth/frontchannel-logout/${NAME}` }
      : { backchannelLogoutUri: `${url}/auth/backchannel-logout/${NAME}` }),
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Me {
  user: { sub: string; sid?: string; iss: string; name?: string; email?: string };
  tokens: { id?: string };
}

async function me(app: App, agent: Agent): Promise<{ status: number; body: Me }> {
  const response = await agent.fetch(`${app.url}/api/me`);
  return { status: response.status, body: (await response.json()) as Me };
}

async function signIn(app: App, agent = new Agent()): Promise<Agent> {
  const result = await signInAtGlewlwyd(agent, glewlwyd, `${app.url}/auth/login?returnTo=/api/me`);
  if (result.url.href !== `${app.url}/api/me` || result.response.status !== 200) {
    const page = result.chain.map(String).join('\n');
    throw new Error(
      `sign-in at ${app.clientId} ended at ${result.url} (${result.response.status}): ${page}\napp log:\n${app.logs.join('\n')}`,
    );
  }
  return agent;
}

/** Presses "Sign out" in the app: returns its 303 (to Glewlwyd's end_session, normally). */
async function signOut(app: App, agent: Agent, fields: Record<string, string> = {}): Promise<Response> {
  const { csrfToken } = (await (await agent.fetch(`${app.url}/auth/csrf`)).json()) as { csrfToken: string };
  return agent.fetch(`${app.url}/auth/logout`, {
    method: 'POST',
    body: new URLSearchParams({ csrfToken, returnTo: '/?signedOut=provider', ...fields }),
    initiator: `${app.url}/`,
  });
}

/** Glewlwyd sends logout tokens from a background thread after answering: wait for what it causes. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!check()) throw new Error(`timed out waiting for ${what}\n${glewlwyd.output().slice(-2000)}`);
}

beforeAll(async () => {
  if (available) glewlwyd = await startGlewlwyd();
});
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await glewlwyd?.close();
});

describe.runIf(available).each(MODES)('Glewlwyd (%s mode)', (mode) => {
  let front: App;
  let back: App;
  let strict: App;
  let redis: Redis | undefined;
  const prefix = `oidc-session-interop:${randomUUID()}:`;

  beforeAll(async () => {
    redis = mode === 'server' ? new Redis(redisUrl, { maxRetriesPerRequest: 1 }) : undefined;
    const store = () => (redis ? { store: redisStore(redis, { prefix: `${prefix}${randomUUID()}:` }) } : {});
    [front, back, strict] = await Promise.all([
      startApp({ mode, channel: 'front', ...store() }),
      startApp({ mode, channel: 'back', ...store() }),
      startApp({ mode, channel: 'strict', ...store() }),
    ]);
  });
  afterAll(async () => {
    if (!redis) return;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.quit();
  });

  it('when the user signs in at Glewlwyd then the app has a session with its claims and sid', async () => {
    const agent = await signIn(front);
    const { status, body } = await me(front, agent);
    expect(status).toBe(200);
    expect(body.user).toMatchObject({ iss: glewlwyd.issuer, name: GLEWLWYD_USER.name, email: GLEWLWYD_USER.email });
    expect(body.user.sid).toEqual(expect.any(String));
    // The same browser at another app of the same provider: the same provider session (sid).
    await signIn(back, agent);
    expect((await me(back, agent)).body.user.sid).toBe(body.user.sid);
  });

  it('when the user signs out then Glewlwyd gets id_token_hint, client_id, post_logout_redirect_uri and state, and sends the browser back with that state', async () => {
    const agent = await signIn(front);
    const idToken = (await me(front, agent)).body.tokens.id;
    const response = await signOut(front, agent);
    expect(response.status).toBe(303);
    const endSession = new URL(response.headers.get('location')!);
    expect(`${endSession.origin}${endSession.pathname}`).toBe(`${glewlwyd.issuer}/end_session`);
    expect(endSession.searchParams.get('id_token_hint')).toBe(idToken);
    expect(endSession.searchParams.get('client_id')).toBe(front.clientId);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${front.url}/auth/logout/callback`);
    const state = endSession.searchParams.get('state');
    expect(state).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect((await me(front, agent)).status).toBe(401);

    const logout = await confirmGlewlwydLogout(agent, glewlwyd, endSession);
    expect(logout.back?.chain.map(String)).toContain(`${front.url}/auth/logout/callback?state=${state}`);
    expect(logout.back?.url.href).toBe(`${front.url}/?signedOut=provider`);
    expect(logout.back?.response.status).toBe(200);
  });

  it("when the user signs out of another app then Glewlwyd's front-channel frame (iss + sid) ends this app's session", async () => {
    const agent = await signIn(front);
    await signIn(back, agent);
    const sid = (await me(front, agent)).body.user.sid!;
    const before = front.events.length;

    const logout = await confirmGlewlwydLogout(agent, glewlwyd, (await signOut(back, agent)).headers.get('location')!);
    expect(logout.frames).toHaveLength(1);
    const [frame] = logout.frames;
    expect(`${frame!.url.origin}${frame!.url.pathname}`).toBe(`${front.url}/auth/frontchannel-logout/${NAME}`);
    expect(Object.fromEntries(frame!.url.searchParams)).toEqual({ iss: glewlwyd.issuer, sid });
    expect(frame!.response.status).toBe(200);
    expect(frame!.response.headers.get('content-security-policy')).toContain(`frame-ancestors ${glewlwyd.url}`);

    expect((await me(front, agent)).status).toBe(401);
    expect(front.events.slice(before)).toEqual([
      expect.objectContaining({ channel: 'front-channel', provider: NAME, iss: glewlwyd.issuer, sid }),
    ]);
  });

  it("when the user signs out of another app then Glewlwyd's back-channel logout token (no exp: draft 06) ends this app's session", async () => {
    const agent = await signIn(back);
    await signIn(front, agent);
    const sid = (await me(back, agent)).body.user.sid!;
    const before = back.events.length;

    const logout = await confirmGlewlwydLogout(agent, glewlwyd, (await signOut(front, agent)).headers.get('location')!);
    expect(logout.back?.url.href).toBe(`${front.url}/?signedOut=provider`);
    await eventually(() => back.events.length > before, "Glewlwyd's back-channel call");
    expect(back.events.slice(before)).toEqual([
      expect.objectContaining({ channel: 'back-channel', provider: NAME, iss: glewlwyd.issuer, sid, ended: mode === 'server' ? 1 : null }),
    ]);
    expect((await me(back, agent)).status).toBe(401);
    expect(back.logs.filter((line) => line.includes('refused'))).toEqual([]);
  });

  it("when allowMissingExp is off then Glewlwyd's logout token is refused, the log names the option, and the session stays", async () => {
    const agent = await signIn(strict);
    await signIn(front, agent);
    await confirmGlewlwydLogout(agent, glewlwyd, (await signOut(front, agent)).headers.get('location')!);
    await eventually(() => strict.logs.some((line) => line.startsWith('back-channel logout refused')), 'the refused back-channel call');
    const line = strict.logs.find((l) => l.startsWith('back-channel logout refused'))!;
    expect(line).toContain('claim exp is missing');
    expect(line).toContain(`providers.${NAME}.backchannel.allowMissingExp: true`);
    expect(line).toContain('OIDC_GLEWLWYD_BACKCHANNEL_ALLOW_MISSING_EXP=true');
    expect((await me(strict, agent)).status).toBe(200);
  });

  it('when the user signs out everywhere (scope=all) then every device is signed out and Glewlwyd ends this one', async () => {
    const [here, other] = [await signIn(back), await signIn(back)];
    expect((await me(back, here)).body.user.sid).not.toBe((await me(back, other)).body.user.sid);
    const response = await signOut(back, here, { scope: 'all' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')!.startsWith(`${glewlwyd.issuer}/end_session?`)).toBe(true);
    expect((await me(back, other)).status).toBe(401);
    expect((await me(back, here)).status).toBe(401);
    const logout = await confirmGlewlwydLogout(here, glewlwyd, response.headers.get('location')!);
    expect(logout.back?.url.href).toBe(`${back.url}/?signedOut=provider`);
  });
});

describe.runIf(available)('Glewlwyd and client authentication', () => {
  it('when client_secret_basic sends a secret with "-" then the log says what Glewlwyd answered and hints client_secret_post, which works', async () => {
    // Glewlwyd compares the form-encoded secret ("%2D") with the stored one without decoding it.
    const app = await startApp({ mode: 'cookie', channel: 'back', clientSecret: 'glewlwyd-secret-with-dashes' });
    const agent = new Agent();
    const failed = await signInAtGlewlwyd(agent, glewlwyd, `${app.url}/auth/login?returnTo=/api/me`);
    expect(failed.response.status).toBe(400);
    const line = app.logs.find((l) => l.startsWith(`login refused (provider=${NAME})`));
    expect(line).toContain(`token endpoint ${glewlwyd.issuer}/token answered HTTP 403 error="unauthorized_client"`);
    expect(line).toContain("tokenEndpointAuthMethod: 'client_secret_post'");
    expect(line).not.toContain('glewlwyd-secret-with-dashes');

    app.configure({ tokenEndpointAuthMethod: 'client_secret_post' });
    await signIn(app, agent);
    expect((await me(app, agent)).status).toBe(200);
  });
});

describe.runIf(available)('the demo against Glewlwyd, configured from the environment', () => {
  let demo: ChildProcess | undefined;
  afterAll(async () => {
    if (demo && demo.exitCode === null) {
      const exited = new Promise((resolve) => demo!.once('exit', resolve));
      demo.kill('SIGTERM');
      await exited;
    }
  });

  it("when OIDC_BACKCHANNEL_ALLOW_MISSING_EXP=true then the demo accepts Glewlwyd's logout token and the session ends", async () => {
    const probe = createServer();
    const url = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    const clientId = `demo${randomBytes(4).toString('hex')}`;
    const clientSecret = randomBytes(24).toString('hex');
    await glewlwyd.addClient({
      clientId,
      clientSecret,
      redirectUris: [`${url}/auth/callback`],
      postLogoutRedirectUris: [`${url}/auth/logout/callback`],
      backchannelLogoutUri: `${url}/auth/backchannel-logout/default`,
    });
    const output: string[] = [];
    demo = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/main.ts'], {
      env: {
        ...process.env,
        PORT: new URL(url).port,
        APP_URL: url,
        SESSION_SECRET: SECRET,
        OIDC_ISSUER: glewlwyd.issuer,
        OIDC_CLIENT_ID: clientId,
        OIDC_CLIENT_SECRET: clientSecret,
        OIDC_BACKCHANNEL_ALLOW_MISSING_EXP: 'true',
        ...(redisUp ? { SESSION_MODE: 'server', SESSION_STORE: redisUrl } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output.push(chunk.toString());
        if (output.join('').includes('listening on http')) resolve();
      };
      demo!.stdout!.on('data', onData);
      demo!.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      demo!.once('exit', (code) => reject(new Error(`the demo exited with ${code}: ${output.join('')}`)));
    });
    const demoApp = { url, clientId, logs: output } as unknown as App;
    const agent = await signIn(demoApp);
    const front = await startApp({ mode: 'cookie', channel: 'front' });
    await signIn(front, agent);

    await confirmGlewlwydLogout(agent, glewlwyd, (await signOut(front, agent)).headers.get('location')!);
    await eventually(() => output.join('').includes('back-channel logout (provider=default)'), "the demo's back-channel log line");
    expect((await agent.fetch(`${url}/api/me`)).status).toBe(401);
    expect(output.join('')).not.toMatch(/back-channel logout refused/);
  });
});
