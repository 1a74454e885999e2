import { CompactEncrypt, compactDecrypt } from 'jose';
import { base64url, fromUtf8, hasCanonicalEnd, utf8 } from '../encoding.js';

/**
 * What a sealed value is for. Each purpose has its own key (HKDF `info`), so a value
 * sealed for one purpose can never be read as another (a tokens cookie pasted into
 * the session cookie's place, a transaction cookie replayed as a logout state, …).
 */
export type SealPurpose = 'session' | 'tokens' | 'transaction' | 'logout' | 'csrf';

const PURPOSES: readonly SealPurpose[] = ['session', 'tokens', 'transaction', 'logout', 'csrf'];
const ENC = 'A256GCM';
/** Decrypted values remembered per purpose. */
const CACHE_LIMIT = 2048;
const MAX_SEALED_LENGTH = 65_536;
/** Compact JWE with `dir` (an empty encrypted key): header..iv.ciphertext.tag, all base64url. */
const COMPACT_JWE_DIR = /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Slots of the admission filter (a power of two): see `Sealer.#admit`. */
const SEEN_SLOTS = 1 << 16;

/**
 * Compact-JWE `dir` + `A256GCM` done by a runtime's own crypto module, synchronously: what
 * WebCrypto and jose do in tens of microseconds, Node's `node:crypto` does in a few. The core
 * never imports one; the Node adapters install theirs (`installNativeSealing`). Both paths
 * read and write the same format, so values sealed by either open with the other.
 */
export interface NativeSealing {
  /** `protectedHeader..iv.ciphertext.tag` (base64url parts) of `plaintext` (UTF-8), AAD = ASCII(protectedHeader). */
  seal(key: Uint8Array, protectedHeader: string, plaintext: string): string;
  /** The plaintext of base64url parts, or null when the iv or tag is malformed or the value does not authenticate. */
  open(key: Uint8Array, protectedHeader: string, iv: string, ciphertext: string, tag: string): string | null;
}

let native: NativeSealing | null = null;

/** Makes every Sealer use `sealing` (null: back to jose). */
export function installNativeSealing(sealing: NativeSealing | null): void {
  native = sealing;
}

interface DerivedKey {
  purpose: SealPurpose;
  kid: string;
  key: CryptoKey;
  /** The raw key, for a native AES-GCM. */
  raw: Uint8Array;
  /** base64url of the protected header this key seals under: `{"alg":"dir","enc":"A256GCM","kid":…}`. */
  header: string;
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
  readonly #openKeys: ReadonlyMap<string, DerivedKey>;
  /** Keys by the exact protected header they seal under: our own values take the native path. */
  readonly #byHeader: ReadonlyMap<string, DerivedKey>;
  readonly #hmacKey: CryptoKey;
  // Reading the session is the hot path: a value that already decrypted once maps to its
  // payload (one map per purpose). Expiry is checked by the caller every time.
  readonly #cache = new Map<SealPurpose, Map<string, Opened>>(PURPOSES.map((purpose) => [purpose, new Map()]));

  private constructor(sealKeys: Map<SealPurpose, DerivedKey>, openKeys: Map<string, DerivedKey>, hmacKey: CryptoKey) {
    this.#sealKeys = sealKeys;
    this.#openKeys = openKeys;
    this.#byHeader = new Map([...openKeys.values()].map((derived) => [derived.header, derived]));
    this.#hmacKey = hmacKey;
  }

  static async create(secrets: readonly string[]): Promise<Sealer> {
    const sealKeys = new Map<SealPurpose, DerivedKey>();
    const openKeys = new Map<string, DerivedKey>();
    for (const [index, secret] of secrets.entries()) {
      for (const purpose of PURPOSES) {
        const derived = await deriveKey(secret, purpose);
        if (index === 0) sealKeys.set(purpose, derived);
        openKeys.set(derived.kid, derived);
      }
    }
    return new Sealer(sealKeys, openKeys, await deriveHmacKey(secrets[0] ?? ''));
  }

  async seal(payload: unknown, purpose: SealPurpose): Promise<string> {
    const { kid, key, raw, header } = this.#sealKeys.get(purpose)!;
    const json = JSON.stringify(payload);
    if (native) return native.seal(raw, header, json);
    return new CompactEncrypt(utf8(json)).setProtectedHeader({ alg: 'dir', enc: ENC, kid }).encrypt(key);
  }

  /** The payload this exact value already unsealed to, if it is remembered: no promise for the hot path. */
  cached<T>(value: string, purpose: SealPurpose): T | undefined {
    const opened = this.#cache.get(purpose)!.get(cacheKey(value));
    // The whole value must match: the key only finds the entry.
    return opened?.value === value ? (opened.payload as T) : undefined;
  }

