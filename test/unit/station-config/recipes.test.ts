import { describe, expect, it } from 'vitest';
import { isFirmwareAllowed, mcuIdForBackend, usbIdEquals } from '../../../station-config/index';
import { isVendorDefaultNetwork } from '../../../firmware-protocol';

describe('recipe rules', () => {
  it('firmware: semver ranges and exact strings', () => {
    const rules = ['>=1.4.0 <2', { exact: '1.3.9-factory' }];
    expect(isFirmwareAllowed(rules, '1.4.0')).toBe(true);
    expect(isFirmwareAllowed(rules, 'v1.9.3')).toBe(true);
    expect(isFirmwareAllowed(rules, '2.0.0')).toBe(false);
    expect(isFirmwareAllowed(rules, '1.5.0-rc1')).toBe(false);
    expect(isFirmwareAllowed(rules, '1.3.9-factory')).toBe(true);
    expect(isFirmwareAllowed(rules, 'garbage')).toBe(false);
    expect(isFirmwareAllowed(['*'], '0.0.1')).toBe(true);
  });

  it('mcuId byte order', () => {
    expect(mcuIdForBackend('0011223344556677', 'as-reported')).toBe('0011223344556677');
    expect(mcuIdForBackend('0011223344556677', 'reversed')).toBe('7766554433221100');
    expect(mcuIdForBackend('00112233445566778899AABB', 'reversed')).toBe('bbaa99887766554433221100');
  });

  it('USB ids compare case-insensitively', () => {
    expect(usbIdEquals('c00a', 'C00A')).toBe(true);
    expect(usbIdEquals(undefined, 'C00A')).toBe(false);
  });
});

describe('default network', () => {
  it('is id 0 or the public key 00..1f under any id', () => {
    expect(isVendorDefaultNetwork(0, undefined)).toBe(true);
    expect(
      isVendorDefaultNetwork(4660, Buffer.from('AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=', 'base64')),
    ).toBe(true);
    expect(isVendorDefaultNetwork(4660, Buffer.alloc(32, 7))).toBe(false);
  });
});
