/**
 * Shared by the fault tests. Each fault, armed in the real CLI (`--sim-fault`, `--sandbox-fault`, a board's flash
 * file, a config, or the test-only audit size cap), must end in a clear outcome (an error code and an operator message in the
 * summary and the unit record), a complete record (every step that started finished; the unit closed), an intact
 * chain, and never a second device for a chip. Where the fault wears off, a second run finishes the board.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  boardImages,
  expectChainIntact,
  expectCompleteRecord,
  expectProvisioned,
  latestUnitFor,
  provision,
  sandboxDevices,
  type ProvisionRun,
} from './e2e-support';

export const LOOKUP = 'route=/device/soc/{soc}/mcuId/{mcuId}';
export const SANDBOX_CONFIG = join(import.meta.dirname, '../../../station-config/sandbox.json');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document the tests edit freely
export type ConfigJson = Record<string, any>;

/** The sandbox example config, changed by `edit`, written into `dir`. */
export function configFile(dir: string, edit: (config: ConfigJson) => void): string {
  const config = JSON.parse(readFileSync(SANDBOX_CONFIG, 'utf8')) as ConfigJson;
  delete config.$schema;
  edit(config);
  const file = join(dir, 'station.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** One board's run failed with `code` at `step`: summary, unit record and chain all say so. */
export async function expectFailure(dir: string, run: ProvisionRun, step: string, code: RegExp) {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toMatch(/station: 1 of 1 units failed/);
  const unit = run.summary!.units[0]!;
  expect(unit).toMatchObject({ outcome: 'failed', failedStep: step });
  expect(unit.errorCode).toMatch(code);
  expect(unit.message!.length).toBeGreaterThan(20);
  const record = latestUnitFor(dir, unit.mcuId!);
  expect(record).toMatchObject({ state: 'failed', last_step: step });
  expect(record.error_code).toMatch(code);
  const closing = expectCompleteRecord(dir, record.id);
  expect(closing.details.message).toBe(unit.message);
  await expectChainIntact(dir);
  return record;
}

/** No chip ever has two devices; returns how many devices the sandbox holds. */
export function expectOneDevicePerChip(dir: string): number {
  const devices = sandboxDevices(dir);
  expect(new Set(devices.map((d) => `${d.soc}/${d.mcu_id}`)).size).toBe(devices.length);
  return devices.length;
}

export async function expectSecondRunFinishes(dir: string) {
  const again = await provision(dir);
  expect(again.code, again.stderr).toBe(0);
  for (const board of boardImages(dir)) expectProvisioned(dir, board);
  expect(expectOneDevicePerChip(dir)).toBe(1);
  await expectChainIntact(dir);
}
