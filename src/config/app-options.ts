/** The app-wide options: where the app lives, secrets, cookies, session lifetimes and mode, tokens, store, logging. */
import { STORE_METHODS, type Store } from '../core/store.js';
import type { AuthOptions, ExposableToken, Logger } from '../core/types.js';
import { checkSeconds, hasUnsafeUrlText, isLocalHost } from './checks.js';

const MIN_SECRET_BYTES = 32;
const TOKEN_KINDS: readonly ExposableToken[] = ['id', 'access', 'refresh'];

export function checkBaseUrl(value: unknown, problems: string[]): URL | undefined {
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

export function checkSecrets(value: unknown, problems: string[]): string[] {
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

export function checkBasePath(value: unknown, problems: string[]): string {
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~\-/]*[^/]$/.test(value) || value.includes('//')) {
    problems.push('"basePath" must be a path like "/auth": a leading slash, no trailing slash');
    return '/auth';
  }
  return value;
}

export function checkExposeTokens(options: AuthOptions, problems: string[]): ExposableToken[] {
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

export function checkRefresh(value: AuthOptions['refresh'], problems: string[]): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null) {
    problems.push('"refresh" must be an object, e.g. { automatic: 60 } or {} for manual refresh only');
    return null;
  }
  if (value.automatic === undefined) return null;
  return checkSeconds('refresh.automatic', value.automatic, 60, problems, 0);
}

export function checkMode(value: unknown, problems: string[]): 'cookie' | 'server' {
  if (value === undefined || value === 'cookie') return 'cookie';
  if (value === 'server') return 'server';
  problems.push('"session.mode" must be "cookie" or "server"');
  return 'cookie';
}

export function checkStore(value: unknown, problems: string[]): Store | undefined {
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

export function checkSameSite(value: unknown, problems: string[]): 'Lax' | 'Strict' {
  if (value === undefined || value === 'lax') return 'Lax';
  if (value === 'strict') return 'Strict';
  problems.push('"cookies.sameSite" must be "lax" or "strict" ("none" would send the session on cross-site requests)');
  return 'Lax';
}

export function checkCookieName(value: unknown, problems: string[]): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(value)) {
    problems.push('"cookies.name" must be 1-32 characters of A-Z, a-z, 0-9, "_" or "-"');
    return 'oidc';
  }
  return value;
}

export function checkDefaultReturnTo(value: unknown, problems: string[]): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) {
    problems.push('"defaultReturnTo" must be a same-origin path such as "/"');
    return '/';
  }
  return value;
}

export function checkLogger(value: unknown, problems: string[]): Logger {
  if (value === undefined) return consoleLogger;
  const l = value as Partial<Logger>;
  if (typeof l !== 'object' || l === null || typeof l.warn !== 'function' || typeof l.error !== 'function') {
    problems.push('"logger" must have warn(message) and error(message) methods (debug and info are optional)');
    return consoleLogger;
  }
  return l as Logger;
}

export function checkPostLogoutRedirectUri(value: unknown, baseUrl: string, basePath: string, problems: string[]): string {
  const template = value ?? `{baseUrl}${basePath}/logout/callback`;
  if (typeof template !== 'string') {
    problems.push('"postLogoutRedirectUri" must be a string (the "{baseUrl}" template is supported)');
    return '';
  }
  const uri = template.replaceAll('{baseUrl}', baseUrl);
  // The URL parser trims spaces and drops tabs and newlines; the raw string would be sent as is.
  if (hasUnsafeUrlText(uri)) {
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
