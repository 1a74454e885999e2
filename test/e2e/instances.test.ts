import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevProvider, startDevProvider } from '../../examples/demo/dev-provider.js';
import { Agent } from '../support/agent.js';
import { freePort, type Instance, startInstance } from '../support/demo-instance.js';
import { postgresUrl, probeRedis, redisUrl, requireService } from '../support/services.js';

const SECRET = 'instances-secret-instances-secret-0123456789';
const ALICE = { login: 'alice', password: 'alice-password' };

const redisUp = await requireService('redis', () => probeRedis());
const postgresUp = await requireService('postgres', async () => {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  await client.end();
});

const stores = [
  { name: 'redis', url: redisUrl, up: redisUp },
  { name: 'postgres', url: postgresUrl, up: postgresUp },
] as const;

for (const store of stores) {
  describe.runIf(store.up).each(['cookie', 'server'] as const)(`two instances sharing ${store.name} (%s mode)`, (mode) => {
    let provider: DevProvider;
    let a: Instance;
    let b: Instance;

    beforeAll(async () => {
      const [portA, portB] = [await freePort(), await freePort()];
      provider = await startDevProvider({
        clients: [
          {
            client_id: 'multi',
            client_secret: 'multi-secret',
            redirect_uris: [`http://127.0.0.1:${portA}/auth/callback`, `http://127.0.0.1:${portB}/auth/callback`],
            post_logout_redirect_uris: [`http://127.0.0.1:${portA}/auth/logout/callback`],
            // The provider's logout call goes to the OTHER instance.
            backchannel_logout_uri: `http://127.0.0.1:${portB}/auth/backchannel-logout/default`,
            backchannel_logout_session_required: true,
          },
        ],
      });
      const env = {
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: 'multi',
        OIDC_CLIENT_SECRET: 'multi-secret',
        SESSION_SECRET: SECRET,
        SESSION_STORE: store.url,
        SESSION_MODE: mode,
      };
      [a, b] = await Promise.all([startInstance(portA, env), startInstance(portB, env)]);
    }, 60_000);

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await provider?.close();
    });

    it('when the provider calls instance B then the session signed in through A ends', async () => {
      const agent = new Agent();
      const login = await agent.loginAtProvider(`${a.url}/auth/login?returnTo=/api/me`, ALICE);
      expect(login.url.href).toBe(`${a.url}/api/me`);
      expect((await agent.fetch(`${a.url}/api/me`)).status).toBe(200);
      const oldCookie = agent.cookieHeader(a.url);

      await agent.confirmProviderLogout(`${provider.issuer}/session/end`);

      expect(b.output.join('')).toMatch(/back-channel logout \(provider=default\) by sid/);
      expect(a.output.join('')).not.toMatch(/back-channel logout/);
      const response = await fetch(`${a.url}/api/me`, { headers: { cookie: oldCookie } });
      expect(response.status).toBe(401);
    });

    it('when a user signs out everywhere on A then their three sessions on A and B all end', async () => {
      const sessions = [
        { agent: new Agent(), instance: a },
        { agent: new Agent(), instance: a },
        { agent: new Agent(), instance: b },
      ];
      for (const { agent, instance } of sessions) {
        await agent.loginAtProvider(`${instance.url}/auth/login?returnTo=/api/me`, ALICE);
        expect((await agent.fetch(`${instance.url}/api/me`)).status).toBe(200);
      }
      const first = sessions[0]!.agent;
      const { csrfToken } = (await (await first.fetch(`${a.url}/auth/csrf`)).json()) as { csrfToken: string };
      const logout = await first.fetch(`${a.url}/auth/logout`, {
        method: 'POST',
        body: new URLSearchParams({ csrfToken, scope: 'all', federated: 'false' }),
        headers: { origin: a.url },
      });
      expect(logout.status).toBe(303);
      for (const { agent, instance } of sessions) expect((await agent.fetch(`${instance.url}/api/me`)).status).toBe(401);
    });
  });
}
