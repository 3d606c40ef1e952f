import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { secretFingerprint } from '../../../firmware-protocol/index';
import { secretEnvVar, SecretBytes } from '../../../electron/secrets/index';

describe('a secret read from the store', () => {
  const value = SecretBytes.fromText('ik_super-secret-value', 'backend-api-key');

  it('never prints its value', () => {
    const shown = [
      String(value),
      `${value}`,
      JSON.stringify({ key: value }),
      inspect(value),
      inspect({ nested: { value } }, { depth: 5, showHidden: true }),
      // Concatenation goes through Symbol.toPrimitive, so it masks too.
      '' + (value as unknown as string),
    ];
    for (const text of shown) expect(text).not.toContain('super-secret');
    expect(String(value)).toBe(`[SecretBytes backend-api-key fp=${value.fingerprint}]`);
    expect(JSON.stringify({ key: value })).toBe(
      `{"key":{"secret":"backend-api-key","fingerprint":"${value.fingerprint}"}}`,
    );
  });

  it('reveals on request and fingerprints', () => {
    expect(value.revealText()).toBe('ik_super-secret-value');
    expect(value.fingerprint).toBe(secretFingerprint('ik_super-secret-value'));
  });

  it('maps names to environment variables', () => {
    expect(secretEnvVar('backend-api-key')).toBe('STATION_SECRET_BACKEND_API_KEY');
    expect(secretEnvVar('network-key-line-1')).toBe('STATION_SECRET_NETWORK_KEY_LINE_1');
  });
});
