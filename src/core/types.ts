/** Public types shared by the core, the adapters and the user's code. */

import type { LogoutParams, ProviderPreset } from './logout/presets.js';
import type { Store } from './store.js';

export type ExposableToken = 'id' | 'access' | 'refresh';

export type LogoutReason =
  /** `POST /auth/logout` with `federated=false`, or a provider without end_session_endpoint. */
  | 'local'
  /** `POST /auth/logout`, followed by a redirect to the provider's end_session_endpoint. */
  | 'rp-initiated'
  /** The session reached its absolute or idle expiry. */
  | 'expired'
  /** The provider ended it with a back-channel logout token. */
  | 'back-channel'
  /** The provider ended it through the front-channel logout iframe. */
  | 'front-channel'
  /** The user signed out everywhere (`scope=all`) from another device, or `auth.endUserSessions()` ran. */
  | 'everywhere'
  /** Refreshing its tokens failed with `invalid_grant`: the provider no longer honours the session. */
  | 'refresh-failed';

/** One OP-initiated logout the app received, for logs and dashboards. */
export interface ProviderLogoutEvent {
  channel: 'back-channel' | 'front-channel';
  provider: string;
  iss: string;
  sid?: string;
  sub?: string;
  /** Server mode: how many stored sessions were deleted. Cookie mode: null (cookies end when next seen). */
  ended: number | null;
}

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface ProviderOptions {
  /** Issuer identifier; discovery reads `{issuer}/.well-known/openid-configuration` and the issuer must match exactly. */
  issuer: string;
  clientId: string;
  /** Required unless `tokenEndpointAuthMethod` is `'none'` (a public client; PKCE protects the code). */
  clientSecret?: string;
  /** Default `client_secret_basic` when a secret is given, `none` otherwise. */
  tokenEndpointAuthMethod?: ClientAuthMethod;
  /** Default `['openid', 'profile', 'email']`; `openid` is always added. */
  scopes?: string[];
  /** The alg every ID token (and, later, logout token) must use. Default `RS256`. `none` is refused. */
  idTokenSignedResponseAlg?: string;
  /** Call the userinfo endpoint after login and merge its claims (its `sub` must match). Default false. */
  fetchUserInfo?: boolean;
  /** Extra authorization request parameters (e.g. `prompt`, `acr_values`, `audience`). */
  authorizationParams?: Record<string, string>;
  /** `false`: logout never goes to the provider's end_session_endpoint (local logout only). Default true. */
  federatedLogout?: boolean;
  /** Sent as `logout_hint` on RP-initiated logout. */
  logoutHint?: string;
  /** Sent as `ui_locales` on RP-initiated logout. */
  uiLocales?: string;
  /** Defaults for a known provider's logout quirks (docs/providers.md). */
  preset?: ProviderPreset;
  /** Where to send RP-initiated logout when discovery has no `end_session_endpoint`. */
  endSessionEndpoint?: string;
  /**
   * Extra or replacement end-session parameters (templates `{baseUrl}`, `{postLogoutRedirectUri}`,
   * `{clientId}`, `{idToken}`, `{claim.NAME}`); `null` removes a standard one the provider rejects.
   */
  logoutParams?: Record<string, string | null>;
  /** `get` (default), `post` (an auto-submitting form), or `auto`: POST when the URL would pass 2,000 characters. */
  endSessionTransport?: 'get' | 'post' | 'auto';
  /** Display name for pages. Default: the provider's key. */
  displayName?: string;
  /** Back-channel logout token rules and budget (docs/security.md). */
  backchannel?: BackchannelOptions;
  /** Front-channel logout page rules (framing origins, budget); the route itself needs `frontChannelLogout`. */
  frontchannel?: FrontchannelOptions;
  /**
   * Accept OpenID Connect Front-Channel Logout from this provider at
   * `{basePath}/frontchannel-logout/NAME`. Default false: the route does not exist.
   * A front-channel logout by `iss` + `sid` carries no signature and no cookie: anyone who
   * knows a user's `sid` can sign that user out of this app. Enable it only when the
   * provider cannot send back-channel logout.
   */
  frontChannelLogout?: boolean;
}

export interface FrontchannelOptions {
  /**
   * Origins allowed to frame the front-channel logout page (CSP `frame-ancestors`). Default: the
   * issuer's origin. Set it when the provider's logout page lives elsewhere (a custom domain).
   */
  frameAncestors?: string[];
  /** Front-channel logouts by `sid` written per minute, per instance; past it, 503 and nothing written. Default 60. */
  maxLogoutsPerMinute?: number;
}

