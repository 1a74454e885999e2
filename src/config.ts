import { createHandler } from './core/handler.js';
import { PRESET_DEFAULTS, PRESETS, type PresetDefaults } from './core/logout/presets.js';
import { type DescribedStore, type Store, storeInfo } from './core/store.js';
import type {
  Auth,
  AuthOptions,
  BackchannelOptions,
  ClientAuthMethod,
  ExposableToken,
  Logger,
  ProviderOptions,
  ResolvedConfig,
  ResolvedProvider,
} from './core/types.js';
import { ConfigError } from './errors.js';
import { memoryStore } from './stores/memory.js';

const MIN_SECRET_BYTES = 32;
const DAY = 86_400;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none'];
const TOKEN_KINDS: readonly ExposableToken[] = ['id', 'access', 'refresh'];
const PROVIDER_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/**
 * Validates the options by hand, collecting every problem, and returns the frozen
 * configuration with one request handler. Throws {@link ConfigError} before any
 * handler exists when something is wrong (STYLE.md #3).
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
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const hint = env.NODE_UNIQUE_ID
    ? 'a cluster worker'
    : env.NODE_APP_INSTANCE !== undefined || env.pm_id !== undefined
      ? 'a pm2 instance'
      : Number(env.WEB_CONCURRENCY ?? '1') > 1
        ? `WEB_CONCURRENCY=${env.WEB_CONCURRENCY}`
        : undefined;
  if (hint) {
    config.logger.warn(
      `this process looks like one of several instances (${hint}) but uses the in-memory store: OP-initiated logout will not reach the other instances; pass store: redisStore(client) or postgresStore(pool)`,
    );
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
  const absoluteDuration = checkSeconds('session.absoluteDuration', options.session?.absoluteDuration, 7 * DAY, problems, 60);
  const idleDuration = checkSeconds('session.idleDuration', options.session?.idleDuration, DAY, problems, 0);
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
    // The refresh token is stored only when something needs it (DESIGN.md §5).
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

function isLocalHost(url: URL): boolean {
  return LOCAL_HOSTS.has(url.hostname);
}

function checkBaseUrl(value: unknown, problems: string[]): URL | undefined {
  if (typeof value !== 'string' || value === '') {
    problems.push('"baseUrl" must be the public URL of the app, e.g. "https://app.example.com" (or set APP_URL)');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`"baseUrl" is not a valid URL: ${JSON.stringify(value)}`);
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`"baseUrl" must use https: (got ${url.protocol})`);
  } else if (url.protocol === 'http:' && !isLocalHost(url)) {
    problems.push(`"baseUrl" must use https: outside localhost; "${url.origin}" would send session cookies in clear text`);
  }
  if (url.search || url.hash || url.username || url.password) {
    problems.push('"baseUrl" must not have a query, fragment or credentials');
  }
  if (url.pathname !== '/') {
    // Cookies use Path=/ and the __Host- prefix, which cannot be scoped to a sub-path.
    problems.push('"baseUrl" must be an origin without a path (mount the app at the root of its host)');
  }
  return url;
}

function checkSecrets(value: unknown, problems: string[]): string[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  if (list.length === 0) {
    problems.push('"secret" is required: one or more strings of at least 32 bytes (set SESSION_SECRET)');
    return [];
  }
  list.forEach((secret, i) => {
    const label = Array.isArray(value) ? `"secret[${i}]"` : '"secret"';
    if (typeof secret !== 'string') problems.push(`${label} must be a string`);
    else if (new TextEncoder().encode(secret).byteLength < MIN_SECRET_BYTES) {
      problems.push(`${label} must be at least ${MIN_SECRET_BYTES} bytes long; generate one with: openssl rand -base64 32`);
    }
  });
  return list as string[];
}

function checkBasePath(value: unknown, problems: string[]): string {
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~\-/]*[^/]$/.test(value) || value.includes('//')) {
    problems.push('"basePath" must be a path like "/auth": a leading slash, no trailing slash');
    return '/auth';
  }
  return value;
}

function checkProviders(value: unknown, problems: string[]): Record<string, ResolvedProvider> {
  const out: Record<string, ResolvedProvider> = {};
  if (typeof value !== 'object' || value === null || Object.keys(value).length === 0) {
    problems.push('"providers" must name at least one provider, e.g. { default: { issuer, clientId, clientSecret } }');
    return out;
  }
  for (const [name, options] of Object.entries(value as Record<string, ProviderOptions>)) {
    const provider = checkProvider(name, options, problems);
    if (provider) out[name] = Object.freeze(provider);
  }
  return out;
}

function checkProvider(name: string, p: ProviderOptions, problems: string[]): ResolvedProvider | undefined {
  const at = `"providers.${name}`;
  if (!PROVIDER_NAME.test(name)) {
    problems.push(`${at}": provider names must be 1-32 characters of a-z, 0-9, "_" or "-", starting with a letter or digit`);
  }
  if (typeof p !== 'object' || p === null) {
    problems.push(`${at}" must be an object with issuer, clientId and clientSecret`);
    return undefined;
  }
  checkIssuer(`${at}.issuer"`, p.issuer, problems);
  if (typeof p.clientId !== 'string' || p.clientId === '') problems.push(`${at}.clientId" must be a non-empty string`);
  const method = p.tokenEndpointAuthMethod ?? (p.clientSecret === undefined ? 'none' : 'client_secret_basic');
  if (!AUTH_METHODS.includes(method)) {
    problems.push(`${at}.tokenEndpointAuthMethod" must be one of ${AUTH_METHODS.join(', ')}`);
  }
  if (method !== 'none' && (typeof p.clientSecret !== 'string' || p.clientSecret === '')) {
    problems.push(`${at}.clientSecret" must be a non-empty string (or set tokenEndpointAuthMethod: "none" for a public client)`);
  }
  const alg = p.idTokenSignedResponseAlg ?? 'RS256';
  if (typeof alg !== 'string' || alg === '' || alg.toLowerCase() === 'none' || alg.startsWith('HS')) {
    problems.push(
      `${at}.idTokenSignedResponseAlg" must be an asymmetric JWS alg such as RS256, PS256 or ES256 ("none" and HS* are refused)`,
    );
  }
  const scopes = p.scopes ?? ['openid', 'profile', 'email'];
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
    problems.push(`${at}.scopes" must be an array of scope strings`);
  }
  checkStringRecord(`${at}.authorizationParams"`, p.authorizationParams, problems);
  return {
    name,
    issuer: p.issuer,
    clientId: p.clientId,
    clientSecret: p.clientSecret,
    tokenEndpointAuthMethod: method,
    scopes: Object.freeze(Array.isArray(scopes) ? [...new Set(['openid', ...scopes])] : ['openid']),
    idTokenSignedResponseAlg: alg,
    fetchUserInfo: p.fetchUserInfo === true,
    authorizationParams: Object.freeze({ ...(p.authorizationParams ?? {}) }),
    ...checkLogoutOptions(at, p, problems),
    logoutHint: p.logoutHint,
    uiLocales: p.uiLocales,
    displayName: p.displayName ?? name,
    backchannel: Object.freeze(checkBackchannel(at, p.backchannel, problems)),
    frameAncestors: Object.freeze(checkFrameAncestors(at, p, problems)),
    frontChannelLogout: checkBoolean(`${at}.frontChannelLogout"`, p.frontChannelLogout, false, problems),
    frontchannelBudget: checkBudget(`${at}.frontchannel.maxLogoutsPerMinute"`, p.frontchannel?.maxLogoutsPerMinute, 60, problems),
  };
}

function checkLogoutOptions(at: string, p: ProviderOptions, problems: string[]) {
  const preset = p.preset;
  if (preset !== undefined && !PRESETS.includes(preset)) problems.push(`${at}.preset" must be one of ${PRESETS.join(', ')}`);
  const defaults: PresetDefaults = preset && PRESETS.includes(preset) ? PRESET_DEFAULTS[preset] : {};
  const endSessionEndpoint = p.endSessionEndpoint ?? (typeof p.issuer === 'string' ? defaults.endSessionEndpoint?.(p.issuer) : undefined);
  if (endSessionEndpoint !== undefined) checkHttpsUrl(`${at}.endSessionEndpoint"`, endSessionEndpoint, problems);
  if (defaults.requires?.endSessionEndpoint && endSessionEndpoint === undefined) {
    problems.push(`${at}.endSessionEndpoint" is required by the "${preset}" preset, e.g. "${defaults.requires.endSessionEndpoint}"`);
  }
  if (p.logoutParams !== undefined && !isParamRecord(p.logoutParams)) {
    problems.push(`${at}.logoutParams" must be an object of string (template) or null values`);
  }
  const transport = p.endSessionTransport ?? 'get';
  if (!['get', 'post', 'auto'].includes(transport)) problems.push(`${at}.endSessionTransport" must be "get", "post" or "auto"`);
  return {
    preset,
    endSessionEndpoint,
    logoutParams: Object.freeze(
      [defaults.logoutParams ?? {}, isParamRecord(p.logoutParams) ? { ...p.logoutParams } : {}].map((x) => Object.freeze(x)),
    ),
    fallbackLogoutParams: Object.freeze({ ...(defaults.fallbackLogoutParams ?? {}) }),
    endSessionTransport: transport,
    federatedLogout: p.federatedLogout ?? defaults.federatedLogout ?? true,
  };
}

function isParamRecord(value: unknown): value is Record<string, string | null> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => v === null || typeof v === 'string');
}

function checkHttpsUrl(label: string, value: unknown, problems: string[]): void {
  try {
    const url = new URL(String(value));
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalHost(url))) throw new Error('scheme');
  } catch {
    problems.push(`${label} must be an absolute https URL`);
  }
}

function checkFrameAncestors(at: string, p: ProviderOptions, problems: string[]): string[] {
  const list = p.frontchannel?.frameAncestors;
  if (list === undefined) {
    try {
      return [new URL(p.issuer).origin];
    } catch {
      return [];
    }
  }
  const origins: string[] = [];
  for (const value of Array.isArray(list) ? list : [list]) {
    let url: URL | undefined;
    try {
      url = new URL(String(value));
    } catch {}
    // Origins only: anything else could smuggle another CSP directive into the header.
    if (!url || url.origin === 'null' || url.origin !== String(value).replace(/\/$/, '')) {
      problems.push(`${at}.frontchannel.frameAncestors" must be a list of origins such as "https://login.example.com"`);
    } else origins.push(url.origin);
  }
  return origins;
}

function checkBackchannel(at: string, value: BackchannelOptions | undefined, problems: string[]): Required<BackchannelOptions> {
  const options = value ?? {};
  if (typeof options !== 'object' || options === null) problems.push(`${at}.backchannel" must be an object`);
  const maxTokenAge = options.maxTokenAge ?? 120;
  if (!Number.isInteger(maxTokenAge) || maxTokenAge < 1)
    problems.push(`${at}.backchannel.maxTokenAge" must be a whole number of seconds, at least 1`);
  return {
    requireLogoutJwtTyp: options.requireLogoutJwtTyp === true,
    allowMissingExp: options.allowMissingExp === true,
    maxTokenAge,
    maxLogoutsPerMinute: checkBudget(`${at}.backchannel.maxLogoutsPerMinute"`, options.maxLogoutsPerMinute, 1200, problems),
  };
}

function checkBoolean(label: string, value: unknown, fallback: boolean, problems: string[]): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') problems.push(`${label} must be true or false`);
  return value === true;
}

/** A per-minute budget of writes a provider's logouts may cause (docs/security.md). */
function checkBudget(label: string, value: unknown, fallback: number, problems: string[]): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    problems.push(`${label} must be a whole number, at least 1`);
    return fallback;
  }
  return value;
}

