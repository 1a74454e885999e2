/**
 * Child processes of the benchmark: Node with tsx, pinned to one CPU with `taskset` when the OS
 * has it, talking one JSON value per line on stdout.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The CPU ids the OS lets us pin to, or null when pinning is unavailable (no taskset, one CPU). */
export function pinnableCpus(): number[] | null {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const out = execFileSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' });
  const cpus = parseCpuList(out.slice(out.lastIndexOf(':') + 1).trim());
  return cpus.length >= 2 ? cpus : null;
}

function parseCpuList(list: string): number[] {
  return list.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || Number.isNaN(from)) return [];
    return Array.from({ length: (to ?? from) - from + 1 }, (_, i) => from + i);
  });
}

export interface SpawnOptions {
  /** Pin to this CPU (when pinning is available). */
  cpu?: number | null;
  nodeArgs?: string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

/** A running child whose stdout is read as JSON lines. */
export class Child {
  readonly #process: ChildProcess;
  readonly #lines: string[] = [];
  readonly #waiting: Array<(line: string) => void> = [];
  #stderr = '';
  #exited: string | null = null;

  constructor(script: string, args: string[], options: SpawnOptions = {}) {
    const node = [...(options.nodeArgs ?? []), '--import', 'tsx', `${BENCH_DIR}${script}`, ...args];
    const [command, argv] =
      options.cpu === undefined || options.cpu === null
        ? [process.execPath, node]
        : ['taskset', ['-c', String(options.cpu), process.execPath, ...node]];
    // From the repository root, where `--import tsx` resolves.
    this.#process = spawn(command, argv, { cwd: REPO_DIR, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let buffer = '';
    this.#process.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        this.#push(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
      }
    });
    this.#process.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    this.#process.on('exit', (code, signal) => {
      this.#exited = `${script} exited (${signal ?? code}): ${this.#stderr.trim() || 'no output'}`;
      for (const resolve of this.#waiting.splice(0)) resolve('');
    });
  }

  /** The next JSON line the child prints. */
  async next<T>(): Promise<T> {
    const line = this.#lines.shift() ?? (this.#exited === null ? await new Promise<string>((resolve) => this.#waiting.push(resolve)) : '');
    if (line === '') throw new Error(this.#exited ?? 'child closed its output');
    return JSON.parse(line) as T;
  }

  send(value: unknown): void {
    this.#process.stdin!.write(`${JSON.stringify(value)}\n`);
  }

  /** Closes stdin (the child's signal to shut down cleanly) and waits for it to exit. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#process.once('exit', () => resolve()));
    this.#process.stdin!.end();
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  #push(line: string): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(line);
    else this.#lines.push(line);
  }
}
