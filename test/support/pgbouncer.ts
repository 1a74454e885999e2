/**
 * A PgBouncer of the test's own (Debian's `pgbouncer` package) in front of the test PostgreSQL, in
 * transaction pooling mode: started on a free 127.0.0.1 port with a generated ini, stopped at
 * the end. Outside CI a missing binary skips the file with one loud line; under CI=true it fails.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresUrl } from './services.js';

export interface PgBouncer {
  /** postgres://… through the bouncer, to the same database as `postgresUrl`. */
  url: string;
  /** The admin console (`SHOW CONFIG`, `SHOW POOLS`). */
  adminUrl: string;
  version: string;
  stop(): Promise<void>;
}

const HOW_TO_INSTALL = 'apt-get -o DPkg::Lock::Timeout=600 install -y pgbouncer (.ci/run: ensure_pgbouncer)';

/** The installed version, or null when there is no `pgbouncer` binary. */
export function pgbouncerVersion(): string | null {
  try {
    const out = execFileSync('pgbouncer', ['--version'], { encoding: 'utf8' });
    return /PgBouncer (\S+)/.exec(out)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** True when pgbouncer is installed; else a loud skip, or a failure under CI=true. */
export function requirePgBouncer(): boolean {
  if (pgbouncerVersion() !== null) return true;
  const where = 'pgbouncer is not installed';
  if (process.env.CI === 'true')
    throw new Error(`${where}; CI=true, so this suite fails instead of skipping. Install it: ${HOW_TO_INSTALL}`);
  console.warn(`⚠️  SKIPPING the PgBouncer tests: ${where}. Install it: ${HOW_TO_INSTALL}`);
  return false;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts PgBouncer in transaction pooling mode. `poolSize` server connections serve every client
 * connection, so a client's consecutive statements run on different server connections: what
 * breaks session state (named prepared statements, session advisory locks, SET) in a store.
 */
export async function startPgBouncer({ poolSize = 2 } = {}): Promise<PgBouncer> {
  const upstream = new URL(postgresUrl);
  const database = upstream.pathname.slice(1) || 'postgres';
  const user = decodeURIComponent(upstream.username || 'postgres');
  const dir = await mkdtemp(join(tmpdir(), 'oidc-session-pgbouncer-'));
  const port = await freePort();
  const ini = `[databases]
${database} = host=${upstream.hostname} port=${upstream.port || 5432} dbname=${database} user=${user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(dir, 'userlist.txt')}
admin_users = ${user}
pool_mode = transaction
default_pool_size = ${poolSize}
max_client_conn = 500
`;
  await writeFile(join(dir, 'pgbouncer.ini'), ini);
  // trust still wants the user listed in the auth_file.
  await writeFile(join(dir, 'userlist.txt'), `"${user}" ""\n`);
  // PgBouncer refuses to run as root: as root, it drops to the postgres user, which must read the files.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    await chmod(dir, 0o755);
    await chmod(join(dir, 'pgbouncer.ini'), 0o644);
    await chmod(join(dir, 'userlist.txt'), 0o644);
  }
  const child: ChildProcess = spawn('pgbouncer', [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pgbouncer did not start: ${output}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`listening on 127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pgbouncer exited with ${code}: ${output}`));
    });
  });
  const credentials = upstream.username ? `${upstream.username}${upstream.password ? `:${upstream.password}` : ''}@` : `${user}@`;
  return {
    url: `postgres://${credentials}127.0.0.1:${port}/${database}`,
    adminUrl: `postgres://${credentials}127.0.0.1:${port}/pgbouncer`,
    version: pgbouncerVersion() ?? 'unknown',
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
