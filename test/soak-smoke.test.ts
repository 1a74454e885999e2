/**
 * A short run of the mixed soak (`npm run soak`, bench/soak.ts) with a master failover in the
 * middle: two demo instances on the Redis Cluster, signed-in traffic, real logins and
 * RP-initiated logouts, back-channel logouts signed by the real provider. It asserts what must
 * hold whatever the machine's speed; it times nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { formatReport, runSoak, type SoakReport } from '../bench/soak.js';
import { lockCluster, requireCluster } from './support/redis-cluster.js';

const release = await lockCluster();
const available = await requireCluster();
if (!available) await release();
afterAll(release);

describe.runIf(available)('soak smoke: two instances on Redis Cluster, a master killed mid-run (cookie mode)', () => {
  let report: SoakReport;

  it('when the run ends then it has exercised every part: traffic, logins, both logouts, the failover', { timeout: 120_000 }, async () => {
    report = await runSoak({ durationSeconds: 12, users: 200, connections: 10, mode: 'cookie', log: () => {} });
    console.log(formatReport(report));
    expect(report.requests).toBeGreaterThan(100);
    expect(report.logins.ok).toBeGreaterThan(0);
    expect(report.rpLogouts.acknowledged).toBeGreaterThan(0);
    expect(report.backchannel.acknowledged).toBeGreaterThan(0);
    expect(report.failover?.promotedAfterMs).not.toBeNull();
  });

  it('when a master dies then no answer is a 5xx outside the failover window, and signed-in traffic never gets one', () => {
    expect(report.serverErrorsOutsideWindow).toBe(0);
    expect(Object.keys(report.statuses.traffic).filter((status) => !['200', '401', '503'].includes(status))).toEqual([]);
  });

  it('when a logout was acknowledged then no later request of that session is served, failover included', () => {
    expect(report.servedAfterLogout).toBe(0);
  });

  it('when the replica has taken over then the app serves live sessions again by itself, and both instances are alive', () => {
    expect(report.liveRefusedOutsideWindow).toBe(0);
    expect(report.failover?.restored).toBe(true);
    expect(report.instancesAlive).toBe(true);
  });

  it('when sampled after a GC then each instance’s heap grew by less than 64 MB', () => {
    for (const heap of report.heap) expect(heap.growthMB, heap.instance).toBeLessThan(64);
  });
});
