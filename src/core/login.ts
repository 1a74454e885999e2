import * as oidc from 'openid-client';
import type { Context } from './context.js';
import { nowSeconds, randomId } from './encoding.js';
import { escapeHtml, htmlPage, link, paragraph, redirect } from './html.js';
import { describe } from './providers.js';
import { safeReturnTo } from './return-to.js';
import { deleteCookie } from './session/cookies.js';
import type { SessionRecord, TokenRecord } from './session/model.js';
import type { ResolvedProvider, UserClaims } from './types.js';

/** Lifetime of a login attempt: the user has this long at the provider's login page. */
const TRANSACTION_SECONDS = 600;

/** What the transaction cookie holds between `/login` and `/callback`. */
interface Transaction {
  v: 1;
  p: string;
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  exp: number;
}

/** Claims that describe the ID token itself rather than the user. */
const PROTOCOL_CLAIMS = ['aud', 'azp', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 's_hash', 'jti'];

/**
 * `GET {basePath}/login?provider=NAME&returnTo=/path`: redirects to the provider's
 * authorization endpoint with PKCE S256, `state` and `nonce`, kept in a transaction
 * cookie named after the state so several login tabs never overwrite each other.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest Core §3.1.2.1
 * @see https://www.rfc-editor.org/rfc/rfc7636 PKCE
 */
export async function startLogin(ctx: Context, url: URL): Promise<Response> {
  const name = url.searchParams.get('provider') ?? ctx.config.defaultProvider;
  const provider = ctx.providers.get(name);
  if (!provider) return unknownProvider(ctx, name);
  const returnTo = pickReturnTo(ctx, url.searchParams.get('returnTo'));
  const discovered = await ctx.discoverOrNull(provider, 'login');
  if (!discovered) return providerUnreachable(provider);

  const tx: Transaction = {
    v: 1,
    p: provider.name,
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    verifier: oidc.randomPKCECodeVerifier(),
    returnTo,
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
  return redirect(authorizationUrl.href, 302, [cookie]);
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
  const state = url.searchParams.get('state') ?? '';
  const name = /^[A-Za-z0-9_-]{1,128}$/.test(state) ? transactionName(ctx, state) : undefined;
  const sealed = name ? cookies.get(name) : undefined;
  const tx = sealed ? await ctx.sealer.unseal<Transaction>(sealed, 'transaction') : null;
  const current = await ctx.readSession(cookies);
  if (tx?.v !== 1 || tx.state !== state || tx.exp < nowSeconds()) {
    ctx.logger.warn(
      `login refused: callback without a matching login attempt (${sealed ? 'expired or altered' : 'no transaction cookie'})`,
    );
    return staleCallback(ctx, current.record !== null, ctx.config.defaultReturnTo);
  }
  // The transaction is single-use: whatever happens next, it is gone.
  const clearTx = deleteCookie(name!, ctx.transientAttributes('callback'));
  const provider = ctx.providers.get(tx.p);
  if (!provider) return staleCallback(ctx, current.record !== null, tx.returnTo, [clearTx]);

  const error = url.searchParams.get('error');
  if (error !== null) return providerError(ctx, provider, url, clearTx);

  const discovered = await ctx.discoverOrNull(provider, 'login');
  if (!discovered) return providerUnreachable(provider, [clearTx]);
  let record: SessionRecord;
  let tokens: TokenRecord;
  try {
    ({ record, tokens } = await exchangeCode(ctx, provider, discovered, url, tx));
  } catch (cause) {
    ctx.logger.warn(`login refused (provider=${provider.name}): ${describe(cause)}`);
    return staleCallback(ctx, current.record !== null, tx.returnTo, [clearTx]);
  }
  const setCookies = [clearTx, ...(await ctx.sessions.write(record, tokens, cookies))];
  await ctx.hook('onLogin', ctx.toSession(record, tokens));
  return redirect(tx.returnTo, 303, setCookies);
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
  checkAuthorizedParty(claims, provider);
  let user = userClaims(claims);
  if (provider.fetchUserInfo) {
    // userinfo's sub must equal the ID token's (Core §5.3.4); openid-client enforces it.
    const info = await oidc.fetchUserInfo(discovered, response.access_token, claims.sub);
    user = { ...info, ...user };
  }
  const now = nowSeconds();
  const id = randomId();
  const record: SessionRecord = {
    v: 1,
    id,
    p: provider.name,
    iss: claims.iss,
    sub: claims.sub,
    ...(typeof claims.sid === 'string' ? { sid: claims.sid } : {}),
    u: user,
    c: now,
    a: now + ctx.config.absoluteDuration,
    t: now,
  };
  const expiresIn = response.expiresIn();
  const tokens: TokenRecord = {
    v: 1,
    id,
    ...(response.id_token ? { idt: response.id_token } : {}),
    at: response.access_token,
    ...(expiresIn !== undefined ? { ate: now + expiresIn } : {}),
    ...(ctx.config.storeRefreshToken && response.refresh_token ? { rt: response.refresh_token } : {}),
  };
  return { record, tokens };
}

/** Core §3.1.3.7 steps 4–5: with several audiences `azp` must be present, and when present it must be us. */
function checkAuthorizedParty(claims: oidc.IDToken, provider: ResolvedProvider): void {
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (audiences.length > 1 && claims.azp === undefined) throw new Error('ID token has several audiences and no azp');
  if (claims.azp !== undefined && claims.azp !== provider.clientId) throw new Error('ID token azp is not our client_id');
}

function userClaims(claims: oidc.IDToken): UserClaims {
  const user: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(claims)) if (!PROTOCOL_CLAIMS.includes(key)) user[key] = value;
  return user as UserClaims;
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
