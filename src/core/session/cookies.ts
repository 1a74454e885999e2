/**
 * Cookie parsing, serialisation and chunking.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1 (syntax; §5.6 limits, §4.1.3 prefixes)
 */

/** RFC 6265bis §5.6: user agents must accept name + value + attributes of at least 4096 bytes. */
export const MAX_SET_COOKIE_BYTES = 4096;

export interface CookieAttributes {
  path: string;
  secure: boolean;
  sameSite: 'Lax' | 'Strict';
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
}

/**
 * Parses a `Cookie` header into a map; the first value of a repeated name wins, bad pairs are
 * skipped. With `prefixes`, only names starting with one of them are kept: an app's analytics
 * and preference cookies cost a scan, not a map entry each.
 */
export function parseCookies(header: string | null | undefined, prefixes?: readonly string[]): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (!name || cookies.has(name)) continue;
    if (prefixes && !prefixes.some((prefix) => name.startsWith(prefix))) continue;
    cookies.set(name, pair.slice(eq + 1).trim());
  }
  return cookies;
}

export function serializeCookie(name: string, value: string, attrs: CookieAttributes): string {
  let out = `${name}=${value}; Path=${attrs.path}; Max-Age=${Math.max(0, Math.floor(attrs.maxAge))}`;
  if (attrs.maxAge <= 0) out += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  out += '; HttpOnly';
  if (attrs.secure) out += '; Secure';
  return `${out}; SameSite=${attrs.sameSite}`;
}

/** A `Set-Cookie` value that deletes `name`, with the attributes it was set with (spec §5.7). */
export function deleteCookie(name: string, attrs: Omit<CookieAttributes, 'maxAge'>): string {
  return serializeCookie(name, '', { ...attrs, maxAge: 0 });
}

/** Names of the chunks of `name` present in a request: `name` itself, or `name.0`, `name.1`, … */
export function chunkNames(cookies: Map<string, string>, name: string): string[] {
  const names: string[] = [];
  if (cookies.has(name)) names.push(name);
  for (const key of cookies.keys()) {
    if (key.startsWith(`${name}.`) && /^\d{1,3}$/.test(key.slice(name.length + 1))) names.push(key);
  }
  return names;
}

/**
 * Reads a possibly chunked cookie: `name` when unchunked, else `name.0` + `name.1` + …
 * up to the first gap. A missing chunk gives a truncated value that will not unseal.
 */
export function readChunked(cookies: Map<string, string>, name: string): string | undefined {
  const whole = cookies.get(name);
  if (whole !== undefined) return whole;
  let value = '';
  for (let i = 0; ; i++) {
    const chunk = cookies.get(`${name}.${i}`);
    if (chunk === undefined) return i === 0 ? undefined : value;
    value += chunk;
  }
}

/**
 * `Set-Cookie` values that store `value` under `name`, split into `name.0`, `name.1`, …
 * when one cookie would pass 4096 bytes, and that delete every chunk the request had
 * that the new value no longer uses (a shrinking session leaves no stale tail).
 */
export function writeChunked(name: string, value: string, attrs: CookieAttributes, existing: Map<string, string>): string[] {
  const single = serializeCookie(name, value, attrs);
  const written = new Map<string, string>();
  if (byteLength(single) <= MAX_SET_COOKIE_BYTES) {
    written.set(name, single);
  } else {
    // Room for the value in one chunk: the limit minus the longest chunk name's overhead.
    const overhead = byteLength(serializeCookie(`${name}.999`, '', attrs));
    const size = MAX_SET_COOKIE_BYTES - overhead;
    for (let i = 0, offset = 0; offset < value.length; i++, offset += size) {
      written.set(`${name}.${i}`, serializeCookie(`${name}.${i}`, value.slice(offset, offset + size), attrs));
    }
  }
  const stale = chunkNames(existing, name).filter((n) => !written.has(n));
  return [...written.values(), ...stale.map((n) => deleteCookie(n, attrs))];
}

/** `Set-Cookie` values deleting `name` and every chunk of it present in the request. */
export function clearChunked(name: string, attrs: Omit<CookieAttributes, 'maxAge'>, existing: Map<string, string>): string[] {
  return chunkNames(existing, name).map((n) => deleteCookie(n, attrs));
}

// Sealed values are base64url and dots (ASCII), but names and paths may not be.
function byteLength(value: string): number {
  let bytes = value.length;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) bytes += 2;
  return bytes;
}
