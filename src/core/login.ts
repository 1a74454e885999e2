import * as oidc from 'openid-client';
import type { Context } from './context.js';
import { nowSeconds, randomId, timingSafeEqual } from './encoding.js';
import { escapeHtml, htmlPage, link, paragraph, redirect } from './html.js';
import { checkAuthorizedParty, checkIssuedAt } from './id-token.js';
import { describeProviderError } from './provider-errors.js';
import { safeReturnTo } from './return-to.js';
import { deleteCookie, serializeCookie } from './session/cookies.js';
import { newSession, type SessionRecord, type TokenRecord, userClaims } from './session/record.js';
import type { ResolvedProvider, UserClaims } from './types.js';

/** Lifetime of a login attempt: the user has this long at the provider's login page. */
const TRANSACTION_SECONDS = 600;
/** Login attempts kept at once (tabs); older ones are dropped so cookies cannot pile up. */
const MAX_TRANSACTIONS = 4;
/**
 * Session cookies (name=value bytes, what the browser sends back) above this refuse the
 * login rather than lock the user out: Node's HTTP server answers 431 to request headers
 * over 16 KiB — logout included. Above the warning size, nginx's default 8 KiB header
 * buffer already refuses them.
 */
const MAX_SESSION_COOKIE_BYTES = 14 * 1024;
const WARN_SESSION_COOKIE_BYTES = 8 * 1024;

/** What the transaction cookie holds between `/login` and `/callback`. */
interface Transaction {
  v: 1;
  provider: string;
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  /** The value of this browser's binding cookie when the login started. */
  browser: string;
  exp: number;
}

const BINDING = /^[A-Za-z0-9_-]{22}$/;

/**
 * `GET {basePath}/login?provider=NAME&returnTo=/path`: redirects to the provider's
 * authorization endpoint with PKCE S256, `state` and `nonce`, kept in a transaction
 * cookie named after the state so several login tabs never overwrite each other.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest Core §3.1.2.1
 * @see https://www.rfc-editor.org/rfc/rfc7636 PKCE
 */
export async function startLogin(ctx: Context, request: Request, url: URL): Promise<Response> {
  const name = url.searchParams.get('provider') ?? ctx.config.defaultProvider;
  const provider = ctx.providers.get(name);
  if (!provider) return unknownProvider(ctx, name);
  const returnTo = pickReturnTo(ctx, url.searchParams.get('returnTo'));
  const discovered = await ctx.discoverOrNull(provider, 'login');
  if (!discovered) return providerUnreachable(provider);

  const binding = browserBinding(ctx, ctx.cookiesOf(request));
  const tx: Transaction = {
    v: 1,
    provider: provider.name,
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    verifier: oidc.randomPKCECodeVerifier(),
    returnTo,
    browser: binding.value,
    exp: nowSeconds() + TRANSACTION_SECONDS,
  };
  const authorizationUrl = oidc.buildAuthorizationUrl(discovered, {
    ...provider.authorizationParams,
    redirect_uri: ctx.config.redirectUri,
    response_type: 'code',
    scope: provider.scopes.join(' '),
    state: tx.state,
    nonce: tx.nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(tx.verifier),
    code_challenge_method: 'S256', // always S256, never plain (RFC 7636 §4.2)
  });
  const cookie = ctx.serializeTransient(
    transactionName(ctx, tx.state),
    await ctx.sealer.seal(tx, 'transaction'),
    'callback',
    TRANSACTION_SECONDS,
  );
  return redirect(authorizationUrl.href, 302, [cookie, binding.cookie, ...(await pruneTransactions(ctx, request))]);
}

/**
 * The transaction cookie is `__Secure-` with `Path={basePath}`, a pair a sibling subdomain can
 * plant with `Domain=` (cookie tossing: the victim finishes the attacker's login). Each login is
 * also bound to a `__Host-` cookie, which only this host can set: a transaction replayed into
 * another browser lacks it. One value per browser, kept while logins are pending, so tabs share it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6265bis §4.1.3.2 (the __Host- prefix)
 */
