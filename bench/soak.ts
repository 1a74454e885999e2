/**
 * `npm run soak`: a bounded mixed soak (60 s by default, loopback only) of two instances of the
 * demo app (child processes) sharing the Redis Cluster on 127.0.0.1:7000–7005:
 *
 * - signed-in traffic on `/api/me` from many users over `connections` concurrent loops, each
 *   request with a random user's cookie, on a random instance (sessions minted as a login makes
 *   them: same config, same store, distinct `sub` and `sid`);
 * - real logins through the real `oidc-provider` (the demo's dev provider) and RP-initiated logouts;
 * - back-channel logouts for random users (by `sub`) and sessions (by `sid`), signed by the dev
 *   provider itself (`Client#backchannelLogout`, what its end_session does) and sent to a random instance;
 * - one master killed (SHUTDOWN NOSAVE) in the middle; once a replica has taken its slots the node
 *   is started again and rejoins as a replica.
 *
 * It prints what it saw and returns the figures `test/soak-smoke.test.ts` asserts: no 5xx outside
 * the failover window, no request served for a session after its logout was acknowledged (the
 * back-channel 200, or the RP-initiated logout's redirect), bounded heap growth.
 *
 *   npm run soak -- --duration=60 --users=1000 --connections=50 --mode=cookie|server
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type DevProvider, startDevProvider } from '../examples/demo/dev-provider.js';
import { createAuth } from '../src/index.js';
import { redisStore } from '../src/stores/redis.js';
import { Agent } from '../test/support/agent.js';
import {
  aMaster,
  CLUSTER_PORTS,
  clusterHealthy,
  clusterSeeds,
  clusterUrl,
  killNode,
  lockCluster,
  rawCommand,
  shortenNodeTimeout,
  sleep,
} from '../test/support/redis-cluster.js';
import { mintSession } from '../test/support/sessions.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SECRET = 'soak-secret-soak-secret-soak-secret-0123456789';
const CLIENT = { id: 'soak', secret: 'soak-secret' };
const DEMO_LOGINS = [
  { login: 'alice', password: 'alice-password' },
  { login: 'bob', password: 'bob-password' },
];
/** After a replica has taken the slots, clients get this long to find it before a failure counts. */
const GRACE_MS = 3000;

