/**
 * `npm run bench [-- --quick] [-- --only=id,id] [-- --runs=N --duration=S --out=FILE]`
 *
 * Starts every server in a process of its own pinned to one CPU, loads it from a load-generator
 * process pinned to the other, runs every scenario several times interleaved (rotating the
 * order each round), then measures the registry at scale and the cookie sizes, prints one
 * report and writes it as JSON (`bench/results/latest.json` by default). See bench/README.md.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { type DevProvider, startDevProvider } from '../examples/demo/dev-provider.js';
import { createAuth } from '../src/index.js';
import { redisStore } from '../src/stores/redis.js';
import { Agent } from '../test/support/agent.js';
import { probeRedis } from '../test/support/services.js';
import { type Adapter, CLIENT_SECRET, type Mode, PROTECTED_PATH, REDIS_URL, SECRET } from './apps.js';
import type { CookieReport } from './cookies.js';
import { type LogoutTokenIssuer, startIssuer } from './issuer.js';
import { buildLibrary, LIBRARY_ENV } from './library.js';
import type { LoadResult, LoadSpec } from './load.js';
import { mintCookies } from './mint.js';
import { Child, pinnableCpus } from './proc.js';
import type { RegistryReport } from './registry.js';
import type { Listening, ServerSpec } from './server.js';
import { formatBytes, formatNumber, formatRatio, max, median, min, rotate, table } from './stats.js';
import type { Job, VerifyResult } from './worker.js';

const USER = { login: 'alice', password: 'alice-password' };
const CONNECTIONS = 50;
const DISTINCT_SESSIONS = 100_000;

// --- what runs ---------------------------------------------------------------------------------

interface Settings {
  quick: boolean;
  runs: number;
  /** Seconds per measured run. */
  duration: number;
  /** Seconds of warm-up load per server before the rounds. */
  warmup: number;
  only: Set<string> | null;
  out: string;
  registry: { memorySessions: number; redisSessions: number; userSessions: number; cookieEntries: number };
}

type Kind = 'route' | 'backchannel' | 'ceiling';

interface Scenario {
  id: string;
  label: string;
  kind: Kind;
  /** The server to start; the issuer and client id are filled in at start. */
  server?: (issuer: string, clientId: string) => ServerSpec;
  /** Where to log in before loading the protected route. */
  loginPath?: string;
  /** Load with this many distinct sessions instead of one cookie: each request another user's. */
  distinct?: number;
  /** Server mode on Redis: the key prefix of the server's store. */
  redisPrefix?: string;
  /** Back-channel endpoint path. */
  path?: string;
  needsRedis?: boolean;
  /** Left out of `--quick` (which must finish in two minutes). */
  full?: boolean;
}

const ADAPTER_NAMES: Record<Adapter, string> = { node: 'node:http', express: 'Express', fastify: 'Fastify', hono: 'Hono' };
const MODE_NAMES: Record<Mode, string> = {
  cookie: 'cookie, memory store',
  'server-memory': 'server, memory store',
  'server-redis': 'server, Redis',
};

function oursScenario(adapter: Adapter, mode: Mode, distinct?: number): Scenario {
  // Distinct server-mode sessions are written into the server's Redis by the orchestrator: it names the prefix.
  const redisPrefix = mode === 'server-redis' ? `oidc-session-bench:${process.pid}:${adapter}-${distinct ?? 1}:` : undefined;
  return {
    id: `${adapter}-${mode}${distinct ? '-distinct' : ''}`,
    label: `oidc-session ${ADAPTER_NAMES[adapter]} (${MODE_NAMES[mode]})${distinct ? `, ${distinct.toLocaleString('en-US')} distinct sessions` : ''}`,
    kind: 'route',
    server: (issuer, clientId) => ({ kind: 'ours', adapter, mode, issuer, clientId, ...(redisPrefix ? { redisPrefix } : {}) }),
    ...(redisPrefix ? { redisPrefix } : {}),
    loginPath: `/auth/login?returnTo=${PROTECTED_PATH}`,
    ...(distinct ? { distinct } : {}),
    needsRedis: mode === 'server-redis',
    full: distinct !== undefined || (mode === 'server-memory' && adapter !== 'node'),
  };
}

