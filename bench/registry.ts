/**
 * The registry at scale, in a process of its own (run with `--expose-gc`):
 *
 * - server mode, memory store: N sessions, of which K belong to one user; a `sub`-only
 *   back-channel logout token ends those K, and a `sid` token ends one. Both go through the
 *   public path, `auth.handle(POST /auth/backchannel-logout/default)`, timed from request to
 *   response (the token's RS256 check included). Measured at N/10 and at N sessions: no lookup
 *   may be O(total sessions);
 * - the same with Redis (under a prefix of its own, deleted afterwards);
 * - memory: bytes per stored session (server mode), and per entry of cookie mode's registry
 *   (a revoked session id, a back-channel logout's tombstone and replay-cache entry).
 *
 *   node --expose-gc --import tsx bench/registry.ts '{"memorySessions":1000000,…}'
 */
import { Redis } from 'ioredis';
import { resolveConfig } from '../src/config.js';
import { Context } from '../src/core/context.js';
import { randomId } from '../src/core/encoding.js';
import { endSessions } from '../src/core/logout/provider-sessions.js';
import { newSession } from '../src/core/session/record.js';
import { Sealer } from '../src/core/session/seal.js';
import type { Store } from '../src/core/store.js';
import { type Auth, type AuthOptions, createAuth } from '../src/index.js';
import { memoryStore } from '../src/stores/memory.js';
import { redisStore } from '../src/stores/redis.js';
import { CLIENT_SECRET, deletePrefix, REDIS_URL, SECRET } from './apps.js';
import { type LogoutTokenIssuer, signLogoutTokens, startIssuer } from './issuer.js';
import { median } from './stats.js';

export interface RegistryOptions {
  memorySessions: number;
  redisSessions: number;
  /** Sessions of the one user a `sub` logout ends. */
  userSessions: number;
  /** Entries written to measure cookie mode's memory per entry. */
  cookieEntries: number;
  redis: boolean;
}

export interface RegistryRow {
  label: string;
  unit: 'ms' | 'bytes';
  median: number;
  min: number;
  max: number;
  samples: number[];
  target?: number;
}

export interface RegistryReport {
  rows: RegistryRow[];
}

const BASE_URL = 'http://127.0.0.1:3000';
const CLIENT_ID = 'bench';
const USER = 'alice';
const REPEATS = 3;
// A realistic ID token (~900 characters), kept for RP-initiated logout's id_token_hint.
const ID_TOKEN = `eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.${'e'.repeat(420)}.${'s'.repeat(342)}`;

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Every login sweeps its user's index of sessions that are gone (a read of every session of
 * that user), so building K sessions of one user through the login path costs O(K²). The
 * benchmark measures logouts, not that: while it populates, the sweep sees an empty index.
 */
function populatable(store: Store): { store: Store; populating: (on: boolean) => void } {
  let populating = false;
  const wrapped: Store = Object.create(store, {
    setMembers: { value: (key: string) => (populating ? Promise.resolve([]) : store.setMembers(key)) },
  });
  return {
    store: wrapped,
    populating: (on) => {
      populating = on;
    },
  };
}

interface Bench {
  auth: Auth;
  ctx: Context;
  /** Sessions the last logout ended, as `onProviderLogout` reported them. */
  ended: { count: number | null };
  populating: (on: boolean) => void;
}

async function setUp(store: Store, issuer: LogoutTokenIssuer, mode: 'cookie' | 'server'): Promise<Bench> {
  const wrapped = populatable(store);
  const ended = { count: null as number | null };
  const options: AuthOptions = {
    baseUrl: BASE_URL,
    secret: SECRET,
    providers: { default: { issuer: issuer.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } },
    session: { mode },
    store: wrapped.store,
    logger: { warn: (message) => console.error(message), error: (message) => console.error(message) },
    onProviderLogout: (event) => {
      ended.count = event.ended;
    },
  };
  // The Auth answers the logout; a Context on the same store and configuration writes the sessions as logins do.
  const config = resolveConfig(options);
  return {
    auth: createAuth(options),
    ctx: new Context(config, await Sealer.create(config.secrets)),
    ended,
    populating: wrapped.populating,
  };
}

