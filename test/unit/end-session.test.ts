import { describe, expect, it } from 'vitest';
import { buildEndSessionUrl } from '../../src/core/logout/end-session.js';

describe('buildEndSessionUrl', () => {
  const base = {
    clientId: 'app',
    postLogoutRedirectUri: 'https://app.example.com/auth/logout/callback',
    state: 'st4te',
  };

  it('when given every parameter then it sends each once, spec names, in order', () => {
    const url = buildEndSessionUrl('https://op.example.com/session/end', {
      ...base,
      idTokenHint: 'eyJ.x.y',
      logoutHint: 'alice@example.com',
      uiLocales: 'fr-CA fr',
    });
    expect(url.origin + url.pathname).toBe('https://op.example.com/session/end');
    expect([...url.searchParams]).toEqual([
      ['id_token_hint', 'eyJ.x.y'],
      ['client_id', 'app'],
      ['post_logout_redirect_uri', 'https://app.example.com/auth/logout/callback'],
      ['state', 'st4te'],
      ['logout_hint', 'alice@example.com'],
      ['ui_locales', 'fr-CA fr'],
    ]);
  });

  it('when the endpoint already has a query then it keeps it', () => {
    const url = buildEndSessionUrl('https://op.example.com/logout?p=B2C_1_signin&x=1', base);
    expect(url.searchParams.get('p')).toBe('B2C_1_signin');
    expect(url.searchParams.get('x')).toBe('1');
    expect(url.searchParams.get('client_id')).toBe('app');
  });

  it('when the endpoint query has bare flags and encoded values then they are kept byte for byte', () => {
    const url = buildEndSessionUrl('https://op.example.com/logout?flag&x=a%20b&y=c+d', base);
    expect(url.search.startsWith('?flag&x=a%20b&y=c+d&id_token_hint=') || url.search.startsWith('?flag&x=a%20b&y=c+d&client_id=')).toBe(
      true,
    );
  });

  it('when the endpoint query clashes with ours then ours wins and is not duplicated', () => {
    const url = buildEndSessionUrl('https://op.example.com/logout?client_id=other&state=evil', base);
    expect(url.searchParams.getAll('client_id')).toEqual(['app']);
    expect(url.searchParams.getAll('state')).toEqual(['st4te']);
  });

  it('when there is no ID token then client_id still identifies the client', () => {
    const url = buildEndSessionUrl('https://op.example.com/logout', base);
    expect(url.searchParams.has('id_token_hint')).toBe(false);
    expect(url.searchParams.get('client_id')).toBe('app');
  });

  it('when values need escaping then they round-trip exactly', () => {
    const url = buildEndSessionUrl('https://op.example.com/logout', { ...base, logoutHint: 'a b&c=d#e+f%' });
    expect(new URL(url.href).searchParams.get('logout_hint')).toBe('a b&c=d#e+f%');
  });
});
