import { CompactEncrypt, compactDecrypt } from 'jose';
import { base64url, fromUtf8, utf8 } from '../encoding.js';

/**
 * What a sealed value is for. Each purpose has its own key (HKDF `info`), so a value
 * sealed for one purpose can never be read as another (a tokens cookie pasted into
 * the session cookie's place, a transaction cookie replayed as a logout state, …).
 */
export type SealPurpose = 'session' | 'tokens' | 'transaction' | 'logout' | 'csrf';

const PURPOSES: readonly SealPurpose[] = ['session', 'tokens', 'transaction', 'logout', 'csrf'];
const ENC = 'A256GCM';
const CACHE_LIMIT = 2048;

interface DerivedKey {
  kid: string;
  key: CryptoKey;
}

/**
 * Seals JSON payloads into compact JWEs (`dir` + `A256GCM`) with keys derived by
 * HKDF-SHA256 from the configured secrets. The first secret seals; every secret
 * unseals, found by `kid` rather than by trial (rotation without a decrypt per key).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7516 JWE
 * @see https://www.rfc-editor.org/rfc/rfc5869 HKDF
 */
export class Sealer {
  readonly #sealKeys: ReadonlyMap<SealPurpose, DerivedKey>;
  readonly #openKeys: ReadonlyMap<string, CryptoKey>;
  readonly #hmacKey: CryptoKey;
  // Reading the session is the hot path: a value that already decrypted once maps to its
  // payload, keyed by the exact sealed string. Expiry is checked by the caller every time.
  readonly #cache = new Map<string, unknown>();

  private constructor(sealKeys: Map<SealPurpose, DerivedKey>, openKeys: Map<string, CryptoKey>, hmacKey: CryptoKey) {
    this.#sealKeys = sealKeys;
    this.#openKeys = openKeys;
    this.#hmacKey = hmacKey;
  }

  static async create(secrets: readonly string[]): Promise<Sealer> {
    const sealKeys = new Map<SealPurpose, DerivedKey>();
    const openKeys = new Map<string, CryptoKey>();
    for (const [index, secret] of secrets.entries()) {
      for (const purpose of PURPOSES) {
        const derived = await deriveKey(secret, purpose);
        if (index === 0) sealKeys.set(purpose, derived);
        openKeys.set(derived.kid, derived.key);
      }
    }
    return new Sealer(sealKeys, openKeys, await deriveHmacKey(secrets[0] ?? ''));
  }

  async seal(payload: unknown, purpose: SealPurpose): Promise<string> {
    const { kid, key } = this.#sealKeys.get(purpose)!;
    return new CompactEncrypt(utf8(JSON.stringify(payload))).setProtectedHeader({ alg: 'dir', enc: ENC, kid }).encrypt(key);
  }

  /** The payload, or null for anything that is not a value we sealed for this purpose. */
  async unseal<T>(value: string, purpose: SealPurpose): Promise<T | null> {
    const cacheKey = `${purpose}:${value}`;
    const cached = this.#cache.get(cacheKey);
    if (cached !== undefined) return cached as T;
    const payload = await this.#decrypt(value, purpose);
    // Frozen: the cached object is shared by every request carrying this cookie, so no
    // request (or app code) may change what the next one sees.
    if (payload !== null) this.#remember(cacheKey, deepFreeze(payload));
    return payload as T | null;
  }

  /** HMAC-SHA256 of a message with a key derived from the newest secret, base64url. */
  async mac(message: string): Promise<string> {
    return base64url(new Uint8Array(await crypto.subtle.sign('HMAC', this.#hmacKey, utf8(message))));
  }

  async #decrypt(value: string, purpose: SealPurpose): Promise<unknown> {
    // Cheap shape check first: five base64url parts, nothing else.
    if (value.length > 65_536 || !/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value)) {
      return null;
    }
    try {
      const { plaintext } = await compactDecrypt(
        value,
        (header) => {
          const key = typeof header.kid === 'string' ? this.#openKeys.get(header.kid) : undefined;
          if (!key || !header.kid!.startsWith(`${purpose}.`)) throw new Error('unknown key');
          return key;
        },
        { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: [ENC] },
      );
      const payload: unknown = JSON.parse(fromUtf8(plaintext));
      return typeof payload === 'object' && payload !== null ? payload : null;
    } catch {
      return null;
    }
  }

  #remember(key: string, payload: unknown): void {
    if (this.#cache.size >= CACHE_LIMIT) {
      // Drop the oldest entry (Map keeps insertion order): a simple bounded FIFO.
      this.#cache.delete(this.#cache.keys().next().value!);
    }
    this.#cache.set(key, payload);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

async function hkdf(secret: string, info: string, usage: AesKeyGenParams | HmacImportParams): Promise<{ raw: Uint8Array; key: CryptoKey }> {
  const ikm = await crypto.subtle.importKey('raw', utf8(secret), 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: utf8('oidc-session'), info: utf8(info) }, ikm, 256);
  const raw = new Uint8Array(bits);
  const usages: KeyUsage[] = usage.name === 'HMAC' ? ['sign'] : ['encrypt', 'decrypt'];
  return { raw, key: await crypto.subtle.importKey('raw', raw, usage, false, usages) };
}

async function deriveKey(secret: string, purpose: SealPurpose): Promise<DerivedKey> {
  const { raw, key } = await hkdf(secret, `oidc-session/v1/${purpose}`, { name: 'AES-GCM', length: 256 });
  // The kid names the purpose and fingerprints the key; it reveals nothing of the secret.
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', raw as Uint8Array<ArrayBuffer>));
  return { kid: `${purpose}.${base64url(digest.subarray(0, 6))}`, key };
}

async function deriveHmacKey(secret: string): Promise<CryptoKey> {
  return (await hkdf(secret, 'oidc-session/v1/mac', { name: 'HMAC', hash: 'SHA-256' })).key;
}
