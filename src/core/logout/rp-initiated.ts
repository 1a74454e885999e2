import { readForm } from '../body.js';
import type { Context } from '../context.js';
import { checkCsrfToken, csrfTokenFor, isSameOriginRequest } from '../csrf.js';
import { nowSeconds, randomId, timingSafeEqual } from '../encoding.js';
import { escapeHtml, htmlPage, link, paragraph, redirect } from '../html.js';
import { safeReturnTo } from '../return-to.js';
import { revokeTokens } from '../revocation.js';
import { type SessionRecord, type TokenRecord, userOf } from '../session/record.js';
import type { ResolvedProvider } from '../types.js';
import { endSessionUrlWith, standardEndSessionParams } from './end-session.js';
import { endLocalSession } from './local.js';
import { applyLogoutParams } from './presets.js';
import { endSessions } from './provider-sessions.js';

/** Longer end-session URLs go by POST with `endSessionTransport: 'auto'`. */
const MAX_GET_URL = 2000;

/** How long the user may spend on the provider's logout pages before the state expires. */
const LOGOUT_STATE_SECONDS = 600;

interface LogoutState {
  v: 1;
  state: string;
  returnTo: string;
  /** Tokens to revoke once the provider sends the browser back (revokeOnLogout). */
  revoke?: { provider: string; refreshToken?: string; accessToken?: string };
  exp: number;
}

/** `GET {basePath}/logout`: a confirmation page with a POST form. No side effect. */
export async function logoutConfirmation(ctx: Context, request: Request, url: URL): Promise<Response> {
  const cookies = ctx.cookiesOf(request);
  const { record } = await ctx.readSession(cookies);
  const csrfToken = await csrfTokenFor(ctx, cookies, record !== null);
  const returnTo = safeReturnTo(url.searchParams.get('returnTo'), ctx.config.origin) ?? '';
  const provider = record ? ctx.providers.get(record.provider) : undefined;
  const field = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
  const form = (federated: boolean, label: string, primary: boolean) =>
    `<form method="post" action="${escapeHtml(`${ctx.config.basePath}/logout`)}" style="display:inline">` +
    field('csrfToken', csrfToken) +
    (returnTo ? field('returnTo', returnTo) : '') +
    (federated ? '' : field('federated', 'false')) +
    `<button type="submit"${primary ? ' class="primary"' : ''}>${escapeHtml(label)}</button></form>`;
  const body = record
    ? paragraph(`You are signed in${provider ? ` with ${provider.displayName}` : ''}.`) +
      `<p>${form(true, 'Sign out', true)}${form(false, 'Sign out of this app only', false)}</p>`
    : paragraph('You are not signed in.') + link('/', 'Continue');
  return htmlPage({ status: 200, title: 'Sign out?', body });
}

/**
 * `POST {basePath}/logout`: checks origin and CSRF token, ends the local session, then
 * sends the browser to the provider's `end_session_endpoint` (RP-initiated logout) or,
 * for local logout, straight to the post-logout redirect.
 *
 * @see https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RPLogout RP-Initiated Logout 1.0 §2
 */
export async function logout(ctx: Context, request: Request): Promise<Response> {
  if (!isSameOriginRequest(ctx, request)) {
    ctx.logger.warn('logout refused: cross-origin request (Origin / Sec-Fetch-Site)');
    return forbidden('This sign-out request did not come from this site.');
  }
  const form = await readForm(request);
  if (form === 'too-large') {
    ctx.logger.warn('logout refused: form body over 16 KiB');
    return htmlPage({ status: 413, title: 'Sign-out refused', body: paragraph('The sign-out request was too large.') });
  }
  const cookies = ctx.cookiesOf(request);
  const { record, unavailable } = await ctx.readSession(cookies);
  const token = form?.get('csrfToken') ?? request.headers.get('x-csrf-token');
  // With the store down the session reads as signed out, but the cookie it was bound to is
  // still here: a token for that cookie proves the intent, and the cookies go whatever the store does.
  if (unavailable && (await checkCsrfToken(ctx, cookies, true, token))) return logoutWithoutStore(ctx, cookies);
  if (!(await checkCsrfToken(ctx, cookies, record !== null, token))) {
    ctx.logger.warn(`logout refused: ${token ? 'wrong' : 'missing'} CSRF token`);
    return forbidden('This sign-out form has expired. Go back, reload the page and try again.');
  }
  const tokens = record ? await ctx.sessions.readTokens(cookies, record) : null;
  const provider = record ? ctx.providers.get(record.provider) : undefined;
  const federated = provider?.federatedLogout === true && form?.get('federated') !== 'false';
  const setCookies = await endLocalSession(ctx, cookies, record, tokens, federated ? 'rp-initiated' : 'local');
  if (record && form?.get('scope') === 'all' && !(await signOutEverywhere(ctx, record))) return everywhereFailed(setCookies);
  const returnTo = safeReturnTo(form?.get('returnTo'), ctx.config.origin) ?? ctx.config.defaultReturnTo;
  const revoke = ctx.config.revokeOnLogout && provider && tokens ? tokenToRevoke(provider.name, tokens) : undefined;
  const state = await rememberReturn(ctx, returnTo, setCookies, federated ? revoke : undefined);
  // Local logout: revoke now, bounded by the timeout. Federated logout never revokes before the
  // redirect (the Keycloak pitfall): the token travels to our callback, or is not revoked at all.
  if (revoke && provider && !federated) await revokeTokens(ctx, provider, revoke);
  if (!federated || !provider) return afterLocalLogout(ctx, state, setCookies);
  return toEndSession(ctx, provider, record!, record!.idToken, state, setCookies);
}