/** One session as a login writes it (ServerSessions.write: random id, SHA-256, record, indexes). */
async function addSession(ctx: Context, sub: string, sid: string): Promise<void> {
  const record = newSession({
    provider: 'default',
    issuer: ctx.config.providers.default!.issuer,
    subject: sub,
    sid,
    user: { sub, name: `User ${sub}`, email: `${sub}@example.com`, email_verified: true, preferred_username: sub },
    idToken: ID_TOKEN,
    absoluteDuration: 7 * 86_400,
    createdAt: Date.now() / 1000 - 10,
  });
  await ctx.sessions.write(record, { sessionId: record.id, accessToken: randomId(32) }, new Map());
}

/** Adds sessions `from`…`to - 1`; those numbered below `userSessions` belong to the user. */
async function populate(bench: Bench, from: number, to: number, userSessions: number, batch: number, user = USER): Promise<void> {
  bench.populating(true);
  for (let start = from; start < to; start += batch) {
    const writes: Array<Promise<void>> = [];
    for (let i = start; i < Math.min(to, start + batch); i++) {
      writes.push(addSession(bench.ctx, i < userSessions || user !== USER ? user : `user-${i}`, `sid-${user}-${i}`));
    }
    await Promise.all(writes);
  }
  bench.populating(false);
}

/** POSTs one logout token to the back-channel endpoint; milliseconds from request to response. */
async function logout(bench: Bench, token: string, expected: number, settle = true): Promise<number> {
  bench.ended.count = null;
  if (settle) {
    // The garbage that populating left is not the logout's to collect; the collector's
    // concurrent sweeping after a full GC is not the logout's to wait for either.
    gc();
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const started = performance.now();
  const response = await bench.auth.handle(
    new Request(`${BASE_URL}/auth/backchannel-logout/default`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `logout_token=${token}`,
    }),
  );
  const ms = performance.now() - started;
  if (response?.status !== 200) throw new Error(`back-channel logout answered ${response?.status}: ${await response?.text()}`);
  if (bench.ended.count !== expected) throw new Error(`expected ${expected} sessions ended, got ${bench.ended.count}`);
  return ms;
}

/** `sub` logouts of the user's sessions (re-created between repeats) and `sid` logouts of single sessions. */
async function logouts(bench: Bench, issuer: LogoutTokenIssuer, total: number, k: number, batch: number) {
  const spec = { issuer: issuer.issuer, audience: CLIENT_ID, privateKeyPem: issuer.privateKeyPem, count: 1 };
  // Warm-up, not measured: discovery, the JWKS, and the code path itself (JIT), on another user.
  for (let i = 0; i < 3; i++) {
    await populate(bench, total, total + 200, 0, batch, 'warm-up');
    await logout(bench, signLogoutTokens({ ...spec, sub: 'warm-up' })[0]!, 200);
  }
  for (const token of signLogoutTokens({ ...spec, count: 30 })) await logout(bench, token, 0, false);
  const sub: number[] = [];
  const sid: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    if (r > 0) await populate(bench, 0, k, k, batch);
    sub.push(await logout(bench, signLogoutTokens({ ...spec, sub: USER })[0]!, k));
    const victim = k + Math.floor(((r + 1) / (REPEATS + 1)) * (total - k));
    sid.push(await logout(bench, signLogoutTokens({ ...spec, sid: `sid-${USER}-${victim}` })[0]!, 1));
  }
  return { sub, sid };
}

function row(label: string, unit: RegistryRow['unit'], samples: number[], target?: number): RegistryRow {
  return {
    label,
    unit,
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    samples: samples.map((s) => Math.round(s * 100) / 100),
    ...(target !== undefined ? { target } : {}),
  };
}

