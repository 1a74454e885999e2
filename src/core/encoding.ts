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
/** Characters that may end a base64url text of length 2 (mod 4) and 3 (mod 4): their unused low bits are 0. */
const LAST_OF_2 = /[AQgw]$/;
const LAST_OF_3 = /[AEIMQUYcgkosw048]$/;

/**
 * True for the one canonical unpadded base64url spelling of some bytes (RFC 4648 §3.5): the
 * unused low bits of the last character must be zero. Decoders ignore those bits, so without
 * this check one value has up to 16 spellings that all decode alike.
 */
export function isCanonicalBase64url(text: string): boolean {
  if (!BASE64URL.test(text)) return false;
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
  const payload = jwt.split('.')[1];
  if (payload === undefined) return null;
  try {
    const value: unknown = JSON.parse(fromUtf8(fromBase64url(payload)));
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