const ADAPTERS: Adapter[] = ['node', 'express', 'fastify', 'hono'];
const SCENARIOS: Scenario[] = [
  { id: 'bare-node', label: 'bare node:http hello', kind: 'route', server: () => ({ kind: 'bare-node' }) },
  { id: 'bare-express', label: 'bare Express 5 hello', kind: 'route', server: () => ({ kind: 'bare-express' }) },
  ...(['cookie', 'server-memory', 'server-redis'] as const).flatMap((mode) => ADAPTERS.map((adapter) => oursScenario(adapter, mode))),
  oursScenario('node', 'cookie', DISTINCT_SESSIONS),
  oursScenario('express', 'cookie', DISTINCT_SESSIONS),
  oursScenario('node', 'server-redis', DISTINCT_SESSIONS),
  {
    id: 'peer-express',
    label: 'express-openid-connect 3.x, Express (cookie)',
    kind: 'route',
    server: (issuer, clientId) => ({ kind: 'peer', issuer, clientId }),
    loginPath: '/login',
  },
  {
    id: 'bcl-floor',
    label: 'back-channel floor: node:http, form + jose jwtVerify only',
    kind: 'backchannel',
    server: (issuer, clientId) => ({ kind: 'bare-backchannel', issuer, clientId }),
    path: '/',
  },
  {
    id: 'bcl-node',
    label: 'back-channel logout, oidc-session node:http',
    kind: 'backchannel',
    server: (issuer, clientId) => ({ kind: 'ours', adapter: 'node', mode: 'cookie', issuer, clientId }),
    path: '/auth/backchannel-logout/default',
  },
  {
    id: 'bcl-express',
    label: 'back-channel logout, oidc-session Express',
    kind: 'backchannel',
    server: (issuer, clientId) => ({ kind: 'ours', adapter: 'express', mode: 'cookie', issuer, clientId }),
    path: '/auth/backchannel-logout/default',
  },
  {
    id: 'bcl-peer',
    label: 'back-channel logout, express-openid-connect',
    kind: 'backchannel',
    server: (issuer, clientId) => ({ kind: 'peer', issuer, clientId, backchannel: true }),
    path: '/backchannel-logout',
  },
  { id: 'jose-verify', label: 'jose jwtVerify RS256 of the same tokens, 1 core (ops/s)', kind: 'ceiling' },
];

interface Comparison {
  /** The measured scenario and what it is divided by. */
  id: string;
  against: string;
  /** Minimum ratio; absent for figures shown for information. */
  target?: number;
  /** Shown on this scenario's row (default `id`). */
  row?: string;
}

const COMPARISONS: Comparison[] = [
  { id: 'node-cookie', against: 'bare-node', target: 0.7 },
  { id: 'express-cookie', against: 'bare-express', target: 0.9 },
  { id: 'fastify-cookie', against: 'bare-node' },
  { id: 'hono-cookie', against: 'bare-node' },
  { id: 'node-server-memory', against: 'bare-node' },
  { id: 'express-server-memory', against: 'bare-express' },
  { id: 'fastify-server-memory', against: 'bare-node' },
  { id: 'hono-server-memory', against: 'bare-node' },
  { id: 'node-server-redis', against: 'bare-node', target: 0.6 },
  { id: 'express-server-redis', against: 'bare-express' },
  { id: 'fastify-server-redis', against: 'bare-node' },
  { id: 'hono-server-redis', against: 'bare-node' },
  { id: 'node-cookie-distinct', against: 'bare-node', target: 0.6 },
  { id: 'express-cookie-distinct', against: 'bare-express', target: 0.9 },
  { id: 'node-server-redis-distinct', against: 'bare-node', target: 0.5 },
  // "The peer stays below us by at least 3×": our Express cookie mode over the peer, on the peer's row.
  { id: 'express-cookie', against: 'peer-express', target: 3, row: 'peer-express' },
  { id: 'bcl-node', against: 'jose-verify', target: 0.6 },
  { id: 'bcl-floor', against: 'jose-verify' },
  { id: 'bcl-express', against: 'bcl-peer', row: 'bcl-express' },
];