/**
 * Logout while the store does not answer: every session cookie of this browser is deleted, so
 * the session cannot come back for it when the store does. The provider is not visited (in
 * server mode we cannot even tell which one it was); the log says so.
 */
async function logoutWithoutStore(ctx: Context, cookies: Map<string, string>): Promise<Response> {
  ctx.logger.warn(
    'logout during a store outage: the session cookies were deleted; the provider session and the stored session were left as they are',
  );
  const setCookies = ctx.sessions.deleteCookies(cookies);
  const state = await rememberReturn(ctx, ctx.config.defaultReturnTo, setCookies, undefined);
  return afterLocalLogout(ctx, state, setCookies);
}

/** Only the one token that will be revoked travels (refresh, else access): the state cookie stays small. */
function tokenToRevoke(provider: string, tokens: TokenRecord): LogoutState['revoke'] {
  if (tokens.refreshToken) return { provider, refreshToken: tokens.refreshToken };
  return tokens.accessToken ? { provider, accessToken: tokens.accessToken } : undefined;
}

/** `scope=all`: every session of this user from this issuer ends too, on every device and instance. False when the store failed. */
async function signOutEverywhere(ctx: Context, record: SessionRecord): Promise<boolean> {
  try {
    const ended = await endSessions(
      ctx,
      { iss: record.issuer, aud: ctx.providers.get(record.provider)?.clientId ?? '', sub: record.subject },
      Date.now() / 1000,
      'everywhere',
    );
    ctx.logger.info?.(
      `logout everywhere (provider=${record.provider}): ${ended === null ? 'tombstone written' : `${ended} other session(s) ended`}`,
    );
    return true;
  } catch (error) {
    ctx.storeFailed(error);
    return false;
  }
}

function everywhereFailed(setCookies: string[]): Response {
  return htmlPage({
    status: 503,
    title: 'Signed out here only',
    body:
      paragraph('You are signed out on this device, but your other devices could not be signed out just now.') +
      paragraph('Sign in again and retry "sign out everywhere" in a moment.', 'detail') +
      link('/', 'Continue'),
    setCookies,
  });
}

/**
 * The `state` of the round trip, bound to returnTo in a sealed cookie — only when the
 * post-logout redirect is our own callback, which is where the state is checked.
 * A custom `postLogoutRedirectUri` is the app's page: no state, no returnTo.
 */
async function rememberReturn(
  ctx: Context,
  returnTo: string,
  setCookies: string[],
  revoke: LogoutState['revoke'],
): Promise<string | undefined> {
  if (ctx.config.postLogoutRedirectUri !== `${ctx.config.baseUrl}${ctx.config.basePath}/logout/callback`) return undefined;
  const state = randomId();
  setCookies.push(await logoutStateCookie(ctx, state, returnTo, revoke));
  return state;
}

function afterLocalLogout(ctx: Context, state: string | undefined, setCookies: string[]): Response {
  return redirect(withState(ctx.config.postLogoutRedirectUri, state), 303, setCookies);
}

/** RP-initiated logout: to the provider's end_session_endpoint (spec §2), or local when there is none. */
async function toEndSession(
  ctx: Context,
  provider: ResolvedProvider,
  record: SessionRecord,
  idToken: string | undefined,
  state: string | undefined,
  setCookies: string[],
): Promise<Response> {
  const discovered = await ctx.discoverOrNull(provider, 'logout');
  if (!discovered) return signedOutProviderDown(provider.displayName, setCookies);
  const discoveredEndpoint = discovered.serverMetadata().end_session_endpoint;
  const endpoint = discoveredEndpoint ?? provider.endSessionEndpoint;
  if (!endpoint) {
    ctx.logger.info?.(`logout: provider ${provider.name} has no end_session_endpoint; signed out of this app only`);
    return afterLocalLogout(ctx, state, setCookies);
  }
  const standard = standardEndSessionParams({
    ...(idToken ? { idTokenHint: idToken } : {}),
    clientId: provider.clientId,
    postLogoutRedirectUri: ctx.config.postLogoutRedirectUri,
    ...(state ? { state } : {}),
    ...(provider.logoutHint ? { logoutHint: provider.logoutHint } : {}),
    ...(provider.uiLocales ? { uiLocales: provider.uiLocales } : {}),
  });
  const overrides = discoveredEndpoint ? provider.logoutParams : [provider.fallbackLogoutParams, ...provider.logoutParams];
  const params = applyLogoutParams(standard, overrides, {
    baseUrl: ctx.config.baseUrl,
    postLogoutRedirectUri: ctx.config.postLogoutRedirectUri,
    clientId: provider.clientId,
    idToken,
    claims: userOf(record),
  });
  const url = endSessionUrlWith(endpoint, params);
  const post = provider.endSessionTransport === 'post' || (provider.endSessionTransport === 'auto' && url.href.length > MAX_GET_URL);
  return post ? autoPost(endpoint, params, setCookies) : redirect(url.href, 303, setCookies);
}