function checkIssuer(label: string, value: unknown, problems: string[]): void {
  if (typeof value !== 'string' || value === '') {
    problems.push(`${label} is required: the provider's issuer URL, e.g. "https://login.example.com"`);
    return;
  }
  if (/[\s\u0000-\u001f\u007f\\]/.test(value)) {
    problems.push(`${label} must not contain whitespace, control characters or backslashes (it is compared byte for byte)`);
    return;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${label} is not a valid URL: ${JSON.stringify(value)}`);
    return;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalHost(url))) {
    problems.push(`${label} must use https: (http: is allowed only for localhost development providers)`);
  }
  if (url.search || url.hash) problems.push(`${label} must not have a query or fragment`);
}

function checkStringRecord(label: string, value: unknown, problems: string[]): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Object.values(value).some((v) => typeof v !== 'string')) {
    problems.push(`${label} must be an object of string values`);
  }
}

function checkExposeTokens(options: AuthOptions, problems: string[]): ExposableToken[] {
  const list = options.exposeTokens ?? [];
  if (!Array.isArray(list) || list.some((t) => !TOKEN_KINDS.includes(t))) {
    problems.push(`"exposeTokens" must be an array of ${TOKEN_KINDS.map((t) => `"${t}"`).join(', ')}`);
    return [];
  }
  if (list.includes('refresh') && options.allowRefreshTokenExposure !== true) {
    problems.push(
      '"exposeTokens" lists "refresh": also set allowRefreshTokenExposure: true to confirm the app may see the long-lived refresh token',
    );
  }
  return [...new Set(list)];
}

function checkSeconds(name: string, value: unknown, fallback: number, problems: string[], min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    problems.push(`"${name}" must be a whole number of seconds, at least ${min}`);
    return fallback;
  }
  return value;
}

function checkRefresh(value: AuthOptions['refresh'], problems: string[]): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null) {
    problems.push('"refresh" must be an object, e.g. { automatic: 60 } or {} for manual refresh only');
    return null;
  }
  if (value.automatic === undefined) return null;
  return checkSeconds('refresh.automatic', value.automatic, 60, problems, 0);
}

function checkMode(value: unknown, problems: string[]): 'cookie' | 'server' {
  if (value === undefined || value === 'cookie') return 'cookie';
  if (value === 'server') return 'server';
  problems.push('"session.mode" must be "cookie" or "server"');
  return 'cookie';
}

const STORE_METHODS = ['getMany', 'set', 'setIfAbsent', 'delete', 'addToSet', 'setMembers', 'removeFromSet'] as const;

function checkStore(value: unknown, problems: string[]): Store | undefined {
  if (value === undefined) return undefined;
  const missing = STORE_METHODS.filter((m) => typeof (value as Record<string, unknown> | null)?.[m] !== 'function');
  if (missing.length > 0) {
    problems.push(
      `"store" must implement the Store interface (missing ${missing.join(', ')}); use memoryStore(), redisStore(client) or postgresStore(pool)`,
    );
    return undefined;
  }
  return value as Store;
}

function checkSameSite(value: unknown, problems: string[]): 'Lax' | 'Strict' {
  if (value === undefined || value === 'lax') return 'Lax';
  if (value === 'strict') return 'Strict';
  problems.push('"cookies.sameSite" must be "lax" or "strict" ("none" would send the session on cross-site requests)');
  return 'Lax';
}

function checkCookieName(value: unknown, problems: string[]): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(value)) {
    problems.push('"cookies.name" must be 1-32 characters of A-Z, a-z, 0-9, "_" or "-"');
    return 'oidc';
  }
  return value;
}

function checkDefaultReturnTo(value: unknown, problems: string[]): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) {
    problems.push('"defaultReturnTo" must be a same-origin path such as "/"');
    return '/';
  }
  return value;
}

function checkFunction(name: string, value: unknown, problems: string[]): void {
  if (value !== undefined && typeof value !== 'function') problems.push(`"${name}" must be a function`);
}

function checkLogger(value: unknown, problems: string[]): Logger {
  if (value === undefined) return consoleLogger;
  const l = value as Partial<Logger>;
  if (typeof l !== 'object' || l === null || typeof l.warn !== 'function' || typeof l.error !== 'function') {
    problems.push('"logger" must have warn(message) and error(message) methods (debug and info are optional)');
    return consoleLogger;
  }
  return l as Logger;
}

function checkPostLogoutRedirectUri(value: unknown, baseUrl: string, basePath: string, problems: string[]): string {
  const template = value ?? `{baseUrl}${basePath}/logout/callback`;
  if (typeof template !== 'string') {
    problems.push('"postLogoutRedirectUri" must be a string (the "{baseUrl}" template is supported)');
    return '';
  }
  const uri = template.replaceAll('{baseUrl}', baseUrl);
  // The URL parser trims spaces and drops tabs and newlines; the raw string would be sent as is.
  if (/[^\x21-\x7e]|\\/.test(uri)) {
    problems.push(
      '"postLogoutRedirectUri" must be printable ASCII without spaces or backslashes (percent-encode other characters, exactly as registered at the provider)',
    );
    return uri;
  }
  if (baseUrl === '') return uri;
  try {
    const url = new URL(uri);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalHost(url))) throw new Error('scheme');
  } catch {
    problems.push(`"postLogoutRedirectUri" must be an absolute https URL registered at the provider (got ${JSON.stringify(uri)})`);
  }
  return uri;
}

/** Quiet by default: only warnings and errors, one line each. */
const consoleLogger: Logger = Object.freeze({
  warn: (message: string) => console.warn(`oidc-session: ${message}`),
  error: (message: string) => console.error(`oidc-session: ${message}`),
});

/**
 * Builds options from environment variables (DESIGN.md §4): `OIDC_ISSUER`,
 * `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET` for provider `default`;
 * `OIDC_<NAME>_ISSUER|CLIENT_ID|CLIENT_SECRET` for provider `<name>`; `APP_URL`,
 * `SESSION_SECRET` (comma-separated, newest first), `EXPOSE_TOKENS` (`id,access`),
 * `SESSION_MODE` (`cookie` | `server`), `OIDC_BACKCHANNEL_ALLOW_MISSING_EXP` /
 * `OIDC_<NAME>_BACKCHANNEL_ALLOW_MISSING_EXP` (`true` | `false`: `backchannel.allowMissingExp`,
 * for providers whose logout tokens have no `exp`), `OIDC_FRONTCHANNEL_LOGOUT` /
 * `OIDC_<NAME>_FRONTCHANNEL_LOGOUT` (`frontChannelLogout`). `SESSION_STORE` names a store URL, but a store takes
 * the caller's own client: build it (see the demo) and pass it as `store`.
 * The result still goes through `createAuth()`'s validation.
 */
export function configFromEnv(env: Record<string, string | undefined>, overrides: Partial<AuthOptions> = {}): AuthOptions {
  const providers: Record<string, ProviderOptions> = {};
  for (const [key, issuer] of Object.entries(env)) {
    const match = /^OIDC_(?:([A-Z0-9_]+)_)?ISSUER$/.exec(key);
    if (!match || !issuer) continue;
    const prefix = match[1] ? `OIDC_${match[1]}_` : 'OIDC_';
    const name = match[1] ? match[1].toLowerCase().replaceAll('_', '-') : 'default';
    const clientSecret = env[`${prefix}CLIENT_SECRET`];
    const allowMissingExp = envBoolean(env, `${prefix}BACKCHANNEL_ALLOW_MISSING_EXP`);
    const frontChannelLogout = envBoolean(env, `${prefix}FRONTCHANNEL_LOGOUT`);
    providers[name] = {
      issuer,
      clientId: env[`${prefix}CLIENT_ID`] ?? '',
      ...(clientSecret ? { clientSecret } : {}),
      ...(allowMissingExp !== undefined ? { backchannel: { allowMissingExp } } : {}),
      ...(frontChannelLogout !== undefined ? { frontChannelLogout } : {}),
    };
  }
  const expose = (env.EXPOSE_TOKENS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as ExposableToken[];
  const secrets = (env.SESSION_SECRET ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const mode = env.SESSION_MODE as 'cookie' | 'server' | undefined;
  return {
    baseUrl: env.APP_URL ?? '',
    secret: secrets,
    providers,
    exposeTokens: expose,
    ...(mode ? { session: { mode } } : {}),
    ...overrides,
  };
}

/** `true`/`1` or `false`/`0` (any case); unset or empty: undefined. Anything else names the variable. */
function envBoolean(env: Record<string, string | undefined>, key: string): boolean | undefined {
  const value = env[key]?.trim().toLowerCase();
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError([`${key} must be "true" or "false" (got ${JSON.stringify(env[key])})`]);
}