function parseSettings(argv: string[]): Settings {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const [name, value = 'true'] = arg.replace(/^--/, '').split('=');
    flags.set(name!, value);
  }
  const known = new Set(['quick', 'only', 'runs', 'duration', 'warmup', 'out']);
  for (const name of flags.keys()) if (!known.has(name)) throw new TypeError(`unknown option --${name} (known: ${[...known].join(', ')})`);
  const quick = flags.get('quick') === 'true';
  const only = flags.has('only') ? new Set(flags.get('only')!.split(',').filter(Boolean)) : null;
  const ids = new Set([...SCENARIOS.map((s) => s.id), 'registry', 'cookies']);
  for (const id of only ?? []) if (!ids.has(id)) throw new TypeError(`--only: unknown scenario "${id}" (known: ${[...ids].join(', ')})`);
  return {
    quick,
    runs: Number(flags.get('runs') ?? (quick ? 3 : 5)),
    duration: Number(flags.get('duration') ?? (quick ? 1 : 2)),
    warmup: Number(flags.get('warmup') ?? (quick ? 0.5 : 1.5)),
    only,
    out: resolve(flags.get('out') ?? fileURLToPath(new URL('results/latest.json', import.meta.url))),
    registry: quick
      ? { memorySessions: 100_000, redisSessions: 20_000, userSessions: 2_000, cookieEntries: 50_000 }
      : { memorySessions: 1_000_000, redisSessions: 100_000, userSessions: 10_000, cookieEntries: 200_000 },
  };
}

/** The scenarios to run: `--only` plus what the targets on their rows compare them with. */
function selected(settings: Settings): Scenario[] {
  if (!settings.only) return settings.quick ? SCENARIOS.filter((s) => !s.full) : SCENARIOS;
  const ids = new Set(settings.only);
  // A target shown on a selected row needs both of its figures.
  for (const c of COMPARISONS) {
    if (c.target !== undefined && settings.only.has(c.row ?? c.id)) ids.add(c.id).add(c.against);
  }
  return SCENARIOS.filter((s) => ids.has(s.id));
}

// --- running -----------------------------------------------------------------------------------

interface Live {
  scenario: Scenario;
  server?: Child;
  /** What the load generator sends. */
  load?: Omit<LoadSpec, 'duration' | 'connections'>;
  /** Back-channel runs send exactly this many fresh tokens. */
  amount?: number;
  cookieBytes?: number;
  runs: Measured[];
  error?: string;
}

/** One run: the load generator's figures and the server's CPU time per answered request. */
type Measured = LoadResult & { cpuMicrosPerRequest: number };

interface Env {
  settings: Settings;
  /** Where the library compiled by tsc is: what the servers load. */
  library: string;
  cpus: number[] | null;
  provider: DevProvider;
  issuer: LogoutTokenIssuer;
  loadWorker: Child;
  ceilingWorker: Child;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function startScenario(env: Env, scenario: Scenario, index: number): Promise<Live> {
  const live: Live = { scenario, runs: [] };
  if (scenario.kind === 'ceiling') return live;
  const clientId = `bench-${index}`;
  const issuer = scenario.kind === 'backchannel' ? env.issuer.issuer : env.provider.issuer;
  live.server = new Child('server.ts', [JSON.stringify(scenario.server!(issuer, clientId))], {
    cpu: env.cpus?.[0] ?? null,
    env: { [LIBRARY_ENV]: env.library },
  });
  const { url } = await live.server.next<Listening>();
  if (scenario.kind === 'backchannel') {
    live.load = {
      url,
      method: 'POST',
      path: scenario.path!,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      tokens: { issuer: env.issuer.issuer, audience: clientId, privateKeyPem: env.issuer.privateKeyPem },
    };
    return live;
  }
  let cookie: string | undefined;
  if (scenario.loginPath) {
    const callback = scenario.loginPath.startsWith('/auth/') ? `${url}/auth/callback` : `${url}/callback`;
    await env.provider.addClient({ client_id: clientId, client_secret: CLIENT_SECRET, redirect_uris: [callback] });
    cookie = await logIn(url, scenario.loginPath);
    live.cookieBytes = cookie.length;
  }
  live.load = { url, method: 'GET', path: PROTECTED_PATH, headers: cookie ? { cookie } : {} };
  if (scenario.distinct && cookie) {
    const redis = scenario.redisPrefix ? new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }) : null;
    const auth = createAuth({
      baseUrl: url,
      secret: SECRET,
      providers: { default: { issuer, clientId, clientSecret: CLIENT_SECRET } },
      ...(redis ? { session: { mode: 'server' as const }, store: redisStore(redis, { prefix: scenario.redisPrefix! }) } : {}),
    });
    try {
      live.load.cookiesFile = await mintCookies(auth, SECRET, cookie, scenario.distinct);
    } finally {
      redis?.disconnect();
    }
  }
  return live;
}

