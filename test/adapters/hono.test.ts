import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { describe } from 'vitest';
import { type OidcSessionEnv, oidcSession, refreshAuth, requireAuth } from '../../src/adapters/hono.js';
import { adapterContract } from './contract.js';

describe('hono adapter', () => {
  adapterContract(async (auth, server) => {
    const app = new Hono<OidcSessionEnv>();
    app.use(oidcSession(auth));
    app.get('/me', requireAuth(), (c) => c.json({ sub: c.get('auth')!.user.sub }));
    app.get('/public', (c) => c.json({ signedIn: c.get('auth') !== null }));
    app.get('/refresh', async (c) => {
      const before = c.get('auth')?.tokens.access;
      return c.json({ before, after: (await refreshAuth(c))?.tokens.access });
    });
    // The server already listens (its port is part of the config); Hono just handles its requests.
    server.on('request', getRequestListener(app.fetch));
  });
});
