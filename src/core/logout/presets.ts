/**
 * What real providers need at logout beyond RP-Initiated Logout 1.0. Each preset is a set of
 * defaults for a provider's options; anything the app sets itself wins. The provider page of
 * the README (docs/providers.md) says what to register at each provider.
 */

export type ProviderPreset = 'cognito' | 'auth0' | 'entra' | 'keycloak' | 'okta' | 'google';

export const PRESETS: readonly ProviderPreset[] = ['cognito', 'auth0', 'entra', 'keycloak', 'okta', 'google'];

/**
 * Logout parameters: a string value (templates allowed) adds or replaces a parameter, `null`
 * removes a standard one the provider rejects. Templates: `{baseUrl}`, `{postLogoutRedirectUri}`,
 * `{clientId}`, `{idToken}`, `{claim.NAME}` (a claim of the signed-in user).
 */
export type LogoutParams = Readonly<Record<string, string | null>>;

export interface PresetDefaults {
  /** Used when discovery has no end_session_endpoint; may depend on the issuer. */
  endSessionEndpoint?: (issuer: string) => string;
  /** Applied with every end-session request. */
  logoutParams?: LogoutParams;
  /** Applied only when the configured endpoint stands in for a missing end_session_endpoint. */
  fallbackLogoutParams?: LogoutParams;
  federatedLogout?: false;
  /** Options the preset cannot work without, with what to set. */
  requires?: { endSessionEndpoint?: string };
}

/** Standard parameters a non-OIDC logout endpoint does not understand. */
const NOT_OIDC = { id_token_hint: null, post_logout_redirect_uri: null, state: null } as const;

export const PRESET_DEFAULTS: Readonly<Record<ProviderPreset, PresetDefaults>> = {
  // Cognito's discovery has no end_session_endpoint; its hosted UI has /logout with client_id
  // and logout_uri (which must equal a registered "sign-out URL").
  cognito: {
    fallbackLogoutParams: { ...NOT_OIDC, logout_uri: '{postLogoutRedirectUri}' },
    requires: { endSessionEndpoint: 'https://<your-domain>.auth.<region>.amazoncognito.com/logout' },
  },
  // Tenants without "RP-Initiated Logout" enabled publish no end_session_endpoint: /v2/logout takes
  // client_id and returnTo (an "Allowed Logout URL").
  auth0: {
    endSessionEndpoint: (issuer) => new URL('v2/logout', issuer.endsWith('/') ? issuer : `${issuer}/`).href,
    fallbackLogoutParams: { ...NOT_OIDC, returnTo: '{postLogoutRedirectUri}' },
  },
  // Entra skips its account picker when logout_hint carries the login_hint optional claim.
  entra: { logoutParams: { logout_hint: '{claim.login_hint}' } },
  // Keycloak (18+) and Okta implement RP-Initiated Logout as specified: the defaults are right.
  keycloak: {},
  okta: {},
  // Google publishes no end_session_endpoint and has no RP-initiated logout at all.
  google: { federatedLogout: false },
};

export interface TemplateValues {
  baseUrl: string;
  postLogoutRedirectUri: string;
  clientId: string;
  idToken: string | undefined;
  claims: Readonly<Record<string, unknown>>;
}

/** Expands `{…}` templates; an unknown template is left as written, a missing claim is empty. */
export function expandTemplate(template: string, values: TemplateValues): string {
  return template.replace(/\{([A-Za-z]+(?:\.[^{}]+)?)\}/g, (whole, name: string) => {
    if (name.startsWith('claim.')) return claimText(values.claims[name.slice(6)]);
    switch (name) {
      case 'baseUrl':
        return values.baseUrl;
      case 'postLogoutRedirectUri':
        return values.postLogoutRedirectUri;
      case 'clientId':
        return values.clientId;
      case 'idToken':
        return values.idToken ?? '';
      default:
        return whole;
    }
  });
}

function claimText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Applies logout parameter overrides to the standard parameters, in order: standard ones kept
 * (or removed by `null`, or replaced), then the added ones. Empty values are dropped.
 */
export function applyLogoutParams(
  standard: Record<string, string>,
  overrides: readonly LogoutParams[],
  values: TemplateValues,
): Record<string, string> {
  const out: Record<string, string> = { ...standard };
  for (const set of overrides) {
    for (const [name, value] of Object.entries(set)) {
      if (value === null) delete out[name];
      else out[name] = expandTemplate(value, values);
    }
  }
  for (const [name, value] of Object.entries(out)) if (value === '') delete out[name];
  return out;
}
