/**
 * One autocannon run, as the worker (`worker.ts`) on the load generator's core performs it.
 */
import { readFile } from 'node:fs/promises';
import autocannon from 'autocannon';
import { signLogoutTokens, type TokenSpec } from './issuer.js';

export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  duration: number;
  /** Exactly this many requests (the back-channel runs: one fresh token each). */
  amount?: number;
  /** Sign `amount` distinct logout tokens first and send one per request as `logout_token`. */
  tokens?: Omit<TokenSpec, 'count'>;
  /** Cycle through the Cookie headers in this file, one per request. */
  cookiesFile?: string;
}

export interface LoadResult {
  /** Requests answered per second (every status). */
  rps: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  latencyP50: number;
  latencyP99: number;
  statusCodes: Record<string, number>;
}

type RequestSetup = (request: { headers?: Record<string, string>; body?: string }) => typeof request;

async function setupFor(spec: LoadSpec): Promise<RequestSetup | undefined> {
  if (spec.tokens) {
    const tokens = signLogoutTokens({ ...spec.tokens, count: spec.amount ?? 0 });
    let next = 0;
    // Past the pool (retries after a socket error) a token is reused: the replay is then a 400, counted.
    return (request) => ({ ...request, body: `logout_token=${tokens[next++ % tokens.length]}` });
  }
  if (spec.cookiesFile) {
    const cookies = (await readFile(spec.cookiesFile, 'utf8')).split('\n').filter(Boolean);
    let next = 0;
    return (request) => ({ ...request, headers: { ...spec.headers, cookie: cookies[next++ % cookies.length]! } });
  }
  return undefined;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const setupRequest = await setupFor(spec);
  const started = performance.now();
  let lastResponse = started;
  const run = autocannon({
    url: spec.url,
    connections: spec.connections,
    // autocannon notices the end of a run only at its next sample: every 100 ms, not every second.
    sampleInt: 100,
    ...(spec.amount ? { amount: spec.amount } : { duration: spec.duration }),
    requests: [{ method: spec.method, path: spec.path, headers: spec.headers, ...(setupRequest ? { setupRequest } : {}) }],
  });
  // A fixed amount ends between two samples: time the last answer.
  if (spec.amount) run.on('response', () => (lastResponse = performance.now()));
  const result = await run;
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number(count);
  const total = Object.values(statusCodes).reduce((sum, n) => sum + n, 0);
  const seconds = spec.amount ? (lastResponse - started) / 1000 : (result.finish.getTime() - result.start.getTime()) / 1000;
  return {
    rps: total / seconds,
    total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    statusCodes,
  };
}
