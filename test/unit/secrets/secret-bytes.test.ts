import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SecretBytes } from '../../../electron/secrets';

const RAW = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');

describe('SecretBytes', () => {
  it('never prints its value', () => {
    const secret = SecretBytes.fromBytes(RAW, 'shared-secret');
    const renderings = [
      String(secret),
      `${secret}`,
      JSON.stringify({ secret }),
      inspect(secret),
      inspect({ nested: { secret } }, { depth: 10 }),
    ];
    for (const text of renderings) {
      expect(text).not.toContain(RAW.toString('hex'));
      expect(text).not.toContain(RAW.toString('base64'));
      expect(text).toContain(secret.fingerprint);
    }
    expect(String(secret)).toBe(`[SecretBytes shared-secret fp=${secret.fingerprint}]`);
    expect(JSON.parse(JSON.stringify(secret))).toEqual({
      secret: 'shared-secret',
      fingerprint: secret.fingerprint,
    });
  });

  it('reveals copies and borrows, and compares in constant time', () => {
    const secret = SecretBytes.fromBytes(RAW);
    const copy = secret.reveal();
    copy.fill(0);
    expect(secret.use((b) => b.toString('hex'))).toBe(RAW.toString('hex'));
    expect(secret.equals(RAW)).toBe(true);
    expect(secret.equals(SecretBytes.fromBase64(RAW.toString('base64')))).toBe(true);
    expect(secret.equals(Buffer.alloc(32))).toBe(false);
    expect(SecretBytes.fromText('tok').revealText()).toBe('tok');
    expect(secret.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses reads after wipe', () => {
    const secret = SecretBytes.fromBytes(RAW, 'derived-key');
    secret.wipe();
    expect(secret.wiped).toBe(true);
    expect(() => secret.reveal()).toThrow('derived-key was wiped and can no longer be read');
    expect(String(secret)).toContain('wiped');
  });
});
