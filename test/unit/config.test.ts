import { describe, expect, it } from 'vitest';
import { configFromEnv, createAuth } from '../../src/config.js';
import type { AuthOptions } from '../../src/core/types.js';
import { ConfigError, OidcSessionError } from '../../src/errors.js';

const SECRET = 'a-very-long-secret-of-at-least-32-bytes!';
const valid: AuthOptions = {
  baseUrl: 'https://app.example.com',
  secret: SECRET,
  providers: { default: { issuer: 'https://op.example.com', clientId: 'app', clientSecret: 's3cret' } },
};

function problemsOf(options: unknown): string[] {
  try {
    createAuth(options as AuthOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(OidcSessionError);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    return [...(error as ConfigError).problems];
  }
  throw new Error('createAuth accepted the options');
}

describe('createAuth option validation', () => {
  it('when the options are valid then the config is frozen with secure defaults', () => {
    const auth = createAuth(valid);
    expect(Object.isFrozen(auth.config)).toBe(true);
    expect(Object.isFrozen(auth.config.providers.default)).toBe(true);
    expect(auth.config.basePath).toBe('/auth');
    expect(auth.config.secure).toBe(true);
    expect(auth.config.sameSite).toBe('Lax');
    expect(auth.config.exposeTokens).toEqual([]);
    expect(auth.config.redirectUri).toBe('https://app.example.com/auth/callback');
    expect(auth.config.postLogoutRedirectUri).toBe('https://app.example.com/auth/logout/callback');
    expect(auth.config.providers.default!.scopes).toEqual(['openid', 'profile', 'email']);
    expect(auth.config.providers.default!.idTokenSignedResponseAlg).toBe('RS256');
    expect(auth.config.providers.default!.tokenEndpointAuthMethod).toBe('client_secret_basic');
  });

  it('when the config is logged then it holds neither the session secret nor a client secret', () => {
    const auth = createAuth(valid);
    const text = JSON.stringify(auth.config);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('s3cret');
    expect(auth.config.providers.default).not.toHaveProperty('clientSecret');
    expect(auth.config).not.toHaveProperty('secrets');
  });

  it('when the secret is missing then it says how to make one', () => {
    expect(problemsOf({ ...valid, secret: undefined })).toEqual([expect.stringContaining('"secret" is required')]);
  });

  it('when a secret is shorter than 32 bytes then it fails, naming which', () => {
    expect(problemsOf({ ...valid, secret: 'short' })[0]).toMatch(/"secret" must be at least 32 bytes/);
    expect(problemsOf({ ...valid, secret: [SECRET, 'short'] })[0]).toMatch(/"secret\[1\]" must be at least 32 bytes/);
  });

  it('when baseUrl is http outside localhost then it fails; on localhost it is allowed', () => {
    expect(problemsOf({ ...valid, baseUrl: 'http://app.example.com' })[0]).toMatch(/"baseUrl" must use https: outside localhost/);
    for (const host of ['localhost:3000', '127.0.0.1:3000', '[::1]:3000']) {
      expect(createAuth({ ...valid, baseUrl: `http://${host}` }).config.secure).toBe(false);
    }
  });

  it('when baseUrl is missing or malformed then it fails', () => {
    expect(problemsOf({ ...valid, baseUrl: undefined })[0]).toMatch(/"baseUrl" must be the public URL/);
    expect(problemsOf({ ...valid, baseUrl: 'not a url' })[0]).toMatch(/"baseUrl" is not a valid URL/);
    expect(problemsOf({ ...valid, baseUrl: 'https://app.example.com/sub' })[0]).toMatch(/without a path/);
  });

  it('when a provider has no issuer then it fails naming the provider', () => {
    expect(problemsOf({ ...valid, providers: { corp: { clientId: 'x', clientSecret: 'y' } } })).toEqual([
      expect.stringContaining('"providers.corp.issuer" is required'),
    ]);
  });

  it('when a URL option holds spaces, control characters or non-ASCII then it fails rather than being trimmed by the URL parser', () => {
    for (const uri of [' {baseUrl}/bye', '{baseUrl}/by\te', '{baseUrl}/ｂｙｅ', '{baseUrl}\\bye']) {
      expect(problemsOf({ ...valid, postLogoutRedirectUri: uri })[0]).toMatch(/"postLogoutRedirectUri" must be printable ASCII/);
    }
    const issuer = { ...valid.providers.default!, issuer: ' https://login.example.com' };
    expect(problemsOf({ ...valid, providers: { default: issuer } })[0]).toMatch(/issuer" must not contain whitespace/);
  });

  it('when front-channel logout options are given then they are checked; the route is off by default', () => {
    expect(createAuth(valid).config.providers.default!.frontChannelLogout).toBe(false);
    const p = (extra: object) => ({ default: { ...valid.providers.default!, ...extra } });
    expect(problemsOf({ ...valid, providers: p({ frontChannelLogout: 'yes' }) })[0]).toMatch(/frontChannelLogout" must be true or false/);
    expect(problemsOf({ ...valid, providers: p({ frontchannel: { maxLogoutsPerMinute: 0 } }) })[0]).toMatch(
      /frontchannel.maxLogoutsPerMinute" must be a whole number/,
    );
    expect(problemsOf({ ...valid, providers: p({ backchannel: { maxLogoutsPerMinute: 1.5 } }) })[0]).toMatch(
      /backchannel.maxLogoutsPerMinute" must be a whole number/,
    );
  });

  it('when there are no providers then it fails', () => {
    expect(problemsOf({ ...valid, providers: {} })[0]).toMatch(/"providers" must name at least one provider/);
  });

  it('when a confidential client has no secret then it fails; a public client needs none', () => {
    expect(
      problemsOf({
        ...valid,
        providers: { d: { issuer: 'https://op.example.com', clientId: 'x', tokenEndpointAuthMethod: 'client_secret_post' } },
      })[0],
    ).toMatch(/"providers.d.clientSecret" must be a non-empty string/);
    const auth = createAuth({ ...valid, providers: { d: { issuer: 'https://op.example.com', clientId: 'x' } } });
    expect(auth.config.providers.d!.tokenEndpointAuthMethod).toBe('none');
  });

  it('when the ID token alg is none or symmetric then it fails', () => {
    for (const alg of ['none', 'HS256']) {
      const p = { default: { ...valid.providers.default!, idTokenSignedResponseAlg: alg } };
      expect(problemsOf({ ...valid, providers: p })[0]).toMatch(/idTokenSignedResponseAlg/);
    }
  });

  it('when an issuer is http outside localhost then it fails', () => {
    const p = { default: { ...valid.providers.default!, issuer: 'http://op.example.com' } };
    expect(problemsOf({ ...valid, providers: p })[0]).toMatch(/"providers.default.issuer" must use https:/);
  });

  it('when refresh is exposed without the second opt-in then it fails; with it, it passes', () => {
    expect(problemsOf({ ...valid, exposeTokens: ['id', 'refresh'] })[0]).toMatch(/allowRefreshTokenExposure/);
    const auth = createAuth({ ...valid, exposeTokens: ['id', 'refresh'], allowRefreshTokenExposure: true });
    expect(auth.config.storeRefreshToken).toBe(true);
    expect(problemsOf({ ...valid, exposeTokens: ['password'] })[0]).toMatch(/"exposeTokens" must be an array of/);
  });

  it('when several options are wrong then every problem is listed', () => {
    const problems = problemsOf({ baseUrl: 'ftp://x', secret: 'short', providers: {}, basePath: 'auth', cookies: { sameSite: 'none' } });
    // Each wrong option once, by its name; nothing said twice.
    for (const option of ['baseUrl', 'secret', 'providers', 'basePath', 'cookies.sameSite']) {
      expect(
        problems.filter((problem) => problem.startsWith(`"${option}" `)),
        option,
      ).toHaveLength(1);
    }
    expect(new Set(problems).size).toBe(problems.length);
  });

  it('when postLogoutRedirectUri uses the {baseUrl} template then it is expanded', () => {
    const auth = createAuth({ ...valid, postLogoutRedirectUri: '{baseUrl}/goodbye' });
    expect(auth.config.postLogoutRedirectUri).toBe('https://app.example.com/goodbye');
  });

  it('when basePath is set then every route moves under it', () => {
    const auth = createAuth({ ...valid, basePath: '/oidc' });
    expect(auth.isAuthPath('/oidc/login')).toBe(true);
    expect(auth.isAuthPath('/auth/login')).toBe(false);
    expect(auth.config.redirectUri).toBe('https://app.example.com/oidc/callback');
  });

  it('when a hook or the logger is not callable then it fails', () => {
    expect(problemsOf({ ...valid, onLogin: 'x' })[0]).toMatch(/"onLogin" must be a function/);
    expect(problemsOf({ ...valid, logger: {} })[0]).toMatch(/"logger" must have warn/);
  });
});

describe('configFromEnv', () => {
  it('when OIDC_* variables are set then providers, secrets and exposed tokens are read', () => {
    const options = configFromEnv({
      OIDC_ISSUER: 'https://op.example.com',
      OIDC_CLIENT_ID: 'app',
      OIDC_CLIENT_SECRET: 's',
      OIDC_CORP_SSO_ISSUER: 'https://corp.example.com',
      OIDC_CORP_SSO_CLIENT_ID: 'corp-app',
      APP_URL: 'https://app.example.com',
      SESSION_SECRET: `${SECRET}-new, ${SECRET}-old`,
      EXPOSE_TOKENS: 'id, access',
    });
    expect(options.providers).toEqual({
      default: { issuer: 'https://op.example.com', clientId: 'app', clientSecret: 's' },
      'corp-sso': { issuer: 'https://corp.example.com', clientId: 'corp-app' },
    });
    expect(options.secret).toEqual([`${SECRET}-new`, `${SECRET}-old`]);
    expect(options.exposeTokens).toEqual(['id', 'access']);
    expect(createAuth(options).config.defaultProvider).toBe('default');
  });

  it('when nothing is set then createAuth explains each missing variable', () => {
    const problems = problemsOf(configFromEnv({}));
    expect(problems.join('\n')).toMatch(/APP_URL/);
    expect(problems.join('\n')).toMatch(/SESSION_SECRET/);
  });
});
