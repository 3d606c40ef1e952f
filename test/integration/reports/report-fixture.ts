/**
 * Audit trails for report tests and the report bench, written by the real AuditStore (so every event passes the
 * store's schema, the views are the store's own and the trail verifies): a signed station, a batch of units run
 * through eight steps on four slots, ~23 events a unit, with failures of three causes, retries that pass, cancelled
 * units, and on request the QA events a report must show (a correction, a note, signatures).
 *
 * Times are laid out as a line runs: four slots in parallel, a unit every ~55 s per slot from 2026-11-25 12:00 UTC,
 * so a big batch spans days and shifts. Units are appended many to a transaction (the store's changeSideTable), so
 * 10,000 units take seconds, not minutes of fsyncs.
 */
import Database from 'better-sqlite3';
import {
  AuditStore,
  auditTimestamp,
  computeRecordHash,
  generateStationKey,
  signerFromSeed,
  type AuditEventInput,
  type TrailSigner,
} from '../../../electron/audit/index';

export const REPORT_STATION = 'line1-station2';
export const CONFIG_SHA = 'c'.repeat(64);
export const START_MS = Date.parse('2026-11-25T12:00:00.000Z');
/** The serial number scanned for unit index 2: a formula a spreadsheet would run. */
export const FORMULA_SERIAL = '=HYPERLINK("x")';

export const STEPS = [
  'connect',
  'identify',
  'recipe-checks',
  'device-record',
  'key-agreement',
  'write-credentials',
  'verify',
  'finish',
] as const;
type Step = (typeof STEPS)[number];

/** Typical step times in ms; each unit varies them a little. */
const STEP_MS: Record<Step, number> = {
  connect: 900,
  identify: 1_400,
  'recipe-checks': 40,
  'device-record': 6_500,
  'key-agreement': 4_200,
  'write-credentials': 14_000,
  verify: 5_500,
  finish: 9_000,
};

interface Failure {
  step: Step;
  code: string;
  message: string;
}
const FAILURES: Failure[] = [
  {
    step: 'device-record',
    code: 'BACKEND_TIMEOUT',
    message: 'The provisioning backend did not answer in time: press Retry.',
  },
  {
    step: 'verify',
    code: 'VERIFY_MISMATCH',
    message: 'The board and the cloud disagree on the key: set the board aside.',
  },
  { step: 'connect', code: 'BOARD_NOT_RESPONDING', message: 'The board does not answer: check the cable.' },
];

/** What happens to unit `i`: which failure (if any), whether it is retried, whether it is cancelled. */
export function unitPlan(i: number): { failure: Failure | null; retried: boolean; cancelled: boolean } {
  const failure =
    i % 13 === 5 ? FAILURES[0]! : i % 29 === 7 ? FAILURES[1]! : i % 47 === 11 ? FAILURES[2]! : null;
  return {
    failure,
    retried: failure !== null && failure.code === 'BACKEND_TIMEOUT' && i % 2 === 0,
    cancelled: !failure && i % 97 === 50,
  };
}

export interface ReportTrailOptions {
  units: number;
  batchId?: string;
  batchName?: string;
  signer?: TrailSigner;
  /** Units per transaction (default 200). */
  unitsPerTransaction?: number;
  /** Add the QA events: a correction, a note, a unit signature and a batch signature. */
  qaEvents?: boolean;
  /** Close the batch at the end (default true). */
  close?: boolean;
}

export interface ReportTrail {
  file: string;
  batchId: string;
  batchName: string;
  signer: TrailSigner;
  /** Unit ids in the order they were started. */
  unitIds: string[];
  /** The unit whose failure the correction turns into a pass (with qaEvents). */
  correctedUnitId: string | null;
}

const operators = ['ann', 'bob', 'carla'];
/** A small deterministic jitter in [-spread, +spread] ms. */
const jitter = (i: number, salt: number, spread: number) =>
  ((((i + 1) * 2654435761 + salt * 40503) >>> 0) % (2 * spread + 1)) - spread;

