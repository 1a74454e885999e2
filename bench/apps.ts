/**
 * The servers the benchmark loads, one per scenario, each built the way its README shows:
 * the bare baselines, oidc-session on every adapter and session mode, and express-openid-connect.
 * Every app answers the same protected route, `GET /private`, with a short text body.
 */
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { OidcSessionEnv } from '../src/adapters/hono.js';
import type { Auth, AuthOptions } from '../src/index.js';
import { loadLibrary } from './library.js';

const lib = await loadLibrary();

export const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
export const CLIENT_SECRET = 'bench-client-secret';
export const PROTECTED_PATH = '/private';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type Adapter = 'node' | 'express' | 'fastify' | 'hono';
export type Mode = 'cookie' | 'server-memory' | 'server-redis';

/** A started server and how to stop it (and clean up what it left, e.g. Redis keys). */
export interface Running {
  url: string;
  close(): Promise<void>;
}

export interface OursOptions {
  adapter: Adapter;
  mode: Mode;
  /** The provider(s) the app trusts. */
  providers: AuthOptions['providers'];
  port: number;
  /** More createAuth() options (token exposure, …). */
  options?: Partial<AuthOptions>;
  /** Redis key prefix (server-redis), when the orchestrator writes sessions there too. */
  redisPrefix?: string;
}

/** A port that was free a moment ago: the app's base URL must be known before it listens. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function bareNode(port: number): Promise<Running> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('Hello world');
  });
  return listening(server, port);
}

export async function bareExpress(port: number): Promise<Running> {
  const app = express();
  app.get(PROTECTED_PATH, (_req, res) => {
    res.send('Hello world');
  });
  return listening(createServer(app), port);
}

/**
 * The least a back-channel endpoint on node:http can do with jose: read the form, verify the
 * token's signature, issuer and audience against the provider's JWKS, answer 200. No other
 * check of §2.6, no replay cache, no session ended: the floor under any real implementation.
 */
export async function bareBackchannel(port: number, issuer: string, audience: string): Promise<Running> {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const token = new URLSearchParams(Buffer.concat(chunks).toString()).get('logout_token') ?? '';
      jwtVerify(token, jwks, { issuer, audience, algorithms: ['RS256'] }).then(
        () => {
          res.setHeader('cache-control', 'no-store');
          res.end();
        },
        () => {
          res.statusCode = 400;
          res.end();
        },
      );
    });
  });
  return listening(server, port);
}

/** oidc-session on one adapter, in one session mode, with the README's quickstart code. */
export async function ours(options: OursOptions): Promise<Running & { auth: Auth }> {
  const { store, cleanup } = await storeFor(options.mode, options.redisPrefix);
  const auth = lib.index.createAuth({
    baseUrl: `http://127.0.0.1:${options.port}`,
    secret: SECRET,
    providers: options.providers,
    // No idle window: the load generator replays one cookie for minutes and never takes the
    // rolled one a browser would, so every request past the roll interval would re-seal it.
    // bench/profile.ts measures that cost on its own (IDLE=10).
    session: { mode: options.mode === 'cookie' ? 'cookie' : 'server', idleDuration: 0 },
    store,
    logger: { warn: () => {}, error: (message) => console.error(message) },
    ...options.options,
  });
  const running = await serveOurs(options.adapter, auth, options.port);
  return {
    ...running,
    auth,
    async close() {
      await running.close();
      await cleanup();
    },
  };
}

