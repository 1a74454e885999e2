import { describe, expect, it } from 'vitest';
import {
  clearChunked,
  MAX_SET_COOKIE_BYTES,
  parseCookies,
  readChunked,
  serializeCookie,
  writeChunked,
} from '../../src/core/session/cookies.js';

const attrs = { path: '/', secure: true, sameSite: 'Lax' as const, maxAge: 3600 };
const NAME = '__Host-oidc.session';

/** What a browser would send back after applying these Set-Cookie values to `jar`. */
function apply(jar: Map<string, string>, setCookies: string[]): Map<string, string> {
  const next = new Map(jar);
  for (const line of setCookies) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    if (/Max-Age=0\b/.test(line)) next.delete(name);
    else next.set(name, pair!.slice(eq + 1));
  }
  return next;
}

function header(jar: Map<string, string>): string {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

describe('cookies', () => {
  it('when a value fits then it is one cookie with the secure defaults', () => {
    const [line, ...rest] = writeChunked(NAME, 'abc', attrs, new Map());
    expect(rest).toEqual([]);
    expect(line).toBe(`${NAME}=abc; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax`);
  });

  it('when a 10 KB value is written then it is chunked, every Set-Cookie is at most 4096 bytes, and it reads back', () => {
    const value = 'x'.repeat(10 * 1024);
    const lines = writeChunked(NAME, value, attrs, new Map());
    expect(lines.length).toBe(3);
    for (const line of lines) expect(new TextEncoder().encode(line).byteLength).toBeLessThanOrEqual(MAX_SET_COOKIE_BYTES);
    const jar = apply(new Map(), lines);
    expect([...jar.keys()]).toEqual([`${NAME}.0`, `${NAME}.1`, `${NAME}.2`]);
    expect(readChunked(parseCookies(header(jar)), NAME)).toBe(value);
  });

  it('when a chunked value shrinks then the stale chunks are deleted', () => {
    const big = apply(new Map(), writeChunked(NAME, 'y'.repeat(12_000), attrs, new Map()));
    expect(big.size).toBe(3);
    const lines = writeChunked(NAME, 'small', attrs, big);
    const after = apply(big, lines);
    expect([...after.keys()]).toEqual([NAME]);
    expect(readChunked(after, NAME)).toBe('small');
    for (const line of lines.filter((l) => l.includes('Max-Age=0'))) {
      expect(line).toContain('Path=/');
      expect(line).toContain('Secure');
    }
  });

  it('when a value grows from one cookie to chunks then the unchunked cookie is deleted', () => {
    const small = apply(new Map(), writeChunked(NAME, 'small', attrs, new Map()));
    const after = apply(small, writeChunked(NAME, 'z'.repeat(9000), attrs, small));
    expect(after.has(NAME)).toBe(false);
    expect(readChunked(after, NAME)).toBe('z'.repeat(9000));
  });

  it('when a chunk is missing then the value reads truncated (and will not unseal)', () => {
    const jar = apply(new Map(), writeChunked(NAME, 'q'.repeat(9000), attrs, new Map()));
    jar.delete(`${NAME}.1`);
    expect(readChunked(jar, NAME)).toBe('q'.repeat(jar.get(`${NAME}.0`)!.length));
  });

  it('when clearing then every chunk present is deleted, and nothing else', () => {
    const jar = new Map([
      [`${NAME}.0`, 'a'],
      [`${NAME}.1`, 'b'],
      ['other', 'c'],
      [`${NAME}.x`, 'd'],
    ]);
    const lines = clearChunked(NAME, attrs, jar);
    expect(lines.map((l) => l.split('=')[0])).toEqual([`${NAME}.0`, `${NAME}.1`]);
  });

  it('when the Cookie header is messy then parsing keeps the first value and skips junk', () => {
    const cookies = parseCookies(' a=1; ; =x; b ; a=2; c==3; d=');
    expect(cookies.get('a')).toBe('1');
    expect(cookies.get('c')).toBe('=3');
    expect(cookies.get('d')).toBe('');
    expect(cookies.has('b')).toBe(false);
  });

  it('when deleting then the cookie has Max-Age=0 and an Expires in the past', () => {
    expect(serializeCookie('n', '', { ...attrs, maxAge: 0 })).toContain('Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  });
});
