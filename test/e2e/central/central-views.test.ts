/**
 * The central views (central_batches, central_units): derived by the database from the events it received, they
 * must hold exactly what each station's own views hold, column for column, whatever batches the events came in
 * (ranges split mid-unit), for stations whose batch and unit ids are the same, for a random walk through every
 * kind, for what the station's own provisioning writes, and for a database that received its events at schema
 * version 1 and got its views when it was migrated. Real stores, real shipper, real PostgreSQL.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditEventRejectedError,
  AuditStore,
  currentRecordHash,
  verifyAuditChain,
  EVENT_COLUMNS,
  generateStationKey,
  keyFingerprint,
  signerFromSeed,
  type AuditEvent,
  type AuditEventInput,
  type TrailSigner,
} from '../../../electron/audit';
import { CENTRAL_MIGRATIONS, migrateCentral, TrailShipper, verifyCentral } from '../../../electron/central';
import { CentralReview } from '../../../electron/central-review';
import { loadBatchReportData } from '../../../electron/reports';
import { openReviewDb, unitDetail } from '../../../electron/review';
import { CONFIG_SHA, steppingClock, tempDbFile } from '../../support/audit';
import { runStation } from '../../support/cli';
import {
  CENTRAL_TEST_PASSWORD,
  startCentralPostgres,
  type CentralPostgres,
} from '../../support/central-postgres';
import { writeQaTrail } from '../../support/qa-trail';
import { tempDir } from '../../support/temp-dirs';

const SANDBOX_CONFIG = fileURLToPath(new URL('../../../station-config/sandbox.json', import.meta.url));

let central: CentralPostgres;
let pool: pg.Pool;
beforeAll(async () => {
  central = await startCentralPostgres();
  pool = central.pool();
}, 60_000);
afterAll(async () => {
  await central?.destroy();
});

const BATCH_COLUMNS = [
  'id',
  'name',
  'recipe_id',
  'config_sha256',
  'operator',
  'opened_at',
  'closed_at',
  'state',
  'released_at',
  'last_seq',
];
const UNIT_COLUMNS = [
  'id',
  'batch_id',
  'slot',
  'soc',
  'mcu_id',
  'device_id',
  'serial_number',
  'state',
  'last_step',
  'outcome',
  'error_code',
  'started_at',
  'ended_at',
  'duration_ms',
  'attempt',
  'operator',
  'reviewed_at',
  'last_seq',
];
const NUMERIC = new Set(['slot', 'duration_ms', 'attempt', 'last_seq']);

type Row = Record<string, unknown>;

/** The row with numbers as numbers (PostgreSQL's bigint comes back as text, SQLite's REAL as a number). */
function normalised(row: Row, columns: string[]): Row {
  return Object.fromEntries(
    columns.map((c) => [
      c,
      row[c] === null || row[c] === undefined ? null : NUMERIC.has(c) ? Number(row[c]) : row[c],
    ]),
  );
}

const byId = (a: Row, b: Row) => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0);

interface Views {
  batches: Row[];
  units: Row[];
}

function localViews(file: string): Views {
  const db = new Database(file, { readonly: true });
  try {
    const read = (table: string, columns: string[]) => {
      const rows = db.prepare<[], Row>(`SELECT * FROM ${table}`).all();
      // Every column of the station's view is compared: one added there must be added centrally too.
      for (const row of rows) expect(Object.keys(row).sort(), table).toEqual([...columns].sort());
      return rows.map((row) => normalised(row, columns)).sort(byId);
    };
    return { batches: read('batches', BATCH_COLUMNS), units: read('units', UNIT_COLUMNS) };
  } finally {
    db.close();
  }
}

async function centralViews(db: pg.Pool, stationId: string): Promise<Views> {
  const read = async (table: string, columns: string[]) => {
    const { rows } = await db.query<Row>(`SELECT ${columns.join(', ')} FROM ${table} WHERE station_id = $1`, [
      stationId,
    ]);
    return rows.map((row) => normalised(row, columns)).sort(byId);
  };
  return {
    batches: await read('central_batches', BATCH_COLUMNS),
    units: await read('central_units', UNIT_COLUMNS),
  };
}