  /** The payload, or null for anything that is not a value we sealed for this purpose. */
  async unseal<T>(value: string, purpose: SealPurpose): Promise<T | null> {
    const cached = this.cached<T>(value, purpose);
    if (cached !== undefined) return cached;
    const payload = await this.#decrypt(value, purpose);
    // Remembered, it is shared by every request carrying this cookie: frozen, so no request (or
    // app code) may change what the next one sees. Not remembered, it is this request's alone.
    if (payload !== null && this.#admit(value)) remember(this.#cache.get(purpose)!, value, deepFreeze(payload));
    return payload as T | null;
  }

  // A value is remembered the second time it is opened, not the first: with many users each
  // sending their cookie once in a while, remembering every value would only churn the cache
  // (and the garbage collector's old generation). A slot per hash of the tag, wiped when full.
  readonly #seen = new Uint8Array(SEEN_SLOTS);
  #seenCount = 0;

  #admit(value: string): boolean {
    let hash = 0;
    for (let i = value.length - 22; i < value.length; i++) hash = (Math.imul(hash, 31) + value.charCodeAt(i)) | 0;
    const slot = hash & (SEEN_SLOTS - 1);
    if (this.#seen[slot] === 1) return true;
    if (++this.#seenCount > SEEN_SLOTS / 2) {
      this.#seen.fill(0);
      this.#seenCount = 0;
    }
    this.#seen[slot] = 1;
    return false;
  }

  /** HMAC-SHA256 of a message with a key derived from the newest secret, base64url. */
  async mac(message: string): Promise<string> {
    return base64url(new Uint8Array(await crypto.subtle.sign('HMAC', this.#hmacKey, utf8(message))));
  }

  async #decrypt(value: string, purpose: SealPurpose): Promise<unknown> {
    // Cheap shape check first, one pass: five base64url parts, the second (the encrypted key of `dir`) empty.
    if (value.length > MAX_SEALED_LENGTH || !COMPACT_JWE_DIR.test(value)) return null;
    const first = value.indexOf('.');
    const second = value.indexOf('.', first + 2);
    const third = value.indexOf('.', second + 1);
    const header = value.slice(0, first);
    const iv = value.slice(first + 2, second);
    const ciphertext = value.slice(second + 1, third);
    const tag = value.slice(third + 1);
    // One value, one spelling: decoders ignore the spare bits of a last character, so a
    // respelled cookie would open alike and dodge every cache keyed by the cookie string.
    if (!hasCanonicalEnd(header) || !hasCanonicalEnd(iv) || !hasCanonicalEnd(ciphertext) || !hasCanonicalEnd(tag)) return null;
    const ours = this.#byHeader.get(header);
    // A header that is byte for byte one we seal under holds nothing jose would judge
    // differently (no `crit`, no `zip`, known alg, enc and kid): the native path may open it.
    let plaintext: string | null;
    if (native && ours) plaintext = ours.purpose === purpose ? native.open(ours.raw, header, iv, ciphertext, tag) : null;
    else plaintext = await this.#joseDecrypt(value, purpose);
    if (plaintext === null) return null;
    try {
      const payload: unknown = JSON.parse(plaintext);
      return typeof payload === 'object' && payload !== null ? payload : null;
    } catch {
      return null;
    }
  }

  async #joseDecrypt(value: string, purpose: SealPurpose): Promise<string | null> {
    try {
      const { plaintext } = await compactDecrypt(
        value,
        (header) => {
          const derived = typeof header.kid === 'string' ? this.#openKeys.get(header.kid) : undefined;
          if (!derived || derived.purpose !== purpose) throw new Error('unknown key');
          return derived.key;
        },
        { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: [ENC] },
      );
      return fromUtf8(plaintext);
    } catch {
      return null;
    }
  }
}

/** A value this Sealer opened, and what it held. */
interface Opened {
  value: string;
  payload: unknown;
}

/**
 * Where an opened value is remembered: its last 22 characters, the base64url of its 128-bit
 * GCM tag. Hashing those instead of the whole cookie (hundreds of characters, a new string on
 * every request) is most of what a cache hit costs; the caller still compares the whole value.
 */
function cacheKey(value: string): string {
  return value.slice(-22);
}

/** A bounded FIFO: past the limit the oldest entry goes (Map keeps insertion order). */
function remember(cache: Map<string, Opened>, value: string, payload: unknown): void {
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(cacheKey(value), { value, payload });
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
  const kid = `${purpose}.${base64url(digest.subarray(0, 6))}`;
  // The same JSON, member for member, that jose's CompactEncrypt writes for this header.
  const header = base64url(utf8(JSON.stringify({ alg: 'dir', enc: ENC, kid })));
  return { purpose, kid, key, raw, header };
}

async function deriveHmacKey(secret: string): Promise<CryptoKey> {
  return (await hkdf(secret, 'oidc-session/v1/mac', { name: 'HMAC', hash: 'SHA-256' })).key;
}
