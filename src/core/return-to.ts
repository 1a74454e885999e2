/** A returnTo travels in a cookie: short enough that the cookie stays far below 4096 bytes. */
const MAX_RETURN_TO = 1024;

/**
 * Accepts only same-origin relative paths for every `returnTo` (SECURITY.md):
 * refuses `//host`, `/\host`, control characters (tab, CR, LF …), backslashes,
 * absolute and `javascript:` URLs. Returns the normalised path + query + hash, or null.
 * The checks run on the input and again on the normalised result: dot segments can turn
 * `/.//evil.example` into `//evil.example`, which a browser reads as another host.
 */
export function safeReturnTo(value: unknown, origin: string): string | null {
  if (!isSafePath(value)) return null;
  let url: URL;
  try {
    url = new URL(value, origin);
  } catch {
    return null;
  }
  if (url.origin !== origin) return null;
  const normalised = `${url.pathname}${url.search}${url.hash}`;
  return isSafePath(normalised) ? normalised : null;
}

function isSafePath(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO) return false;
  if (!value.startsWith('/') || value.startsWith('//')) return false;
  // Browsers strip tabs and newlines and treat "\" as "/" before resolving: "/\t/evil.com"
  // and "/\\evil.com" would both leave the origin.
  return !/[\u0000-\u001f\u007f\\]/.test(value);
}
