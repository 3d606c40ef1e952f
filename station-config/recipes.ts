/** Recipe rules the provisioning steps apply to what a board reports. */
import { satisfies, valid } from 'semver';
import type { FirmwareRule, Recipe } from './schema';

/**
 * Whether a firmware version is allowed: an `{exact}` rule compares the string literally; a range rule needs a
 * semver version ("v1.4.2" counts as 1.4.2). Pre-releases match only ranges that name them (semver's own rule),
 * so a release-candidate build cannot slip through ">=1.4.0".
 */
export function isFirmwareAllowed(rules: readonly FirmwareRule[], version: string): boolean {
  return rules.some((rule) => {
    if (typeof rule !== 'string') return rule.exact === version;
    const parsed = valid(version);
    return parsed !== null && satisfies(parsed, rule);
  });
}

/** The mcuId as the backend knows it: the board's hex string as reported, or with its bytes reversed. */
export function mcuIdForBackend(reported: string, order: Recipe['mcuIdByteOrder']): string {
  const hex = reported.toLowerCase();
  if (order === 'as-reported') return hex;
  const bytes = hex.match(/../g) ?? [];
  return bytes.reverse().join('');
}

/** USB ids compare case-insensitively: serialport reports lowercase, lsusb and datasheets vary. */
export function usbIdEquals(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** The vendor's public default network key: bytes 00..1f (infuse-facts "Keys"). */
export const DEFAULT_NETWORK_KEY: Buffer = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

/**
 * Whether a network resolved at run time is the public default one (id 0, or its well-known key under any id).
 * The checker refuses id 0 in production configs; this catches the same network reached by name or by a
 * network-key secret that holds the public key.
 */
export function isDefaultNetwork(networkId: number, key: Uint8Array | undefined): boolean {
  return networkId === 0 || (key !== undefined && Buffer.from(key).equals(DEFAULT_NETWORK_KEY));
}
