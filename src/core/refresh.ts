import * as oidc from 'openid-client';
import type { Context } from './context.js';
import { describe } from './describe.js';
import { base64url, nowSeconds, utf8 } from './encoding.js';
import { checkAuthorizedParty, checkIssuedAt } from './id-token.js';
import { endLocalSession } from './logout/local.js';
import { describeProviderError } from './provider-errors.js';
import { type SessionRecord, type TokenRecord, userClaims, userOf, withUser } from './session/record.js';
import type { ResolvedProvider } from './types.js';

/**
 * How long a refresh result is reused for requests that still carry the pre-refresh cookie
 * (cookie mode, same instance): the provider may have rotated the refresh token they hold.
 */
const RECENT_REFRESH_MS = 60_000;
/** How long a spent refresh token stays locked on every instance, so none spends it again. */
const SPENT_TOKEN_LOCK_SECONDS = 300;

export type RefreshOutcome =
  | { kind: 'refreshed'; record: SessionRecord; tokens: TokenRecord; setCookies: string[] }
  | { kind: 'ended'; setCookies: string[] }
  | { kind: 'unchanged' };

/**
 * Uses the refresh token to get new tokens (OIDC Core §12), re-validates a new ID token
 * (same `iss` and `sub`; openid-client checks its signature, alg, `aud` and times), and
 * writes the session again with `sid` and the login time kept. At most one refresh per
 * session is in flight on an instance: concurrent requests share it. `invalid_grant` ends
 * the session (reason `refresh-failed`); a network failure leaves it as it was.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#RefreshTokens
 */
export class Refresher {
  readonly #inFlight = new Map<string, Promise<Exclude<RefreshOutcome, { kind: 'unchanged' }> | null>>();
  readonly #recent = new Map<string, { at: number; outcome: Exclude<RefreshOutcome, { kind: 'unchanged' }> }>();

  /** `force`: an explicit `auth.refresh()`, which always asks the provider (sharing one in flight). */
  async refresh(
    ctx: Context,
    cookies: Map<string, string>,
    record: SessionRecord,
    tokens: TokenRecord | null,
    force = false,
  ): Promise<RefreshOutcome> {
    const recent = force ? undefined : this.#recent.get(record.id);
    if (recent && Date.now() - recent.at < RECENT_REFRESH_MS) return this.#rewrite(ctx, cookies, recent.outcome);
    const running = this.#inFlight.get(record.id);
    if (running) return (await running) ?? { kind: 'unchanged' };
    const provider = ctx.providers.get(record.provider);
    if (!provider || !tokens?.refreshToken) return { kind: 'unchanged' };
    const promise = this.#run(ctx, provider, cookies, record, tokens).finally(() => this.#inFlight.delete(record.id));
    this.#inFlight.set(record.id, promise);
    const outcome = await promise;
    if (outcome) this.#remember(record.id, outcome);
    return outcome ?? { kind: 'unchanged' };
  }