/**
 * RP-Initiated Logout §2 allows POST: a form the browser submits by itself, for ID tokens
 * that would make the URL longer than browsers and proxies accept. Without script, a button.
 */
function autoPost(endpoint: string, params: Record<string, string>, setCookies: string[]): Response {
  const nonce = randomId();
  const fields = Object.entries(params)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return htmlPage({
    status: 200,
    title: 'Signing you out…',
    body:
      `<form method="post" action="${escapeHtml(endpoint)}">${fields}<noscript><button type="submit" class="primary">Continue to sign out</button></noscript></form>` +
      `<script nonce="${nonce}">document.forms[0].submit()</script>`,
    headers: {
      'Content-Security-Policy': `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; frame-ancestors 'none'; base-uri 'none'`,
    },
    setCookies,
  });
}

/**
 * `GET {basePath}/logout/callback`: the registered `post_logout_redirect_uri`. Only a
 * `state` that matches the one we sent leads to the stored returnTo and revokes the saved
 * tokens; anything else shows a neutral page and follows nothing (spec §3: state is ours to
 * check). A provider that never returns our `state` therefore gets no revocation.
 */
export async function logoutCallback(ctx: Context, request: Request, url: URL): Promise<Response> {
  const name = logoutStateName(ctx);
  const sealed = ctx.cookiesOf(request).get(name);
  const saved = sealed ? await ctx.sealer.unseal<LogoutState>(sealed, 'logout') : null;
  const state = url.searchParams.get('state');
  const ours = saved?.v === 1 && saved.exp >= nowSeconds();
  // Only the provider's return, with our state, proves the provider is done: revoking earlier
  // (any site can make the browser GET this URL) could end its session before it notified the
  // other apps. A request without it leaves the cookie for the real return.
  if (ours && state !== null && timingSafeEqual(saved.state, state)) {
    await revokeSaved(ctx, saved.revoke);
    return redirect(saved.returnTo, 303, [ctx.serializeTransient(name, '', 'logout', 0)]);
  }
  const setCookies = sealed && !ours ? [ctx.serializeTransient(name, '', 'logout', 0)] : [];
  if (sealed || state !== null) ctx.logger.info?.('logout callback: state missing or not ours; showing the neutral page');
  return htmlPage({
    status: 200,
    title: 'You are signed out',
    body: paragraph('You have been signed out.') + link('/', 'Continue'),
    setCookies,
  });
}

/**
 * Revocation after RP-initiated logout waits for the provider to send the browser back: revoking
 * the refresh token first can end the provider session before it notifies the other apps
 * (Keycloak does exactly that), so their sessions would live on.
 */
async function revokeSaved(ctx: Context, revoke: LogoutState['revoke']): Promise<void> {
  const provider = revoke ? ctx.providers.get(revoke.provider) : undefined;
  if (revoke && provider) await revokeTokens(ctx, provider, revoke);
}

async function logoutStateCookie(ctx: Context, state: string, returnTo: string, revoke: LogoutState['revoke']): Promise<string> {
  const saved: LogoutState = { v: 1, state, returnTo, ...(revoke ? { revoke } : {}), exp: nowSeconds() + LOGOUT_STATE_SECONDS };
  return ctx.serializeTransient(logoutStateName(ctx), await ctx.sealer.seal(saved, 'logout'), 'logout', LOGOUT_STATE_SECONDS);
}

function logoutStateName(ctx: Context): string {
  return `${ctx.transientPrefix}${ctx.config.cookieName}.logout`;
}

function withState(uri: string, state: string | undefined): string {
  if (state === undefined) return uri;
  const url = new URL(uri);
  url.searchParams.set('state', state);
  return url.href;
}

function forbidden(message: string): Response {
  return htmlPage({ status: 403, title: 'Sign-out refused', body: paragraph(message) });
}

function signedOutProviderDown(providerName: string, setCookies: string[]): Response {
  return htmlPage({
    status: 200,
    title: 'Signed out of this app',
    body:
      paragraph(`You are signed out of this app, but ${providerName} could not be reached, so you may still be signed in there.`) +
      paragraph('Sign out at the provider directly, or try again later.', 'detail') +
      link('/', 'Continue'),
    setCookies,
  });
}
