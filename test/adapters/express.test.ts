import express from 'express';
import { describe, expect, it } from 'vitest';
import { oidcSession, refreshAuth, requireAuth } from '../../src/adapters/express.js';
import type { Auth } from '../../src/core/types.js';
import { Agent } from '../support/agent.js';
import { adapterContract } from './contract.js';

function expressApp(auth: Auth, options: { parseFormsFirst?: boolean } = {}) {
  const app = express();
  if (options.parseFormsFirst) app.use(express.urlencoded());
  app.use(oidcSession(auth));
  app.get('/me', requireAuth(), (req, res) => {
    res.json({ sub: req.auth!.user.sub });
  });
  app.get('/public', (req, res) => {
    res.json({ signedIn: req.auth !== null });
  });
  app.get('/refresh', async (req, res) => {
    const before = req.auth?.tokens.access;
    res.json({ before, after: (await refreshAuth(req, res))?.tokens.access });
  });
  return app;
}

describe('express adapter', () => {
  adapterContract(async (auth, server) => {
    server.on('request', expressApp(auth));
  });

  it('when requireAuth runs without oidcSession then the app gets an error, not an open door', async () => {
    const app = express();
    app.get('/me', requireAuth(), (_req, res) => {
      res.send('open');
    });
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send(error.message);
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/me`);
      expect(response.status).toBe(500);
      expect(await response.text()).toMatch(/oidcSession\(auth\)/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('express adapter after express.urlencoded()', () => {
  const harness = adapterContract(async (auth, server) => {
    server.on('request', expressApp(auth, { parseFormsFirst: true }));
  });

  it('when the form was already parsed then logout still reads its CSRF token', async () => {
    const { baseUrl } = harness();
    const agent = new Agent();
    await agent.loginAtProvider(`${baseUrl}/auth/login`, { login: 'bob', password: 'bob-password' });
    const { csrfToken } = (await (await agent.fetch(`${baseUrl}/auth/csrf`)).json()) as { csrfToken: string };
    const response = await agent.fetch(`${baseUrl}/auth/logout`, {
      method: 'POST',
      body: new URLSearchParams({ csrfToken }),
      initiator: `${baseUrl}/`,
    });
    expect(response.status).toBe(303);
  });
});
