/**
 * The effective config: the checked config with its defaults filled in and every secret reference masked, plus a
 * SHA-256 of its RFC 8785 canonical JSON. The audit trail stores it when a batch opens, so QA knows exactly which
 * recipe each unit was made with, and two batches made with the same settings carry the same hash whatever the
 * key order, comments or whitespace of the file.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { looksLikeSecretValue } from './check';
import type { StationConfig } from './schema';

export interface SecretFingerprint {
  name: string;
  /** First 8 bytes of the secret's SHA-256 as hex (secretFingerprint), or null when the secret is missing. */
  fingerprint: string | null;
}

export interface EffectiveConfig {
  /** The config as the station runs it; secret references read "[secret <name>]". */
  config: Record<string, unknown>;
  /** RFC 8785 canonical JSON of `config`: what the hash covers. */
  canonicalJson: string;
  /** SHA-256 (hex) of canonicalJson. */
  sha256: string;
  /** Fingerprints of the secrets the config references, when the caller knows them (not part of the hash). */
  secrets: SecretFingerprint[];
}

/** The value a masked secret reference shows, here and in the secret store's wrappers. */
export function maskedSecret(name: string): string {
  return `[secret ${name}]`;
}

export function effectiveConfig(
  config: StationConfig,
  fingerprints: Record<string, string | null> = {},
): EffectiveConfig {
  const masked = mask(JSON.parse(JSON.stringify(config)) as unknown) as Record<string, unknown>;
  delete masked.$schema; // where the editor finds the schema changes nothing the station does
  const canonicalJson = canonicalize(masked) ?? 'null';
  const referenced = secretReferences(config);
  return {
    config: masked,
    canonicalJson,
    sha256: createHash('sha256').update(canonicalJson, 'utf8').digest('hex'),
    secrets: referenced.map((name) => ({ name, fingerprint: fingerprints[name] ?? null })),
  };
}

/** Names of the secrets a config references, in order of first use. */
export function secretReferences(config: StationConfig): string[] {
  const names = new Set<string>();
  if (config.backend.mode === 'remote') names.add(config.backend.apiKeySecret);
  for (const recipe of config.recipes) if (recipe.network?.keySecret) names.add(recipe.network.keySecret);
  return [...names];
}

function mask(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => mask(item));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, k)]));
  }
  if (typeof value === 'string') {
    if (key !== undefined && /Secret$/.test(key)) return maskedSecret(value);
    // Defence in depth: a checked config holds no key material, but a record that might would be worse than none.
    if (looksLikeSecretValue(value)) return '[redacted]';
  }
  return value;
}