export interface BackchannelOptions {
  /** Accept only `typ: logout+jwt` (or `application/logout+jwt`). Default false: also absent and `JWT`. */
  requireLogoutJwtTyp?: boolean;
  /** Accept tokens without `exp` (pre-errata providers); they are then bounded by `iat` + `maxTokenAge`. Default false. */
  allowMissingExp?: boolean;
  /** Seconds a token without `exp` stays acceptable after its `iat`. Default 120. */
  maxTokenAge?: number;
  /** Valid logout tokens applied per minute, per instance; past it, 400 and nothing written. Default 1200. */
  maxLogoutsPerMinute?: number;
}

export interface CookieOptions {
  /** Cookie name stem. Default `oidc`. With an https baseUrl the session cookies get the `__Host-` prefix. */
  name?: string;
  /** `lax` (default) or `strict`. `none` is refused: the session must not ride on cross-site subrequests. */
  sameSite?: 'lax' | 'strict';
}

export interface SessionLifetimeOptions {
  /** Seconds from login after which the session ends whatever happens. Default 7 days. */
  absoluteDuration?: number;
  /** Seconds without a request after which the session ends. Default 1 day. `0` disables idle expiry. */
  idleDuration?: number;
  /**
   * `cookie` (default): the session is sealed into cookies; OP-initiated logout leaves tombstones in
   * the store. `server`: the cookie holds only an opaque id and the session lives in the store.
   */
  mode?: 'cookie' | 'server';
}

