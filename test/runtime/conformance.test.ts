/**
 * Runtime conformance: examples/hono runs on each runtime (Node 20/22/24/26, Bun, Deno, workerd)
 * against the real `oidc-provider` running here in Node, and every flow is driven over HTTP as a
 * browser would: login, getSession, refresh, RP-initiated logout with id_token_hint and state,
 * a back-channel logout sent by the provider itself, front-channel logout. Bun and Deno also run
 * it in server mode on the real Redis (ioredis, node-redis) and PostgreSQL (pg) stores; workerd
 * on the Durable Object store. A runtime that is not installed fails under CI=true.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DevProvider, startDevProvider } from '../../examples/demo/dev-provider.js';
import { Agent } from '../support/agent.js';
import { postgresUrl, probePostgres, probeRedis, redisUrl, requireService } from '../support/services.js';
import { freePort, INSTALL_HINT, type RunningApp, type Runtime, runtimes } from './runtimes.js';

const ALICE = { login: 'alice', password: 'alice-password' };
const SECRET = 'runtime-conformance-secret-0123456789abcdef';
const CI = process.env.CI === 'true';
/** One prefix per run: Redis keys and PostgreSQL tables of this run never meet another's. */
const RUN = `rt_${randomBytes(4).toString('hex')}`;

type StoreName = 'memory' | 'durable-object' | 'ioredis' | 'node-redis' | 'postgres';

interface Variant {
  runtime: Runtime;
  mode: 'cookie' | 'server';
  store: StoreName;
}

const ALL = runtimes();
const SERVER_STORES = ['ioredis', 'node-redis', 'postgres'] as const;
const redisUp = await requireService('redis', () => probeRedis());
const postgresUp = await requireService('postgres', () => probePostgres());

function variants(): Variant[] {
  const list: Variant[] = [];
  for (const runtime of ALL) {
    const edge = runtime.name === 'workerd';
    list.push({ runtime, mode: 'cookie', store: edge ? 'durable-object' : 'memory' });
    if (edge) list.push({ runtime, mode: 'server', store: 'durable-object' });
    if (runtime.name === 'bun' || runtime.name === 'deno') {
      for (const store of SERVER_STORES) if (store === 'postgres' ? postgresUp : redisUp) list.push({ runtime, mode: 'server', store });
    }
  }
  return list;
}

/** The app's configuration (examples/hono/app.ts reads it), on the runtime's port. */
function appEnv(variant: Variant, appUrl: string, issuer: string, clientId: string): Record<string, string> {
  const prefix = `${RUN}_${variant.runtime.name}_${variant.store.replace('-', '_')}`;
  const stores: Record<StoreName, Record<string, string>> = {
    memory: {},
    'durable-object': {},
    ioredis: { SESSION_STORE: redisUrl, REDIS_CLIENT: 'ioredis', SESSION_STORE_PREFIX: prefix },
    'node-redis': { SESSION_STORE: redisUrl, REDIS_CLIENT: 'node-redis', SESSION_STORE_PREFIX: prefix },
    postgres: { SESSION_STORE: postgresUrl, SESSION_STORE_PREFIX: prefix },
  };
  return {
    APP_URL: appUrl,
    SESSION_SECRET: SECRET,
    SESSION_MODE: variant.mode,
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: clientId,
    OIDC_CLIENT_SECRET: `${clientId}-secret`,
    OIDC_FRONTCHANNEL_LOGOUT: 'true',
    OIDC_SCOPES: 'openid profile offline_access',
    ...stores[variant.store],
  };
}

/** What the provider did for each client: back-channel calls made (and failed), refresh grants. */
interface ProviderLog {
  backchannel: Array<{ clientId: string; sid: string }>;
  backchannelErrors: Array<{ clientId: string; error: string }>;
  refreshes: string[];
}

let provider: DevProvider;
const log: ProviderLog = { backchannel: [], backchannelErrors: [], refreshes: [] };

