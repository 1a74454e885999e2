/**
 * Cookie plumbing between the core's `Set-Cookie` strings and Next.js: its `cookies()` store
 * takes objects, and a proxy forwards cookies to the render it lets through as a request header.
 * Web APIs only.
 */

/** A `Set-Cookie` value as the `cookies().set()` of `next/headers` takes it. */
export interface ParsedSetCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  maxAge?: number;
  expires?: Date;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'lax' | 'strict' | 'none';
  partitioned?: boolean;
}

/** The subset of Next's cookie store this adapter reads and writes. */
export interface CookieStore {
  getAll(): Array<{ name: string; value: string }>;
  set(cookie: ParsedSetCookie): unknown;
  delete(name: string): unknown;
}

/**
 * The `Cookie` header of a cookie store. Next decodes values (`%3B` becomes `;`) when it parses
 * the header; encoding them again keeps a foreign cookie from splitting into several. Ours are
 * base64url and dots, which encoding leaves as they are.
 */
export function cookieHeaderOf(store: Pick<CookieStore, 'getAll'>): string {
  return store
    .getAll()
    .map(({ name, value }) => `${name}=${encodeURIComponent(value)}`)
    .join('; ');
}

/** Parses one `Set-Cookie` value of the kind the core writes (RFC 6265bis §4.1.1). */
export function parseSetCookie(line: string): ParsedSetCookie {
  const [pair = '', ...attributes] = line.split(';');
  const eq = pair.indexOf('=');
  const cookie: ParsedSetCookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() };
  for (const attribute of attributes) {
    const [key = '', ...rest] = attribute.split('=');
    const value = rest.join('=').trim();
    switch (key.trim().toLowerCase()) {
      case 'path':
        cookie.path = value;
        break;
      case 'domain':
        cookie.domain = value;
        break;
      case 'max-age':
        cookie.maxAge = Number(value);
        break;
      case 'expires':
        cookie.expires = new Date(value);
        break;
      case 'httponly':
        cookie.httpOnly = true;
        break;
      case 'secure':
        cookie.secure = true;
        break;
      case 'samesite':
        cookie.sameSite = value.toLowerCase() as ParsedSetCookie['sameSite'];
        break;
      case 'partitioned':
        cookie.partitioned = true;
    }
  }
  return cookie;
}

/** True when the cookie deletes itself (`Max-Age=0`, or an `Expires` in the past). */
export function isRemoval(cookie: ParsedSetCookie): boolean {
  if (cookie.maxAge !== undefined) return cookie.maxAge <= 0;
  return cookie.expires !== undefined && cookie.expires.getTime() <= Date.now();
}

/**
 * The `Cookie` header the browser will send once it has applied `setCookies` to a request for
 * `pathname`: what a proxy hands to the render it lets through, so that a server component sees
 * the refreshed tokens and not the cookie they replaced.
 */
export function cookieHeaderAfter(cookieHeader: string | null, setCookies: readonly string[], pathname: string): string {
  const cookies = new Map<string, string>();
  for (const pair of (cookieHeader ?? '').split(';')) {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    if (eq > 0 && name && !cookies.has(name)) cookies.set(name, pair.slice(eq + 1).trim());
  }
  for (const line of setCookies) {
    const cookie = parseSetCookie(line);
    if (!pathMatches(cookie.path ?? '/', pathname)) continue;
    if (isRemoval(cookie)) cookies.delete(cookie.name);
    else cookies.set(cookie.name, cookie.value);
  }
  return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

/** RFC 6265bis §5.1.4 path-match. */
function pathMatches(cookiePath: string, pathname: string): boolean {
  if (cookiePath === pathname || cookiePath === '/') return true;
  return pathname.startsWith(cookiePath) && (cookiePath.endsWith('/') || pathname[cookiePath.length] === '/');
}