function browserBinding(ctx: Context, cookies: Map<string, string>): { value: string; cookie: string } {
  const name = bindingName(ctx);
  const current = cookies.get(name);
  const value = current !== undefined && BINDING.test(current) ? current : randomId();
  return { value, cookie: serializeCookie(name, value, { ...bindingAttributes(ctx), maxAge: TRANSACTION_SECONDS }) };
}

function bindingAttributes(ctx: Context) {
  return { path: '/', secure: ctx.config.secure, sameSite: 'Lax' as const };
}

function bindingName(ctx: Context): string {
  return `${ctx.config.secure ? '__Host-' : ''}${ctx.config.cookieName}.bind`;
}

/**
 * Deletes all but the newest login attempts (and every expired one), so that a page
 * sending the browser through `/login` again and again cannot grow the Cookie header
 * until the callback is refused. Transaction cookies are scoped to basePath for this.
 */
async function pruneTransactions(ctx: Context, request: Request): Promise<string[]> {
  const prefix = transactionName(ctx, '');
  const attempts: Array<{ name: string; exp: number }> = [];
  for (const [name, value] of ctx.cookiesOf(request)) {
    if (!name.startsWith(prefix)) continue;
    const tx = await ctx.sealer.unseal<Transaction>(value, 'transaction');
    attempts.push({ name, exp: tx?.exp ?? 0 });
  }
  attempts.sort((a, b) => b.exp - a.exp);
  const now = nowSeconds();
  const stale = attempts.filter((a, i) => i >= MAX_TRANSACTIONS - 1 || a.exp < now);
  return stale.map((a) => deleteCookie(a.name, ctx.transientAttributes('callback')));
}

/**
 * `GET {basePath}/callback`: finishes the login. A stale or replayed callback never
 * clears a valid session and never answers 500: a signed-in user goes on to returnTo,
 * anybody else gets a 400 page that says to start again.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth Core §3.1.3.7 (ID token validation)
 * @see https://www.rfc-editor.org/rfc/rfc9207 (iss in the authorization response)
 */
export async function finishLogin(ctx: Context, request: Request, url: URL): Promise<Response> {
  const cookies = ctx.cookiesOf(request);
  const signedIn = (await ctx.readSession(cookies)).record !== null;
  const found = await findTransaction(ctx, cookies, url.searchParams.get('state'));
  if (!found) return staleCallback(ctx, signedIn, ctx.config.defaultReturnTo);
  const { tx, clearTx } = found;
  const provider = ctx.providers.get(tx.provider);
  if (!provider) return staleCallback(ctx, signedIn, tx.returnTo, [clearTx]);
  const discovered = await ctx.discoverOrNull(provider, 'login');
  if (!discovered) return providerUnreachable(provider, [clearTx]);
  // RFC 9207 §2.4: checked on error responses too, before anything in them is believed.
  const issProblem = checkIssParameter(discovered, url);
  if (issProblem) {
    ctx.logger.warn(`login refused (provider=${provider.name}): ${issProblem}`);
    return staleCallback(ctx, signedIn, tx.returnTo, [clearTx]);
  }
  if (url.searchParams.has('error')) return providerError(ctx, provider, url, clearTx);
  return completeLogin(ctx, { provider, discovered, url, tx, cookies, signedIn, clearTx });
}

interface Callback {
  provider: ResolvedProvider;
  discovered: oidc.Configuration;
  url: URL;
  tx: Transaction;
  cookies: Map<string, string>;
  signedIn: boolean;
  clearTx: string;
}

