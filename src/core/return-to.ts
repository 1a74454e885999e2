const MAX_RETURN_TO = 2048;

/**
 * Accepts only same-origin relative paths for every `returnTo` (DESIGN.md §6):
 * refuses `//host`, `/\host`, control characters (tab, CR, LF …), backslashes,
 * absolute and `javascript:` URLs. Returns the normalised path + query + hash, or null.
 */
export function safeReturnTo(value: unknown, origin: string): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO) return null;
  if (!value.startsWith('/') || value.startsWith('//')) return null;
  // Browsers strip tabs and newlines and treat "\" as "/" before resolving: "/\t/evil.com"
  // and "/\\evil.com" would both leave the origin.
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, origin);
  } catch {
    return null;
  }
  if (url.origin !== origin) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}