export function buildReportTrail(file: string, options: ReportTrailOptions): ReportTrail {
  const signer = options.signer ?? signerFromSeed(generateStationKey().seed);
  const batchId = options.batchId ?? 'b-2026-11-25-1';
  const batchName = options.batchName ?? 'Week 48 sensors';
  const store = AuditStore.open(file, {
    stationId: REPORT_STATION,
    signer,
    now: () => new Date(START_MS - 60_000),
  });
  const at = (ms: number) => auditTimestamp(new Date(ms));
  const unitIds: string[] = [];
  let correctedUnitId: string | null = null;
  let correctableSeq: number | null = null;
  try {
    store.recordIdentity();
    store.checkpoint('opened');
    store.append({
      kind: 'operator.login',
      operator: 'ann',
      at: at(START_MS - 30_000),
      details: { role: 'supervisor' },
    });
    store.append({
      kind: 'config.recorded',
      operator: 'ann',
      batchId,
      at: at(START_MS - 20_000),
      details: { configSha256: CONFIG_SHA, environment: 'production', recipeIds: ['sensor-v2'] },
    });
    store.append({
      kind: 'batch.opened',
      batchId,
      operator: 'ann',
      at: at(START_MS - 10_000),
      details: {
        name: batchName,
        recipeId: 'sensor-v2',
        configSha256: CONFIG_SHA,
        workOrder: 'WO-4711',
        targetQuantity: options.units,
      },
    });

    const perTransaction = options.unitsPerTransaction ?? 200;
    for (let first = 0; first < options.units; first += perTransaction) {
      store.changeSideTable((tx) => {
        for (let i = first; i < Math.min(options.units, first + perTransaction); i++) {
          const unitId = `${batchId}-u${String(i).padStart(5, '0')}`;
          unitIds.push(unitId);
          const plan = unitPlan(i);
          const slot = (i % 4) + 1;
          const operator = operators[Math.floor(i / Math.max(1, Math.ceil(options.units / 3)))] ?? 'ann';
          const serialNumber = i === 2 ? FORMULA_SERIAL : `SN48-${String(i).padStart(6, '0')}`;
          let t = START_MS + Math.floor(i / 4) * 55_000 + jitter(i, 1, 2_000) + 2_000;
          const attempt = (number: number, failure: Failure | null, cancelled: boolean) => {
            const append = (input: AuditEventInput) => tx.append(input);
            const started = t;
            append({
              kind: 'unit.started',
              batchId,
              unitId,
              slot,
              operator,
              at: at(t),
              details: {
                slotName: `slot-${slot}`,
                scan: { serialNumber },
                attempt: number,
                port: `/dev/ttyUSB${slot - 1}`,
              },
            });
            for (const [index, step] of STEPS.entries()) {
              append({
                kind: 'step.started',
                unitId,
                step,
                at: at(t),
                details: { index: index + 1, of: STEPS.length },
              });
              const duration = Math.max(
                1,
                STEP_MS[step] + jitter(i + number, index, Math.round(STEP_MS[step] / 5)),
              );
              if (step === 'write-credentials')
                append({
                  kind: 'step.intent',
                  unitId,
                  step,
                  at: at(t + 5),
                  details: {
                    action: 'write-and-commit',
                    deviceId: `dev-${i}`,
                    derivedKeyFp: 'ab12cd34ef56ab78',
                  },
                });
              t += duration;
              if (step === 'connect' || step === 'write-credentials' || step === 'finish')
                append({
                  kind: 'step.log',
                  unitId,
                  step,
                  at: at(t),
                  details: {
                    source: 'board',
                    lines: [`[00:00:01.5] <inf> infuse_prov: ${step} from station`, `unit ${i} ok`],
                  },
                });
              if (cancelled && step === 'key-agreement') {
                append({
                  kind: 'unit.finished',
                  unitId,
                  outcome: 'cancelled',
                  at: at(t),
                  details: { durationMs: t - started },
                });
                return null;
              }
              if (failure?.step === step) {
                append({
                  kind: 'step.finished',
                  unitId,
                  step,
                  outcome: 'failed',
                  at: at(t),
                  details: {
                    durationMs: duration,
                    errorCode: failure.code,
                    message: failure.message,
                    retrySafe: true,
                    measurements: {},
                  },
                });
                return append({
                  kind: 'unit.finished',
                  unitId,
                  outcome: 'failed',
                  at: at(t + 3),
                  details: {
                    durationMs: t + 3 - started,
                    errorCode: failure.code,
                    message: failure.message,
                    failedStep: step,
                  },
                });
              }
              append({
                kind: 'step.finished',
                unitId,
                step,
                outcome: 'passed',
                at: at(t),
                details: {
                  durationMs: duration,
                  measurements:
                    step === 'identify'
                      ? { soc: 'nRF9151', mcuId: `mcu-${i}`, firmwareVersion: '2.3.1' }
                      : step === 'verify'
                        ? { derivedProofOk: true, derivedGpsDay: 17131 }
                        : {},
                  ...(step === 'device-record' && {
                    backend: [
                      {
                        method: 'POST',
                        endpoint: '/device',
                        attempt: 1,
                        outcome: 'ok',
                        status: 201,
                        durationMs: 180,
                      },
                    ],
                  }),
                },
              });
              if (step === 'identify')
                append({
                  kind: 'unit.identified',
                  unitId,
                  at: at(t + 1),
                  details: { soc: 'nRF9151', mcuId: `mcu-${i}`, firmwareVersion: '2.3.1' },
                });
            }
            append({
              kind: 'unit.finished',
              unitId,
              outcome: 'passed',
              at: at(t + 3),
              details: { durationMs: t + 3 - started, deviceId: `dev-${i}` },
            });
            return null;
          };
          const failed = attempt(1, plan.failure, plan.cancelled);
          if (plan.retried) {
            t += 20_000;
            attempt(2, null, false);
          } else if (failed && plan.failure?.code === 'VERIFY_MISMATCH' && correctableSeq === null) {
            correctedUnitId = unitId;
            correctableSeq = failed.seq;
          }
        }
      });
    }

    if (options.qaEvents) {
      const lastAt = START_MS + Math.ceil(options.units / 4) * 55_000 + 60_000;
      if (correctedUnitId !== null && correctableSeq !== null) {
        store.append({
          kind: 'correction',
          operator: 'quinn',
          supersedes: correctableSeq,
          at: at(lastAt),
          details: {
            reason: 'False failure: the reference board was mis-wired; re-verified by QA',
            set: { state: 'passed', outcome: 'passed', errorCode: null },
          },
        });
      }
      const noted = unitIds[0]!;
      store.append({
        kind: 'unit.note',
        unitId: noted,
        operator: 'quinn',
        at: at(lastAt + 1_000),
        details: { text: 'Label <b>smudged</b> & re-printed' },
      });
      // Real record hashes, as the station's record.sign computes them: the report shows these signatures valid.
      const recordHashOf = (subject: { type: 'unit' | 'batch'; id: string }) => {
        const reader = new Database(file, { readonly: true });
        try {
          return computeRecordHash(reader, subject, store.lastEvent()!.seq);
        } finally {
          reader.close();
        }
      };
      const unitRecord = recordHashOf({ type: 'unit', id: noted });
      store.append({
        kind: 'signature',
        unitId: noted,
        operator: 'quinn',
        at: at(lastAt + 2_000),
        details: {
          meaning: 'reviewed',
          signerName: 'Quinn QA',
          subject: { type: 'unit', id: noted },
          recordHash: unitRecord.recordHash,
          coversSeq: unitRecord.coversSeq,
        },
      });
      const batchRecord = recordHashOf({ type: 'batch', id: batchId });
      store.append({
        kind: 'signature',
        batchId,
        operator: 'quinn',
        at: at(lastAt + 3_000),
        details: {
          meaning: 'approved',
          signerName: 'Quinn QA',
          subject: { type: 'batch', id: batchId },
          recordHash: batchRecord.recordHash,
          coversSeq: batchRecord.coversSeq,
          reason: 'Batch record complete',
        },
      });
    }
    if (options.close ?? true) {
      store.append({
        kind: 'batch.closed',
        batchId,
        operator: 'ann',
        at: at(START_MS + Math.ceil(options.units / 4) * 55_000 + 120_000),
        details: { reason: 'target reached' },
      });
      store.checkpoint('batch-closed');
    }
    store.checkpoint('shutdown');
  } finally {
    store.close();
  }
  return { file, batchId, batchName, signer, unitIds, correctedUnitId };
}