beforeAll(async () => {
  provider = await startDevProvider({ clients: [] });
  const events = provider.provider;
  events.on('backchannel.success', (_ctx, client, _accountId, sid) => {
    log.backchannel.push({ clientId: (client as { clientId: string }).clientId, sid: sid as string });
  });
  events.on('backchannel.error', (_ctx, error, client) => {
    log.backchannelErrors.push({ clientId: (client as { clientId: string }).clientId, error: String(error) });
  });
  events.on('grant.success', (ctx) => {
    const oidc = (ctx as { oidc: { params: { grant_type?: string }; client: { clientId: string } } }).oidc;
    if (oidc.params.grant_type === 'refresh_token') log.refreshes.push(oidc.client.clientId);
  });
});

afterAll(async () => {
  await provider?.close();
  if (!postgresUp) return;
  const pool = new pg.Pool({ connectionString: postgresUrl });
  try {
    const { rows } = await pool.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE tablename LIKE $1', [`${RUN}%`]);
    for (const { tablename } of rows) await pool.query(`DROP TABLE IF EXISTS ${tablename}`);
  } finally {
    await pool.end();
  }
});

const missing = ALL.flatMap((runtime) => {
  const why = runtime.missing();
  return why ? [{ name: runtime.name, why }] : [];
});
if (missing.length > 0 && !CI) {
  console.warn(
    `⚠️  SKIPPING the runtime conformance test on ${missing.map((m) => m.name).join(', ')}: not installed. Install them with: ${INSTALL_HINT}`,
  );
}

for (const variant of variants()) {
  const { runtime, mode, store } = variant;
  const label = `${runtime.name}, ${mode} mode, ${store} store`;
  const absent = missing.find((m) => m.name === runtime.name);
  if (absent) {
    if (CI) {
      describe(label, () => {
        it('is installed (CI=true: a missing runtime fails, never skips)', () => {
          throw new Error(`${runtime.name} is not installed (${absent.why}); run ${INSTALL_HINT}`);
        });
      });
    }
    continue;
  }
  describe(label, () => conformance(variant));
}

