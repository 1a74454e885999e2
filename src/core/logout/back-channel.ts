import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  type ProtectedHeaderParameters,
  type RemoteJWKSet,
} from 'jose';
import { OidcSessionError } from '../../errors.js';
import { readForm } from '../body.js';
import { identifierTooLong, MAX_IDENTIFIER_BYTES } from '../budget.js';
import type { Context } from '../context.js';
import { describe } from '../describe.js';
import { isCanonicalBase64url, nowSeconds } from '../encoding.js';
import type { LogoutTarget } from '../registry.js';
import type { ResolvedProvider } from '../types.js';
import { claimProblem, nativeVerifier, selectKey } from './native-jws.js';
import { endProviderSessions } from './provider-sessions.js';

/** spec §2.4: the member of `events` that makes a JWT a logout token. */
export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** A logout token is a few hundred bytes; anything far larger is refused before parsing. */
const MAX_TOKEN_LENGTH = 8 * 1024;
const TYP_LOGOUT = new Set(['logout+jwt', 'application/logout+jwt']);
const TYP_ACCEPTED = new Set([...TYP_LOGOUT, 'jwt', 'application/jwt']);
/** Unknown `kid`: refetch the JWKS at most this often (key rotation without a refetch storm). */
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;

/**
 * A refused logout token: the reason goes to the caller (spec §2.8) and to the log. `detail` is
 * for the log only: the caller may be anyone, and must not learn our network or our errors.
 */
class Refusal extends Error {
  constructor(
    message: string,
    readonly error: 'invalid_request' | 'partial_logout' | 'temporarily_unavailable' = 'invalid_request',
    readonly detail?: string,
  ) {
    super(message);
  }
}

export interface ValidLogoutToken {
  iss: string;
  sid?: string;
  sub?: string;
  iat: number;
  jti: string;
  /** Epoch seconds after which the token can no longer be accepted (the replay cache's horizon). */
  acceptableUntil: number;
}

/**
 * `POST {basePath}/backchannel-logout/NAME`: OpenID Connect Back-Channel Logout 1.0.
 * One endpoint per provider, so the provider (and its issuer, client_id and alg) is known
 * before anything is parsed. Success is exactly 200 with `Cache-Control: no-store`;
 * every failure is 400 `{"error","error_description"}` (§2.8). No cookie is read or set.
 *
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#BCRequest §2.5–§2.8
 */
export async function backchannelLogout(ctx: Context, request: Request, provider: ResolvedProvider): Promise<Response> {
  try {
    const token = await readLogoutToken(request);
    const valid = await validateLogoutToken(ctx, provider, token);
    await applyLogout(ctx, provider, valid);
    return new Response(null, { status: 200, headers: { 'Cache-Control': 'no-store' } });
  } catch (error) {
    const refusal = error instanceof Refusal ? error : new Refusal('the logout could not be processed', 'invalid_request', describe(error));
    const detail = refusal.detail === undefined ? '' : ` (${refusal.detail})`;
    ctx.logger.warn(`back-channel logout refused (provider=${provider.name}): ${refusal.message}${detail}`);
    return refused(refusal);
  }
}

/** Non-POST requests get the same spec-shaped 400 as any other bad logout request. */
export function backchannelWrongMethod(): Response {
  const response = refused(new Refusal('the back-channel logout endpoint accepts only POST'));
  response.headers.set('Allow', 'POST');
  return response;
}

async function readLogoutToken(request: Request): Promise<string> {
  const form = await readForm(request);
  if (form === 'too-large') throw new Refusal('request body too large');
  if (form === null) throw new Refusal('the body must be application/x-www-form-urlencoded'); // spec §2.5
  const tokens = form.getAll('logout_token');
  if (tokens.length !== 1) throw new Refusal(tokens.length === 0 ? 'missing logout_token' : 'more than one logout_token');
  const token = tokens[0]!;
  if (token.length > MAX_TOKEN_LENGTH) throw new Refusal('logout_token too large');
  return token;
}

