/**
 * A measuring process the orchestrator keeps for the whole run and pins to one core: it reads
 * one JSON job a line on stdin and answers one JSON result a line on stdout. On the load
 * generator's core it runs autocannon; on the servers' core it runs the in-process ceiling
 * (`jose` `jwtVerify` of logout tokens), so that figure too is "one core".
 *
 *   node --import tsx bench/worker.ts
 */
import { createInterface } from 'node:readline';
import { importJWK, jwtVerify } from 'jose';
import { signLogoutTokens, type TokenSpec } from './issuer.js';
import { type LoadSpec, runLoad } from './load.js';

export type Job =
  | { op: 'load'; spec: LoadSpec }
  | { op: 'verify'; seconds: number; tokens: Omit<TokenSpec, 'count'>; publicJwk: Record<string, unknown> };

export interface VerifyResult {
  opsPerSecond: number;
  verified: number;
  /** CPU time of this process (all threads: WebCrypto runs on libuv's) per verification. */
  cpuMicrosPerOp: number;
}

const POOL = 1000;
/** Tokens live two minutes: a pool older than one is signed again. */
const POOL_MAX_AGE_MS = 60_000;
let pool: { key: Awaited<ReturnType<typeof importJWK>>; tokens: string[]; signedAt: number } | undefined;

/** `jwtVerify` of logout tokens, one after another, with the key imported once: what one core can do. */
async function verify(job: Extract<Job, { op: 'verify' }>): Promise<VerifyResult> {
  if (!pool || Date.now() - pool.signedAt > POOL_MAX_AGE_MS) {
    pool = { key: await importJWK(job.publicJwk, 'RS256'), tokens: signLogoutTokens({ ...job.tokens, count: POOL }), signedAt: Date.now() };
  }
  const { key, tokens } = pool;
  const options = { issuer: job.tokens.issuer, audience: job.tokens.audience, algorithms: ['RS256'] };
  const run = async (ms: number) => {
    let n = 0;
    const end = performance.now() + ms;
    const started = performance.now();
    while (performance.now() < end) {
      await jwtVerify(tokens[n % POOL]!, key, options);
      n++;
    }
    return { n, ms: performance.now() - started };
  };
  await run(300); // warm-up: JIT and the key's first use
  const cpu = process.cpuUsage();
  const { n, ms } = await run(job.seconds * 1000);
  const { user, system } = process.cpuUsage(cpu);
  return { opsPerSecond: (n / ms) * 1000, verified: n, cpuMicrosPerOp: (user + system) / n };
}

for await (const line of createInterface({ input: process.stdin })) {
  const job = JSON.parse(line) as Job;
  try {
    const result = job.op === 'load' ? await runLoad(job.spec) : await verify(job);
    process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: String((error as Error)?.stack ?? error) })}\n`);
  }
}
