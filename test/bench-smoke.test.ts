/**
 * The benchmark is not part of `npm test`, but this smoke run of it is, so it cannot rot:
 * `npm run bench -- --quick` on one scenario (and the baseline it is compared with), checking
 * that it produced a sane report — never how fast anything was.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 2;

interface Report {
  meta: { quick: boolean; runs: number };
  scenarios: Record<
    string,
    { median: number; runs: number[]; cpuMicros: number; non2xx: number; errors: number; cookieBytes?: number; error?: string }
  >;
  ratios: Array<{ id: string; against: string; ratio: number; cpuRatio: number; target?: number; met?: boolean }>;
}

describe('npm run bench -- --quick, one scenario', () => {
  let dir: string;
  let stdout: string;
  let report: Report;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oidc-session-bench-smoke-'));
    const out = join(dir, 'report.json');
    stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bench/run.ts', '--quick', '--only=express-cookie', `--runs=${RUNS}`, `--out=${out}`],
        { cwd: REPO, timeout: 60_000, maxBuffer: 4 * 1024 * 1024 },
        (error, out, err) => (error ? reject(new Error(`the bench failed: ${error.message}\n${err}`)) : resolve(out)),
      );
    });
    report = JSON.parse(await readFile(out, 'utf8')) as Report;
  }, 90_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when run on one scenario then it also measures the baseline that scenario is compared with', () => {
    expect(Object.keys(report.scenarios).sort()).toEqual(['bare-express', 'express-cookie']);
    expect(report.meta).toMatchObject({ quick: true, runs: RUNS });
  });

  it('when a scenario ran then every run answered only 2xx, at a positive rate, with the server CPU time measured', () => {
    for (const [id, scenario] of Object.entries(report.scenarios)) {
      expect(scenario.error, id).toBeUndefined();
      expect(scenario.runs, id).toHaveLength(RUNS);
      expect(
        scenario.runs.every((rate) => rate > 0),
        id,
      ).toBe(true);
      expect(scenario.median, id).toBeGreaterThan(0);
      expect(scenario.cpuMicros, id).toBeGreaterThan(0);
      expect(scenario.non2xx, id).toBe(0);
      expect(scenario.errors, id).toBe(0);
    }
    // The logged-in scenario carried a real session cookie from the provider login.
    expect(report.scenarios['express-cookie']!.cookieBytes).toBeGreaterThan(100);
  });

  it('when the report is printed then the ratio to the baseline and its target verdict are in it', () => {
    const ratio = report.ratios.find((r) => r.id === 'express-cookie' && r.against === 'bare-express');
    expect(ratio).toBeDefined();
    expect(Number.isFinite(ratio!.ratio) && ratio!.ratio > 0).toBe(true);
    expect(Number.isFinite(ratio!.cpuRatio) && ratio!.cpuRatio > 0).toBe(true);
    expect(ratio!.target).toBe(0.9);
    expect(typeof ratio!.met).toBe('boolean');
    expect(stdout).toMatch(/oidc-session Express \(cookie, memory store\)/);
    expect(stdout).toMatch(/targets met: \d+ of 1;/);
  });
});