async function memoryServerMode(options: RegistryOptions, issuer: LogoutTokenIssuer, rows: RegistryRow[]): Promise<void> {
  const n = options.memorySessions;
  const k = options.userSessions;
  const store = memoryStore({ maxEntries: 5 * n + 20 * k });
  const bench = await setUp(store, issuer, 'server');
  const tenth = Math.max(k * 2, Math.round(n / 10));
  await populate(bench, 0, tenth, k, 2000);
  const small = await logouts(bench, issuer, tenth, k, 1000);
  // The target is for N sessions; this one shows how the time grows with N (it should not much).
  rows.push(row(`memory: sub logout of ${fmt(k)} sessions among ${fmt(tenth)} (for comparison)`, 'ms', small.sub));
  const before = heapUsed();
  await populate(bench, tenth, n, k, 2000);
  const perSession = (heapUsed() - before) / (n - tenth);
  // The user's sessions were ended above: they come back, among all the others.
  await populate(bench, 0, k, k, 1000);
  const full = await logouts(bench, issuer, n, k, 1000);
  rows.push(row(`memory: sub logout of ${fmt(k)} sessions among ${fmt(n)}`, 'ms', full.sub, 50));
  rows.push(row(`memory: sid logout (1 session) among ${fmt(n)}`, 'ms', full.sid));
  rows.push(row('memory, server mode: heap per stored session (record, ID token, indexes)', 'bytes', [perSession]));
  await store.close();
}

async function redisServerMode(options: RegistryOptions, issuer: LogoutTokenIssuer, rows: RegistryRow[]): Promise<void> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = `oidc-session-bench:registry:${process.pid}:${Date.now()}:`;
  try {
    const bench = await setUp(redisStore(client, { prefix }), issuer, 'server');
    const n = options.redisSessions;
    const k = options.userSessions;
    await populate(bench, 0, n, k, 500);
    const { sub, sid } = await logouts(bench, issuer, n, k, 500);
    rows.push(row(`Redis: sub logout of ${fmt(k)} sessions among ${fmt(n)}`, 'ms', sub, 500));
    rows.push(row(`Redis: sid logout (1 session) among ${fmt(n)}`, 'ms', sid));
  } finally {
    await deletePrefix(client, prefix);
    client.disconnect();
  }
}

/** What cookie mode keeps per ended session: a revoked id (local logout), or a tombstone and a `jti` (back-channel). */
async function cookieModeMemory(options: RegistryOptions, issuer: LogoutTokenIssuer, rows: RegistryRow[]): Promise<void> {
  const n = options.cookieEntries;
  const store = memoryStore({ maxEntries: 3 * n + 1000 });
  const { ctx } = await setUp(store, issuer, 'cookie');
  const iss = issuer.issuer;
  let before = heapUsed();
  for (let i = 0; i < n; i++) await ctx.registry.revoke(randomId(), 7 * 86_400);
  const revoked = (heapUsed() - before) / n;
  before = heapUsed();
  const at = Date.now() / 1000;
  for (let i = 0; i < n; i++) {
    const jti = crypto.randomUUID();
    await ctx.registry.claimJti(iss, jti, 180);
    await endSessions(ctx, { iss, aud: CLIENT_ID, sid: crypto.randomUUID() }, at, 'back-channel');
    await ctx.registry.completeJti(iss, jti, 180);
  }
  const tombstone = (heapUsed() - before) / n;
  rows.push(row('memory, cookie mode: per revoked session id (local logout)', 'bytes', [revoked], 1024));
  rows.push(row('memory, cookie mode: per back-channel logout by sid (tombstone + jti)', 'bytes', [tombstone], 1024));
  await store.close();
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

const options = JSON.parse(process.argv[2] ?? '{}') as RegistryOptions;
const issuer = await startIssuer();
const rows: RegistryRow[] = [];
// Cookie mode's memory first, on a heap nothing else has used yet.
await cookieModeMemory(options, issuer, rows);
await memoryServerMode(options, issuer, rows);
if (options.redis) await redisServerMode(options, issuer, rows);
await issuer.close();
process.stdout.write(`${JSON.stringify({ rows } satisfies RegistryReport)}\n`);
process.exit(0);
