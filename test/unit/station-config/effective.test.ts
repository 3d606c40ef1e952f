import { describe, expect, it } from 'vitest';
import { checkStationConfig, effectiveConfig, type StationConfig } from '../../../station-config/index';
import { production, type JsonObject } from './fixtures';

function parsed(value: JsonObject): StationConfig {
  const result = checkStationConfig(value);
  if (!result.valid) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

describe('effective config', () => {
  it('masks every secret reference and fills in defaults', () => {
    const value = production();
    (value.recipes as JsonObject[])[0]!.network = { id: 4660, keySecret: 'network-key-line-1' };
    const effective = effectiveConfig(parsed(value), { 'backend-api-key': '0011223344556677' });
    const backend = effective.config.backend as Record<string, unknown>;
    expect(backend.apiKeySecret).toBe('[secret backend-api-key]');
    const recipe = (effective.config.recipes as Array<Record<string, unknown>>)[0]!;
    expect(recipe.network).toEqual({ id: 4660, keySecret: '[secret network-key-line-1]' });
    expect(effective.secrets).toEqual([
      { name: 'backend-api-key', fingerprint: '0011223344556677' },
      { name: 'network-key-line-1', fingerprint: null },
    ]);
    expect(effective.config.$schema).toBeUndefined();
  });

  it('hashes RFC 8785 canonical JSON: key order does not matter, content does', () => {
    const a = production();
    const reordered = Object.fromEntries(Object.entries(production()).reverse()) as JsonObject;
    const first = effectiveConfig(parsed(a));
    expect(effectiveConfig(parsed(reordered)).sha256).toBe(first.sha256);
    expect(
      first.canonicalJson.startsWith(
        '{"accounts":{"idleLogoutMinutes":15},"audit":{"checkpointEvery":100},"backend":{"apiKeySecret":"[secret backend-api-key]","authMode"',
      ),
    ).toBe(true);
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);
    const changed = production();
    (changed.recipes as JsonObject[])[0]!.mcuIdByteOrder = 'reversed';
    expect(effectiveConfig(parsed(changed)).sha256).not.toBe(first.sha256);
  });

  it('writing a default explicitly or leaving it out gives the same hash', () => {
    const explicit = production();
    const implicit = production();
    delete (implicit.backend as JsonObject).timeoutMs; // 15000 is the default
    expect(effectiveConfig(parsed(implicit)).sha256).toBe(effectiveConfig(parsed(explicit)).sha256);
  });
});
