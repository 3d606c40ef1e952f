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
