import * as oidc from 'openid-client';
import { OidcSessionError } from '../errors.js';
import { describeProviderError } from './provider-errors.js';
import type { ResolvedConfig, ResolvedProvider } from './types.js';

const FRESH_FOR_MS = 60 * 60 * 1000;
const RETRY_AFTER_MS = 5 * 1000;

interface Entry {
  promise: Promise<oidc.Configuration>;
  fetchedAt: number;
  /** Last good configuration: used when a refresh fails, so a provider blip does not break sign-in. */
  stale?: oidc.Configuration;
}

/**
 * Discovery per provider, cached: one request at a time per provider, refreshed after an
 * hour, a failure retried after a few seconds. openid-client checks that the discovered
 * `issuer` equals the configured one exactly (Discovery §4.3) and caches the JWKS.
 *
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfigurationValidation
 */
export class Providers {
  readonly #config: ResolvedConfig;
  readonly #entries = new Map<string, Entry>();
  readonly #jwks = new Map<string, { uri: string; value: unknown }>();

  constructor(config: ResolvedConfig) {
    this.#config = config;
  }

  /** The provider's JWKS for logout tokens, made once per provider and `jwks_uri`. */
  jwks<T>(provider: ResolvedProvider, discovered: oidc.Configuration, create: () => T): T {
    const uri = discovered.serverMetadata().jwks_uri ?? '';
    const cached = this.#jwks.get(provider.name);
    if (cached && cached.uri === uri) return cached.value as T;
    const value = create();
    this.#jwks.set(provider.name, { uri, value });
    return value;
  }

  get(name: string): ResolvedProvider | undefined {
    return Object.hasOwn(this.#config.providers, name) ? this.#config.providers[name] : undefined;
  }

  async discover(provider: ResolvedProvider): Promise<oidc.Configuration> {
    const now = Date.now();
    const entry = this.#entries.get(provider.name);
    if (entry && now - entry.fetchedAt < FRESH_FOR_MS) return entry.promise;
    const promise = this.#fetch(provider).catch((cause: unknown) => {
      const stale = this.#entries.get(provider.name)?.stale;
      // Forget the failure soon so the next request tries again.
      this.#entries.set(provider.name, { promise, fetchedAt: now - FRESH_FOR_MS + RETRY_AFTER_MS, ...(stale ? { stale } : {}) });
      if (stale) return stale;
      throw new OidcSessionError(
        'DISCOVERY_FAILED',
        `could not read the discovery document of provider "${provider.name}" (${provider.issuer}): ${describeProviderError(cause, { provider, endpoint: 'discovery' })}; check the issuer URL and that the provider is reachable`,
        { cause },
      );
    });
    this.#entries.set(provider.name, { promise, fetchedAt: now, ...(entry?.stale ? { stale: entry.stale } : {}) });
    const configuration = await promise;
    const current = this.#entries.get(provider.name);
    if (current?.promise === promise) current.stale = configuration;
    return configuration;
  }

  async #fetch(provider: ResolvedProvider): Promise<oidc.Configuration> {
    const execute: Array<(c: oidc.Configuration) => void> = [oidc.enableNonRepudiationChecks];
    // config.ts allows http: issuers only on localhost (development providers).
    if (provider.issuer.startsWith('http:')) execute.push(oidc.allowInsecureRequests);
    return oidc.discovery(
      new URL(provider.issuer),
      provider.clientId,
      {
        id_token_signed_response_alg: provider.idTokenSignedResponseAlg,
        [oidc.clockTolerance]: this.#config.clockTolerance,
      } as Partial<oidc.ClientMetadata>,
      clientAuth(provider),
      { execute, timeout: this.#config.httpTimeout },
    );
  }
}

function clientAuth(provider: ResolvedProvider): oidc.ClientAuth {
  switch (provider.tokenEndpointAuthMethod) {
    case 'client_secret_post':
      return oidc.ClientSecretPost(provider.clientSecret);
    case 'none':
      return oidc.None();
    default:
      return oidc.ClientSecretBasic(provider.clientSecret);
  }
}