export interface SoakOptions {
  durationSeconds: number;
  users: number;
  connections: number;
  mode: 'cookie' | 'server';
  /** When the master is killed, as a fraction of the duration. */
  failoverAt?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  options: Omit<SoakOptions, 'log'>;
  requests: number;
  /** Signed-in requests a second, and their median and 99th percentile latency (ms), over the whole run. */
  perSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Answers by what asked: signed-in traffic, login (its last page), RP-initiated logout, back-channel (the provider's view). */
  statuses: Record<Kind, Record<string, number>>;
  /** 5xx answers outside [kill, promoted + grace]. */
  serverErrorsOutsideWindow: number;
  /** 5xx answers inside the window, by kind. */
  serverErrorsInsideWindow: Partial<Record<Kind, number>>;
  /** 200 answers for a session whose logout had been acknowledged before the request began. */
  servedAfterLogout: number;
  /** Requests for live sessions refused (401/503/other) outside the window: fail-closed moments that should not be. */
  liveRefusedOutsideWindow: number;
  liveRefusedInsideWindow: number;
  logins: { ok: number; failed: number };
  rpLogouts: { acknowledged: number; failed: number };
  backchannel: { acknowledged: number; refused: number; bySid: number; bySub: number };
  endedSessions: number;
  failover: {
    killedPort: number;
    /** Kill → a replica serves the slots (CLUSTER INFO ok again, seen from a surviving node). */
    promotedAfterMs: number | null;
    /** Kill → last refusal of a live session (what users saw). */
    lastLiveRefusalAfterMs: number | null;
    /** Kill → first success after that refusal. */
    recoveredAfterMs: number | null;
    restored: boolean;
  } | null;
  heap: Array<{ instance: string; beforeMB: number; afterMB: number; growthMB: number }>;
  instancesAlive: boolean;
}

type Kind = 'traffic' | 'login' | 'logout' | 'backchannel';

interface Instance {
  name: string;
  url: string;
  child: ChildProcess;
  tail: string[];
  heap(): Promise<number>;
  stop(): Promise<void>;
}

interface Tracked {
  cookie: string;
  sub: string;
  sid: string;
  /** When its logout was acknowledged (ms), if it was. */
  endedAt?: number;
  /** A logout was attempted and refused: its state is unknown, so it is left out of the checks. */
  uncertain?: boolean;
  /** A logout is in flight: the app may have applied it before its acknowledgement arrives. */
  ending?: boolean;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The demo app in a process of its own, on the cluster, with the heap probe preloaded. */
async function startInstance(name: string, port: number, env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', './bench/soak-heap.ts', 'examples/demo/main.ts'], {
    cwd: REPO,
    env: { ...process.env, ...env, PORT: String(port), APP_URL: `http://127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(chunk.toString());
    if (tail.length > 200) tail.splice(0, tail.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${tail.join('')}`)), 30_000);
    const onData = () => {
      if (tail.join('').includes('listening on')) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${tail.join('')}`)));
  });
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    child,
    tail,
    heap: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no heap answer`)), 10_000);
        child.once('message', (message: { heapUsed: number }) => {
          clearTimeout(timer);
          resolve(message.heapUsed);
        });
        child.send('heap');
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const release = await lockCluster();
  const cleanups: Array<() => Promise<unknown>> = [release];
  try {
    if (!(await clusterHealthy()))
      throw new Error('the Redis Cluster on 127.0.0.1:7000-7005 is not whole (see .ci/run ensure_redis_cluster)');
    await shortenNodeTimeout();
    return await soak(options, log, cleanups);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

async function soak(options: SoakOptions, log: (line: string) => void, cleanups: Array<() => Promise<unknown>>): Promise<SoakReport> {
  const [portA, portB] = [await freePort(), await freePort()];
  const urls = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
  const provider: DevProvider = await startDevProvider({
    clients: [
      {
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
        redirect_uris: urls.map((url) => `${url}/auth/callback`),
        post_logout_redirect_uris: urls.map((url) => `${url}/auth/logout/callback`),
        backchannel_logout_uri: `${urls[1]}/auth/backchannel-logout/default`,
        backchannel_logout_session_required: true,
        firstParty: true,
      },
    ],
  });
  cleanups.push(() => provider.close());
  const env = {
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: CLIENT.id,
    OIDC_CLIENT_SECRET: CLIENT.secret,
    SESSION_SECRET: SECRET,
    SESSION_STORE: clusterUrl,
    SESSION_MODE: options.mode,
  };
  const instances = await Promise.all([startInstance('A', portA, env), startInstance('B', portB, env)]);
  cleanups.push(() => Promise.all(instances.map((instance) => instance.stop())));

  // Sessions as a login makes them, written by an in-process twin of the apps' configuration.
  const { Cluster } = await import('ioredis');
  const minter = new Cluster(clusterSeeds, { redisOptions: { maxRetriesPerRequest: 1 } });
  cleanups.push(() => minter.quit());
  const auth = createAuth({
    baseUrl: urls[0]!,
    secret: SECRET,
    session: { mode: options.mode },
    store: redisStore(minter),
    providers: { default: { issuer: provider.issuer, clientId: CLIENT.id, clientSecret: CLIENT.secret } },
    logger: { warn: () => {}, error: () => {} },
  });
  const sessions: Tracked[] = [];
  /** Sessions whose logout was acknowledged, as they are ended. */
  const endedList: Tracked[] = [];
  const end = (session: Tracked, at: number) => {
    if (session.endedAt !== undefined) return;
    session.endedAt = at;
    endedList.push(session);
  };
  for (let i = 0; i < options.users; i++) {
    // One user in ten has a second session, so a logout by sub ends two.
    for (let n = 0; n < (i % 10 === 0 ? 2 : 1); n++) {
      const sub = `user-${i}`;
      const sid = `sid-${i}-${n}-${process.pid}`;
      sessions.push({ sub, sid, cookie: await mintSession(auth, SECRET, { sub, sid, createdAt: Math.floor(Date.now() / 1000) - 5 }) });
    }
  }
  log(
    `soak: ${options.mode} mode, ${sessions.length} sessions of ${options.users} users, ${options.connections} connections, ${options.durationSeconds} s`,
  );

  const statuses: Record<Kind, Record<string, number>> = { traffic: {}, login: {}, logout: {}, backchannel: {} };
  const serverErrors: Array<{ kind: Kind; at: number }> = [];
  // When each refused request began and ended: one that began just before the kill may be refused by it.
  const liveRefusals: Array<{ at: number; done: number }> = [];
  const liveSuccesses: number[] = [];
  let servedAfterLogout = 0;
  let requests = 0;
  const requestTimes: number[] = [];
  const count = (kind: Kind, status: number | string, at: number) => {
    statuses[kind][status] = (statuses[kind][status] ?? 0) + 1;
    if (typeof status === 'number' && status >= 500) serverErrors.push({ kind, at });
  };

  const started = Date.now();
  const deadline = started + options.durationSeconds * 1000;
  let running = true;

  // Signed-in traffic: 9 requests in 10 for a session not known to be over, 1 for one that ended.
  const loop = async () => {
    while (running && Date.now() < deadline) {
      const session = endedList.length > 0 && Math.random() < 0.1 ? pick(endedList) : pick(sessions);
      const at = Date.now();
      const endedBefore = session.endedAt !== undefined && session.endedAt < at;
      let status: number | string;
      try {
        const response = await fetch(`${pick(urls)}/api/me`, {
          headers: { cookie: session.cookie, accept: 'application/json' },
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        status = response.status;
        if (status === 503 && !response.headers.get('retry-after')) status = '503 without Retry-After';
      } catch {
        status = 'network error';
      }
      requests++;
      requestTimes.push(Date.now() - at);
      count('traffic', status, at);
      if (status === 200 && endedBefore) servedAfterLogout++;
      if (!session.uncertain && !session.ending && session.endedAt === undefined) {
        if (status === 200) liveSuccesses.push(at);
        else liveRefusals.push({ at, done: Date.now() });
      }
    }
  };

  const backchannel = { acknowledged: 0, refused: 0, bySid: 0, bySub: 0 };
  // Back-channel logouts, signed by the provider itself, for random users (sub) and sessions (sid).
  const backchannelLoop = async () => {
    const client = await provider.provider.Client.find(CLIENT.id);
    const total = Math.max(10, Math.floor(sessions.length / 5));
    const interval = (options.durationSeconds * 1000) / total;
    while (running && Date.now() < deadline) {
      const live = sessions.filter((s) => s.endedAt === undefined && !s.uncertain && !s.sub.startsWith('demo:'));
      if (live.length === 0) break;
      const target = pick(live);
      const bySid = Math.random() < 0.5;
      const named = bySid ? [target] : sessions.filter((s) => s.sub === target.sub && s.endedAt === undefined);
      for (const session of named) session.ending = true;
      client.backchannelLogoutUri = `${pick(urls)}/auth/backchannel-logout/default`;
      client.backchannelLogoutSessionRequired = bySid;
      try {
        await client.backchannelLogout(target.sub, bySid ? target.sid : undefined);
        const at = Date.now();
        for (const session of named) end(session, at);
        backchannel.acknowledged++;
        if (bySid) backchannel.bySid++;
        else backchannel.bySub++;
        count('backchannel', 200, at);
      } catch (error) {
        // Refused (400 partial_logout while the store is down): the state of these sessions is unknown.
        for (const session of named) session.uncertain = true;
        backchannel.refused++;
        const status = (error as { response?: { status?: number } }).response?.status;
        count('backchannel', status ?? 'network error', Date.now());
      }
      await sleep(interval);
    }
  };

  const logins = { ok: 0, failed: 0 };
  const rpLogouts = { acknowledged: 0, failed: 0 };
  // Real logins through the provider, a few requests, then an RP-initiated logout.
  const loginLoop = async (worker: number) => {
    let round = 0;
    while (running && Date.now() < deadline - 1000) {
      const agent = new Agent();
      const url = urls[(worker + round++) % 2]!;
      const user = DEMO_LOGINS[worker % 2]!;
      const tracked: Tracked = { cookie: '', sub: `demo:${user.login}`, sid: '' };
      try {
        const login = await agent.loginAtProvider(`${url}/auth/login?returnTo=/api/me`, user);
        count('login', login.response.status, Date.now());
        if (login.response.status !== 200) throw new Error(`login ended with ${login.response.status}`);
        logins.ok++;
        tracked.cookie = agent.cookieHeader(url);
        sessions.push(tracked);
      } catch (error) {
        const status = /ended with (\d+)/.exec(String(error))?.[1];
        if (status === undefined) count('login', 'failed before the app answered', Date.now());
        logins.failed++;
        await sleep(200);
        continue;
      }
      await sleep(300);
      tracked.ending = true;
      try {
        const csrf = await agent.fetch(`${url}/auth/csrf`);
        count('logout', csrf.status, Date.now());
        const { csrfToken } = (await csrf.json()) as { csrfToken: string };
        const logout = await agent.fetch(`${url}/auth/logout`, {
          method: 'POST',
          body: new URLSearchParams({ csrfToken }),
          headers: { origin: url },
        });
        count('logout', logout.status, Date.now());
        await logout.arrayBuffer();
        // The redirect to the provider's end_session_endpoint acknowledges the logout here.
        if (logout.status === 303 && logout.headers.get('location')?.startsWith(provider.issuer)) {
          end(tracked, Date.now());
          rpLogouts.acknowledged++;
        } else {
          tracked.uncertain = true;
          rpLogouts.failed++;
        }
      } catch {
        tracked.uncertain = true;
        rpLogouts.failed++;
      }
    }
  };

  // Heap after a warm-up, so caches that fill once are not counted as growth.
  const warm = Array.from({ length: options.connections }, loop);
  await sleep(Math.min(3000, options.durationSeconds * 100));
  const heapBefore = await Promise.all(instances.map((instance) => instance.heap()));

  const failoverAt = started + options.durationSeconds * 1000 * (options.failoverAt ?? 0.4);
  const failover = (async () => {
    await sleep(Math.max(0, failoverAt - Date.now()));
    const port = await aMaster();
    const killedAt = Date.now();
    const killed = await killNode(port);
    log(`soak: killed master 127.0.0.1:${port} at +${((killedAt - started) / 1000).toFixed(1)} s`);
    let promotedAt: number | null = null;
    const survivor = CLUSTER_PORTS.find((p) => p !== port)!;
    // The cluster first marks the node failed (its slots unserved), then elects its replica: ok again.
    while (Date.now() < killedAt + 60_000) {
      const nodes = await rawCommand(survivor, ['CLUSTER', 'NODES']).catch(() => '');
      const dead = nodes.split('\n').find((line) => line.includes(`127.0.0.1:${port}@`));
      const info = await rawCommand(survivor, ['CLUSTER', 'INFO']).catch(() => '');
      if (dead?.split(' ')[2]?.split(',').includes('fail') && info.includes('cluster_state:ok')) {
        promotedAt = Date.now();
        break;
      }
      await sleep(50);
    }
    log(`soak: a replica took the slots ${promotedAt === null ? 'never' : `${promotedAt - killedAt} ms after the kill`}`);
    // Let the window close before the node comes back, so its return is measured as normal time.
    await sleep(GRACE_MS);
    let restored = false;
    try {
      await killed.restart();
      restored = true;
      log(`soak: 127.0.0.1:${port} is back, as a replica`);
    } catch (error) {
      log(`soak: ${(error as Error).message}`);
    }
    return { port, killedAt, promotedAt, restored };
  })();

  const work = [...warm, backchannelLoop(), loginLoop(0), loginLoop(1)];
  await Promise.all(work);
  running = false;
  const { port, killedAt, promotedAt, restored } = await failover;
  const heapAfter = await Promise.all(instances.map((instance) => instance.heap()));
  const instancesAlive = instances.every((instance) => instance.child.exitCode === null && instance.child.signalCode === null);

  const windowEnd = (promotedAt ?? Number.POSITIVE_INFINITY) + GRACE_MS;
  const inside = (at: number) => at >= killedAt && at <= windowEnd;
  // A request in flight when the window opened counts as inside it.
  const overlaps = (r: { at: number; done: number }) => r.done >= killedAt && r.at <= windowEnd;
  const lastLiveRefusal = liveRefusals.filter((r) => r.at >= killedAt).at(-1)?.at;
  const recovered = lastLiveRefusal === undefined ? undefined : liveSuccesses.find((at) => at > lastLiveRefusal);
  const MB = 1024 * 1024;
  const report: SoakReport = {
    options: { durationSeconds: options.durationSeconds, users: options.users, connections: options.connections, mode: options.mode },
    requests,
    perSecond: Math.round(requests / options.durationSeconds),
    latencyMs: percentiles(requestTimes),
    statuses,
    serverErrorsOutsideWindow: serverErrors.filter(({ at }) => !inside(at)).length,
    serverErrorsInsideWindow: serverErrors
      .filter(({ at }) => inside(at))
      .reduce<Partial<Record<Kind, number>>>((byKind, { kind }) => {
        byKind[kind] = (byKind[kind] ?? 0) + 1;
        return byKind;
      }, {}),
    servedAfterLogout,
    liveRefusedOutsideWindow: liveRefusals.filter((r) => !overlaps(r)).length,
    liveRefusedInsideWindow: liveRefusals.filter(overlaps).length,
    logins,
    rpLogouts,
    backchannel,
    endedSessions: endedList.length,
    failover: {
      killedPort: port,
      promotedAfterMs: promotedAt === null ? null : promotedAt - killedAt,
      lastLiveRefusalAfterMs: lastLiveRefusal === undefined ? null : lastLiveRefusal - killedAt,
      recoveredAfterMs: recovered === undefined ? null : recovered - killedAt,
      restored,
    },
    heap: instances.map((instance, i) => ({
      instance: instance.name,
      beforeMB: round(heapBefore[i]! / MB),
      afterMB: round(heapAfter[i]! / MB),
      growthMB: round((heapAfter[i]! - heapBefore[i]!) / MB),
    })),
    instancesAlive,
  };
  return report;
}

const round = (n: number) => Math.round(n * 10) / 10;

function percentiles(times: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

/** The report as lines a person reads. */
export function formatReport(report: SoakReport): string {
  const f = report.failover;
  return [
    `signed-in requests: ${report.requests}, ${report.perSecond}/s, latency p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms`,
    ...Object.entries(report.statuses).map(
      ([kind, byStatus]) =>
        `  ${kind} answers: ${
          Object.entries(byStatus)
            .map(([status, n]) => `${status}: ${n}`)
            .join(', ') || 'none'
        }`,
    ),
    `5xx outside the failover window: ${report.serverErrorsOutsideWindow} (inside: ${JSON.stringify(report.serverErrorsInsideWindow)})`,
    `served after an acknowledged logout: ${report.servedAfterLogout}`,
    `live sessions refused: ${report.liveRefusedInsideWindow} inside the window, ${report.liveRefusedOutsideWindow} outside`,
    `logins: ${report.logins.ok} ok, ${report.logins.failed} failed; RP-initiated logouts: ${report.rpLogouts.acknowledged} acknowledged, ${report.rpLogouts.failed} failed`,
    `back-channel: ${report.backchannel.acknowledged} acknowledged (${report.backchannel.bySid} by sid, ${report.backchannel.bySub} by sub), ${report.backchannel.refused} refused; ${report.endedSessions} sessions ended`,
    f
      ? `failover of 127.0.0.1:${f.killedPort}: replica promoted after ${f.promotedAfterMs ?? '—'} ms; last live refusal at ${f.lastLiveRefusalAfterMs ?? '—'} ms, first success after it at ${f.recoveredAfterMs ?? '—'} ms; node restored: ${f.restored}`
      : 'no failover',
    `heap (after GC): ${report.heap.map((h) => `${h.instance} ${h.beforeMB} → ${h.afterMB} MB (${h.growthMB >= 0 ? '+' : ''}${h.growthMB})`).join(', ')}`,
    `instances alive at the end: ${report.instancesAlive}`,
  ].join('\n');
}

function argument(name: string, fallback: string): string {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length) ?? fallback;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = await runSoak({
    durationSeconds: Number(argument('duration', '60')),
    users: Number(argument('users', '1000')),
    connections: Number(argument('connections', '50')),
    mode: argument('mode', 'cookie') as 'cookie' | 'server',
    failoverAt: Number(argument('failover-at', '0.4')),
  });
  console.log(formatReport(report));
  const ok = report.serverErrorsOutsideWindow === 0 && report.servedAfterLogout === 0 && report.instancesAlive;
  process.exit(ok ? 0 : 1);
}
