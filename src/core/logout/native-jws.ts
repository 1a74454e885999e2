/**
 * Logout-token signatures checked by the runtime's own crypto module, synchronously: the
 * back-channel endpoint's hot step. The core never imports one; the Node adapters install
 * theirs (`installNodeVerifier`), like native sealing. Everything this path does not handle
 * — a key not in the cached set yet, several candidate keys, a `crit` header, an alg the
 * verifier does not know — goes to jose's `jwtVerify`, which stays the reference.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-5.2 (JWS validation)
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#Validation
 */
import type { JSONWebKeySet, JWK, JWTPayload } from 'jose';

export interface NativeVerifier {
  /**
   * Whether `signature` (base64url) signs `signingInput` (ASCII `header.payload`) under `jwk` with
   * `alg`; undefined when the alg or the key type is not one it handles.
   */
  verify(alg: string, jwk: JWK, signingInput: string, signature: string): boolean | undefined;
}

let native: NativeVerifier | null = null;

/** Makes logout-token signatures go through `verifier` (null: through jose only). */
export function installNativeVerifier(verifier: NativeVerifier | null): void {
  native = verifier;
}

export function nativeVerifier(): NativeVerifier | null {
  return native;
}

/** The key family an alg needs (RFC 7518 §3.1). */
function familyOf(alg: string): 'RSA' | 'EC' | 'OKP' | null {
  if (/^(RS|PS)(256|384|512)$/.test(alg)) return 'RSA';
  if (/^ES(256|384|512)$/.test(alg)) return 'EC';
  if (alg === 'EdDSA' || alg === 'Ed25519') return 'OKP';
  return null;
}

/**
 * The one key of the set that may verify a token with this header, chosen as jose chooses
 * (kid when the header has one, key type of the alg, `use` sig, `alg` and `key_ops` when given);
 * undefined when none or several match — then jose decides, and refetches for an unknown kid.
 */
export function selectKey(set: JSONWebKeySet, header: { alg: string; kid?: unknown }): JWK | undefined {
  const family = familyOf(header.alg);
  if (!family) return undefined;
  const candidates = set.keys.filter(
    (key) =>
      key.kty === family &&
      (header.kid === undefined || key.kid === header.kid) &&
      (key.use === undefined || key.use === 'sig') &&
      (key.alg === undefined || key.alg === header.alg) &&
      (key.key_ops === undefined || key.key_ops.includes('verify')),
  );
  return candidates.length === 1 ? candidates[0] : undefined;
}

export interface TimeRules {
  clientId: string;
  tolerance: number;
  requireExp: boolean;
  /** Seconds a token without `exp` stays acceptable after its `iat`. */
  maxTokenAge: number;
}

/**
 * The checks jose's `jwtVerify` makes after the signature, for the options the back-channel
 * endpoint passes it (issuer is compared before any of this): our client among `aud`, the
 * required claims present, `exp` and `nbf` with the tolerance, and a token without `exp` no
 * older than `maxTokenAge`. Returns the refusal, or null.
 */
export function claimProblem(claims: JWTPayload, rules: TimeRules, now: number): string | null {
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(rules.clientId)) return 'claim aud is invalid';
  for (const name of rules.requireExp ? ['iat', 'exp', 'jti'] : ['iat', 'jti']) {
    if (claims[name] === undefined) return `claim ${name} is missing`;
  }
  for (const name of ['iat', 'exp', 'nbf'] as const) {
    if (claims[name] !== undefined && typeof claims[name] !== 'number') return `claim ${name} is invalid`;
  }
  if (claims.exp !== undefined && claims.exp <= now - rules.tolerance) return 'token expired';
  if (claims.nbf !== undefined && claims.nbf > now + rules.tolerance) return 'claim nbf is invalid';
  if (claims.exp === undefined && now - rules.tolerance - claims.iat! > rules.maxTokenAge) return 'token expired';
  return null;
}