async function expectSameViews(db: pg.Pool, station: { id: string; file: string }): Promise<Views> {
  const local = localViews(station.file);
  const received = await centralViews(db, station.id);
  expect(received.batches).toEqual(local.batches);
  expect(received.units).toEqual(local.units);
  return local;
}

interface TestStation {
  id: string;
  file: string;
  signer: TrailSigner;
  /** The clock's start: each station's trail has its own times. */
  start: number;
}

function makeStation(id: string, start: string): TestStation {
  return {
    id,
    file: tempDbFile(`${id}.sqlite`),
    signer: signerFromSeed(generateStationKey().seed),
    start: Date.parse(start),
  };
}

async function ship(db: pg.Pool, station: TestStation, batchSize: number): Promise<number> {
  const shipper = new TrailShipper({
    databaseFile: station.file,
    station: { id: station.id },
    publicKey: station.signer.publicKey,
    pool: db,
    batchSize,
  });
  try {
    const result = await shipper.shipPending();
    expect(result.behind).toBe(0);
    return result.shipped;
  } finally {
    shipper.close();
  }
}

const openStore = (station: TestStation, start: number, stepMs: number) =>
  AuditStore.open(station.file, {
    stationId: station.id,
    now: steppingClock(start, stepMs),
    signer: station.signer,
    // Checkpoints (a kind the views ignore) between the events the views follow.
    checkpointEvery: 9,
  });

function signature(
  operator: string,
  meaning: 'reviewed' | 'approved' | 'released',
  subject: { type: 'unit' | 'batch'; id: string },
  coversSeq: number,
): AuditEventInput {
  return {
    kind: 'signature',
    operator,
    ...(subject.type === 'unit' ? { unitId: subject.id } : { batchId: subject.id }),
    details: { meaning, signerName: `Q. ${operator}`, subject, recordHash: 'e'.repeat(64), coversSeq },
  };
}

/** The QA trail (test/support/qa-trail.ts): one closed batch, passed, failed and run-twice units. */
function writeFirstPart(station: TestStation): void {
  writeQaTrail(station.file, {
    stationId: station.id,
    now: steppingClock(station.start),
    signer: station.signer,
    checkpointEvery: 9,
  });
}

/**
 * What the QA trail lacks: a second batch the units of the first are started again in (one of them reviewed
 * before, which the new attempt's review starts over from), attention, cancelled, voided (finished and
 * unfinished), corrections with and without `set`, reviewed/approved/released signatures, a batch closed and
 * released, units left in progress and in attention, and kinds the views ignore in between. `variant` picks other
 * units for some of it, so two stations with the same ids hold different rows.
 */