/**
 * Every step of §2.6, cheap ones first (shape, alg, typ, iss) so a forged token costs no
 * signature check or JWKS fetch. Returns the claims that name what to end.
 */
export async function validateLogoutToken(ctx: Context, provider: ResolvedProvider, token: string): Promise<ValidLogoutToken> {
  const parts = token.split('.');
  if (parts.length === 5) throw new Refusal('encrypted logout tokens are not supported (no ID token encryption is configured)');
  if (parts.length !== 3) throw new Refusal('logout_token is not a compact JWS');
  // One value, one spelling: a respelled signature would pass jose and dodge a cache keyed by the token.
  if (!parts.every(isCanonicalBase64url)) throw new Refusal('logout_token is not canonical base64url');
  const header = checkHeader(provider, token);
  const unverified = decodeOrRefuse(token);
  if (unverified.iss !== provider.issuer) throw new Refusal('iss does not match the provider'); // §2.6 (as ID tokens: exact)

  const discovered = await ctx.providers.discover(provider).catch((cause: unknown) => {
    throw new Refusal('the logout token cannot be verified just now', 'invalid_request', describe(cause));
  });
  const jwks = ctx.providers.jwks(provider, discovered, () =>
    createRemoteJWKSet(new URL(discovered.serverMetadata().jwks_uri ?? ''), {
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
    }),
  );
  const payload =
    verifiedNatively(ctx, provider, jwks, header, parts, unverified) ?? (await verifiedByJose(ctx, provider, jwks, token, unverified));
  return checkClaims(ctx, provider, payload);
}

// The key set of each resolver as it was after its last fetch: a structured clone per token
// would cost more than the signature. Trusted while jose deems its own cache fresh.
const keySets = new WeakMap<RemoteJWKSet, JSONWebKeySet>();

/**
 * The signature and the claims jose would check, by the installed native verifier and the
 * cached key set: null when that path cannot decide (no verifier, no fresh key set, a key not
 * in it or several candidates, `crit`), and jose decides.
 */
function verifiedNatively(
  ctx: Context,
  provider: ResolvedProvider,
  jwks: RemoteJWKSet,
  header: ProtectedHeaderParameters,
  parts: string[],
  claims: JWTPayload,
): JWTPayload | null {
  const verifier = nativeVerifier();
  const set = jwks.fresh ? keySets.get(jwks) : undefined;
  if (!verifier || !set || header.crit !== undefined) return null;
  const key = selectKey(set, header as { alg: string; kid?: unknown });
  const ok = key ? verifier.verify(header.alg!, key, `${parts[0]}.${parts[1]}`, parts[2]!) : undefined;
  if (ok === undefined) return null;
  if (!ok) throw new Refusal('signature verification failed');
  const problem = claimProblem(
    claims,
    {
      clientId: provider.clientId,
      tolerance: ctx.config.clockTolerance,
      requireExp: !provider.backchannel.allowMissingExp,
      maxTokenAge: provider.backchannel.maxTokenAge,
    },
    nowSeconds(),
  );
  if (problem) throw new Refusal(problem, 'invalid_request', problem === 'claim exp is missing' ? missingExpDetail(provider) : undefined);
  return claims;
}

async function verifiedByJose(
  ctx: Context,
  provider: ResolvedProvider,
  jwks: RemoteJWKSet,
  token: string,
  unverified: JWTPayload,
): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, jwks, {
    algorithms: [provider.idTokenSignedResponseAlg], // alg pinned; `none` can never match (§2.6)
    issuer: provider.issuer,
    audience: provider.clientId,
    clockTolerance: ctx.config.clockTolerance,
    requiredClaims: provider.backchannel.allowMissingExp ? ['iat', 'jti'] : ['iat', 'exp', 'jti'],
    ...(provider.backchannel.allowMissingExp && unverified.exp === undefined ? { maxTokenAge: provider.backchannel.maxTokenAge } : {}),
  }).catch((cause: unknown) => {
    if (cause instanceof joseErrors.JOSEError)
      throw new Refusal(verificationFailure(cause), 'invalid_request', missingExpHint(cause, provider));
    // A JWKS that cannot be fetched, or a bug: nothing the caller should read about.
    throw new Refusal('the logout token cannot be verified just now', 'invalid_request', describe(cause));
  });
  const set = jwks.jwks();
  if (set) keySets.set(jwks, set);
  return payload;
}

