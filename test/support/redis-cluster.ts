/**
 * The Redis Cluster the cluster tests share: 6 `redis-server` processes on 127.0.0.1:7000–7005,
 * 3 masters and 3 replicas, started by `.ci/run` (ensure_redis_cluster) when absent. The tests
 * reuse a running cluster and never create one. Outside CI a missing cluster skips the file with
 * one loud line; under CI=true it fails the file.
 *
 * The failover helpers kill a master for real (SHUTDOWN NOSAVE) and start it again on its own
 * cluster config file, so it rejoins as a replica of the node that took its slots, and later
 * tests (and the next CI run) find 6 nodes again.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const CLUSTER_PORTS = [7000, 7001, 7002, 7003, 7004, 7005] as const;
export const CLUSTER_HOST = '127.0.0.1';
/** Seed nodes, as the demo takes them: `SESSION_STORE=redis-cluster://127.0.0.1:7000,…`. */
export const clusterUrl = `redis-cluster://${CLUSTER_PORTS.slice(0, 3)
  .map((port) => `${CLUSTER_HOST}:${port}`)
  .join(',')}`;
export const clusterSeeds = CLUSTER_PORTS.slice(0, 3).map((port) => ({ host: CLUSTER_HOST, port }));

const HOW_TO_START =
  'run .ci/run, or its ensure_redis_cluster steps: 6 × redis-server --cluster-enabled yes --port 700N …, then redis-cli --cluster create 127.0.0.1:7000 … 127.0.0.1:7005 --cluster-replicas 1 --cluster-yes';

/** One command over a bare socket (RESP), its reply as text; rejects on an error reply or no answer. */
export function rawCommand(port: number, args: string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: CLUSTER_HOST, port });
    let reply = Buffer.alloc(0);
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`127.0.0.1:${port}: no answer within ${timeoutMs} ms`)));
    socket.once('error', fail);
    // A node that closes without a reply (SHUTDOWN) answers nothing: that ends the wait too.
    socket.once('close', () => reject(new Error(`127.0.0.1:${port}: closed without a reply`)));
    socket.once('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    socket.on('data', (chunk) => {
      reply = Buffer.concat([reply, chunk]);
      const text = reply.toString();
      const line = text.indexOf('\r\n');
      if (line < 0) return;
      if (text[0] === '-') return fail(new Error(text.slice(1, line)));
      if (text[0] === '$') {
        const length = Number(text.slice(1, line));
        if (length < 0) return done('');
        if (reply.length < line + 2 + length + 2) return;
        return done(reply.subarray(line + 2, line + 2 + length).toString());
      }
      done(text.slice(1, line));
    });
    function done(value: string) {
      socket.end();
      resolve(value);
    }
  });
}

interface ClusterNode {
  port: number;
  id: string;
  master: boolean;
  /** The master's id, for a replica. */
  masterId: string | null;
  connected: boolean;
  failed: boolean;
  slots: boolean;
}

/** The cluster as one node sees it (CLUSTER NODES). */
export async function clusterNodes(port: number = CLUSTER_PORTS[0]): Promise<ClusterNode[]> {
  const text = await rawCommand(port, ['CLUSTER', 'NODES']);
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , link, ...slots] = line.split(' ');
      return {
        port: Number(address!.split('@')[0]!.split(':')[1]),
        id: id!,
        master: flags!.includes('master'),
        masterId: masterId === '-' ? null : masterId!,
        connected: link === 'connected',
        failed: /fail(?!\?)/.test(flags!) && !flags!.includes('pfail'),
        slots: slots.length > 0,
      };
    });
}

