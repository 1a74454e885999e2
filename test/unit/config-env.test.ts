/**
 * configFromEnv: the per-provider back-channel policy for logout tokens without `exp`
 * (`OIDC_BACKCHANNEL_ALLOW_MISSING_EXP`, `OIDC_<NAME>_BACKCHANNEL_ALLOW_MISSING_EXP`).
 */
import { describe, expect, it } from 'vitest';
import { configFromEnv, createAuth } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

const BASE = {
  APP_URL: 'https://app.example.com',
  SESSION_SECRET: 'config-env-secret-config-env-secret-0123',
  OIDC_ISSUER: 'https://op.example.com',
  OIDC_CLIENT_ID: 'app',
  OIDC_CLIENT_SECRET: 's',
};

describe('configFromEnv: BACKCHANNEL_ALLOW_MISSING_EXP', () => {
  it('when OIDC_BACKCHANNEL_ALLOW_MISSING_EXP=true then the default provider accepts logout tokens without exp', () => {
    const options = configFromEnv({ ...BASE, OIDC_BACKCHANNEL_ALLOW_MISSING_EXP: 'true' });
    expect(options.providers.default?.backchannel).toEqual({ allowMissingExp: true });
    expect(createAuth(options).config.providers.default?.backchannel.allowMissingExp).toBe(true);
  });

  it('when OIDC_<NAME>_BACKCHANNEL_ALLOW_MISSING_EXP is set then only that provider changes', () => {
    const options = configFromEnv({
      ...BASE,
      OIDC_CORP_SSO_ISSUER: 'https://sso.example.com',
      OIDC_CORP_SSO_CLIENT_ID: 'corp',
      OIDC_CORP_SSO_CLIENT_SECRET: 's',
      OIDC_CORP_SSO_BACKCHANNEL_ALLOW_MISSING_EXP: 'TRUE',
    });
    const config = createAuth(options).config;
    expect(config.providers['corp-sso']?.backchannel.allowMissingExp).toBe(true);
    expect(config.providers.default?.backchannel.allowMissingExp).toBe(false);
  });

  it('when the variable is unset, empty, false or 0 then exp stays required', () => {
    for (const value of [undefined, '', 'false', '0', ' False ']) {
      const options = configFromEnv({ ...BASE, OIDC_BACKCHANNEL_ALLOW_MISSING_EXP: value });
      expect(createAuth(options).config.providers.default?.backchannel.allowMissingExp).toBe(false);
    }
    expect(configFromEnv(BASE).providers.default).not.toHaveProperty('backchannel');
  });

  it('when the value is neither true nor false then a ConfigError names the variable', () => {
    const attempt = () => configFromEnv({ ...BASE, OIDC_BACKCHANNEL_ALLOW_MISSING_EXP: 'yes' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/OIDC_BACKCHANNEL_ALLOW_MISSING_EXP must be "true" or "false" \(got "yes"\)/);
  });
});
