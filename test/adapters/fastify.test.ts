import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { oidcSession, refreshAuth, requireAuth } from '../../src/adapters/fastify.js';
import type { Auth } from '../../src/core/types.js';
import { adapterContract } from './contract.js';

describe('fastify adapter', () => {
  adapterContract(async (auth, server) => {
    // The server already listens (its port is part of the config); Fastify just handles its requests.
    const app = Fastify({
      serverFactory: (handler) => {
        server.on('request', handler);
        return server;
      },
    });
    await app.register(oidcSession, { auth });
    // Routes in a child context: the plugin's hook must reach them (skip-override).
    await app.register(async (child: FastifyInstance) => {
      child.get('/me', { preHandler: requireAuth }, async (request) => ({ sub: request.auth!.user.sub }));
      child.get('/public', async (request) => ({ signedIn: request.auth !== null }));
      child.get('/refresh', async (request, reply) => {
        const before = request.auth?.tokens.access;
        return { before, after: (await refreshAuth(request, reply))?.tokens.access };
      });
    });
    await app.ready();
    return () => app.close();
  });

  it('when the plugin is registered without an auth then the app fails to start', async () => {
    const app = Fastify();
    await expect(app.register(oidcSession, {} as { auth: Auth }).ready()).rejects.toThrow(TypeError);
  });
});
