/**
 * A small trail as a station writes it, for QA review tests: one closed batch with passed units, a failed unit
 * (with its backend calls, board log and the operator's message), a unit whose scanned label starts with "=", a
 * unit run twice. Written with the real AuditStore, so it is a valid chain with the real views.
 */
import { AuditStore, type AuditStoreOptions } from '../../electron/audit/index';
import { CONFIG_SHA, STATION, steppingClock } from './audit';

export interface QaTrail {
  batchId: string;
  passed: string[];
  failed: { unitId: string; mcuId: string; serial: string };
  formulaSerialUnit: string;
}

export function mcuIdOf(i: number): string {
  return (0xa1b2c3d400000000n + BigInt(i)).toString(16).padStart(16, '0');
}

export function writeQaTrail(file: string, options: Partial<AuditStoreOptions> = {}): QaTrail {
  const store = AuditStore.open(file, { stationId: STATION, now: steppingClock(), ...options });
  const batchId = 'b-week48';
  store.append({ kind: 'operator.login', operator: 'ann', details: { role: 'operator' } });
  store.append({
    kind: 'batch.opened',
    batchId,
    operator: 'ann',
    details: {
      name: 'Week 48 sensors',
      recipeId: 'sensor-v2',
      configSha256: CONFIG_SHA,
      workOrder: 'WO-4811',
    },
  });
  const passed: string[] = [];
  const run = (i: number, serial: string, operator: string, fail: boolean) => {
    const unitId = `unit-${i}`;
    store.append({
      kind: 'unit.started',
      batchId,
      unitId,
      slot: (i % 4) + 1,
      operator,
      details: { slotName: `slot-${(i % 4) + 1}`, scan: { serialNumber: serial } },
    });
    store.append({
      kind: 'unit.identified',
      unitId,
      operator,
      details: { soc: 'nRF9151', mcuId: mcuIdOf(i), firmwareVersion: '2.3.1' },
    });
    store.append({
      kind: 'step.started',
      unitId,
      step: 'device-record',
      operator,
      details: { index: 4, of: 11 },
    });
    store.append({
      kind: 'step.finished',
      unitId,
      step: 'device-record',
      outcome: 'passed',
      operator,
      details: {
        durationMs: 41,
        measurements: { deviceId: `d${i.toString(16).padStart(15, '0')}` },
        backend: [
          {
            method: 'GET',
            endpoint: '/device/soc/{soc}/mcuId/{mcuId}',
            attempt: 1,
            outcome: 'ok',
            status: 404,
            durationMs: 12,
          },
          { method: 'POST', endpoint: '/device', attempt: 1, outcome: 'ok', status: 201, durationMs: 20 },
        ],
      },
    });
    store.append({ kind: 'step.started', unitId, step: 'verify', operator, details: { index: 9, of: 11 } });
    if (fail) {
      store.append({
        kind: 'step.log',
        unitId,
        step: 'verify',
        operator,
        details: { source: 'board', lines: ['<err> infuse_prov: readback mismatch on slot 2'] },
      });
      store.append({
        kind: 'step.finished',
        unitId,
        step: 'verify',
        outcome: 'failed',
        operator,
        details: {
          durationMs: 300,
          errorCode: 'VERIFY_MISMATCH',
          message: 'The board read back different credentials: set it aside for a supervisor.',
          retrySafe: false,
          measurements: { derivedKeyFp: 'ab12cd34ef56ab78' },
        },
      });
      store.append({
        kind: 'unit.finished',
        unitId,
        outcome: 'failed',
        operator,
        details: { durationMs: 900, errorCode: 'VERIFY_MISMATCH', failedStep: 'verify' },
      });
    } else {
      store.append({
        kind: 'step.finished',
        unitId,
        step: 'verify',
        outcome: 'passed',
        operator,
        details: { durationMs: 80, measurements: { derivedKeyFp: 'ab12cd34ef56ab78' } },
      });
      store.append({
        kind: 'unit.finished',
        unitId,
        outcome: 'passed',
        operator,
        details: { durationMs: 700, deviceId: `d${i.toString(16).padStart(15, '0')}` },
      });
      passed.push(unitId);
    }
    return unitId;
  };
  for (let i = 0; i < 6; i += 1) run(i, `SN-00${1000 + i}`, i % 2 === 0 ? 'ann' : 'bob', false);
  const failedId = run(6, 'SN-001006', 'bob', true);
  const formula = run(7, '=HYPERLINK("http://x")', 'ann', false);
  store.append({ kind: 'batch.closed', batchId, operator: 'ann', details: { reason: 'end of shift' } });
  store.close();
  return {
    batchId,
    passed,
    failed: { unitId: failedId, mcuId: mcuIdOf(6), serial: 'SN-001006' },
    formulaSerialUnit: formula,
  };
}
