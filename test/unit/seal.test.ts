import { describe, expect, it } from 'vitest';
import { Sealer } from '../../src/core/session/seal.js';

const OLD = 'old-secret-old-secret-old-secret-0001';
const NEW = 'new-secret-new-secret-new-secret-0002';

describe('Sealer', () => {
  it('when a payload is sealed then it is a compact JWE that unseals to the same payload', async () => {
    const sealer = await Sealer.create([NEW]);
    const sealed = await sealer.seal({ a: 1, b: 'ü' }, 'session');
    expect(sealed.split('.')).toHaveLength(5);
    expect(JSON.parse(atob(sealed.split('.')[0]!.replace(/-/g, '+').replace(/_/g, '/')))).toMatchObject({ alg: 'dir', enc: 'A256GCM' });
    expect(await sealer.unseal(sealed, 'session')).toEqual({ a: 1, b: 'ü' });
  });

  it('when the secret rotates then old values still unseal and new ones use the newest secret', async () => {
    const before = await Sealer.create([OLD]);
    const sealedOld = await before.seal({ n: 1 }, 'session');
    const after = await Sealer.create([NEW, OLD]);
    expect(await after.unseal(sealedOld, 'session')).toEqual({ n: 1 });
    const sealedNew = await after.seal({ n: 2 }, 'session');
    expect(await before.unseal(sealedNew, 'session')).toBeNull();
    expect(await (await Sealer.create([NEW])).unseal(sealedNew, 'session')).toEqual({ n: 2 });
  });

  it('when a value is opened a second time then it is remembered, frozen and shared; the first reader got its own copy', async () => {
    const sealer = await Sealer.create([NEW]);
    const sealed = await sealer.seal({ user: { role: 'reader' } }, 'session');
    const first = await sealer.unseal<{ user: { role: string } }>(sealed, 'session');
    expect(sealer.cached(sealed, 'session')).toBeUndefined();
    first!.user.role = 'admin';
    const second = await sealer.unseal<{ user: { role: string } }>(sealed, 'session');
    expect(second!.user.role).toBe('reader');
    expect(() => {
      second!.user.role = 'admin';
    }).toThrow(TypeError);
    expect(await sealer.unseal(sealed, 'session')).toBe(second);
    expect(sealer.cached(sealed, 'session')).toBe(second);
  });

  it('when a retired secret is dropped then its values no longer unseal', async () => {
    const sealedOld = await (await Sealer.create([OLD])).seal({ n: 1 }, 'session');
    expect(await (await Sealer.create([NEW])).unseal(sealedOld, 'session')).toBeNull();
  });

  it('when a value sealed for one purpose is read as another then it is refused', async () => {
    const sealer = await Sealer.create([NEW]);
    const tokens = await sealer.seal({ id: 'x' }, 'tokens');
    expect(await sealer.unseal(tokens, 'session')).toBeNull();
    expect(await sealer.unseal(tokens, 'tokens')).toEqual({ id: 'x' });
  });

  it('when a sealed value is tampered, truncated or garbage then it reads as null, never throws', async () => {
    const sealer = await Sealer.create([NEW]);
    const sealed = await sealer.seal({ sub: 'alice' }, 'session');
    const parts = sealed.split('.');
    const flip = (s: string) => (s[5] === 'A' ? `${s.slice(0, 5)}B${s.slice(6)}` : `${s.slice(0, 5)}A${s.slice(6)}`);
    const variants = [
      [parts[0], '', parts[2], flip(parts[3]!), parts[4]].join('.'),
      [parts[0], '', parts[2], parts[3], flip(parts[4]!)].join('.'),
      [parts[0], '', flip(parts[2]!), parts[3], parts[4]].join('.'),
      sealed.slice(0, -10),
      sealed.slice(0, sealed.length / 2),
      'garbage',
      '',
      'a.b.c.d.e',
      `${btoa('{"alg":"none"}')}..x.y.z`,
      'x'.repeat(70_000),
    ];
    for (const value of variants) expect(await sealer.unseal(value, 'session')).toBeNull();
  });

  it('when a MAC is computed then it is stable per secret and differs across secrets', async () => {
    const a = await Sealer.create([NEW]);
    const b = await Sealer.create([OLD]);
    expect(await a.mac('m')).toBe(await (await Sealer.create([NEW])).mac('m'));
    expect(await a.mac('m')).not.toBe(await b.mac('m'));
  });
});