/** Logs in through the provider like a browser; returns the Cookie header the protected route gets. */
async function logIn(appUrl: string, loginPath: string): Promise<string> {
  const agent = new Agent();
  await agent.loginAtProvider(`${appUrl}${loginPath}`, USER);
  const cookie = agent.cookieHeader(`${appUrl}${PROTECTED_PATH}`);
  const check = await fetch(`${appUrl}${PROTECTED_PATH}`, { headers: { cookie } });
  const body = await check.text();
  if (check.status !== 200 || !body.includes(USER.login)) {
    throw new Error(`the login did not stick: GET ${PROTECTED_PATH} answered ${check.status} ${body.slice(0, 200)}`);
  }
  return cookie;
}

async function load(env: Env, live: Live, seconds: number, amount?: number): Promise<LoadResult> {
  const spec: LoadSpec = { ...live.load!, connections: CONNECTIONS, duration: seconds, ...(amount ? { amount } : {}) };
  env.loadWorker.send({ op: 'load', spec } satisfies Job);
  return unwrap<LoadResult>(await env.loadWorker.next());
}

async function verifyCeiling(env: Env, seconds: number): Promise<Measured> {
  const tokens = { issuer: env.issuer.issuer, audience: 'bench-ceiling', privateKeyPem: env.issuer.privateKeyPem };
  env.ceilingWorker.send({ op: 'verify', seconds, tokens, publicJwk: env.issuer.publicJwk } satisfies Job);
  const { opsPerSecond, verified, cpuMicrosPerOp } = unwrap<VerifyResult>(await env.ceilingWorker.next());
  return {
    rps: opsPerSecond,
    total: verified,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    seconds,
    latencyP50: 0,
    latencyP99: 0,
    statusCodes: {},
    cpuMicrosPerRequest: cpuMicrosPerOp,
  };
}

/** CPU time the server process has used so far, in microseconds. */
async function serverCpu(live: Live): Promise<number> {
  live.server!.send('cpu');
  return (await live.server!.next<{ cpuMicros: number }>()).cpuMicros;
}

function unwrap<T>(reply: unknown): T {
  const { ok, result, error } = reply as { ok: boolean; result?: T; error?: string };
  if (!ok) throw new Error(error);
  return result as T;
}

/** One measured run of a scenario. */
async function measure(env: Env, live: Live, seconds: number): Promise<Measured> {
  if (live.scenario.kind === 'ceiling') return verifyCeiling(env, seconds);
  const before = await serverCpu(live);
  const result = await load(env, live, seconds, live.scenario.kind === 'backchannel' ? live.amount : undefined);
  const cpu = (await serverCpu(live)) - before;
  return { ...result, cpuMicrosPerRequest: result.total > 0 ? cpu / result.total : Number.NaN };
}

async function warmUp(env: Env, live: Live): Promise<void> {
  const { warmup } = env.settings;
  if (live.scenario.kind === 'ceiling') {
    await verifyCeiling(env, warmup);
    return;
  }
  if (live.scenario.kind === 'backchannel') {
    // Fresh tokens are signed for every request, so runs are sized by count: enough for `duration` at the warmed-up rate.
    await load(env, live, 0, 500);
    const rate = (await load(env, live, 0, Math.max(1000, Math.round(3000 * warmup)))).rps;
    live.amount = Math.max(500, Math.round(rate * env.settings.duration));
    return;
  }
  await load(env, live, warmup);
}

