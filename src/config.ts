import {
  checkBasePath,
  checkBaseUrl,
  checkCookieName,
  checkDefaultReturnTo,
  checkExposeTokens,
  checkLogger,
  checkMode,
  checkPostLogoutRedirectUri,
  checkRefresh,
  checkSameSite,
  checkSecrets,
  checkStore,
} from './config/app-options.js';
import { checkFunction, checkSeconds } from './config/checks.js';
import { checkProviders } from './config/provider-options.js';
import { createHandler } from './core/handler.js';
import { type DescribedStore, storeInfo } from './core/store.js';
import type { Auth, AuthOptions, ResolvedConfig } from './core/types.js';
import { ConfigError } from './errors.js';
import { memoryStore } from './stores/memory.js';

export { configFromEnv } from './config/env.js';

/**
 * Validates the options by hand, collecting every problem, and returns the frozen
 * configuration with one request handler. Throws {@link ConfigError} before any
 * handler exists when something is wrong. Each area of the options has its own module under
 * `config/`: app-wide options, provider options, the environment reader.
 */
export function createAuth(options: AuthOptions): Auth {
  const config = resolveConfig(options);
  warnIfMemoryStoreMayBeShared(config);
  warnIfRevocationCannotRun(config);
  return createHandler(config);
}

/**
 * A memory store sees only its own process: a back-channel logout reaching one instance
 * would not end the session on the others. Say so when the environment shows several
 * instances (cluster workers, pm2, WEB_CONCURRENCY).
 */
function warnIfRevocationCannotRun(config: ResolvedConfig): void {
  if (config.revokeOnLogout && config.postLogoutRedirectUri !== `${config.baseUrl}${config.basePath}/logout/callback`) {
    config.logger.warn(
      'revokeOnLogout: with a custom postLogoutRedirectUri, tokens are revoked after local logout only (never before the end-session redirect, and our callback is not where the provider returns)',
    );
  }
}

function warnIfMemoryStoreMayBeShared(config: ResolvedConfig): void {
  if ((config.store as DescribedStore)[storeInfo]?.shared !== false) return;
  const hint = severalInstancesHint();
  if (hint) {
    config.logger.warn(
      `this process looks like one of several instances (${hint}) but uses the in-memory store: OP-initiated logout will not reach the other instances; pass store: redisStore(client) or postgresStore(pool)`,
    );
  }
}

/**
 * What in the environment shows several instances, if anything. Deno without `--allow-env` throws
 * on reading `process.env`: no hint then, rather than a createAuth() that fails for a warning.
 */
function severalInstancesHint(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  try {
    if (env.NODE_UNIQUE_ID) return 'a cluster worker';
    if (env.NODE_APP_INSTANCE !== undefined || env.pm_id !== undefined) return 'a pm2 instance';
    return Number(env.WEB_CONCURRENCY ?? '1') > 1 ? `WEB_CONCURRENCY=${env.WEB_CONCURRENCY}` : undefined;
  } catch {
    return undefined;
  }
}

export function resolveConfig(options: AuthOptions): ResolvedConfig {
  const problems: string[] = [];
  if (typeof options !== 'object' || options === null) throw new ConfigError(['options must be an object']);
  const base = checkBaseUrl(options.baseUrl, problems);
  const secrets = checkSecrets(options.secret, problems);
  const basePath = checkBasePath(options.basePath ?? '/auth', problems);
  const providers = checkProviders(options.providers, problems);
  const exposeTokens = checkExposeTokens(options, problems);
  const absoluteDuration = checkSeconds('session.absoluteDuration', options.session?.absoluteDuration, 7 * 86_400, problems, 60);
  const idleDuration = checkSeconds('session.idleDuration', options.session?.idleDuration, 86_400, problems, 0);
  const sameSite = checkSameSite(options.cookies?.sameSite, problems);
  const cookieName = checkCookieName(options.cookies?.name ?? 'oidc', problems);
  const defaultReturnTo = checkDefaultReturnTo(options.defaultReturnTo ?? '/', problems);
  checkFunction('onLogin', options.onLogin, problems);
  checkFunction('onLogout', options.onLogout, problems);
  checkFunction('onProviderLogout', options.onProviderLogout, problems);
  const mode = checkMode(options.session?.mode, problems);
  const store = checkStore(options.store, problems);
  const logger = checkLogger(options.logger, problems);
  const clockTolerance = checkSeconds('clockTolerance', options.clockTolerance, 60, problems, 0);
  const httpTimeout = checkSeconds('httpTimeout', options.httpTimeout, 10, problems, 1);
  const autoRefresh = checkRefresh(options.refresh, problems);
  const revocationTimeout = checkSeconds('revocationTimeout', options.revocationTimeout, 2, problems, 1);
  if (options.revokeOnLogout !== undefined && typeof options.revokeOnLogout !== 'boolean')
    problems.push('"revokeOnLogout" must be true or false');
  const baseUrl = base?.href.replace(/\/$/, '') ?? '';
  const postLogoutRedirectUri = checkPostLogoutRedirectUri(options.postLogoutRedirectUri, baseUrl, basePath, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const [defaultProvider] = Object.keys(providers) as [string];
  return Object.freeze({
    baseUrl,
    origin: base!.origin,
    secure: base!.protocol === 'https:',
    secrets: Object.freeze(secrets),
    basePath,
    providers: Object.freeze(providers),
    defaultProvider,
    cookieName,
    sameSite,
    absoluteDuration,
    idleDuration,
    exposeTokens: Object.freeze(exposeTokens),
    // The refresh token is stored only when something needs it: exposed, refreshed or revoked.
    storeRefreshToken: exposeTokens.includes('refresh') || options.refresh !== undefined || options.revokeOnLogout === true,
    autoRefresh,
    refreshEnabled: options.refresh !== undefined,
    revokeOnLogout: options.revokeOnLogout === true,
    revocationTimeout,
    redirectUri: `${baseUrl}${basePath}/callback`,
    postLogoutRedirectUri,
    defaultReturnTo,
    onLogin: options.onLogin,
    onLogout: options.onLogout,
    onProviderLogout: options.onProviderLogout,
    mode,
    store: store ?? memoryStore(),
    logger,
    clockTolerance,
    httpTimeout,
  });
}
