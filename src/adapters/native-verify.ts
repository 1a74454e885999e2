/**
 * Logout-token signatures checked by `node:crypto`, synchronously, with each key imported
 * once. The core stays on Web APIs and decides everything else (native-jws.ts); the Node
 * adapters install this when they are set up.
 */
import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { JWK } from 'jose';
import { installNativeVerifier, type NativeVerifier } from '../core/logout/native-jws.js';

const HASHES: Record<string, string> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

// Keys come from a key set the core keeps while it is fresh: the same objects, imported once.
const keys = new WeakMap<JWK, KeyObject>();

function keyOf(jwk: JWK): KeyObject {
  let key = keys.get(jwk);
  if (!key) {
    key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    keys.set(jwk, key);
  }
  return key;
}

const nodeVerifier: NativeVerifier = {
  verify(alg, jwk, signingInput, signature) {
    const eddsa = alg === 'EdDSA' || alg === 'Ed25519';
    const hash = HASHES[alg];
    if (!hash && !eddsa) return undefined;
    let key: KeyObject;
    try {
      key = keyOf(jwk);
    } catch {
      return undefined;
    }
    const data = Buffer.from(signingInput, 'latin1');
    const sig = Buffer.from(signature, 'base64url');
    try {
      if (eddsa) return verify(null, data, key, sig);
      if (alg.startsWith('PS')) {
        return verify(hash!, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, sig);
      }
      // JWS ECDSA signatures are r || s (IEEE P1363), not DER.
      return verify(hash!, data, alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' } : key, sig);
    } catch {
      return false;
    }
  },
};

/**
 * Checks logout-token signatures with node:crypto in this process (idempotent). The Node
 * adapters call it when they are set up; jose stays the path for anything it does not handle.
 */
export function installNodeVerifier(): void {
  installNativeVerifier(nodeVerifier);
}
