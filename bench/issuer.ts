/**
 * A provider whose signing key the benchmark holds: it serves discovery and a JWKS over real
 * HTTP, so both relying parties fetch and cache the key as in production, and hands out the
 * private key (PKCS#8 PEM) so the load generator can sign valid logout tokens itself.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const BCL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
export const KID = 'bench-rs256';

export interface LogoutTokenIssuer {
  issuer: string;
  /** PKCS#8 PEM of the RS256 key: what `signLogoutTokens` needs in another process. */
  privateKeyPem: string;
  /** The public key as a JWK, for the in-process `jwtVerify` ceiling. */
  publicJwk: Record<string, unknown>;
  close(): Promise<void>;
}

export async function startIssuer(): Promise<LogoutTokenIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify(discovery(issuer)));
    } else if (req.url === '/jwks') {
      res.end(JSON.stringify({ keys: [publicJwk] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicJwk,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function discovery(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic'],
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
  };
}

export interface TokenSpec {
  issuer: string;
  audience: string;
  privateKeyPem: string;
  count: number;
  /** A `sub`-only token for this user; default: a token with a fresh `sid` and no `sub`. */
  sub?: string;
  /** This `sid` rather than a fresh one. */
  sid?: string;
}

/**
 * `count` valid logout tokens (RS256, `typ: logout+jwt`, 2 minutes of life), each with its own
 * `jti` (and, unless told otherwise, its own `sid`). node:crypto signs synchronously at ~3,000/s per core.
 */
export function signLogoutTokens({ issuer, audience, privateKeyPem, count, sub, sid }: TokenSpec): string[] {
  const key: KeyObject = createPrivateKey(privateKeyPem);
  const header = b64(JSON.stringify({ alg: 'RS256', kid: KID, typ: 'logout+jwt' }));
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const names = sub !== undefined ? { sub } : { sid: sid ?? randomUUID() };
    const payload = b64(
      JSON.stringify({ iss: issuer, aud: audience, iat: now, exp: now + 120, jti: randomUUID(), ...names, events: { [BCL_EVENT]: {} } }),
    );
    const input = `${header}.${payload}`;
    tokens.push(`${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`);
  }
  return tokens;
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64url');
}
