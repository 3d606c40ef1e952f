import { describe, expect, it } from 'vitest';
import {
  credentialKind,
  DEFAULT_SCRYPT_PARAMS,
  hashCredential,
  verifyCredential,
} from '../../../electron/people/index';

const CHEAP = { N: 1024 };

describe('hashCredential / verifyCredential', () => {
  it('round-trips and refuses a wrong value', async () => {
    const stored = await hashCredential('73918264', CHEAP);
    expect(await verifyCredential('73918264', stored)).toBe(true);
    expect(await verifyCredential('73918265', stored)).toBe(false);
    expect(await verifyCredential('', stored)).toBe(false);
  });

  it('uses a fresh 16-byte salt and a 32-byte verifier, and records the parameters', async () => {
    const a = await hashCredential('73918264', CHEAP);
    const b = await hashCredential('73918264', CHEAP);
    expect(Buffer.from(a.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(a.verifier, 'base64')).toHaveLength(32);
    expect(a.salt).not.toBe(b.salt);
    expect(a.verifier).not.toBe(b.verifier);
    expect(a.kdf).toBe('{"algorithm":"scrypt","N":1024,"r":8,"p":1,"keyLength":32}');
  });

  it('defaults to N=2^15, r=8, p=1 and a 32-byte key', () => {
    expect(DEFAULT_SCRYPT_PARAMS).toEqual({ algorithm: 'scrypt', N: 32768, r: 8, p: 1, keyLength: 32 });
  });

  it('verifies with the parameters stored with the record, not the defaults', async () => {
    const stored = await hashCredential('correct horse', { N: 2048, r: 4, keyLength: 24 });
    expect(JSON.parse(stored.kdf)).toEqual({ algorithm: 'scrypt', N: 2048, r: 4, p: 1, keyLength: 24 });
    expect(Buffer.from(stored.verifier, 'base64')).toHaveLength(24);
    expect(await verifyCredential('correct horse', stored)).toBe(true);
    // Same salt and verifier under other parameters: the derived key differs, so the record no longer matches.
    const relabelled = { ...stored, kdf: stored.kdf.replace('"N":2048', '"N":1024') };
    expect(await verifyCredential('correct horse', relabelled)).toBe(false);
  });

  it('refuses unusable parameters, for new hashes and stored records alike', async () => {
    await expect(hashCredential('73918264', { N: 1000 })).rejects.toThrow(/power of two/);
    await expect(hashCredential('73918264', { keyLength: 4 })).rejects.toThrow(/keyLength/);
    await expect(hashCredential('73918264', { N: 2 ** 20, r: 16 })).rejects.toThrow(/1 GiB/);
    const stored = await hashCredential('73918264', CHEAP);
    await expect(verifyCredential('73918264', { ...stored, kdf: 'not json' })).rejects.toThrow(
      /unreadable kdf/,
    );
    await expect(
      verifyCredential('73918264', { ...stored, kdf: stored.kdf.replace('scrypt', 'md5') }),
    ).rejects.toThrow(/algorithm/);
  });

  it('treats a composed and a decomposed accent as the same password', async () => {
    const stored = await hashCredential('caf\u00e9-latte', CHEAP);
    expect(await verifyCredential('cafe\u0301-latte', stored)).toBe(true);
  });

  it('does not block the event loop while hashing', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await hashCredential('73918264', { N: 2 ** 14 });
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('credentialKind', () => {
  it('calls 4 to 12 digits a PIN', () => {
    expect(credentialKind('1234')).toBe('pin');
    expect(credentialKind('123456789012')).toBe('pin');
  });

  it('calls 8 or more characters that are not only digits a password', () => {
    expect(credentialKind('abcdefgh')).toBe('password');
    expect(credentialKind('1234567a')).toBe('password');
    expect(credentialKind('correct horse battery staple')).toBe('password');
  });

  it.each(['', '123', 'abc', 'abcdefg', '1234567890123', ' 1234', 'x'.repeat(129)])(
    'refuses %j with the rule',
    (value) => {
      expect(() => credentialKind(value)).toThrow(
        'a PIN is 4 to 12 digits; a password is 8 to 128 characters and not only digits',
      );
    },
  );
});