function describeRun(result: Measured): string {
  const problems = result.non2xx + result.errors + result.timeouts;
  const cpu = `${formatNumber(result.cpuMicrosPerRequest)} µs CPU each`;
  const statuses = Object.entries(result.statusCodes)
    .map(([code, count]) => `${code}: ${count}`)
    .join(', ');
  return `${formatNumber(result.rps)}/s, ${cpu}${problems > 0 ? ` (non-2xx ${result.non2xx} [${statuses}], errors ${result.errors}, timeouts ${result.timeouts})` : ''}`;
}

// --- the report --------------------------------------------------------------------------------

interface ScenarioReport {
  label: string;
  kind: Kind;
  unit: 'req/s' | 'ops/s';
  median: number;
  min: number;
  max: number;
  runs: number[];
  /** Server CPU time per request (µs, median): what the code costs, whatever else the machine does. */
  cpuMicros: number;
  cpuRuns: number[];
  non2xx: number;
  errors: number;
  latencyP50ms?: number;
  latencyP99ms?: number;
  cookieBytes?: number;
  error?: string;
}

interface RatioReport extends Comparison {
  /** Median of `id` over median of `against`. */
  ratio: number;
  /** Smallest and largest ratio of the two within one round. */
  roundMin: number;
  roundMax: number;
  /** The same ratio from CPU time per request (`against`'s over `id`'s): steadier on a busy machine. */
  cpuRatio: number;
  met?: boolean;
}

function scenarioReport(live: Live): ScenarioReport {
  const rates = live.runs.map((r) => r.rps);
  return {
    label: live.scenario.label,
    kind: live.scenario.kind,
    unit: live.scenario.kind === 'ceiling' ? 'ops/s' : 'req/s',
    median: median(rates),
    min: min(rates),
    max: max(rates),
    runs: rates.map((r) => Math.round(r)),
    cpuMicros: median(live.runs.map((r) => r.cpuMicrosPerRequest)),
    cpuRuns: live.runs.map((r) => Math.round(r.cpuMicrosPerRequest * 10) / 10),
    non2xx: live.runs.reduce((n, r) => n + r.non2xx, 0),
    errors: live.runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
    ...(live.scenario.kind === 'ceiling'
      ? {}
      : { latencyP50ms: median(live.runs.map((r) => r.latencyP50)), latencyP99ms: median(live.runs.map((r) => r.latencyP99)) }),
    ...(live.cookieBytes !== undefined ? { cookieBytes: live.cookieBytes } : {}),
    ...(live.error ? { error: live.error } : {}),
  };
}

function ratioReports(scenarios: Record<string, ScenarioReport>): RatioReport[] {
  const out: RatioReport[] = [];
  for (const c of COMPARISONS) {
    const a = scenarios[c.id];
    const b = scenarios[c.against];
    if (!a || !b || a.runs.length === 0 || b.runs.length === 0) continue;
    const perRound = a.runs.map((value, i) => value / (b.runs[i] ?? Number.NaN)).filter(Number.isFinite);
    const ratio = a.median / b.median;
    out.push({
      ...c,
      ratio,
      roundMin: min(perRound),
      roundMax: max(perRound),
      cpuRatio: b.cpuMicros / a.cpuMicros,
      // Targets are CPU-time ratios: per request, the steadier figure on a shared machine.
      ...(c.target !== undefined ? { met: b.cpuMicros / a.cpuMicros >= c.target } : {}),
    });
  }
  return out;
}

function metMark(met: boolean | undefined): string {
  return met === undefined ? '' : met ? 'met' : 'NOT MET';
}