function checkHeader(provider: ResolvedProvider, token: string): ProtectedHeaderParameters {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new Refusal('logout_token header is not valid JSON');
  }
  if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') throw new Refusal('alg "none" is refused'); // §2.6
  if (header.alg !== provider.idTokenSignedResponseAlg) {
    throw new Refusal(`alg ${JSON.stringify(header.alg)} is not the provider's ID token alg ${provider.idTokenSignedResponseAlg}`);
  }
  if (header.typ !== undefined) {
    const typ = String(header.typ).toLowerCase();
    const accepted = provider.backchannel.requireLogoutJwtTyp ? TYP_LOGOUT : TYP_ACCEPTED;
    if (!accepted.has(typ)) throw new Refusal(`typ ${JSON.stringify(header.typ)} is not accepted for logout tokens`);
  } else if (provider.backchannel.requireLogoutJwtTyp) {
    throw new Refusal('typ "logout+jwt" is required');
  }
  return header;
}

function decodeOrRefuse(token: string): JWTPayload {
  try {
    return decodeJwt(token);
  } catch {
    throw new Refusal('logout_token payload is not a JSON object');
  }
}

function checkClaims(ctx: Context, provider: ResolvedProvider, claims: JWTPayload): ValidLogoutToken {
  const now = nowSeconds();
  const tolerance = ctx.config.clockTolerance;
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  // jose checked that our client_id is among the audiences; any other audience is not ours to trust.
  if (aud.some((a) => a !== provider.clientId)) throw new Refusal('aud names another audience too');
  const iat = claims.iat!;
  if (iat > now + tolerance) throw new Refusal('iat is in the future');
  const events = claims.events as Record<string, unknown> | undefined;
  if (!isObject(events) || !(BACKCHANNEL_EVENT in events)) throw new Refusal('events does not hold the back-channel logout event'); // §2.6
  if (!isObject(events[BACKCHANNEL_EVENT])) throw new Refusal('the back-channel logout event value must be a JSON object'); // §2.4
  if ('nonce' in claims) throw new Refusal('a logout token must not contain nonce'); // §2.4
  const sid = optionalString(claims, 'sid');
  const sub = optionalString(claims, 'sub');
  if (sid === undefined && sub === undefined) throw new Refusal('neither sub nor sid is present'); // §2.6
  // Each names a store key for as long as a session lives: no unbounded identifiers.
  for (const [name, value] of [
    ['sid', sid],
    ['sub', sub],
  ] as const) {
    if (value !== undefined && identifierTooLong(value)) throw new Refusal(`${name} is longer than ${MAX_IDENTIFIER_BYTES} bytes`);
  }
  if (typeof claims.jti !== 'string' || claims.jti === '') throw new Refusal('jti must be a non-empty string');
  const horizon = claims.exp ?? iat + provider.backchannel.maxTokenAge;
  return {
    iss: claims.iss!,
    ...(sid !== undefined ? { sid } : {}),
    ...(sub !== undefined ? { sub } : {}),
    iat,
    jti: claims.jti,
    acceptableUntil: horizon + tolerance,
  };
}

/**
 * §2.7: end what the token names — only the `(iss, sid)` session when `sid` is present,
 * else every session of `(iss, sub)`. The `jti` is claimed first (atomically, every instance
 * sees it: §2.6 replay) and marked done once the sessions are ended, so a retransmission of a
 * logout that failed half-way (§2.5) can still complete it.
 */
