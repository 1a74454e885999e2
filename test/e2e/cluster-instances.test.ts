import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport, runSoak, type SoakReport } from '../../bench/soak.js';
import { type DevProvider, startDevProvider } from '../../examples/demo/dev-provider.js';
import { Agent } from '../support/agent.js';
import { freePort, type Instance, startInstance } from '../support/demo-instance.js';
import { clusterUrl, lockCluster, requireCluster } from '../support/redis-cluster.js';

const SECRET = 'cluster-instances-secret-cluster-instances';
const ALICE = { login: 'alice', password: 'alice-password' };

const release = await lockCluster();
const available = await requireCluster();
if (!available) await release();
afterAll(release);

describe.runIf(available).each(['cookie', 'server'] as const)('two instances sharing the Redis Cluster (%s mode)', (mode) => {
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
      SESSION_STORE: clusterUrl,
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
    expect((await fetch(`${b.url}/api/me`, { headers: { cookie: agent.cookieHeader(a.url) } })).status).toBe(200);
    const oldCookie = agent.cookieHeader(a.url);

    await agent.confirmProviderLogout(`${provider.issuer}/session/end`);

    expect(b.output.join('')).toMatch(/back-channel logout \(provider=default\) by sid/);
    expect(a.output.join('')).not.toMatch(/back-channel logout/);
    expect((await fetch(`${a.url}/api/me`, { headers: { cookie: oldCookie } })).status).toBe(401);
    expect((await fetch(`${b.url}/api/me`, { headers: { cookie: oldCookie } })).status).toBe(401);
  });
});

describe.runIf(available)('a master killed under load (server mode: the sessions live in the cluster)', () => {
  let report: SoakReport;

  it('when the load runs through the failover then it ends with the replica promoted and the node back', { timeout: 120_000 }, async () => {
    report = await runSoak({ durationSeconds: 10, users: 100, connections: 8, mode: 'server', failoverAt: 0.3, log: () => {} });
    console.log(formatReport(report));
    expect(report.failover?.promotedAfterMs).not.toBeNull();
    expect(report.failover?.restored).toBe(true);
    expect(report.backchannel.acknowledged).toBeGreaterThan(0);
  });

  it('when a master is down then requests fail closed (signed out, or 503 with Retry-After), never a 5xx outside the window, never a crash', () => {
    // Signed-in traffic and back-channel calls never answer 5xx, window or not; a login callback
    // that cannot store its session answers 503 with Retry-After (see docs/stores.md).
    expect(Object.keys(report.statuses.traffic).filter((status) => !['200', '401', '503'].includes(status))).toEqual([]);
    expect(Object.keys(report.statuses.login).filter((status) => status.startsWith('5') && status !== '503')).toEqual([]);
    expect(Object.keys(report.statuses.backchannel).filter((status) => !['200', '400'].includes(status))).toEqual([]);
    expect(report.serverErrorsOutsideWindow).toBe(0);
    expect(report.instancesAlive).toBe(true);
  });

  it('when sessions were ended by back-channel before and during the failover then none is served again', () => {
    expect(report.endedSessions).toBeGreaterThan(0);
    expect(report.servedAfterLogout).toBe(0);
  });

  it('when the replica has taken the slots then live sessions are served again without a restart', () => {
    expect(report.liveRefusedOutsideWindow).toBe(0);
  });
});
