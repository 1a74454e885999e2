import { describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../src/core/return-to.js';

const ORIGIN = 'https://app.example.com';

describe('safeReturnTo', () => {
  it.each([
    ['/', '/'],
    ['/dashboard', '/dashboard'],
    ['/a/b?x=1&y=2#frag', '/a/b?x=1&y=2#frag'],
    ['/path/../other', '/other'],
    ['/%2F%2Fevil.com', '/%2F%2Fevil.com'],
  ])('when given the same-origin path %j then it keeps it as %j', (input, expected) => {
    expect(safeReturnTo(input, ORIGIN)).toBe(expected);
  });

  it.each([
    ['//evil.com'],
    ['//evil.com/path'],
    ['/\\evil.com'],
    ['/\\/evil.com'],
    ['\\\\evil.com'],
    ['/\t/evil.com'],
    ['/\n/evil.com'],
    ['/\r\n/evil.com'],
    ['/ok\u0000'],
    ['https://evil.com'],
    ['http://app.example.com/'],
    ['https://app.example.com/dashboard'],
    ['javascript:alert(1)'],
    ['JavaScript:alert(1)'],
    ['data:text/html,hi'],
    ['evil.com'],
    [''],
    ['/' + 'a'.repeat(3000)],
    ['/.//evil.com'],
    ['/.//evil.com'],
    ['/a/..//evil.com'],
    ['/..//evil.com'],
    ['/%2e%2e//evil.com'],
    ['/%2E/%2e//evil.com/x?y#z'],
    ['/' + 'é'.repeat(400)],
  ])('when given %j then it refuses it', (input) => {
    expect(safeReturnTo(input, ORIGIN)).toBeNull();
  });

  it('when given a non-string then it refuses it', () => {
    expect(safeReturnTo(undefined, ORIGIN)).toBeNull();
    expect(safeReturnTo(['/a'], ORIGIN)).toBeNull();
  });
});
