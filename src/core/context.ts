import type * as oidc from 'openid-client';
import { WriteBudget } from './budget.js';
import { describe } from './describe.js';
import { Providers } from './providers.js';
import { SessionRegistry } from './registry.js';
import { CookieSessions } from './session/cookie-session.js';
import { type CookieAttributes, parseCookies, serializeCookie } from './session/cookies.js';
import { expiresAt, type ReadResult, type SessionBackend, toSession } from './session/model.js';
import type { SessionRecord, TokenRecord } from './session/record.js';
import type { Sealer } from './session/seal.js';
import { ServerSessions } from './session/server-session.js';
import type { Logger, LogoutReason, ProviderLogoutEvent, ResolvedConfig, ResolvedProvider, Session } from './types.js';

/** At most one "store is down" error line per this many milliseconds. */
const STORE_ERROR_LOG_INTERVAL_MS = 10_000;

/** Short-lived cookies scoped to one route: the login transaction and the logout state. */
export type TransientScope = 'callback' | 'logout';

/**
 * Everything a flow needs, built once per `createAuth()`: the configuration, the session backend
 * of the configured mode, the registry, the providers, hooks and logging. It knows no flow:
 * routes and flows depend on it, never the other way round.
 */
export class Context {
  readonly config: ResolvedConfig;
  readonly sealer: Sealer;
  readonly sessions: SessionBackend;
  readonly registry: SessionRegistry;
  readonly providers: Providers;
  readonly logger: Logger;
  /** `__Secure-` on https: a prefix that, unlike `__Host-`, allows a narrower Path. */
  readonly transientPrefix: string;
  /** Every cookie of ours starts with one of these; the others in a request are not even parsed. */
  readonly #cookiePrefixes: readonly string[];
  #storeErrorLoggedAt = 0;

  constructor(config: ResolvedConfig, sealer: Sealer) {
    this.config = config;
    this.sealer = sealer;
    this.registry = new SessionRegistry(config);
    this.sessions =
      config.mode === 'server' ? new ServerSessions(config, this.registry) : new CookieSessions(config, sealer, this.registry);
    this.providers = new Providers(config);
    this.logger = config.logger;
    this.transientPrefix = config.secure ? '__Secure-' : '';
    const stem = `${config.cookieName}.`;
    this.#cookiePrefixes = config.secure ? [`__Host-${stem}`, `__Secure-${stem}`, stem] : [stem];
  }

  /**
   * The session of a request, every check applied: the backend's (sealed or stored record,
   * expiry, revocation, tombstones) and a provider still configured. A session that just ended
   * is reported to `onLogout` once. A store that fails makes the request signed out — fail
   * closed — without deleting the cookie, so the session comes back when the store does.
   */
  async readSession(cookies: Map<string, string>, { hooks = true } = {}): Promise<ReadResult> {
    try {
      const read = await this.sessions.read(cookies);
      const ended = read.ended;
      if (ended?.reason && hooks && (await this.#firstReport(ended.record))) {
        await this.hook('onLogout', toSession(this.config, ended.record, null), ended.reason);
      }
      if (read.record && !this.#fromConfiguredProvider(read.record)) {
        return { record: null, ended: null, setCookies: this.sessions.deleteCookies(cookies) };
      }
      return read;
    } catch (error) {
      this.storeFailed(error);
      return { record: null, ended: null, setCookies: [], unavailable: true };
    }
  }

  /**
   * A dead but authentic cookie may be sent again and again (another tab, a script, an
   * attacker's replay): its end is reported once. The record lives until the session could
   * have ended on its own plus one lifetime; a cookie older than that reports nothing.
   */
  async #firstReport(record: SessionRecord): Promise<boolean> {
    const until = expiresAt(this.config, record) + this.config.absoluteDuration;
    const now = Date.now() / 1000;
    return now < until && this.registry.claimEndReport(record.id, until - now);
  }

  /** Logs a store failure, at most once per interval (a down store must not flood the log). */
  storeFailed(error: unknown): void {
    const now = Date.now();
    if (now - this.#storeErrorLoggedAt < STORE_ERROR_LOG_INTERVAL_MS) return;
    this.#storeErrorLoggedAt = now;
    this.logger.error(`session store failed, treating requests as signed out until it answers: ${describe(error)}`);
  }

  toSession(record: SessionRecord, tokens: TokenRecord | null): Session {
    return toSession(this.config, record, tokens);
  }

  readonly #budgets = new Map<string, WriteBudget>();

  /** This instance's per-minute write budget for one provider's logouts over one channel. */
  budget(provider: ResolvedProvider, channel: 'back-channel' | 'front-channel'): WriteBudget {
    const key = `${channel} ${provider.name}`;
    let budget = this.#budgets.get(key);
    if (!budget) {
      budget = new WriteBudget(channel === 'back-channel' ? provider.backchannel.maxLogoutsPerMinute : provider.frontchannelBudget);
      this.#budgets.set(key, budget);
    }
    return budget;
  }

  #fromConfiguredProvider(record: SessionRecord): boolean {
    return Object.hasOwn(this.config.providers, record.provider) && this.config.providers[record.provider]!.issuer === record.issuer;
  }

  cookiesOf(request: Request): Map<string, string> {
    return this.cookiesFrom(request.headers.get('cookie'));
  }

  /** Our cookies in a `Cookie` header; an app's other cookies are skipped unparsed. */
  cookiesFrom(header: string | null | undefined): Map<string, string> {
    return parseCookies(header, this.#cookiePrefixes);
  }

  transientAttributes(scope: TransientScope, maxAge = 0): CookieAttributes {
    // Login attempts are visible to /login too, which prunes them (login.ts).
    const path = scope === 'callback' ? this.config.basePath : `${this.config.basePath}/logout/callback`;
    // Lax, not Strict: the provider sends the browser back with a cross-site top-level GET.
    return { path, secure: this.config.secure, sameSite: 'Lax', maxAge };
  }

  serializeTransient(name: string, value: string, scope: TransientScope, maxAge: number): string {
    return serializeCookie(name, value, this.transientAttributes(scope, maxAge));
  }

  /** Discovery, or null (logged) when the provider cannot be reached. */
  async discoverOrNull(provider: ResolvedProvider, during: 'login' | 'logout' | 'refresh'): Promise<oidc.Configuration | null> {
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
  async hook(name: 'onProviderLogout', event: ProviderLogoutEvent): Promise<void>;
  async hook(name: 'onLogin' | 'onLogout' | 'onProviderLogout', arg: Session | ProviderLogoutEvent, reason?: LogoutReason): Promise<void> {
    try {
      if (name === 'onLogin') await this.config.onLogin?.(arg as Session);
      else if (name === 'onLogout') await this.config.onLogout?.(arg as Session, reason!);
      else await this.config.onProviderLogout?.(arg as ProviderLogoutEvent);
    } catch (error) {
      this.logger.error(`${name} hook threw: ${describe(error)}`);
    }
  }
}
