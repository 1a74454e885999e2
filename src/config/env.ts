import type { AuthOptions, ExposableToken, ProviderOptions } from '../core/types.js';
import { ConfigError } from '../errors.js';

/**
 * Builds options from environment variables (the table in README.md, "Configuration"): `OIDC_ISSUER`,
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