async function completeLogin(ctx: Context, cb: Callback): Promise<Response> {
  let record: SessionRecord;
  let tokens: TokenRecord;
  try {
    ({ record, tokens } = await exchangeCode(ctx, cb.provider, cb.discovered, cb.url, cb.tx));
  } catch (cause) {
    const why = describeProviderError(cause, { provider: cb.provider, endpoint: 'token', metadata: cb.discovered.serverMetadata() });
    ctx.logger.warn(`login refused (provider=${cb.provider.name}): ${why}`);
    return staleCallback(ctx, cb.signedIn, cb.tx.returnTo, [cb.clearTx]);
  }
  let sessionCookies: string[];
  try {
    sessionCookies = await ctx.sessions.write(record, tokens, cb.cookies);
  } catch (error) {
    // Server mode keeps the session in the store: while it does not answer, nobody can sign in.
    ctx.storeFailed(error);
    return storeUnavailable(cb.clearTx);
  }
  const bytes = sessionCookies.reduce((sum, line) => sum + line.split(';', 1)[0]!.length, 0);
  if (bytes > MAX_SESSION_COOKIE_BYTES) return sessionTooLarge(ctx, cb, bytes);
  if (bytes > WARN_SESSION_COOKIE_BYTES) {
    ctx.logger.warn(
      `login (provider=${cb.provider.name}): session cookies are ${bytes} bytes; proxies with 8 KiB header limits (nginx, Apache) will refuse this user's requests; use session.mode "server", or have the provider release fewer claims in the ID token (large "groups" or "roles" claims)`,
    );
  }
  await ctx.hook('onLogin', ctx.toSession(record, tokens));
  // The binding stays while another tab's login is pending (its transaction cookie is here too).
  const prefix = transactionName(ctx, '');
  const pending = [...cb.cookies.keys()].some((name) => name.startsWith(prefix) && name !== transactionName(ctx, cb.tx.state));
  const clearBinding = pending ? [] : [deleteCookie(bindingName(ctx), bindingAttributes(ctx))];
  return redirect(cb.tx.returnTo, 303, [cb.clearTx, ...clearBinding, ...sessionCookies]);
}

/** The login attempt the callback's `state` names, or null (missing, altered, expired). */
async function findTransaction(
  ctx: Context,
  cookies: Map<string, string>,
  state: string | null,
): Promise<{ tx: Transaction; clearTx: string } | null> {
  const name = state !== null && /^[A-Za-z0-9_-]{1,128}$/.test(state) ? transactionName(ctx, state) : undefined;
  const sealed = name ? cookies.get(name) : undefined;
  const tx = sealed ? await ctx.sealer.unseal<Transaction>(sealed, 'transaction') : null;
  if (tx?.v !== 1 || tx.state !== state || tx.exp < nowSeconds()) {
    ctx.logger.warn(
      `login refused: callback without a matching login attempt (${sealed ? 'expired or altered' : 'no transaction cookie'})`,
    );
    return null;
  }
  const browser = cookies.get(bindingName(ctx));
  if (typeof tx.browser !== 'string' || browser === undefined || !timingSafeEqual(browser, tx.browser)) {
    ctx.logger.warn('login refused: the login attempt was started in another browser (its binding cookie is missing or differs)');
    return null;
  }
  // The transaction is single-use: whatever happens next, it is gone.
  return { tx, clearTx: deleteCookie(name!, ctx.transientAttributes('callback')) };
}

/** RFC 9207: `iss` must be present when the provider advertises it, and always exact. */
function checkIssParameter(discovered: oidc.Configuration, url: URL): string | null {
  const metadata = discovered.serverMetadata();
  const iss = url.searchParams.get('iss');
  if (iss === null)
    return metadata.authorization_response_iss_parameter_supported === true ? 'the iss parameter is missing (RFC 9207)' : null;
  return iss === metadata.issuer ? null : 'the iss parameter does not match the issuer (RFC 9207)';
}

async function exchangeCode(
  ctx: Context,
  provider: ResolvedProvider,
  discovered: oidc.Configuration,
  url: URL,
  tx: Transaction,
): Promise<{ record: SessionRecord; tokens: TokenRecord }> {
  // The registered redirect_uri, not whatever host a proxy put in the request URL.
  const callbackUrl = new URL(ctx.config.redirectUri);
  callbackUrl.search = url.search;
  const response = await oidc.authorizationCodeGrant(discovered, callbackUrl, {
    pkceCodeVerifier: tx.verifier,
    expectedState: tx.state,
    expectedNonce: tx.nonce,
    idTokenExpected: true,
  });
  const claims = response.claims();
  if (!claims) throw new Error('the token response had no ID token');
  checkIssuedAt(ctx, claims);
  checkAuthorizedParty(claims, provider);
  let user: UserClaims = userClaims(claims);
  if (provider.fetchUserInfo) {
    // userinfo's sub must equal the ID token's (Core §5.3.4); openid-client enforces it.
    const info = await oidc.fetchUserInfo(discovered, response.access_token, claims.sub);
    user = { ...info, ...user };
  }
  const record = newSession({
    provider: provider.name,
    issuer: claims.iss,
    subject: claims.sub,
    sid: typeof claims.sid === 'string' ? claims.sid : undefined,
    user,
    idToken: response.id_token,
    absoluteDuration: ctx.config.absoluteDuration,
  });
  const expiresIn = response.expiresIn();
  const tokens: TokenRecord = Object.freeze({
    sessionId: record.id,
    accessToken: response.access_token,
    ...(expiresIn !== undefined ? { accessTokenExpiresAt: nowSeconds() + expiresIn } : {}),
    ...(ctx.config.storeRefreshToken && response.refresh_token ? { refreshToken: response.refresh_token } : {}),
  });
  return { record, tokens };
}

