import { identifierTooLong, MAX_IDENTIFIER_BYTES } from '../budget.js';
import type { Context } from '../context.js';
import { htmlPage, paragraph } from '../html.js';
import type { SessionRecord } from '../session/record.js';
import type { ResolvedProvider } from '../types.js';
import { endLocalSession } from './local.js';
import { endProviderSessions } from './provider-sessions.js';

/**
 * `GET {basePath}/frontchannel-logout/NAME?iss=…&sid=…`: OpenID Connect Front-Channel
 * Logout 1.0, for providers with `frontChannelLogout: true`. The provider loads it in an iframe,
 * where a SameSite=Lax session cookie is not sent, so the session is ended server-side by
 * `(iss, aud, sid)`; the cookies it can see are deleted too. Requests with a wrong `iss`, or with
 * only one of `iss`/`sid`, end nothing. Without parameters, the session of the cookie sent (if
 * any) ends — only inside a frame. Nothing here is signed: a `sid` longer than 255 bytes is
 * refused, and the writes a provider's front channel may cause are budgeted per minute.
 *
 * @see https://openid.net/specs/openid-connect-frontchannel-1_0.html#RPLogout §2 and §3
 */
export async function frontchannelLogout(ctx: Context, request: Request, url: URL, provider: ResolvedProvider): Promise<Response> {
  const iss = url.searchParams.get('iss');
  const sid = url.searchParams.get('sid');
  const cookies = ctx.cookiesOf(request);
  const { record } = await ctx.readSession(cookies);
  const ownSession = record?.provider === provider.name ? record : null;
  const setCookies: string[] = [];

  if (iss !== null && sid !== null) {
    if (iss !== provider.issuer) {
      ctx.logger.warn(`front-channel logout ignored (provider=${provider.name}): iss does not match`); // spec §2: iss must match
    } else if (identifierTooLong(sid)) {
      ctx.logger.warn(`front-channel logout refused (provider=${provider.name}): sid longer than ${MAX_IDENTIFIER_BYTES} bytes`);
      return page(provider, 400, 'Sign-out refused', 'This sign-out request was not valid.', []);
    } else if (!withinBudget(ctx, provider)) {
      return notSignedOut(provider);
    } else {
      if (!(await endBySid(ctx, provider, sid))) return notSignedOut(provider);
      if (ownSession?.sid === sid) setCookies.push(...(await endOwn(ctx, cookies, ownSession)));
    }
  } else if (iss !== null || sid !== null) {
    ctx.logger.warn(`front-channel logout ignored (provider=${provider.name}): iss and sid must come together`); // spec §2
  } else if (ownSession && isFrameRequest(request)) {
    setCookies.push(...(await endOwn(ctx, cookies, ownSession)));
  }
  return page(provider, 200, 'Signed out', 'This application has ended your session.', setCookies);
}

/**
 * Without `iss`/`sid` the only proof of intent is being framed: a top-level navigation from any
 * site carries the Lax cookie and must not sign the user out. Browsers that send no
 * `Sec-Fetch-Dest` (old ones) are let through, as the spec's parameterless form requires.
 */
function isFrameRequest(request: Request): boolean {
  const dest = request.headers.get('sec-fetch-dest');
  return dest === null || dest === 'iframe' || dest === 'frame';
}

/** A stranger may send front-channel logouts at will: each may write a tombstone, so they are budgeted. */
function withinBudget(ctx: Context, provider: ResolvedProvider): boolean {
  const budget = ctx.budget(provider, 'front-channel');
  if (budget.take()) return true;
  if (budget.firstRefusal) {
    ctx.logger.warn(
      `front-channel logout budget spent (provider=${provider.name}): more than ${budget.perMinute} this minute; refusing the rest until the next minute (raise frontchannel.maxLogoutsPerMinute if the provider really sends that many)`,
    );
  }
  return false;
}

async function endBySid(ctx: Context, provider: ResolvedProvider, sid: string): Promise<boolean> {
  try {
    await endProviderSessions(ctx, provider, { iss: provider.issuer, aud: provider.clientId, sid }, Date.now() / 1000, 'front-channel');
    return true;
  } catch (error) {
    ctx.storeFailed(error);
    return false;
  }
}

function endOwn(ctx: Context, cookies: Map<string, string>, record: SessionRecord): Promise<string[]> {
  return endLocalSession(ctx, cookies, record, null, 'front-channel');
}

function notSignedOut(provider: ResolvedProvider): Response {
  return page(provider, 503, 'Sign-out failed', 'This application could not end your session just now.', []);
}

function page(provider: ResolvedProvider, status: number, title: string, text: string, setCookies: string[]): Response {
  return htmlPage({
    status,
    title,
    body: paragraph(text),
    headers: {
      // The provider's page frames this one: allow exactly its origin(s) (spec §3).
      'Content-Security-Policy': `default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors ${provider.frameAncestors.join(' ') || "'none'"}`,
    },
    setCookies,
  });
}