function renderThroughput(scenarios: Record<string, ScenarioReport>, ratios: RatioReport[]): string {
  const rows = Object.entries(scenarios).map(([id, s]) => {
    const comparison = ratios.find((r) => (r.row ?? r.id) === id);
    const against = comparison
      ? comparison.row && comparison.row !== comparison.id
        ? `${comparison.id} ÷ this`
        : `÷ ${comparison.against}`
      : '';
    const ratio = comparison
      ? `${formatRatio(comparison.ratio)} (${formatRatio(comparison.roundMin)}–${formatRatio(comparison.roundMax)})`
      : '';
    const target = comparison?.target !== undefined ? `≥ ${comparison.target.toFixed(2)}×` : '';
    const problems = s.non2xx + s.errors > 0 ? ` !${s.non2xx} non-2xx, ${s.errors} errors` : '';
    return [
      `${s.label}${s.error ? ` — FAILED: ${s.error}` : ''}${problems}`,
      formatNumber(s.median),
      `${formatNumber(s.min)}–${formatNumber(s.max)}`,
      formatNumber(s.cpuMicros),
      against,
      ratio,
      comparison ? formatRatio(comparison.cpuRatio) : '',
      target,
      metMark(comparison?.met),
    ];
  });
  return table(
    ['scenario (req/s unless noted)', 'median', 'min–max', 'CPU µs', 'compared', 'ratio (per-round min–max)', 'CPU ratio', 'target', ''],
    rows,
  );
}

function renderRegistry(report: RegistryReport): string {
  const rows = report.rows.map((row) => [
    row.label,
    row.unit === 'ms' ? `${formatNumber(row.median)} ms` : formatBytes(row.median),
    row.unit === 'ms' ? `${formatNumber(row.min)}–${formatNumber(row.max)} ms` : '',
    row.target === undefined ? '' : row.unit === 'ms' ? `< ${row.target} ms` : `< ${formatBytes(row.target)}`,
    metMark(row.target === undefined ? undefined : row.median < row.target),
  ]);
  return table(['registry at scale', 'median', 'min–max', 'target', ''], rows);
}

function renderCookies(report: CookieReport): string {
  const rows = report.rows.map((row) => [
    row.label,
    formatBytes(row.cookieHeaderBytes),
    formatBytes(row.largestSetCookieBytes),
    row.cookies.map((c) => `${c.name} ${c.chunks > 1 ? `${c.chunks} chunks, ` : ''}${formatBytes(c.valueBytes)}`).join('; '),
  ]);
  return table(['cookies after login', 'Cookie header', 'largest Set-Cookie', 'cookies'], rows);
}

