/** The options of each provider: issuer and client, scopes, and the logout rules of each channel. */
import { PRESET_DEFAULTS, PRESETS, type PresetDefaults } from '../core/logout/presets.js';
import type { BackchannelOptions, ClientAuthMethod, ProviderOptions, ResolvedProvider } from '../core/types.js';
import { checkBoolean, checkBudget, checkHttpsUrl, checkStringRecord, hasUnsafeUrlText, isLocalHost } from './checks.js';

const AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none'];
const PROVIDER_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export function checkProviders(value: unknown, problems: string[]): Record<string, ResolvedProvider> {
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

function checkIssuer(label: string, value: unknown, problems: string[]): void {
  if (typeof value !== 'string' || value === '') {
    problems.push(`${label} is required: the provider's issuer URL, e.g. "https://login.example.com"`);
    return;
  }
  if (hasUnsafeUrlText(value)) {
    problems.push(`${label} must not contain whitespace, control characters, non-ASCII or backslashes (it is compared byte for byte)`);
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