  async #run(
    ctx: Context,
    provider: ResolvedProvider,
    cookies: Map<string, string>,
    record: SessionRecord,
    tokens: TokenRecord,
  ): Promise<Exclude<RefreshOutcome, { kind: 'unchanged' }> | null> {
    const discovered = await ctx.discoverOrNull(provider, 'refresh');
    if (!discovered) return null;
    // One instance spends a given refresh token: another one holding the same (cookie mode)
    // keeps its current tokens rather than race it into invalid_grant — or into a provider's
    // reuse detection revoking the whole token family.
    const lock = `${record.id}:${await fingerprint(tokens.refreshToken!)}`;
    const locked = await ctx.registry.lockRefresh(lock, SPENT_TOKEN_LOCK_SECONDS).catch((error: unknown) => {
      ctx.storeFailed(error);
      return false;
    });
    if (!locked) return null;
    let response: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
    try {
      response = await oidc.refreshTokenGrant(discovered, tokens.refreshToken!);
    } catch (error) {
      if (isInvalidGrant(error)) return endSession(ctx, cookies, record, tokens, 'the provider refused the refresh token (invalid_grant)');
      const why = describeProviderError(error, { provider, endpoint: 'token', metadata: discovered.serverMetadata() });
      ctx.logger.warn(`refresh failed (provider=${provider.name}), session kept: ${why}`);
      await ctx.registry.unlockRefresh(lock).catch(() => undefined);
      return null;
    }
    const claims = response.claims();
    // Core §12.2: same iss and sub; openid-client checked aud, signature and exp; iat and azp as at login.
    if (claims) {
      if (claims.sub !== record.subject || claims.iss !== record.issuer) {
        return endSession(ctx, cookies, record, tokens, 'the refreshed ID token names another user or issuer');
      }
      try {
        checkIssuedAt(ctx, claims);
        checkAuthorizedParty(claims, provider);
      } catch (error) {
        return endSession(ctx, cookies, record, tokens, describe(error));
      }
    }
    const next = refreshedRecords(record, tokens, response, claims, ctx.config.storeRefreshToken);
    const setCookies = await ctx.sessions.update(next.record, next.tokens, cookies);
    return { kind: 'refreshed', ...next, setCookies };
  }

  /** A request with the old cookie gets the refreshed cookies too (cookie mode); server mode has nothing to send. */
  async #rewrite(
    ctx: Context,
    cookies: Map<string, string>,
    outcome: Exclude<RefreshOutcome, { kind: 'unchanged' }>,
  ): Promise<RefreshOutcome> {
    if (outcome.kind === 'ended') return { kind: 'ended', setCookies: ctx.sessions.deleteCookies(cookies) };
    return {
      ...outcome,
      setCookies: await ctx.sessions.resend(outcome.record, outcome.tokens, cookies),
    };
  }

  #remember(id: string, outcome: Exclude<RefreshOutcome, { kind: 'unchanged' }>): void {
    const now = Date.now();
    for (const [key, entry] of this.#recent) if (now - entry.at >= RECENT_REFRESH_MS) this.#recent.delete(key);
    this.#recent.set(id, { at: now, outcome });
  }
}

function refreshedRecords(
  record: SessionRecord,
  tokens: TokenRecord,
  response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  claims: oidc.IDToken | undefined,
  keepRefreshToken: boolean,
): { record: SessionRecord; tokens: TokenRecord } {
  const now = nowSeconds();
  const expiresIn = response.expiresIn();
  const refreshToken = response.refresh_token ?? tokens.refreshToken;
  // sid and the login time stay: this is the same session, not a new login.
  // Claims from the new ID token win; userinfo claims fetched at login are kept.
  const before = userOf(record);
  const user = claims ? { ...before, ...userClaims(claims), ...(record.sid ? { sid: record.sid } : {}) } : before;
  return {
    record: withUser(record, user, response.id_token ?? record.idToken, now),
    tokens: Object.freeze({
      sessionId: record.id,
      accessToken: response.access_token,
      ...(expiresIn !== undefined ? { accessTokenExpiresAt: now + expiresIn } : {}),
      ...(keepRefreshToken && refreshToken ? { refreshToken } : {}),
    }),
  };
}

async function endSession(
  ctx: Context,
  cookies: Map<string, string>,
  record: SessionRecord,
  tokens: TokenRecord,
  why: string,
): Promise<{ kind: 'ended'; setCookies: string[] }> {
  ctx.logger.warn(`refresh ended the session (provider=${record.provider}): ${why}`);
  return { kind: 'ended', setCookies: await endLocalSession(ctx, cookies, record, tokens, 'refresh-failed') };
}

/** A refresh token's SHA-256, base64url: a lock key that does not hold the token itself. */
async function fingerprint(token: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(token))));
}

function isInvalidGrant(error: unknown): boolean {
  return error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant';
}