function transactionName(ctx: Context, state: string): string {
  return `${ctx.transientPrefix}${ctx.config.cookieName}.tx.${state}`;
}

function pickReturnTo(ctx: Context, value: string | null): string {
  if (value === null) return ctx.config.defaultReturnTo;
  const safe = safeReturnTo(value, ctx.config.origin);
  if (safe === null) ctx.logger.warn('login: ignored an unsafe returnTo (only same-origin paths are followed)');
  return safe ?? ctx.config.defaultReturnTo;
}

function staleCallback(ctx: Context, signedIn: boolean, returnTo: string, setCookies: string[] = []): Response {
  // Back button or double submit after a login that worked: carry on where the user was going.
  if (signedIn) return redirect(returnTo, 303, setCookies);
  return htmlPage({
    status: 400,
    title: 'This sign-in link has expired',
    body:
      paragraph('The sign-in could not be completed: it was already used, it took too long, or it was started in another browser.') +
      link(`${ctx.config.basePath}/login`, 'Sign in again'),
    setCookies,
  });
}

function storeUnavailable(clearTx: string): Response {
  return htmlPage({
    status: 503,
    title: 'Sign-in is unavailable just now',
    body: paragraph('The sign-in could not be saved. Please try again in a moment.') + link('/', 'Continue'),
    headers: { 'Retry-After': '5' },
    setCookies: [clearTx],
  });
}

function sessionTooLarge(ctx: Context, cb: Callback, bytes: number): Response {
  ctx.logger.error(
    `login refused (provider=${cb.provider.name}): the session needs ${bytes} bytes of cookies (limit ${MAX_SESSION_COOKIE_BYTES}); request fewer scopes or claims, expose fewer tokens, or use session.mode "server"`,
  );
  return htmlPage({
    status: 400,
    title: 'Sign-in could not be completed',
    body: paragraph('Your account carries more information than this app can keep in cookies. Please contact the site administrator.'),
    setCookies: [cb.clearTx],
  });
}

function providerError(ctx: Context, provider: ResolvedProvider, url: URL, clearTx: string): Response {
  const error = (url.searchParams.get('error') ?? '').slice(0, 100);
  const description = (url.searchParams.get('error_description') ?? '').slice(0, 500);
  ctx.logger.warn(`login refused by provider ${provider.name}: ${JSON.stringify(error)}`);
  return htmlPage({
    status: 400,
    title: 'Sign-in was not completed',
    body:
      `<p>${escapeHtml(provider.displayName)} answered: <code>${escapeHtml(error)}</code></p>` +
      (description ? paragraph(description, 'detail') : '') +
      link(`${ctx.config.basePath}/login?provider=${encodeURIComponent(provider.name)}`, 'Try again'),
    setCookies: [clearTx],
  });
}

function unknownProvider(ctx: Context, name: string): Response {
  ctx.logger.warn(`login refused: unknown provider ${JSON.stringify(name.slice(0, 40))}`);
  return htmlPage({
    status: 400,
    title: 'Unknown sign-in provider',
    body: paragraph(`There is no provider named "${name.slice(0, 40)}".`),
  });
}

export function providerUnreachable(provider: ResolvedProvider, setCookies: string[] = []): Response {
  return htmlPage({
    status: 502,
    title: 'The sign-in provider could not be reached',
    body: paragraph(`${provider.displayName} did not answer. Please try again in a moment.`),
    setCookies,
  });
}
