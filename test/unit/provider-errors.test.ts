/**
 * describeProviderError against a tiny real HTTP provider on 127.0.0.1: the errors come from
 * openid-client's real token, userinfo and discovery calls, not from hand-made objects.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { describe as describePlain } from '../../src/core/describe.js';
import { describeProviderError } from '../../src/core/provider-errors.js';
import type { ResolvedProvider } from '../../src/core/types.js';
import { type Auth, type AuthOptions, type ClientAuthMethod, createAuth } from '../../src/index.js';

type Answer = { status: number; body: string; headers?: Record<string, string> };

let server: Server;
let issuer: string;
/** What the token endpoint answers next. */
let tokenAnswer: Answer;
/** What the discovery endpoint answers (null: the real document). */
let discoveryAnswer: Answer | null = null;

function handle(req: IncomingMessage, res: ServerResponse): void {
  const send = ({ status, body, headers }: Answer) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };
  if (req.url === '/.well-known/openid-configuration') {
    send(
      discoveryAnswer ?? {
        status: 200,
        body: JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          userinfo_endpoint: `${issuer}/userinfo`,
          revocation_endpoint: `${issuer}/revoke`,
          jwks_uri: `${issuer}/jwks`,
        }),
      },
    );
  } else if (req.url === '/token' || req.url === '/revoke') send(tokenAnswer);
  else if (req.url === '/userinfo') {
    send({ status: 401, body: '', headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="token revoked"' } });
  } else send({ status: 404, body: '{}' });
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

function options(
  clientSecret: string,
  tokenEndpointAuthMethod: ClientAuthMethod = 'client_secret_basic',
  logs: string[] = [],
): AuthOptions {
  return {
    baseUrl: 'http://127.0.0.1:3999',
    secret: 'provider-errors-secret-provider-errors-0123',
    providers: { op: { issuer, clientId: 'app', clientSecret, tokenEndpointAuthMethod } },
    logger: { warn: (m) => void logs.push(m), error: (m) => void logs.push(m) },
  };
}

/** The resolved provider as the core sees it (auth.config hides the secret). */
function providerWith(clientSecret: string, method?: ClientAuthMethod): ResolvedProvider {
  return resolveConfig(options(clientSecret, method)).providers.op!;
}

function auth(clientSecret: string, method?: ClientAuthMethod, logs?: string[]): Auth {
  return createAuth(options(clientSecret, method, logs));
}

/** A refresh through openid-client, as tokens.ts makes it; returns what it threw. */
async function tokenFailure(provider: ResolvedProvider): Promise<{ error: unknown; metadata: oidc.ServerMetadata }> {
  const method = provider.tokenEndpointAuthMethod;
  const clientAuth =
    method === 'client_secret_post' ? oidc.ClientSecretPost(provider.clientSecret) : oidc.ClientSecretBasic(provider.clientSecret);
  const configuration = await oidc.discovery(new URL(issuer), provider.clientId, undefined, clientAuth, {
    execute: [oidc.allowInsecureRequests],
  });
  const error = await oidc.refreshTokenGrant(configuration, 'a-refresh-token').then(
    () => new Error('expected a failure'),
    (caught: unknown) => caught,
  );
  return { error, metadata: configuration.serverMetadata() };
}

async function describeTokenFailure(secret: string, method?: ClientAuthMethod): Promise<string> {
  const provider = providerWith(secret, method);
  const { error, metadata } = await tokenFailure(provider);
  return describeProviderError(error, { provider, endpoint: 'token', metadata });
}

describe('describeProviderError', () => {
  it('when the token endpoint answers 403 unauthorized_client to client_secret_basic with a "-" in the secret then the line has the error, status, endpoint and the client_secret_post hint', async () => {
    tokenAnswer = { status: 403, body: '{"error":"unauthorized_client"}' };
    const line = await describeTokenFailure('glewlwyd-secret');
    expect(line).toContain(`token endpoint ${issuer}/token answered HTTP 403 error="unauthorized_client"`);
    expect(line).toMatch(/RFC 6749 §2\.3\.1/);
    expect(line).toContain("tokenEndpointAuthMethod: 'client_secret_post'");
    expect(line).not.toContain('glewlwyd-secret');
  });

  it('when the client_id has a "-" then the hint names the client_id', async () => {
    tokenAnswer = { status: 401, body: '{"error":"invalid_client"}' };
    const provider = resolveConfig({
      ...options('lettersAndDigits123'),
      providers: { op: { issuer, clientId: 'my-app', clientSecret: 'abc123' } },
    }).providers.op!;
    const { error, metadata } = await tokenFailure(provider);
    const line = describeProviderError(error, { provider, endpoint: 'token', metadata });
    expect(line).toContain('the client_id "my-app" has characters other than letters and digits');
    expect(line).toContain("tokenEndpointAuthMethod: 'client_secret_post'");
  });

  it('when the secret is only letters and digits, or client_secret_post is used, then there is no hint', async () => {
    tokenAnswer = { status: 403, body: '{"error":"unauthorized_client"}' };
    expect(await describeTokenFailure('lettersAndDigits123')).not.toMatch(/client_secret_post/);
    expect(await describeTokenFailure('glewlwyd-secret', 'client_secret_post')).not.toMatch(/hint|client_secret_post'/);
  });

  it('when the provider gives error_description then it is quoted, one line, and cut short', async () => {
    const description = `refresh token expired\n${'x'.repeat(500)}`;
    tokenAnswer = { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: description }) };
    const line = await describeTokenFailure('glewlwyd-secret');
    expect(line).toContain('answered HTTP 400 error="invalid_grant" error_description="refresh token expired\\nxxx');
    expect(line).not.toContain('\n');
    expect(line.length).toBeLessThan(500);
    expect(line).not.toMatch(/client_secret_post/);
  });

  it('when the refusal is a WWW-Authenticate challenge then its error and error_description are read', async () => {
    tokenAnswer = {
      status: 401,
      body: '',
      headers: { 'www-authenticate': 'Basic realm="op", error="invalid_client", error_description="bad credentials"' },
    };
    const line = await describeTokenFailure('a.secret');
    expect(line).toContain('answered HTTP 401 error="invalid_client" error_description="bad credentials"');
    expect(line).toMatch(/client_secret_post/);
  });

  it('when the answer is not an OAuth error (an HTML 502 page) then the status and content type are given', async () => {
    tokenAnswer = { status: 502, body: '<h1>Bad gateway</h1>', headers: { 'content-type': 'text/html' } };
    expect(await describeTokenFailure('s3cret')).toContain(
      `token endpoint ${issuer}/token answered HTTP 502 ("text/html"), not an OAuth response`,
    );
  });

  it('when userinfo refuses during a login then the line names the userinfo endpoint, not the token endpoint, and gives no client hint', async () => {
    const provider = providerWith('glewlwyd-secret');
    const configuration = await oidc.discovery(new URL(issuer), provider.clientId, undefined, oidc.ClientSecretBasic('glewlwyd-secret'), {
      execute: [oidc.allowInsecureRequests],
    });
    const error = await oidc.fetchUserInfo(configuration, 'an-access-token', 'alice').catch((caught: unknown) => caught);
    const line = describeProviderError(error, { provider, endpoint: 'token', metadata: configuration.serverMetadata() });
    expect(line).toBe(`userinfo endpoint ${issuer}/userinfo answered HTTP 401 error="invalid_token" error_description="token revoked"`);
  });

  it('when the error did not come from a provider response then it is described as before', () => {
    const error = Object.assign(new Error('ID token nonce mismatch'), { code: 'X' });
    const provider = providerWith('s');
    expect(describeProviderError(error, { provider, endpoint: 'token' })).toBe(describePlain(error));
  });

  it('when discovery answers 503 then the DISCOVERY_FAILED error and the login log name the status and URL', async () => {
    discoveryAnswer = { status: 503, body: 'maintenance', headers: { 'content-type': 'text/plain' } };
    try {
      const logs: string[] = [];
      const failing = auth('s', 'client_secret_basic', logs);
      const response = (await failing.handle(new Request('http://127.0.0.1:3999/auth/login?provider=op')))!;
      expect(response.status).toBeGreaterThanOrEqual(500);
      expect(logs.join('\n')).toContain(`discovery endpoint ${issuer}/.well-known/openid-configuration of provider "op" answered HTTP 503`);
    } finally {
      discoveryAnswer = null;
    }
  });
});