// --- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  const started = Date.now();
  const pinned = pinnableCpus();
  log(
    pinned
      ? `servers pinned to CPU ${pinned[0]}, load generator to CPU ${pinned[1]}`
      : 'taskset unavailable or a single CPU: processes are not pinned (figures are noisier)',
  );
  const redisUp = await probeRedis().then(
    () => true,
    (error: unknown) => {
      log(`⚠️  Redis at 127.0.0.1:6379 is unreachable (${String((error as Error).message)}): the Redis scenarios are skipped`);
      return false;
    },
  );
  const scenarios = selected(settings).filter((s) => redisUp || !s.needsRedis);
  const wantRegistry = !settings.only || settings.only.has('registry');
  const wantCookies = !settings.only || settings.only.has('cookies');

  const library = buildLibrary();
  log(`src/ compiled by tsc to ${library.dir}: the servers run that`);
  const env: Env = {
    settings,
    library: library.dir,
    cpus: pinned,
    provider: await startDevProvider({ issuerHost: 'localhost', clients: [] }),
    issuer: await startIssuer(),
    loadWorker: new Child('worker.ts', [], { cpu: pinned?.[1] ?? null }),
    ceilingWorker: new Child('worker.ts', [], { cpu: pinned?.[0] ?? null }),
  };

  // Servers start two at a time: quicker than one by one, without starving the login round trips.
  const lives: Live[] = [];
  for (let i = 0; i < scenarios.length; i += 2) {
    const batch = scenarios.slice(i, i + 2);
    lives.push(
      ...(await Promise.all(
        batch.map((scenario, j) =>
          startScenario(env, scenario, i + j).catch((error: unknown) => ({
            scenario,
            runs: [],
            error: String((error as Error).message ?? error),
          })),
        ),
      )),
    );
  }
  for (const live of lives) if (live.error) log(`${live.scenario.id}: could not start: ${live.error}`);
  const active = lives.filter((live) => !live.error);
  log(`${active.length} scenarios started in ${((Date.now() - started) / 1000).toFixed(0)} s; warming up`);
  for (const live of active) {
    await warmUp(env, live).catch((error: unknown) => {
      live.error = String((error as Error).message ?? error).split('\n')[0];
      log(`${live.scenario.id}: warm-up FAILED, not measured: ${live.error}`);
    });
  }

  for (let round = 0; round < settings.runs; round++) {
    for (const live of rotate(active, round * 3)) {
      if (live.error) continue;
      try {
        const result = await measure(env, live, settings.duration);
        live.runs.push(result);
        log(`round ${round + 1}/${settings.runs} ${live.scenario.id}: ${describeRun(result)}`);
      } catch (error) {
        // One broken scenario is reported as such; the others still run.
        live.error = String((error as Error).message ?? error).split('\n')[0];
        log(`round ${round + 1}/${settings.runs} ${live.scenario.id}: FAILED, no more runs: ${live.error}`);
      }
    }
  }

  await Promise.all(lives.map((live) => live.server?.close()));
  // The minted cookies live in a directory of their own each.
  await Promise.all(lives.map((live) => live.load?.cookiesFile && rm(dirname(live.load.cookiesFile), { recursive: true, force: true })));
  await Promise.all([env.loadWorker.close(), env.ceilingWorker.close()]);
  await env.issuer.close();
  await env.provider.close();
  await library.remove();

  let registry: RegistryReport | undefined;
  if (wantRegistry) {
    log('registry at scale…');
    const child = new Child('registry.ts', [JSON.stringify({ ...settings.registry, redis: redisUp })], {
      cpu: pinned?.[0] ?? null,
      nodeArgs: ['--expose-gc', '--max-old-space-size=8192'],
    });
    registry = await child.next<RegistryReport>();
    await child.close();
  }
  let cookies: CookieReport | undefined;
  if (wantCookies) {
    log('cookie sizes…');
    const child = new Child('cookies.ts', []);
    cookies = await child.next<CookieReport>();
    await child.close();
  }

  const scenarioReports = Object.fromEntries(lives.map((live) => [live.scenario.id, scenarioReport(live)]));
  const ratios = ratioReports(scenarioReports);
  const seconds = (Date.now() - started) / 1000;
  const report = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      pinned: pinned !== null,
      quick: settings.quick,
      runs: settings.runs,
      durationSeconds: settings.duration,
      connections: CONNECTIONS,
      totalSeconds: Math.round(seconds),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    },
    scenarios: scenarioReports,
    ratios,
    ...(registry ? { registry } : {}),
    ...(cookies ? { cookies } : {}),
  };

  const lines = [
    '',
    `oidc-session benchmark — ${report.meta.command}; Node ${process.version}, ${report.meta.cpus} × ${report.meta.cpu}`,
    `${settings.runs} interleaved runs of ${settings.duration} s per scenario, autocannon -c ${CONNECTIONS}, ${pinned ? 'server and load generator pinned to different CPUs' : 'not pinned'}; medians`,
    '',
    renderThroughput(scenarioReports, ratios),
  ];
  if (registry) lines.push('', renderRegistry(registry));
  if (cookies) lines.push('', renderCookies(cookies));
  const targets = [
    ...ratios.filter((r) => r.target !== undefined).map((r) => r.met),
    ...(registry?.rows ?? []).filter((r) => r.target !== undefined).map((r) => r.median < r.target!),
  ];
  lines.push('', `targets met: ${targets.filter(Boolean).length} of ${targets.length}; ${Math.round(seconds)} s in all`);
  process.stdout.write(`${lines.join('\n')}\n`);

  await mkdir(dirname(settings.out), { recursive: true });
  await writeFile(settings.out, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${settings.out}`);
}

await main();