function writeSecondPart(station: TestStation, variant: 'a' | 'b'): void {
  const store = openStore(station, station.start + 3_600_000, 1_337);
  const pick =
    variant === 'a' ? { again: 'unit-3', voided: 'unit-2' } : { again: 'unit-5', voided: 'unit-4' };
  const add = (input: AuditEventInput): AuditEvent => store.append(input);
  const finishedSeq = (unitId: string) =>
    store
      .unitHistory(unitId)
      .events.filter((e) => e.kind === 'unit.finished')
      .at(-1)!.seq;
  try {
    const batchId = 'b-week49';
    add({ kind: 'operator.login', operator: 'cara', details: { role: 'operator' } });
    add({
      kind: 'batch.opened',
      batchId,
      operator: 'cara',
      details: { name: `Week 49 ${variant}`, recipeId: 'sensor-v3', configSha256: CONFIG_SHA },
    });
    const head = store.lastEvent()!.seq;
    add(signature('quinn', 'reviewed', { type: 'unit', id: pick.again }, head));
    add(signature('quinn', 'reviewed', { type: 'unit', id: 'unit-0' }, head));
    add(signature('quinn', 'approved', { type: 'unit', id: 'unit-1' }, head));
    // Started again in the other batch: soc, mcu id and serial carry over (none given), the rest starts over.
    add({ kind: 'unit.started', batchId, unitId: pick.again, slot: 2, operator: 'cara', details: {} });
    add({ kind: 'step.started', unitId: pick.again, step: 'flash', details: {} });
    add({ kind: 'step.intent', unitId: pick.again, step: 'flash', details: { action: 'write firmware' } });
    add({ kind: 'step.log', unitId: pick.again, step: 'flash', details: { source: 'board', lines: ['ok'] } });
    // Cancelled, no durationMs: measured from its start.
    add({ kind: 'unit.finished', unitId: pick.again, outcome: 'cancelled', operator: 'cara', details: {} });

    add({
      kind: 'unit.started',
      batchId,
      unitId: 'unit-20',
      slot: 1,
      operator: 'cara',
      details: { soc: 'nRF9160', mcuId: 'feed000000000020', scan: { serialNumber: `SN-20${variant}` } },
    });
    add({
      kind: 'unit.identified',
      unitId: 'unit-20',
      details: { soc: 'nRF9160', mcuId: 'feed000000000020' },
    });
    add({ kind: 'step.started', unitId: 'unit-20', step: 'verify', details: {} });
    add({
      kind: 'unit.attention',
      unitId: 'unit-20',
      details: { reason: 'the board stopped answering', errorCode: 'BOARD_SILENT' },
    });
    // Failed with no errorCode of its own: the attention's stays.
    add({ kind: 'unit.finished', unitId: 'unit-20', outcome: 'failed', details: { durationMs: 1234.5 } });

    add({
      kind: 'unit.started',
      batchId,
      unitId: 'unit-21',
      slot: 3,
      operator: 'dan',
      details: { label: 'x' },
    });
    add({
      kind: 'unit.identified',
      unitId: 'unit-21',
      details: { soc: 'nRF9151', mcuId: 'feed000000000021', deviceId: 'd000000000000021' },
    });
    add({ kind: 'unit.attention', unitId: 'unit-21', details: { reason: 'slow', errorCode: 'SLOW_BOARD' } });
    // Passed: the error code goes.
    add({ kind: 'unit.finished', unitId: 'unit-21', outcome: 'passed', details: {} });

    add({ kind: 'unit.started', batchId, unitId: 'unit-22', slot: 4, operator: 'dan', details: {} });
    add({ kind: 'step.started', unitId: 'unit-22', step: 'identify', details: {} });
    add({ kind: 'unit.attention', unitId: 'unit-22', details: { reason: 'no answer' } });

    add({ kind: 'unit.started', batchId, unitId: 'unit-23', slot: 0, operator: 'dan', details: {} });
    add({ kind: 'step.started', unitId: 'unit-23', step: 'device-record', details: {} });
    add({
      kind: 'step.finished',
      unitId: 'unit-23',
      step: 'device-record',
      outcome: 'passed',
      details: { durationMs: 5 },
    });
    add({ kind: 'step.started', unitId: 'unit-23', step: 'verify', details: {} });
    add({ kind: 'unit.note', unitId: 'unit-23', operator: 'quinn', details: { text: 'watch this one' } });

    // Voided unfinished and started again at once: the new attempt has not ended.
    add({ kind: 'unit.started', batchId, unitId: 'unit-24', slot: 6, operator: 'dan', details: {} });
    add({ kind: 'unit.voided', unitId: 'unit-24', operator: 'sam', details: { reason: 'wrong board' } });
    add({ kind: 'unit.started', batchId, unitId: 'unit-24', slot: 6, operator: 'dan', details: {} });
    add({ kind: 'step.started', unitId: 'unit-24', step: 'identify', details: {} });

    // Voided: one that had ended keeps its end, an unfinished one ends now.
    add({
      kind: 'unit.voided',
      unitId: pick.voided,
      operator: 'sam',
      details: { reason: 'dropped on the floor' },
    });
    add({ kind: 'unit.voided', unitId: 'unit-22', operator: 'sam', details: { reason: 'scrapped' } });

    // Corrections: with set (one of the failed unit's fields, nulls too), with an empty set and with none.
    add({
      kind: 'correction',
      supersedes: finishedSeq('unit-6'),
      operator: 'sam',
      details: {
        reason: 'the readback was wrong, the board is fine',
        set: { state: 'passed', outcome: 'passed', errorCode: null },
      },
    });
    add({
      kind: 'correction',
      supersedes: finishedSeq('unit-7'),
      operator: 'sam',
      details: {
        reason: 'wrong chip recorded',
        set: { soc: 'nRF9151B', mcuId: 'feed0000000000a7', deviceId: null },
      },
    });
    add({
      kind: 'correction',
      supersedes: finishedSeq('unit-1'),
      operator: 'sam',
      details: { reason: 'noted', set: {} },
    });
    add({
      kind: 'correction',
      supersedes: finishedSeq('unit-1'),
      operator: 'sam',
      details: { reason: 'noted' },
    });
    if (variant === 'b') {
      add({
        kind: 'correction',
        supersedes: finishedSeq('unit-0'),
        operator: 'sam',
        details: { reason: 'rework', set: { state: 'failed', outcome: 'failed', errorCode: 'REWORK' } },
      });
    }

    // Started again, steps and a failure after the start in the same ranges.
    add({
      kind: 'unit.started',
      batchId,
      unitId: 'unit-20',
      slot: 5,
      operator: 'dan',
      details: { scan: { serialNumber: `SN-20${variant}-2` } },
    });
    add({ kind: 'step.started', unitId: 'unit-20', step: 'flash', details: {} });
    add({
      kind: 'step.finished',
      unitId: 'unit-20',
      step: 'flash',
      outcome: 'failed',
      details: { durationMs: 30, errorCode: 'FLASH_FAILED' },
    });
    add({
      kind: 'unit.finished',
      unitId: 'unit-20',
      outcome: 'failed',
      details: { errorCode: 'FLASH_FAILED' },
    });
    add(signature('quinn', 'reviewed', { type: 'unit', id: 'unit-20' }, store.lastEvent()!.seq));

    add({ kind: 'batch.closed', batchId, operator: 'cara', details: { reason: 'end of week' } });
    add(signature('rita', 'released', { type: 'batch', id: batchId }, store.lastEvent()!.seq));
    if (variant === 'a')
      add(signature('rita', 'released', { type: 'batch', id: 'b-week48' }, store.lastEvent()!.seq));
    add(signature('rita', 'approved', { type: 'batch', id: 'b-week48' }, store.lastEvent()!.seq));
    add({ kind: 'operator.logout', operator: 'cara', details: {} });
  } finally {
    store.close();
  }
}

