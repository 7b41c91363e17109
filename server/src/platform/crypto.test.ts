// S2/F1: sealed values are confidential, bound to their context, tamper-evident, and still
// open after the master key rotates.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, createKeyRing, randomToken, sha256Hex } from './crypto.js';

describe('key ring', () => {
  const master = randomBytes(32);

  it('S2: seals and opens a value; the plaintext does not appear in the sealed form', () => {
    const ring = createKeyRing(master);
    const sealed = ring.seal('JBSWY3DPEHPK3PXP', 'totp:user-1');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(sealed.startsWith(`v1.${ring.currentKeyId}.`)).toBe(true);
    expect(ring.open(sealed, 'totp:user-1').toString()).toBe('JBSWY3DPEHPK3PXP');
  });

  it('S2/ciphertext swap: a value sealed for one context does not open in another', () => {
    const ring = createKeyRing(master);
    const sealed = ring.seal('secret', 'totp:user-1');
    expect(() => ring.open(sealed, 'totp:user-2')).toThrow();
  });

  it('S2/tampering: a modified ciphertext or tag is refused', () => {
    const ring = createKeyRing(master);
    const parts = ring.seal('secret', 'c').split('.');
    const flipped = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    expect(() =>
      ring.open([...parts.slice(0, 3), flipped(parts[3]!), parts[4]].join('.'), 'c'),
    ).toThrow();
    expect(() => ring.open([...parts.slice(0, 4), flipped(parts[4]!)].join('.'), 'c')).toThrow();
  });

  it('S2/rotation: values sealed under the previous master key still open; new ones use the new key', () => {
    const old = createKeyRing(master);
    const sealed = old.seal('kept', 'c');
    const rotated = createKeyRing(randomBytes(32), [master]);
    expect(rotated.open(sealed, 'c').toString()).toBe('kept');
    expect(rotated.currentKeyId).not.toBe(old.currentKeyId);
    expect(createKeyRing(randomBytes(32)).currentKeyId).not.toBe(old.currentKeyId);
    expect(() => createKeyRing(randomBytes(32)).open(sealed, 'c')).toThrow(/unknown/);
  });

  it('tokens are 256-bit random and stored as SHA-256', () => {
    const token = randomToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(randomToken()).not.toBe(token);
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(constantTimeEqual('a', 'a')).toBe(true);
    expect(constantTimeEqual('a', 'b')).toBe(false);
    expect(constantTimeEqual('a', 'ab')).toBe(false);
  });
});
