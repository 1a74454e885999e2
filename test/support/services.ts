/**
 * Test suites that need a server (Redis, PostgreSQL) ask here first. Outside CI a missing server
 * skips the file with one loud line saying how to start it; under CI=true it fails the file,
 * because a skipped suite there would be a silent pass (docs/architecture.md, "Tests").
 */
import { connect } from 'node:net';
import pg from 'pg';

export const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const postgresUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type ServiceName = 'redis' | 'postgres';

const HOW_TO_START: Record<ServiceName, string> = {
  redis:
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  postgres: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
};

const URLS: Record<ServiceName, string> = { redis: redisUrl, postgres: postgresUrl };

/**
 * True when `probe` reaches the service. False (after one console.warn) when it does not and
 * CI is not 'true'; under CI=true it throws, so the test file fails instead of skipping.
 */
export async function requireService(name: ServiceName, probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const where = `${name} at ${URLS[name]} is unreachable (${reason})`;
    const start = `Start it with: ${HOW_TO_START[name]}`;
    if (process.env.CI === 'true') {
      throw new Error(`${where}; CI=true, so this suite fails instead of skipping. ${start}`, { cause: error });
    }
    console.warn(`⚠️  SKIPPING the ${name} tests: ${where}. ${start}`);
    return false;
  }
}

/** PING over a bare socket: no client library retrying forever behind our back. */
export function probeRedis(url = redisUrl, timeoutMs = 2000): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.end();
      const reply = data.toString().trim();
      if (reply === '+PONG') resolve();
      else reject(new Error(`unexpected reply to PING: ${reply}`));
    });
  });
}

export async function probePostgres(url = postgresUrl, timeoutMs = 2000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
}
