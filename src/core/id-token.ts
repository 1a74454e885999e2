import type * as oidc from 'openid-client';
import type { Context } from './context.js';
import { nowSeconds } from './encoding.js';
import type { ResolvedProvider } from './types.js';

// What openid-client leaves to the client in ID token validation, at login and at refresh.

/**
 * Core §3.1.3.7 step 10 leaves the acceptable `iat` range to the client; openid-client only
 * checks its type. A token issued in the future (beyond the clock tolerance) is refused.
 */
export function checkIssuedAt(ctx: Context, claims: oidc.IDToken): void {
  if (claims.iat > nowSeconds() + ctx.config.clockTolerance) {
    throw new Error(`the ID token's iat is in the future (more than clockTolerance = ${ctx.config.clockTolerance} s ahead)`);
  }
}

/** Core §3.1.3.7 steps 4–5: with several audiences `azp` must be present, and when present it must be us. */
export function checkAuthorizedParty(claims: oidc.IDToken, provider: ResolvedProvider): void {
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (audiences.length > 1 && claims.azp === undefined) throw new Error('ID token has several audiences and no azp');
  if (claims.azp !== undefined && claims.azp !== provider.clientId) throw new Error('ID token azp is not our client_id');
}
