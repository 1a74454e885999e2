import type * as oidc from 'openid-client';
import { describe, Providers } from './providers.js';
import { CookieSessions } from './session/cookie-session.js';
import { type CookieAttributes, parseCookies, serializeCookie } from './session/cookies.js';
import type { Sealer } from './session/seal.js';
import type { Logger, LogoutReason, ResolvedConfig, ResolvedProvider, Session } from './types.js';

/** Short-lived cookies scoped to one route: the login transaction and the logout state. */
export type TransientScope = 'callback' | 'logout';

/** Everything a route needs, built once per `createAuth()`. */
export class Context {
  readonly config: ResolvedConfig;
  readonly sealer: Sealer;
  readonly sessions: CookieSessions;
  readonly providers: Providers;
  readonly logger: Logger;
  /** `__Secure-` on https: a prefix that, unlike `__Host-`, allows a narrower Path. */
  readonly transientPrefix: string;

  constructor(config: ResolvedConfig, sealer: Sealer) {
    this.config = config;
    this.sealer = sealer;
    this.sessions = new CookieSessions(config, sealer);
    this.providers = new Providers(config);
    this.logger = config.logger;
    this.transientPrefix = config.secure ? '__Secure-' : '';
  }

  cookiesOf(request: Request): Map<string, string> {
    return parseCookies(request.headers.get('cookie'));
  }

  transientAttributes(scope: TransientScope, maxAge = 0): CookieAttributes {
    const path = scope === 'callback' ? `${this.config.basePath}/callback` : `${this.config.basePath}/logout/callback`;
    // Lax, not Strict: the provider sends the browser back with a cross-site top-level GET.
    return { path, secure: this.config.secure, sameSite: 'Lax', maxAge };
  }

  serializeTransient(name: string, value: string, scope: TransientScope, maxAge: number): string {
    return serializeCookie(name, value, this.transientAttributes(scope, maxAge));
  }

  /** Discovery, or null (logged) when the provider cannot be reached. */
  async discoverOrNull(provider: ResolvedProvider, during: 'login' | 'logout'): Promise<oidc.Configuration | null> {
    try {
      return await this.providers.discover(provider);
    } catch (error) {
      this.logger.error(`${during}: ${describe(error)}`);
      return null;
    }
  }

  /** Runs a user hook; a hook that throws is logged and never breaks the login or logout. */
  async hook(name: 'onLogin', session: Session): Promise<void>;
  async hook(name: 'onLogout', session: Session, reason: LogoutReason): Promise<void>;
  async hook(name: 'onLogin' | 'onLogout', session: Session, reason?: LogoutReason): Promise<void> {
    try {
      if (name === 'onLogin') await this.config.onLogin?.(session);
      else await this.config.onLogout?.(session, reason!);
    } catch (error) {
      this.logger.error(`${name} hook threw: ${describe(error)}`);
    }
  }
}
