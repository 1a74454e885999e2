import type { Context } from '../context.js';
import { htmlPage, paragraph } from '../html.js';
import type { ResolvedProvider } from '../types.js';
import { endProviderSessions } from './provider-sessions.js';

/**
 * `GET {basePath}/frontchannel-logout/NAME?iss=…&sid=…`: OpenID Connect Front-Channel
 * Logout 1.0. The provider loads it in an iframe, where a SameSite=Lax session cookie is not
 * sent, so the session is ended server-side by `(iss, sid)`; the cookies it can see are
 * deleted too. Requests with a wrong `iss`, or with only one of `iss`/`sid`, end nothing.
 * Without parameters, the session of the cookie sent (if any) ends.
 *
 * @see ../../../../shared/specs/frontchannel.txt §2 and §3
 */
export async function frontchannelLogout(ctx: Context, request: Request, url: URL, provider: ResolvedProvider): Promise<Response> {
  const iss = url.searchParams.get('iss');
  const sid = url.searchParams.get('sid');
  const cookies = ctx.cookiesOf(request);
  const { record } = await ctx.readSession(cookies);
  const setCookies: string[] = [];

  if (iss !== null && sid !== null) {
    if (iss !== provider.issuer) {
      ctx.logger.warn(`front-channel logout ignored (provider=${provider.name}): iss does not match`); // spec §2: iss must match
    } else {
      await endOrReport(ctx, provider, sid);
      if (record && record.iss === iss && record.sid === sid) setCookies.push(...(await ctx.sessions.clear(cookies, record)));
    }
  } else if (iss !== null || sid !== null) {
    ctx.logger.warn(`front-channel logout ignored (provider=${provider.name}): iss and sid must come together`); // spec §2
  } else if (record && record.p === provider.name) {
    setCookies.push(...(await ctx.sessions.clear(cookies, record)));
    await ctx.hook('onLogout', ctx.toSession(record, null), 'front-channel');
  }
  return htmlPage({
    status: 200,
    title: 'Signed out',
    body: paragraph('This application has ended your session.'),
    headers: {
      // The provider's page frames this one: allow exactly its origin (spec §3).
      'Content-Security-Policy': `default-src 'none'; style-src 'unsafe-inline'; frame-ancestors ${new URL(provider.issuer).origin}`,
    },
    setCookies,
  });
}

async function endOrReport(ctx: Context, provider: ResolvedProvider, sid: string): Promise<void> {
  try {
    await endProviderSessions(ctx, provider, { iss: provider.issuer, aud: provider.clientId, sid }, Date.now() / 1000, 'front-channel');
  } catch (error) {
    ctx.storeFailed(error);
  }
}
