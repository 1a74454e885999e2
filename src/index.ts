export { configFromEnv, createAuth } from './config.js';
export { buildEndSessionUrl, type EndSessionParams } from './core/logout/end-session.js';
export { safeReturnTo } from './core/return-to.js';
export type { Store } from './core/store.js';
export type {
  Auth,
  AuthOptions,
  BackchannelOptions,
  ClientAuthMethod,
  CookieOptions,
  ExposableToken,
  ExposedTokens,
  Logger,
  LogoutReason,
  ProviderLogoutEvent,
  ProviderOptions,
  PublicConfig,
  ResolvedConfig,
  ResolvedProvider,
  Session,
  SessionLifetimeOptions,
  SessionResult,
  UserClaims,
} from './core/types.js';
export { ConfigError, OidcSessionError, type OidcSessionErrorCode } from './errors.js';
