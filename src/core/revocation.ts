import * as oidc from 'openid-client';
import type { Context } from './context.js';
import { describeProviderError } from './provider-errors.js';
import type { ResolvedProvider } from './types.js';

/** The one token revocation needs: the refresh token, else the access token. */
export interface RevocableTokens {
  refreshToken?: string | undefined;
  accessToken?: string | undefined;
}

/**
 * RFC 7009 §2.1: revokes the refresh token (hint `refresh_token`), or the access token when
 * there is none, with the token endpoint's client authentication. Skipped when the provider has
 * no revocation endpoint. Never throws and never waits longer than `revocationTimeout`: a
 * revocation that fails or hangs is logged and the logout goes on.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.1
 */
export async function revokeTokens(ctx: Context, provider: ResolvedProvider, tokens: RevocableTokens): Promise<void> {
  const token = tokens.refreshToken ?? tokens.accessToken;
  if (!token) return;
  const hint = tokens.refreshToken ? 'refresh_token' : 'access_token';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ctx.config.revocationTimeout * 1000);
  });
  const work = (async () => {
    const discovered = await ctx.providers.discover(provider);
    if (!discovered.serverMetadata().revocation_endpoint) return 'skipped' as const;
    await oidc.tokenRevocation(discovered, token, { token_type_hint: hint });
    return 'revoked' as const;
  })();
  try {
    const result = await Promise.race([work, timeout]);
    if (result === 'timeout')
      ctx.logger.warn(`revocation at ${provider.name} timed out after ${ctx.config.revocationTimeout} s; logout went on`);
    else if (result === 'revoked') ctx.logger.info?.(`revoked the ${hint} at ${provider.name}`);
  } catch (error) {
    const why = describeProviderError(error, { provider, endpoint: 'revocation' });
    ctx.logger.warn(`revocation at ${provider.name} failed; logout went on: ${why}`);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
  }
}