async function applyLogout(ctx: Context, provider: ResolvedProvider, token: ValidLogoutToken): Promise<void> {
  const budget = ctx.budget(provider, 'back-channel');
  if (!budget.take()) {
    if (budget.firstRefusal) {
      ctx.logger.warn(
        `back-channel logout budget spent (provider=${provider.name}): more than ${budget.perMinute} valid logout tokens this minute; refusing the rest until the next minute (raise backchannel.maxLogoutsPerMinute if the provider really sends that many)`,
      );
    }
    throw new Refusal('too many logout tokens this minute; retry later', 'temporarily_unavailable');
  }
  const ttl = token.acceptableUntil - nowSeconds();
  let claimed: boolean | 'unrecorded';
  try {
    claimed = await ctx.registry.claimJti(token.iss, token.jti, ttl);
  } catch (error) {
    // A full store must not cost a genuine logout: without the replay record, a replay can
    // still never end a session that began after the token's iat (below).
    if (!(error instanceof OidcSessionError && error.code === 'STORE_FULL')) {
      ctx.storeFailed(error);
      throw new Refusal('the session store is unavailable; retry later', 'partial_logout');
    }
    ctx.logger.warn(`back-channel logout (provider=${provider.name}): the store is full; applying the logout without recording its jti`);
    claimed = 'unrecorded';
  }
  if (!claimed) throw new Refusal('jti was already used (replay)'); // spec §2.6
  const aud = provider.clientId;
  const target: LogoutTarget =
    token.sid !== undefined
      ? { iss: token.iss, aud, sid: token.sid, ...(token.sub !== undefined ? { sub: token.sub } : {}) }
      : { iss: token.iss, aud, sub: token.sub! };
  try {
    // iat has whole seconds, login times have milliseconds: the whole second of iat counts.
    await endProviderSessions(ctx, provider, target, token.iat + 0.999, 'back-channel');
    if (claimed === true) await ctx.registry.completeJti(token.iss, token.jti, ttl);
  } catch (error) {
    // The jti stays "pending": the provider's retransmission may apply the logout again (§2.5).
    ctx.storeFailed(error);
    throw new Refusal('the sessions could not all be ended; retry later', 'partial_logout');
  }
}

function verificationFailure(cause: unknown): string {
  if (cause instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (cause instanceof joseErrors.JWKSNoMatchingKey) return 'no published key matches the token (kid/alg)';
  if (cause instanceof joseErrors.JWTExpired) return 'token expired';
  if (cause instanceof joseErrors.JWTClaimValidationFailed)
    return `claim ${cause.claim} ${cause.reason === 'missing' ? 'is missing' : 'is invalid'}`;
  if (cause instanceof joseErrors.JOSEAlgNotAllowed) return 'alg not allowed';
  if (cause instanceof joseErrors.JOSEError) return `${cause.code}: ${cause.message}`;
  return `cannot verify: ${describe(cause)}`;
}

/**
 * For the log only: a logout token without `exp` comes from a provider implementing a draft of
 * the spec from before errata set 1 made `exp` required (Glewlwyd: draft 06). Name the option
 * that accepts it, and its environment variable, so the refusal is a decision the user can find.
 *
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#LogoutToken
 */
function missingExpHint(cause: unknown, provider: ResolvedProvider): string | undefined {
  if (!(cause instanceof joseErrors.JWTClaimValidationFailed) || cause.claim !== 'exp' || cause.reason !== 'missing') return undefined;
  return missingExpDetail(provider);
}

function missingExpDetail(provider: ResolvedProvider): string {
  const variable = `OIDC_${provider.name === 'default' ? '' : `${provider.name.toUpperCase().replaceAll('-', '_')}_`}BACKCHANNEL_ALLOW_MISSING_EXP`;
  return (
    'the provider follows a pre-errata draft of Back-Channel Logout with no exp in logout tokens; to accept them, still bounded by ' +
    `iat + backchannel.maxTokenAge (${provider.backchannel.maxTokenAge} s) and a single-use jti, set providers.${provider.name}.backchannel.allowMissingExp: true ` +
    `(environment: ${variable}=true)`
  );
}

function refused(refusal: Refusal): Response {
  return new Response(JSON.stringify({ error: refusal.error, error_description: refusal.message }), {
    status: 400,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(claims: JWTPayload, name: 'sid' | 'sub'): string | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new Refusal(`${name} must be a non-empty string`);
  return value;
}
