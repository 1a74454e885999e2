/** Small Web-standard helpers shared by the core. */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8(value: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(value) as Uint8Array<ArrayBuffer>;
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const NON_ASCII = /[\x80-\xff]/;
/** Characters that may end a base64url text of length 2 (mod 4) and 3 (mod 4): their unused low bits are 0. */
const LAST_OF_2 = /[AQgw]$/;
const LAST_OF_3 = /[AEIMQUYcgkosw048]$/;

/**
 * True for the one canonical unpadded base64url spelling of some bytes (RFC 4648 §3.5): the
 * unused low bits of the last character must be zero. Decoders ignore those bits, so without
 * this check one value has up to 16 spellings that all decode alike.
 */
export function isCanonicalBase64url(text: string): boolean {
  return BASE64URL.test(text) && hasCanonicalEnd(text);
}

/** The length and last-character half of `isCanonicalBase64url`, for text whose alphabet is already checked. */
export function hasCanonicalEnd(text: string): boolean {
  switch (text.length % 4) {
    case 0:
      return true;
    case 2:
      return LAST_OF_2.test(text);
    case 3:
      return LAST_OF_3.test(text);
    default:
      return false;
  }
}

/** The bytes of a base64url text (padding optional); throws on other characters. */
export function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The payload of a compact JWS we already validated (or sealed ourselves), or null when it is not a JSON object. */
export function jwtPayload(jwt: string): Record<string, unknown> | null {
  const start = jwt.indexOf('.') + 1;
  const end = jwt.indexOf('.', start);
  if (start === 0 || end < 0) return null;
  try {
    const binary = atob(jwt.slice(start, end).replaceAll('-', '+').replaceAll('_', '/'));
    // Most payloads are ASCII JSON: the binary string is the text, no byte array needed.
    const text = NON_ASCII.test(binary) ? fromUtf8(Uint8Array.from(binary, (c) => c.charCodeAt(0))) : binary;
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `n` random bytes as base64url: 16 bytes = 128 bits, enough for any unguessable id. */
export function randomId(n = 16): string {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

/** Constant-time comparison of two strings of the same alphabet. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
