/**
 * A minimal OpenID provider for logout-token validation vectors: it publishes a discovery
 * document and a JWKS over real HTTP, and signs whatever token a test asks for — including
 * the malformed ones a real provider would never send.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export const BCL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

interface Key {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
  published: boolean;
}

export interface SignOptions {
  kid?: string;
  alg?: string;
  typ?: string | null;
}

export class TokenIssuer {
  readonly issuer: string;
  readonly #server: Server;
  readonly #keys: Key[] = [];
  jwksRequests = 0;

  private constructor(server: Server, issuer: string) {
    this.#server = server;
    this.issuer = issuer;
  }

  /**
   * Claims of the ID token the token endpoint answers with (merged over iss, aud `demo`, iat,
   * exp), for login tests that need a token no certified provider would issue.
   */
  idTokenClaims: Record<string, unknown> = {};

  /** Extra discovery metadata, e.g. `{ end_session_endpoint: … }`. */
  metadata: Record<string, unknown> = {};

  static async start(metadata: (issuer: string) => Record<string, unknown> = () => ({})): Promise<TokenIssuer> {
    let issuer!: TokenIssuer;
    const server = createServer((req, res) => void issuer.#answer(req.url ?? '/', res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = new TokenIssuer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    issuer.metadata = metadata(issuer.issuer);
    await issuer.addKey('rs-1', 'RS256');
    await issuer.addKey('es-1', 'ES256');
    return issuer;
  }

  /** Adds a signing key; unpublished keys sign tokens whose kid the JWKS does not know (yet). */
  async addKey(kid: string, alg: string, published = true): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    this.#keys.push({ kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, published });
  }

  publish(kid: string): void {
    for (const key of this.#keys) if (key.kid === kid) key.published = true;
  }

  /** A valid logout token for `clientId`, with `claims` merged over the defaults (undefined deletes). */
  async logoutToken(clientId: string, claims: Record<string, unknown> = {}, options: SignOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: this.issuer,
      aud: clientId,
      iat: now,
      exp: now + 120,
      jti: crypto.randomUUID(),
      events: { [BCL_EVENT]: {} },
      sid: 'sid-1',
      ...claims,
    };
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
    return this.sign(payload, options);
  }

  async sign(payload: JWTPayload, { kid = 'rs-1', alg, typ = 'logout+jwt' }: SignOptions = {}): Promise<string> {
    const key = this.#keys.find((k) => k.kid === kid)!;
    const header: Record<string, unknown> = { alg: alg ?? key.alg, kid };
    if (typ !== null) header.typ = typ;
    return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #answer(path: string, res: import('node:http').ServerResponse): Promise<void> {
    res.setHeader('content-type', 'application/json');
    if (path === '/token') {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: this.issuer, aud: 'demo', iat: now, exp: now + 600, ...this.idTokenClaims };
      const idToken = await this.sign(claims, { typ: 'JWT' });
      res.setHeader('cache-control', 'no-store');
      res.end(JSON.stringify({ access_token: 'access', token_type: 'Bearer', expires_in: 600, id_token: idToken }));
      return;
    }
    if (path === '/.well-known/openid-configuration') {
      res.end(
        JSON.stringify({
          issuer: this.issuer,
          authorization_endpoint: `${this.issuer}/auth`,
          token_endpoint: `${this.issuer}/token`,
          jwks_uri: `${this.issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256', 'ES256'],
          backchannel_logout_supported: true,
          backchannel_logout_session_supported: true,
          ...this.metadata,
        }),
      );
    } else if (path === '/jwks') {
      this.jwksRequests++;
      res.end(JSON.stringify({ keys: this.#keys.filter((k) => k.published).map((k) => k.jwk) }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  }
}
