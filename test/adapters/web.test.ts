import { describe, expect, it } from 'vitest';
import { pathAndQueryOf, publicUrl } from '../../src/adapters/web.js';
import type { Auth } from '../../src/core/types.js';

const auth = { config: { baseUrl: 'http://127.0.0.1:3999' } } as Auth;

describe('adapter request targets', () => {
  it('when the target is not a path then publicUrl falls back to / instead of throwing', () => {
    for (const target of ['*', 'http://x/auth/logout', '', 'evil.example/x', '/%zz?%zz']) {
      expect(() => publicUrl(auth, target)).not.toThrow();
    }
    expect(publicUrl(auth, '*').href).toBe('http://127.0.0.1:3999/');
    expect(publicUrl(auth, 'http://x/auth/logout').href).toBe('http://127.0.0.1:3999/');
    expect(publicUrl(auth, 'evil.example/x').href).toBe('http://127.0.0.1:3999/');
  });

  it('when the path starts with // then it stays a path on the configured origin', () => {
    const url = publicUrl(auth, '//evil.example/x?y=1');
    expect(url.origin).toBe('http://127.0.0.1:3999');
    expect(url.pathname).toBe('//evil.example/x');
  });

  it('when the target is absolute-form or * then pathAndQueryOf keeps only a path', () => {
    expect(pathAndQueryOf('http://x/auth/logout?a=1')).toBe('/auth/logout?a=1');
    expect(pathAndQueryOf('*')).toBe('/');
    expect(pathAndQueryOf(undefined)).toBe('/');
  });
});
