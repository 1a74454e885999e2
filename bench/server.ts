/**
 * One benchmark server in a process of its own (the orchestrator pins it to one core).
 *
 *   node --import tsx bench/server.ts '<ServerSpec as JSON>'
 *
 * Starts the app, prints one line of JSON (`Listening`), answers each line on stdin with its CPU
 * time so far, and serves until its stdin closes.
 * The OpenID provider the logged-in scenarios use runs in the orchestrator, never here:
 * `oidc-provider` turns on AsyncLocalStorage, whose promise hooks would tax every promise
 * of the app under test.
 */
import { createInterface } from 'node:readline';
import {
  type Adapter,
  bareBackchannel,
  bareExpress,
  bareNode,
  CLIENT_SECRET,
  freePort,
  type Mode,
  ours,
  peer,
  type Running,
} from './apps.js';

export type ServerSpec =
  | { kind: 'bare-node' }
  | { kind: 'bare-express' }
  | { kind: 'bare-backchannel'; issuer: string; clientId: string }
  | { kind: 'ours'; adapter: Adapter; mode: Mode; issuer: string; clientId: string; redisPrefix?: string }
  | { kind: 'peer'; issuer: string; clientId: string; backchannel?: boolean };

export interface Listening {
  url: string;
}

async function start(spec: ServerSpec): Promise<Running> {
  const port = await freePort();
  switch (spec.kind) {
    case 'bare-node':
      return bareNode(port);
    case 'bare-express':
      return bareExpress(port);
    case 'bare-backchannel':
      return bareBackchannel(port, spec.issuer, spec.clientId);
    case 'ours':
      return ours({
        adapter: spec.adapter,
        mode: spec.mode,
        port,
        // The back-channel scenarios send thousands of valid tokens a second: past the default
        // per-minute budget they would measure refusals.
        providers: {
          default: { issuer: spec.issuer, clientId: spec.clientId, clientSecret: CLIENT_SECRET, backchannel: { maxLogoutsPerMinute: 1e9 } },
        },
        ...(spec.redisPrefix ? { redisPrefix: spec.redisPrefix } : {}),
      });
    case 'peer':
      return peer({ port, issuer: spec.issuer, clientId: spec.clientId, backchannel: spec.backchannel ?? false });
  }
}

const spec = JSON.parse(process.argv[2] ?? '{}') as ServerSpec;
const running = await start(spec);
process.stdout.write(`${JSON.stringify({ url: running.url } satisfies Listening)}\n`);

// Each line on stdin asks for the CPU time this process has used so far (user + system, all
// threads, microseconds): per request, it tells the cost apart from what a noisy machine does
// to throughput. The end of stdin shuts the server down.
let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await running.close();
  process.exit(0);
}
createInterface({ input: process.stdin })
  .on('line', () => {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuMicros: user + system })}\n`);
  })
  .on('close', shutdown);
process.on('SIGTERM', shutdown);