export interface Logger {
  debug?(message: string): void;
  info?(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface AuthOptions {
  /** Public base URL of the app, e.g. `https://app.example.com`. `http:` only for localhost. */
  baseUrl: string;
  /** At least 32 bytes. Several for rotation: the first seals, all unseal. */
  secret: string | string[];
  providers: Record<string, ProviderOptions>;
  /** Default `/auth`. */
  basePath?: string;
  cookies?: CookieOptions;
  session?: SessionLifetimeOptions;
  /** Which tokens `getSession()` exposes. Default none. `refresh` needs `allowRefreshTokenExposure`. */
  exposeTokens?: ExposableToken[];
  /** Second, explicit opt-in needed to list `refresh` in `exposeTokens`. */
  allowRefreshTokenExposure?: boolean;
  /** Default `{baseUrl}{basePath}/logout/callback`. `{baseUrl}` is replaced by the base URL. */
  postLogoutRedirectUri?: string;
  /** Where a user lands after login when no returnTo was given. Default `/`. */
  defaultReturnTo?: string;
  onLogin?: (session: Session) => void | Promise<void>;
  onLogout?: (session: Session, reason: LogoutReason) => void | Promise<void>;
  /** Every valid back- or front-channel logout, after it has been applied. */
  onProviderLogout?: (event: ProviderLogoutEvent) => void | Promise<void>;
  /**
   * Where tombstones, the replay cache and (server mode) sessions live. Default: an in-process
   * memory store, which only works for one instance: use Redis or PostgreSQL for several.
   */
  store?: Store;
  /** Default: warnings and errors to the console, nothing else. */
  logger?: Logger;
  /**
   * Keep the refresh token so `auth.refresh()` can renew the access token. With `automatic`,
   * a request whose access token expires within that many seconds refreshes it first.
   */
  refresh?: { automatic?: number };
  /**
   * Revoke the refresh token (or the access token when there is none) at the provider's
   * revocation endpoint at logout (RFC 7009). After RP-initiated logout it runs when the
   * provider sends the browser back, so the provider session ends — and notifies other
   * apps — before the token dies. Default false.
   */
  revokeOnLogout?: boolean;
  /** Seconds to wait for the revocation endpoint before giving up (the logout goes on). Default 2. */
  revocationTimeout?: number;
  /** Seconds of clock skew tolerated on token times. Default 60. */
  clockTolerance?: number;
  /** Timeout in seconds for calls to the provider. Default 10. */
  httpTimeout?: number;
}

/** What the app sees of a signed-in user. */
export interface Session {
  /** Claims of the ID token (protocol claims such as `nonce` removed), merged with userinfo when fetched. */
  user: UserClaims;
  /** Key of the provider in `providers`. */
  provider: string;
  /** Only the tokens `exposeTokens` allows. */
  tokens: ExposedTokens;
  /** Issuer, subject and the provider's session id (`sid`) when it sent one. */
  iss: string;
  sub: string;
  sid?: string;
  /** Epoch seconds: login time, absolute expiry, idle expiry (or absolute when idle is off). */
  createdAt: number;
  expiresAt: number;
}

export interface UserClaims {
  sub: string;
  [claim: string]: unknown;
}

export interface ExposedTokens {
  id?: string;
  access?: string;
  /** Epoch seconds when the access token expires, when the provider said. */
  accessExpiresAt?: number;
  refresh?: string;
}

/** Result of reading the session cookies of one request. */
export interface SessionResult {
  session: Session | null;
  /** `Set-Cookie` values the response must carry (idle-window roll, or removal of a dead cookie). Usually empty. */
  setCookies: string[];
}

export interface Auth {
  /** Frozen, validated configuration, without the session secrets and client secrets. */
  readonly config: PublicConfig;
  /** Answers the routes under `basePath`; `null` for any other path. */
  handle(request: Request): Promise<Response | null>;
  /** True when `pathname` is one of ours: adapters call `handle()` only then, so other requests build no `Request`. */
  isAuthPath(pathname: string): boolean;
  /**
   * Session of a request, or null. Read-only: it cannot send cookies, so it neither rolls the
   * idle window nor deletes a dead cookie, and calls no hook. In a request pipeline use an
   * adapter, or `readSession()` and send its `setCookies`.
   */
  getSession(request: Request): Promise<Session | null>;
  /** Reads the session from a raw `Cookie` header; the response must carry `setCookies`. Adapters use it. */
  readSession(cookieHeader: string | null | undefined): Promise<SessionResult>;
  /**
   * Refreshes the tokens of the request's session now (needs the `refresh` option): a Request
   * or its `Cookie` header. The response must carry `setCookies` (cookie mode re-seals). A refresh
   * that the provider refuses (`invalid_grant`) ends the session; a network failure keeps it.
   */
  refresh(request: Request | string | null | undefined): Promise<SessionResult>;
  /** CSRF token for the logout form of this request's session. */
  csrfToken(cookieHeader: string | null | undefined): Promise<string>;
  /**
   * Ends every session of one user from one provider, on every instance (an admin "sign out
   * everywhere", a disabled account). Returns how many stored sessions ended in server mode,
   * null in cookie mode (their cookies end when next seen).
   */
  endUserSessions(user: { provider: string; sub: string }): Promise<number | null>;
  /** `{basePath}/login?returnTo=…` for a guard's redirect; returnTo is checked and dropped when unsafe. */
  loginUrl(returnTo?: string, provider?: string): string;
}

export interface ResolvedProvider {
  readonly name: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly tokenEndpointAuthMethod: ClientAuthMethod;
  readonly scopes: readonly string[];
  readonly idTokenSignedResponseAlg: string;
  readonly fetchUserInfo: boolean;
  readonly authorizationParams: Readonly<Record<string, string>>;
  readonly federatedLogout: boolean;
  readonly logoutHint: string | undefined;
  readonly uiLocales: string | undefined;
  readonly preset: ProviderPreset | undefined;
  readonly endSessionEndpoint: string | undefined;
  /** Applied to every end-session request: the preset's, then the app's own. */
  readonly logoutParams: readonly LogoutParams[];
  /** Applied only when `endSessionEndpoint` stands in for a missing discovery value. */
  readonly fallbackLogoutParams: LogoutParams;
  readonly endSessionTransport: 'get' | 'post' | 'auto';
  readonly displayName: string;
  readonly backchannel: Readonly<Required<BackchannelOptions>>;
  readonly frameAncestors: readonly string[];
  readonly frontChannelLogout: boolean;
  readonly frontchannelBudget: number;
}

/** What `auth.config` shows: the resolved configuration minus every secret (safe to log). */
export type PublicConfig = Omit<ResolvedConfig, 'secrets' | 'providers'> & {
  readonly providers: Readonly<Record<string, Omit<ResolvedProvider, 'clientSecret'>>>;
};

/** The validated configuration the core works with (internal: it holds the secrets). */
export interface ResolvedConfig {
  readonly baseUrl: string;
  readonly origin: string;
  readonly secure: boolean;
  readonly secrets: readonly string[];
  readonly basePath: string;
  readonly providers: Readonly<Record<string, ResolvedProvider>>;
  readonly defaultProvider: string;
  readonly cookieName: string;
  readonly sameSite: 'Lax' | 'Strict';
  readonly absoluteDuration: number;
  readonly idleDuration: number;
  readonly exposeTokens: readonly ExposableToken[];
  readonly storeRefreshToken: boolean;
  /** Seconds before access-token expiry at which a request refreshes it; null: never by itself. */
  readonly autoRefresh: number | null;
  readonly refreshEnabled: boolean;
  readonly revokeOnLogout: boolean;
  readonly revocationTimeout: number;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  readonly defaultReturnTo: string;
  readonly onLogin: AuthOptions['onLogin'];
  readonly onLogout: AuthOptions['onLogout'];
  readonly onProviderLogout: AuthOptions['onProviderLogout'];
  readonly mode: 'cookie' | 'server';
  readonly store: Store;
  readonly logger: Logger;
  readonly clockTolerance: number;
  readonly httpTimeout: number;
}