async function serveOurs(adapter: Adapter, auth: Auth, port: number): Promise<Running> {
  switch (adapter) {
    case 'node': {
      const oidc = lib.node.createNodeAuth(auth);
      const server = createServer(async (req, res) => {
        if (await oidc.handle(req, res)) return;
        const session = await oidc.requireAuth(req, res);
        if (session) {
          res.setHeader('content-type', 'text/plain; charset=utf-8');
          res.end(`Hello ${session.user.sub}`);
        }
      });
      return listening(server, port);
    }
    case 'express': {
      const app = express();
      app.use(lib.express.oidcSession(auth));
      app.get(PROTECTED_PATH, lib.express.requireAuth(), (req, res) => {
        res.send(`Hello ${req.auth!.user.sub}`);
      });
      return listening(createServer(app), port);
    }
    case 'fastify': {
      const app = Fastify();
      await app.register(lib.fastify.oidcSession, { auth });
      app.get(PROTECTED_PATH, { preHandler: lib.fastify.requireAuth }, async (request) => `Hello ${request.auth!.user.sub}`);
      await app.listen({ port, host: '127.0.0.1' });
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
    }
    case 'hono': {
      const app = new Hono<OidcSessionEnv>();
      app.use(lib.hono.oidcSession(auth));
      app.get(PROTECTED_PATH, lib.hono.requireAuth(), (c) => c.text(`Hello ${c.get('auth')!.user.sub}`));
      const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }) as Server;
      await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
      return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
    }
  }
}

/** The store a mode uses; Redis keys go under a prefix of their own, deleted on close. */
async function storeFor(mode: Mode, redisPrefix?: string) {
  if (mode !== 'server-redis') {
    const store = lib.memory.memoryStore();
    return { store, cleanup: () => store.close() };
  }
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = redisPrefix ?? `oidc-session-bench:${process.pid}:${Date.now()}:`;
  return {
    store: lib.redis.redisStore(client, { prefix }),
    async cleanup() {
      await deletePrefix(client, prefix);
      client.disconnect();
    },
  };
}

/** Deletes every key under `prefix` (SCAN, never KEYS: Redis may be shared). */
export async function deletePrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await client.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, '\\$&');
}

export interface PeerOptions {
  port: number;
  issuer: string;
  clientId: string;
  /** Back-channel logout on, with an in-memory logout store. */
  backchannel?: boolean;
  /** Default `openid profile email`. */
  scope?: string;
  /** E.g. `{ prompt: 'consent' }`, which `offline_access` needs. */
  authorizationParams?: Record<string, string>;
}

/**
 * Express + express-openid-connect 3.x, configured as its README shows for a confidential
 * client with the authorization code flow: `auth()` app-wide, `requiresAuth()` on the route.
 */
export async function peer(options: PeerOptions): Promise<Running> {
  const require = createRequire(import.meta.url);
  const { auth, requiresAuth } = require('express-openid-connect') as typeof import('express-openid-connect');
  const baseURL = `http://127.0.0.1:${options.port}`;
  const app = express();
  app.use(
    auth({
      issuerBaseURL: options.issuer,
      baseURL,
      clientID: options.clientId,
      clientSecret: CLIENT_SECRET,
      secret: SECRET,
      authRequired: false,
      authorizationParams: { response_type: 'code', scope: options.scope ?? 'openid profile email', ...options.authorizationParams },
      ...(options.backchannel ? { backchannelLogout: { store: new MapStore() as unknown as PeerLogoutStore } } : {}),
    }),
  );
  app.get(PROTECTED_PATH, requiresAuth(), (req, res) => {
    res.send(`Hello ${req.oidc.user?.sub}`);
  });
  return listening(createServer(app), options.port);
}

type PeerParams = NonNullable<Parameters<typeof import('express-openid-connect').auth>[0]>;
type PeerLogoutStore = NonNullable<Extract<PeerParams['backchannelLogout'], object>['store']>;

/** The smallest `express-session`-style store: what the peer's back-channel logout writes to (its types are not exported). */
class MapStore {
  readonly #map = new Map<string, unknown>();
  get(key: string, callback: (error: unknown, value?: unknown) => void): void {
    callback(null, this.#map.get(key));
  }
  set(key: string, value: unknown, callback: (error?: unknown) => void): void {
    this.#map.set(key, value);
    callback();
  }
  destroy(key: string, callback: (error?: unknown) => void): void {
    this.#map.delete(key);
    callback();
  }
}

async function listening(server: Server, port: number): Promise<Running> {
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
