/**
 * Crash tests: `station provision` killed with SIGKILL (by the test-only STATION_TEST_CRASH_AFTER hook at a journal
 * boundary, or from outside at a random moment), then started again on the same data folder. After every crash
 * and at the end: never two devices for a chip, the chain verifies, no unit needs a supervisor; at the end every
 * board is provisioned (its credentials match the cloud and its passed record) and every unit's record is closed.
 */
import { expect } from 'vitest';
import {
  auditUnits,
  boardImages,
  expectChainIntact,
  expectCompleteRecord,
  expectProvisioned,
  provision,
  sandboxDevices,
} from './e2e-support';

/** Every journal boundary of one unit, in the order the workflow reaches them (sandbox recipe: no lock). */
export const BOUNDARIES: readonly string[] = [
  'unit.started',
  'step.started:connect',
  'step.finished:connect',
  'step.started:identify',
  'unit.identified',
  'step.finished:identify',
  'step.started:recipe-checks',
  'step.finished:recipe-checks',
  'step.started:device-record',
  'step.intent:device-record',
  'step.finished:device-record',
  'step.started:cloud-key',
  'step.finished:cloud-key',
  'step.started:key-agreement',
  'step.finished:key-agreement',
  'step.started:mqtt-token',
  'step.finished:mqtt-token',
  'step.started:write-credentials',
  'step.intent:write-credentials',
  'step.finished:write-credentials',
  'step.started:verify',
  'step.finished:verify',
  'step.started:finish',
  'step.finished:finish',
  'step.started:communication-check',
  'step.finished:communication-check',
  'unit.finished',
];

export const BOARDS = 2;

export function expectSafeAfterCrash(dir: string): void {
  const devices = sandboxDevices(dir);
  expect(new Set(devices.map((d) => `${d.soc}/${d.mcu_id}`)).size).toBe(devices.length);
  expect(devices.length).toBeLessThanOrEqual(BOARDS);
  // A board never holds a device id the cloud does not have for its chip.
  for (const board of boardImages(dir)) {
    if (!board.credentials) continue;
    const device = devices.find((d) => d.mcu_id === board.identity.mcuId);
    expect(device?.device_id, `board ${board.identity.mcuId}`).toBe(board.credentials.deviceId);
  }
  expect(auditUnits(dir).filter((u) => u.state === 'attention')).toEqual([]);
}

/**
 * Crash at each boundary in turn (the first board to reach it), restarting on the same folder each time: since a
 * run dies at the first board reaching its boundary, no board has passed that boundary before, so each crash
 * happens exactly there, on a unit in its natural state.
 */
export async function crashChain(dir: string, boundaries: readonly string[]): Promise<void> {
  for (const [i, boundary] of boundaries.entries()) {
    const run = await provision(dir, {
      sim: BOARDS,
      env: { STATION_TEST_HOOKS: '1', STATION_TEST_CRASH_AFTER: boundary },
    });
    expect(run.signal, `${boundary}: ${run.stderr}`).toBe('SIGKILL');
    expect(run.stderr).toContain(`test hook: SIGKILL after ${boundary}#1`);
    if (i > 0) expect(run.stderr, boundary).toMatch(/reconciled unit \S+: interrupted/);
    expectSafeAfterCrash(dir);
    await expectChainIntact(dir);
  }
}

/** A clean run after the crashes: everything settles and every board ends provisioned. */
export async function expectRecovered(dir: string): Promise<void> {
  const run = await provision(dir, { sim: BOARDS });
  expect(run.code, run.stderr).toBe(0);
  expectSafeAfterCrash(dir);
  const boards = boardImages(dir);
  expect(boards).toHaveLength(BOARDS);
  expect(sandboxDevices(dir)).toHaveLength(BOARDS);
  for (const board of boards) expectProvisioned(dir, board);
  const units = auditUnits(dir);
  expect(units.filter((u) => u.state === 'in-progress')).toEqual([]);
  for (const unit of units) expectCompleteRecord(dir, unit.id);
  await expectChainIntact(dir, { cli: true });
}