function conformance(variant: Variant): void {
  const clientId = `rt-${variant.runtime.name}-${variant.mode}-${variant.store}`;
  let app: RunningApp;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await provider.addClient({
      client_id: clientId,
      client_secret: `${clientId}-secret`,
      redirect_uris: [`${url}/auth/callback`],
      post_logout_redirect_uris: [`${url}/auth/logout/callback`],
      backchannel_logout_uri: `${url}/auth/backchannel-logout/default`,
      backchannel_logout_session_required: true,
      grant_types: ['authorization_code', 'refresh_token'],
    });
    app = await variant.runtime.start(appEnv(variant, url, provider.issuer, clientId), port);
  }, 120_000);
  afterAll(() => app?.stop());
  afterEach((context) => {
    if (context.task.result?.state === 'fail') console.error(`${variant.runtime.name} printed:\n${app?.output() ?? ''}`);
  });

  async function signIn(agent = new Agent()) {
    const result = await agent.loginAtProvider(`${url}/auth/login?returnTo=/me`, ALICE);
    return { agent, result };
  }

  async function me(agent: Agent): Promise<{ status: number; body: { sub?: string; sid?: string; name?: string } }> {
    const response = await agent.fetch(`${url}/me`);
    const text = await response.text();
    return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {} };
  }

  it('when alice signs in at the provider then the callback lands on /me with her session', async () => {
    const { agent, result } = await signIn();
    expect(result.sawLoginForm).toBe(true);
    expect(result.url.href).toBe(`${url}/me`);
    expect(result.response.status).toBe(200);
    const { body } = await me(agent);
    expect(body).toMatchObject({ sub: 'alice', name: 'Alice Liddell', provider: 'default' });
    expect(body.sid).toEqual(expect.any(String));
  });

  it('when auth.getSession reads the Web Request then it sees the same session, and none without cookies', async () => {
    const { agent } = await signIn();
    const { body } = await me(agent);
    expect(await (await agent.fetch(`${url}/session`)).json()).toEqual({ sub: 'alice', sid: body.sid });
    expect(await (await fetch(`${url}/session`)).json()).toBeNull();
  });

  it('when the app refreshes then the provider grants new tokens and the session goes on', async () => {
    const { agent } = await signIn();
    const before = log.refreshes.filter((id) => id === clientId).length;
    const response = await agent.fetch(`${url}/refresh`, { method: 'POST', initiator: `${url}/` });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await response.json()).toMatchObject({ sub: 'alice' });
    expect(log.refreshes.filter((id) => id === clientId).length).toBe(before + 1);
    // Cookie mode seals the new tokens into new cookies; server mode updates the stored session.
    if (variant.mode === 'cookie') expect(response.headers.getSetCookie().length).toBeGreaterThan(0);
    expect((await me(agent)).status).toBe(200);
  });

  it('when alice signs out (RP-initiated) then the provider gets id_token_hint and state, and its return is checked', async () => {
    const { agent } = await signIn();
    const { csrfToken } = (await (await agent.fetch(`${url}/auth/csrf`)).json()) as { csrfToken: string };
    const form = new URLSearchParams({ csrfToken, returnTo: '/' });
    const response = await agent.fetch(`${url}/auth/logout`, { method: 'POST', body: form, initiator: `${url}/` });
    expect(response.status).toBe(303);
    const endSession = new URL(response.headers.get('location')!);
    expect(endSession.origin + endSession.pathname).toBe(`${provider.issuer}/session/end`);
    const params = endSession.searchParams;
    expect(params.get('client_id')).toBe(clientId);
    expect(params.get('post_logout_redirect_uri')).toBe(`${url}/auth/logout/callback`);
    expect(params.get('state')).toMatch(/^[\w-]{16,}$/);
    expect(idTokenClaims(params.get('id_token_hint'))).toMatchObject({ iss: provider.issuer, aud: clientId, sub: 'alice' });
    // The app's cookies are gone before the provider is even asked.
    expect((await me(agent)).status).toBe(401);

    const back = await agent.confirmProviderLogout(endSession);
    const callback = back.chain.find((hop) => hop.href.startsWith(`${url}/auth/logout/callback`));
    expect(callback?.searchParams.get('state')).toBe(params.get('state'));
    expect(back.url.href).toBe(`${url}/`);
    expect(await back.response.text()).toContain('Signed out.');
    // The provider's session ended too: the next login asks for the password again.
    expect((await signIn(agent)).result.sawLoginForm).toBe(true);
  });

  it('when alice signs out at the provider then its back-channel call ends her session here, and only hers', async () => {
    const { agent } = await signIn();
    const { agent: otherDevice } = await signIn();
    const { sid } = (await me(agent)).body;
    await agent.confirmProviderLogout(`${provider.issuer}/session/end`);
    // The provider makes its back-channel calls before it answers the sign-out.
    expect(log.backchannelErrors.filter((entry) => entry.clientId === clientId)).toEqual([]);
    expect(log.backchannel).toContainEqual({ clientId, sid });
    expect((await me(agent)).status).toBe(401);
    expect((await me(otherDevice)).status).toBe(200);
  });

  it('when the provider frames the front-channel URL with its iss and the sid then the session ends', async () => {
    const { agent } = await signIn();
    const { sid } = (await me(agent)).body;
    const frontChannel = new URL(`${url}/auth/frontchannel-logout/default`);
    frontChannel.search = new URLSearchParams({ iss: provider.issuer, sid: sid! }).toString();
    // The iframe request carries no cookie (cross-site, SameSite=Lax): a bare fetch is that request.
    const response = await fetch(frontChannel);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain(`frame-ancestors ${provider.issuer}`);
    expect((await me(agent)).status).toBe(401);
  });
}

/** The payload of a JWT, unverified: the provider checks the hint's signature, this only reads who it names. */
function idTokenClaims(jwt: string | null): Record<string, unknown> {
  const payload = jwt?.split('.')[1];
  if (!payload) throw new Error(`not a JWT: ${jwt}`);
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}
