/**
 * The demo app (`examples/demo/main.ts`) as a separate Node process, for tests that run several
 * instances of the app against one shared store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:http';

export interface Instance {
  url: string;
  output: string[];
  stop(): Promise<void>;
}

/** A port that was free a moment ago: the app's URL must be known before it listens. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts the demo on `port` with `env` and waits for its "listening on" line. */
export async function startInstance(port: number, env: Record<string, string>): Promise<Instance> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/main.ts'], {
    env: { ...process.env, ...env, PORT: String(port), APP_URL: `http://127.0.0.1:${port}`, CI: process.env.CI ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance on ${port} did not start: ${output.join('')}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.join('').includes('listening on http')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('exit', (code) => reject(new Error(`instance on ${port} exited with ${code}: ${output.join('')}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