/** True when every slot is served, and 3 masters with slots each have a connected replica, as every node sees it. */
export async function clusterHealthy(): Promise<boolean> {
  try {
    for (const port of CLUSTER_PORTS) {
      if (!(await rawCommand(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok')) return false;
      const nodes = await clusterNodes(port);
      const masters = nodes.filter((n) => n.master && n.slots && n.connected && !n.failed);
      const replicas = nodes.filter((n) => !n.master && n.connected && !n.failed && masters.some((m) => m.id === n.masterId));
      if (nodes.length !== 6 || masters.length !== 3 || replicas.length !== 3) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * True when the cluster is up and whole. False (after one console.warn) when it is not and CI is
 * not 'true'; under CI=true it throws, so the test file fails instead of skipping.
 */
export async function requireCluster(): Promise<boolean> {
  // A failover test of another file may be restoring its node: give it a moment before deciding.
  for (let i = 0; i < 100; i++) {
    if (await clusterHealthy()) return true;
    if (i === 0 && !(await rawCommand(CLUSTER_PORTS[0], ['PING']).catch(() => ''))) break;
    await sleep(200);
  }
  const where = `the Redis Cluster on 127.0.0.1:${CLUSTER_PORTS[0]}-${CLUSTER_PORTS.at(-1)} is missing or not whole (3 masters, 3 replicas)`;
  if (process.env.CI === 'true') throw new Error(`${where}; CI=true, so this suite fails instead of skipping. Start it: ${HOW_TO_START}`);
  console.warn(`⚠️  SKIPPING the Redis Cluster tests: ${where}. Start it: ${HOW_TO_START}`);
  return false;
}

/** A master that serves slots (the one the failover kills). */
export async function aMaster(): Promise<number> {
  const master = (await clusterNodes(await aLiveNode())).find((n) => n.master && n.slots && n.connected);
  if (!master) throw new Error('no master serving slots');
  return master.port;
}

/** The first node that answers PING. */
export async function aLiveNode(): Promise<number> {
  for (const port of CLUSTER_PORTS) if ((await rawCommand(port, ['PING'], 500).catch(() => '')) === 'PONG') return port;
  throw new Error('no Redis Cluster node answers');
}

export interface KilledNode {
  port: number;
  /** Starts the node again on its own files; it rejoins as a replica. Resolves once the cluster is whole again. */
  restart(): Promise<void>;
}

/** Kills a node for real (SHUTDOWN NOSAVE: the process exits, as on a crash), remembering how to start it again. */
export async function killNode(port: number): Promise<KilledNode> {
  const dir = await configValue(port, 'dir');
  const configFile = await configValue(port, 'cluster-config-file');
  const nodeTimeout = await configValue(port, 'cluster-node-timeout');
  await rawCommand(port, ['SHUTDOWN', 'NOSAVE']).catch(() => {});
  for (let i = 0; i < 50 && (await rawCommand(port, ['PING'], 200).catch(() => '')) === 'PONG'; i++) await sleep(100);
  return {
    port,
    async restart() {
      const args = [
        '--bind',
        CLUSTER_HOST,
        '--port',
        String(port),
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        configFile,
        '--cluster-node-timeout',
        nodeTimeout,
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'yes',
        '--dir',
        dir,
        '--logfile',
        `${dir}/${port}.log`,
      ];
      await promisify(execFile)('redis-server', args);
      for (let i = 0; i < 300 && !(await clusterHealthy()); i++) await sleep(100);
      if (!(await clusterHealthy())) throw new Error(`node ${port} restarted, but the cluster is not whole again`);
    },
  };
}

/** The node timeout decides how soon a replica takes over; the tests want seconds, not the default 15. */
export async function shortenNodeTimeout(ms = 2000): Promise<void> {
  for (const port of CLUSTER_PORTS) {
    if (Number(await configValue(port, 'cluster-node-timeout')) > ms)
      await rawCommand(port, ['CONFIG', 'SET', 'cluster-node-timeout', String(ms)]);
  }
}

async function configValue(port: number, name: string): Promise<string> {
  // CONFIG GET answers an array [name, value]: read it through a tiny parse of the raw reply.
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect({ host: CLUSTER_HOST, port });
    let text = '';
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`CONFIG GET ${name}\r\n`));
    socket.on('data', (chunk) => {
      text += chunk.toString();
      const lines = text.split('\r\n');
      if (lines.length >= 6) {
        socket.end();
        resolve(lines[4]!);
      }
    });
  });
  return reply;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const LOCK = join(tmpdir(), 'oidc-session-redis-cluster.lock');

/**
 * The cluster is one machine-wide resource and the failover tests kill its masters: every file
 * (and `npm run soak`, and a concurrent `npm test`) that uses it holds this lock while it does, so
 * no suite sees another's failover. A directory (mkdir is atomic) holding the owner's pid; a lock
 * whose owner is gone is taken over. Returns the release function.
 */
export async function lockCluster(timeoutMs = 10 * 60_000): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(LOCK);
      await writeFile(join(LOCK, 'pid'), String(process.pid));
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(LOCK, { recursive: true, force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(join(LOCK, 'pid'), 'utf8').catch(() => ''));
    // Held by this process already (a test file running the soak): the outer holder releases it.
    if (owner === process.pid) return async () => {};
    if (owner > 0 && !alive(owner)) await rm(LOCK, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`the Redis Cluster lock ${LOCK} was held by pid ${owner} for ${timeoutMs} ms`);
    await sleep(100);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
