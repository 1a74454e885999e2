/**
 * The session cookie's AES-256-GCM done by `node:crypto`, synchronously: a few microseconds
 * where jose on WebCrypto takes tens (see bench/README.md). The core stays on Web APIs and
 * reads and writes the very same compact JWEs; the Node adapters install this when they are set up.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { installNativeSealing, type NativeSealing } from '../core/session/seal.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Importing a raw key costs more than the cipher itself: each key is imported once. */
const keyObjects = new WeakMap<Uint8Array, KeyObject>();

function keyObject(raw: Uint8Array): KeyObject {
  let key = keyObjects.get(raw);
  if (!key) {
    key = createSecretKey(raw);
    keyObjects.set(raw, key);
  }
  return key;
}

const nodeSealing: NativeSealing = {
  seal(raw, protectedHeader, plaintext) {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', keyObject(raw), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(protectedHeader, 'latin1'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${protectedHeader}..${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  },
  open(raw, protectedHeader, iv, ciphertext, tag) {
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    // jose refuses another IV length; a shorter tag would weaken the check.
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', keyObject(raw), ivBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(protectedHeader, 'latin1'));
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  },
};

/**
 * Installs node:crypto's AES-GCM for every sealed cookie in this process (idempotent). The Node
 * adapters call it when they are set up; call it yourself to give the Hono adapter or
 * `auth.handle()` on Node the same fast path. Values sealed either way open with the other.
 */
export function installNodeSealing(): void {
  installNativeSealing(nodeSealing);
}