describe('the central views', () => {
  it("hold each station's own batches and units, column for column, however the shipping split the trail; two stations with the same ids are kept apart", async () => {
    const a = makeStation('views-line1-st1', '2026-11-25T19:00:00.000Z');
    const b = makeStation('views-line1-st2', '2026-11-27T06:30:00.000Z');
    writeFirstPart(a);
    writeFirstPart(b);
    // Batches of 3 and 7 events: ranges end mid-unit, a unit's events land in several.
    expect(await ship(pool, a, 3)).toBeGreaterThan(0);
    await expectSameViews(pool, a);
    expect(await ship(pool, b, 7)).toBeGreaterThan(0);
    await expectSameViews(pool, b);
    writeSecondPart(a, 'a');
    writeSecondPart(b, 'b');
    await ship(pool, b, 3);
    await ship(pool, a, 7);
    const local = await expectSameViews(pool, a);
    await expectSameViews(pool, b);

    // The trail had what it was written for (so the comparison above covered it).
    const unit = (id: string) => local.units.find((u) => u.id === id)!;
    expect(unit('unit-3')).toMatchObject({
      batch_id: 'b-week49',
      attempt: 2,
      state: 'cancelled',
      reviewed_at: null,
    });
    expect(unit('unit-3').serial_number).toBe('SN-001003');
    expect(unit('unit-0').reviewed_at).not.toBeNull();
    expect(unit('unit-20')).toMatchObject({ attempt: 2, state: 'failed', error_code: 'FLASH_FAILED' });
    expect(unit('unit-20').reviewed_at).not.toBeNull();
    expect(unit('unit-21')).toMatchObject({
      state: 'passed',
      error_code: null,
      device_id: 'd000000000000021',
    });
    expect(unit('unit-22').state).toBe('voided');
    expect(unit('unit-22').ended_at).not.toBeNull();
    expect(unit('unit-23')).toMatchObject({ state: 'in-progress', last_step: 'verify' });
    expect(unit('unit-24')).toMatchObject({ state: 'in-progress', attempt: 2, ended_at: null });
    expect(unit('unit-6')).toMatchObject({ state: 'passed', outcome: 'passed', error_code: null });
    expect(unit('unit-7')).toMatchObject({ soc: 'nRF9151B', device_id: null });
    expect(local.batches.map((x) => [x.id, x.state, x.released_at !== null])).toEqual([
      ['b-week48', 'closed', true],
      ['b-week49', 'closed', true],
    ]);
    // Station b's rows for the same ids are its own.
    const other = await centralViews(pool, b.id);
    expect(other.units.find((u) => u.id === 'unit-5')).toMatchObject({ batch_id: 'b-week49', attempt: 2 });
    expect(other.units.find((u) => u.id === 'unit-3')).toMatchObject({ batch_id: 'b-week48', attempt: 1 });
    expect(other.batches.find((x) => x.id === 'b-week48')!.released_at).toBeNull();
  }, 60_000);

  it('match the stations views after a random walk through every kind, shipped in batches of 1 to 9 events', async () => {
    for (const [i, seed] of [11, 29].entries()) {
      const station = makeStation(`views-random-${seed}`, '2026-12-01T10:00:00.000Z');
      const store = openStore(station, station.start, 777);
      let random = seed;
      const next = () => (random = (random * 1103515245 + 12345) % 2147483648) / 2147483648;
      const oneOf = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
      const maybe = <T extends object>(value: T): T | Record<string, never> => (next() < 0.5 ? value : {});
      const units = ['u-1', 'u-2', 'u-3', 'u-4', 'u-5'];
      const batches = ['b-1', 'b-2', 'b-3', 'b-4', 'b-5', 'b-6'];
      const codes = ['E_ONE', 'E_TWO', 'E_THREE'];
      const steps = ['identify', 'flash', 'verify'];
      const seqs: number[] = [];
      let recorded = 0;
      const kinds = new Map<string, number>();
      let shippedRounds = 0;
      try {
        for (let n = 0; n < 1200; n++) {
          const unitId = oneOf(units);
          const batchId = oneOf(batches);
          const at =
            next() < 0.1
              ? {
                  at: new Date(station.start + Math.floor(next() * 1e8)).toISOString().replace('Z', '+00:00'),
                }
              : {};
          // [weight, event]: mostly units at work; batches closed and units voided now and then.
          const inputs: Array<[number, AuditEventInput]> = [
            [
              1,
              {
                kind: 'batch.opened',
                batchId,
                operator: oneOf(['ann', 'bob']),
                details: { name: `batch ${batchId}`, recipeId: 'r-1', configSha256: CONFIG_SHA },
              },
            ],
            [0.3, { kind: 'batch.closed', batchId, details: {} }],
            [
              6,
              {
                kind: 'unit.started',
                batchId,
                unitId,
                slot: oneOf([null, 0, 1, 2]),
                operator: oneOf(['ann', 'bob', null]),
                details: {
                  ...maybe({ soc: oneOf(['nRF9151', 'nRF9160']) }),
                  ...maybe({ mcuId: oneOf(['m-1', 'm-2']) }),
                  ...maybe({ scan: maybe({ serialNumber: oneOf(['SN-1', 'SN-2']) }) }),
                },
              },
            ],
            [
              3,
              {
                kind: 'unit.identified',
                unitId,
                details: {
                  soc: oneOf(['nRF9151', 'nRF9160']),
                  mcuId: oneOf(['m-1', 'm-3']),
                  ...maybe({ deviceId: oneOf(['d-1', 'd-2']) }),
                },
              },
            ],
            [4, { kind: 'step.started', unitId, step: oneOf(steps), details: {} }],
            [
              4,
              {
                kind: 'step.finished',
                unitId,
                step: oneOf(steps),
                outcome: oneOf(['passed', 'failed', 'skipped'] as const),
                details: { durationMs: Math.floor(next() * 100), ...maybe({ errorCode: oneOf(codes) }) },
              },
            ],
            [1, { kind: 'step.intent', unitId, step: oneOf(steps), details: { action: 'write' } }],
            [1, { kind: 'step.log', unitId, details: { source: 'board', lines: ['x'] } }],
            [
              2,
              {
                kind: 'unit.attention',
                unitId,
                details: { reason: 'look', ...maybe({ errorCode: oneOf(codes) }) },
              },
            ],
            [
              4,
              {
                kind: 'unit.finished',
                unitId,
                outcome: oneOf(['passed', 'failed', 'cancelled'] as const),
                details: {
                  ...maybe({ durationMs: Math.floor(next() * 5000) + oneOf([0, 0.25]) }),
                  ...maybe({ errorCode: oneOf(codes) }),
                  ...maybe({ deviceId: oneOf(['d-2', 'd-3']) }),
                },
              },
            ],
            [0.7, { kind: 'unit.voided', unitId, details: { reason: 'void' } }],
            [0.5, { kind: 'unit.note', unitId, operator: 'qa', details: { text: 'n' } }],
            [
              2,
              signature(
                'qa',
                oneOf(['reviewed', 'approved', 'released'] as const),
                { type: 'unit', id: unitId },
                seqs.length,
              ),
            ],
            [
              1,
              signature(
                'qa',
                oneOf(['released', 'approved'] as const),
                { type: 'batch', id: batchId },
                seqs.length,
              ),
            ],
            [
              3,
              {
                kind: 'correction',
                supersedes: seqs.length > 0 ? oneOf(seqs) : 1,
                details: {
                  reason: 'fix',
                  ...maybe({
                    set: {
                      ...maybe({
                        state: oneOf(['passed', 'failed', 'attention', 'in-progress', 'voided'] as const),
                      }),
                      ...maybe({ outcome: oneOf(['passed', 'failed', null] as const) }),
                      ...maybe({ errorCode: oneOf(['FIXED', null]) }),
                      ...maybe({ deviceId: oneOf(['d-9', null]) }),
                      ...maybe({ soc: oneOf(['nRF9151', null]) }),
                      ...maybe({ mcuId: oneOf(['m-9', null]) }),
                    },
                  }),
                },
              },
            ],
            [0.5, { kind: 'operator.login', operator: 'ann', details: {} }],
          ];
          let pick = next() * inputs.reduce((sum, [weight]) => sum + weight, 0);
          const chosen = inputs.find(([weight]) => (pick -= weight) < 0)?.[1] ?? inputs[0]![1];
          const input = { ...chosen, ...at } as AuditEventInput;
          {
            try {
              seqs.push(store.append(input).seq);
              recorded++;
              const kind = input.kind === 'signature' ? `signature ${input.details.meaning}` : input.kind;
              kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
            } catch (error) {
              // The store refused it (a closed batch, an ended unit, ...): nothing was recorded.
              if (!(error instanceof AuditEventRejectedError)) throw error;
            }
          }
          if (n % 150 === 149) {
            await ship(pool, station, 1 + Math.floor(next() * 9));
            shippedRounds++;
            await expectSameViews(pool, station);
          }
        }
      } finally {
        store.close();
      }
      await ship(pool, station, 1 + i);
      const local = await expectSameViews(pool, station);
      // The whole trail as one range (what the migration does) gives the same rows.
      await pool.query('DELETE FROM central_units WHERE station_id = $1', [station.id]);
      await pool.query('DELETE FROM central_batches WHERE station_id = $1', [station.id]);
      await pool.query(
        'SELECT central_project(station_id, 0, head_seq) FROM central_stations WHERE station_id = $1',
        [station.id],
      );
      await expectSameViews(pool, station);
      expect(recorded).toBeGreaterThan(300);
      expect(shippedRounds).toBe(8);
      expect(local.units.length).toBe(units.length);
      // Every kind the views follow was recorded, more than once.
      for (const kind of [
        'batch.opened',
        'batch.closed',
        'unit.started',
        'unit.identified',
        'step.started',
        'step.finished',
        'unit.attention',
        'unit.finished',
        'unit.voided',
        'signature reviewed',
        'signature released',
        'correction',
      ])
        expect(kinds.get(kind) ?? 0, kind).toBeGreaterThan(1);
    }
  }, 120_000);

  it("hold what a station's own provisioning wrote (the engine's steps, intents, logs), shipped by station sync", async () => {
    const dir = tempDir('station-central-views-');
    const config = JSON.parse(readFileSync(SANDBOX_CONFIG, 'utf8')) as Record<string, unknown> & {
      station: Record<string, unknown>;
    };
    delete config.$schema;
    const id = 'views-line9-st1';
    config.station = {
      ...config.station,
      id,
      name: 'Station 9',
      line: 'Line 9',
      site: 'Test site',
      dataDir: dir,
    };
    const configFile = join(dir, 'station.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const station = ['--config', configFile, '--data', dir];
    for (const [batch, boards] of [
      ['week-50-a', '3'],
      ['week-50-b', '2'],
    ]) {
      const run = await runStation(
        ['provision', ...station, '--sim', boards!, '--batch', batch!, '--operator', 'qa', '--json'],
        { env: central.env, timeoutMs: 90_000 },
      );
      expect(run.code, run.stderr).toBe(0);
      const sync = await runStation(
        ['sync', '--central', central.url, ...station, '--once', '--batch-size', '5'],
        {
          env: central.env,
          timeoutMs: 60_000,
        },
      );
      expect(sync.code, sync.stderr).toBe(0);
    }
    const file = join(dir, 'station.sqlite');
    const db = new Database(file, { readonly: true });
    const kinds = db.prepare<[], { kind: string }>('SELECT DISTINCT kind FROM events').all();
    db.close();
    expect(kinds.map((k) => k.kind)).toEqual(
      expect.arrayContaining([
        'unit.started',
        'step.started',
        'step.intent',
        'step.finished',
        'unit.finished',
      ]),
    );
    const local = await expectSameViews(pool, { id, file });
    expect(local.units.length).toBeGreaterThanOrEqual(5);
    expect(local.units.every((u) => u.last_step !== null && u.state !== 'in-progress')).toBe(true);
  }, 240_000);

  it('a database that received its events at version 1 gets its views when migrated, and keeps them in step after', async () => {
    await pool.query('CREATE DATABASE central_v1');
    const url = new URL(central.url);
    url.pathname = '/central_v1';
    url.password = CENTRAL_TEST_PASSWORD;
    const v1 = new pg.Pool({ connectionString: url.toString(), max: 2 });
    try {
      const client = await v1.connect();
      try {
        // Version 1 exactly as migrateCentral leaves it.
        await client.query('CREATE TABLE central_schema (version integer NOT NULL)');
        await client.query('INSERT INTO central_schema (version) VALUES (1)');
        await client.query(CENTRAL_MIGRATIONS[0]!);
        const stations = [
          makeStation('views-v1-st1', '2026-11-25T19:00:00.000Z'),
          makeStation('views-v1-st2', '2026-11-25T19:00:00.000Z'),
        ];
        for (const [i, station] of stations.entries()) {
          writeFirstPart(station);
          writeSecondPart(station, i === 0 ? 'a' : 'b');
          // As a version-1 shipper sent them: registered, then the events in batches of 5.
          await client.query(
            'INSERT INTO central_stations (station_id, public_key, public_key_fp) VALUES ($1, $2, $3)',
            [
              station.id,
              station.signer.publicKey.toString('base64'),
              keyFingerprint(station.signer.publicKey),
            ],
          );
          const db = new Database(station.file, { readonly: true });
          const rows = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY seq`).all();
          db.close();
          for (let from = 0; from < rows.length; from += 5) {
            const { rows: answer } = await client.query<{ result: { ok: boolean } }>(
              'SELECT central_ingest($1, $2::jsonb) AS result',
              [station.id, JSON.stringify(rows.slice(from, from + 5))],
            );
            expect(answer[0]!.result.ok).toBe(true);
          }
        }
        const before = await client.query<{ t: string | null }>(
          "SELECT to_regclass('central_units')::text AS t",
        );
        expect(before.rows[0]!.t).toBeNull();

        expect(await migrateCentral(client)).toBe(CENTRAL_MIGRATIONS.length);
        for (const station of stations) await expectSameViews(v1, station);

        // Then shipping as usual: the views follow.
        for (const station of stations) {
          const store = openStore(station, station.start + 7_200_000, 500);
          store.append({
            kind: 'batch.opened',
            batchId: 'b-week50',
            operator: 'eve',
            details: { name: 'Week 50', recipeId: 'sensor-v3', configSha256: CONFIG_SHA },
          });
          store.append({
            kind: 'unit.started',
            batchId: 'b-week50',
            unitId: 'unit-1',
            operator: 'eve',
            details: {},
          });
          store.append({ kind: 'step.started', unitId: 'unit-1', step: 'flash', details: {} });
          store.close();
        }
        for (const station of stations) {
          await ship(v1, station, 1);
          await expectSameViews(v1, station);
        }
      } finally {
        client.release();
      }
    } finally {
      await v1.end();
    }
  }, 60_000);

  it("make a station's batch report and unit record from the central record as the station makes them, its signatures valid", async () => {
    const station = makeStation('views-line2-st1', '2026-11-29T08:00:00.000Z');
    writeFirstPart(station);
    // Real signatures: each bound to the record as it stands (audit/record-hash.ts), as QA signs on the station.
    const store = openStore(station, station.start + 7_200_000, 1_000);
    const reader = new Database(station.file, { readonly: true });
    try {
      for (const subject of [
        { type: 'unit', id: 'unit-1' },
        { type: 'batch', id: 'b-week48' },
      ] as const) {
        const record = currentRecordHash(reader, subject);
        store.append({
          kind: 'signature',
          operator: 'quinn',
          ...(subject.type === 'unit' ? { unitId: subject.id } : { batchId: subject.id, unitId: null }),
          details: {
            meaning: subject.type === 'unit' ? 'reviewed' : 'released',
            signerName: 'Q. Quinn',
            subject,
            recordHash: record.recordHash,
            coversSeq: record.coversSeq,
          },
        });
      }
    } finally {
      reader.close();
      store.close();
    }
    await ship(pool, station, 50);
    const review = new CentralReview(pool, 'the test database');
    for (const detail of ['summary', 'full'] as const) {
      const own = loadBatchReportData(station.file, 'b-week48', { detail });
      expect(own.signatures.map((x) => x.validity)).toEqual(['valid', 'valid']);
      expect(await review.batchReportData('b-week48', detail, station.id)).toEqual(own);
    }
    const db = openReviewDb(station.file);
    try {
      const own = unitDetail(db, 'unit-1')!;
      expect(own.signatures.map((x) => x.valid)).toEqual([true]);
      const received = await review.unitDetail('unit-1', station.id);
      expect({ ...received, unit: { ...received.unit, stationId: undefined } }).toEqual({
        ...own,
        unit: { ...own.unit, stationId: undefined },
      });
    } finally {
      db.close();
    }
    // Other stations here have a batch b-week48 too: without the station, the id is not enough.
    await expect(review.batchReportData('b-week48', 'summary')).rejects.toThrow(
      /each have a batch with id "b-week48": say which station/,
    );
  }, 60_000);

  it('take details jsonb cannot hold (U+0000, a lone surrogate): the views are derived, the event kept as hashed', async () => {
    const station = makeStation('views-line3-st1', '2026-11-30T08:00:00.000Z');
    const store = openStore(station, station.start, 1_000);
    try {
      // As a station opens its trail: its identity first, so its checkpoint can be checked.
      store.recordIdentity();
      store.append({
        kind: 'batch.opened',
        batchId: 'b-nul',
        operator: 'eve',
        details: { name: 'NUL week', recipeId: 'sensor-v3', configSha256: CONFIG_SHA },
      });
      store.append({
        kind: 'unit.started',
        batchId: 'b-nul',
        unitId: 'unit-nul',
        operator: 'eve',
        details: {},
      });
      // What a board said, as it said it: a NUL-padded message and half a surrogate pair, beside an escaped
      // backslash that is text (not an escape) and must stay as it is.
      store.append({
        kind: 'unit.finished',
        unitId: 'unit-nul',
        outcome: 'failed',
        details: {
          errorCode: 'BOARD_STORAGE',
          message: 'flash\u0000\u0000 half \ud800 and a \\u0000 that is text',
          durationMs: 12,
        },
      });
      // Signed, so central verify has the station's signature to check the chain against.
      store.checkpoint('shutdown');
    } finally {
      store.close();
    }
    await ship(pool, station, 2);
    const local = await expectSameViews(pool, station);
    expect(local.units[0]).toMatchObject({ state: 'failed', error_code: 'BOARD_STORAGE', duration_ms: 12 });
    const { rows } = await pool.query<{ details: string }>(
      "SELECT details FROM central_events WHERE station_id = $1 AND kind = 'unit.finished'",
      [station.id],
    );
    expect(rows[0]!.details).toContain('flash\\u0000\\u0000 half \\ud800 and a \\\\u0000 that is text');
    expect(verifyAuditChain(station.file)).toMatchObject({ ok: true });
    const [verdict] = await verifyCentral(pool, station.id);
    expect(verdict!.result).toMatchObject({ ok: true });
  }, 60_000);
});
