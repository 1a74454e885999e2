import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createNodeAuth } from '../../src/adapters/node.js';
import type { Auth } from '../../src/core/types.js';
import { adapterContract } from './contract.js';

function nodeApp(auth: Auth) {
  const oidc = createNodeAuth(auth);
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (await oidc.handle(req, res)) return;
    const path = req.url?.split('?')[0];
    if (path === '/me') {
      const session = await oidc.requireAuth(req, res);
      if (session) sendJson(res, { sub: session.user.sub });
    } else if (path === '/refresh') {
      const before = (await oidc.session(req, res))?.tokens.access;
      sendJson(res, { before, after: (await oidc.refresh(req, res))?.tokens.access });
    } else if (path === '/public') {
      sendJson(res, { signedIn: (await oidc.session(req, res)) !== null });
    } else {
      res.writeHead(404).end();
    }
  };
}

function sendJson(res: ServerResponse, value: unknown): void {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(value));
}

describe('node adapter', () => {
  adapterContract(async (auth, server) => {
    server.on('request', nodeApp(auth));
  });

  it('when createNodeAuth gets something other than an Auth then it throws a TypeError at once', () => {
    expect(() => createNodeAuth({} as Auth)).toThrow(TypeError);
  });
});
