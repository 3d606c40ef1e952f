/**
 * The QA units query on a generated trail of 1,000,000 units: every filter and search, first pages and a page deep
 * in the history, against a reference that scans the table without indexes. Times are printed, not asserted (the
 * bench measures them: `npm run bench`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor, openReviewDb, queryUnits, type ReviewDb } from '../../../electron/review';
import type { UnitQuery } from '../../../electron/station-api';
import { AuditStore } from '../../../electron/audit';
import { generatedTrailFile, trailSigner, type GeneratedTrail } from '../../support/trail-generator';

const UNITS = 1_000_000;
let trail: GeneratedTrail;
let db: ReviewDb;
const timings: number[] = [];

beforeAll(async () => {
  trail = await generatedTrailFile(UNITS);
  db = openReviewDb(trail.file);
}, 600_000);
afterAll(() => {
  db?.close();
  if (timings.length > 0) {
    const sorted = [...timings].sort((a, b) => a - b);
    const p95 = sorted[Math.floor(sorted.length * 0.95)]!;
    console.log(`units.query on ${UNITS} units: ${timings.length} pages, p95 ${p95.toFixed(1)} ms`);
  }
});

/** The same filter as plain SQL over a table scan (NOT INDEXED), written independently of unit-query.ts. */
function reference(filter: UnitQuery): { where: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    where.push(sql);
    params.push(...values);
  };
  const utc = (iso: string) => new Date(iso).toISOString().replace('Z', '+00:00');
  if (filter.from) add('u.started_at >= ?', utc(filter.from));
  if (filter.to) add('u.started_at < ?', utc(filter.to));
  if (filter.batchId) add('u.batch_id = ?', filter.batchId);
  if (filter.state) add('u.state = ?', filter.state);
  if (filter.errorCode) add('u.error_code = ?', filter.errorCode);
  if (filter.operator) add('u.operator = ?', filter.operator);
  if (filter.slot !== undefined) add('u.slot = ?', filter.slot);
  if (filter.recipeId) add('(SELECT recipe_id FROM batches b WHERE b.id = u.batch_id) = ?', filter.recipeId);
  if (filter.reviewed !== undefined)
    add(filter.reviewed ? 'u.reviewed_at IS NOT NULL' : 'u.reviewed_at IS NULL');
  if (filter.search) {
    const text = filter.search;
    const hex = text.toLowerCase();
    const prefix = text.length >= 3;
    add(
      `(u.id = ? OR u.mcu_id = ? OR u.device_id = ? OR u.serial_number = ?${
        prefix
          ? ' OR substr(u.mcu_id, 1, ?) = ? OR substr(u.device_id, 1, ?) = ? OR substr(u.serial_number, 1, ?) = ?'
          : ''
      })`,
      text,
      hex,
      hex,
      text,
      ...(prefix ? [hex.length, hex, hex.length, hex, text.length, text] : []),
    );
  }
  return { where: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', params };
}

function referenceIds(filter: UnitQuery, limit: number, offset = 0): string[] {
  const { where, params } = reference(filter);
  return db
    .prepare(
      `SELECT u.id FROM units u NOT INDEXED ${where} ORDER BY u.started_at DESC, u.id DESC LIMIT ? OFFSET ?`,
    )
    .pluck()
    .all(...params, limit, offset) as string[];
}

function referenceCount(filter: UnitQuery): number {
  const { where, params } = reference(filter);
  return db
    .prepare(`SELECT count(*) FROM units u NOT INDEXED ${where}`)
    .pluck()
    .get(...params) as number;
}

function timed<T>(work: () => T): T {
  const start = performance.now();
  const result = work();
  timings.push(performance.now() - start);
  return result;
}

/** The first three pages of 100, by cursor, against the reference's first 300 rows. */
function checkPages(filter: UnitQuery): void {
  const expected = referenceIds(filter, 300);
  const got: string[] = [];
  let cursor: string | undefined;
  let total: number | null = null;
  for (let page = 0; page < 3; page += 1) {
    const result = timed(() => queryUnits(db, { filter, limit: 100, ...(cursor && { cursor }) }));
    if (page === 0) total = result.total;
    got.push(...result.units.map((u) => u.id));
    if (!result.next) break;
    cursor = result.next;
  }
  expect(got, JSON.stringify(filter)).toEqual(expected);
  const count = referenceCount(filter);
  expect(total, JSON.stringify(filter)).toBe(Math.min(count, 100_000));
}

describe(`the units query on ${UNITS.toLocaleString('en')} units`, () => {
  it('holds a million units, and opens as a station trail (made once, then cached in the temp dir)', () => {
    console.log(
      `trail generator: ${trail.units} units, ${trail.events} events, ${(trail.bytes / 1e9).toFixed(2)} GB, generated in ${trail.seconds} s`,
    );
    expect(db.prepare('SELECT count(*) FROM units').pluck().get()).toBe(UNITS);
    expect(db.prepare('SELECT max(seq) FROM events').pluck().get()).toBe(trail.events);
    expect(trail.batches).toHaveLength(200);
    // The station's own open: durability pragmas, schema version, station id. It writes nothing.
    AuditStore.open(trail.file, { stationId: trail.stationId, signer: trailSigner(1) }).close();
  });

  it('pages through every filter exactly as a full scan orders them', { timeout: 300_000 }, () => {
    const failed = trail.sample.failed!;
    const batch = trail.batches[Math.floor(trail.batches.length / 2)]!;
    const lastBatch = trail.batches.at(-1)!;
    const errorCode = Object.keys(trail.counts.byErrorCode).sort()[0]!;
    const mid = new Date((Date.parse(trail.firstAt) + Date.parse(trail.lastAt)) / 2);
    const filters: UnitQuery[] = [
      {},
      { state: 'failed' },
      { state: 'cancelled' },
      { errorCode },
      { operator: failed.operator! },
      { slot: 3 },
      { batchId: batch.id },
      { batchId: lastBatch.id, state: 'failed' },
      { recipeId: batch.recipeId },
      { recipeId: batch.recipeId, state: 'failed' },
      { reviewed: false },
      { reviewed: true },
      { from: mid.toISOString(), to: new Date(mid.getTime() + 6 * 3_600_000).toISOString() },
      { from: mid.toISOString(), state: 'failed', operator: failed.operator! },
      { to: trail.firstAt.replace('+00:00', 'Z') },
      { search: failed.mcuId! },
      { search: failed.mcuId!.slice(0, 6).toUpperCase() },
      { search: failed.deviceId! },
      { search: failed.serialNumber! },
      { search: failed.serialNumber!.slice(0, -2) },
      { search: failed.unitId },
      { search: failed.mcuId!.slice(0, 4), state: 'failed' },
      { search: 'zz' },
    ];
    for (const filter of filters) checkPages(filter);
  });

  it('reaches a page half a million rows deep as cheaply as the first', () => {
    const deep = db
      .prepare(
        'SELECT started_at AS startedAt, id FROM units ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET 500000',
      )
      .get() as { startedAt: string; id: string };
    const page = timed(() => queryUnits(db, { limit: 50, cursor: encodeCursor(deep) }));
    expect(page.units.map((u) => u.id)).toEqual(referenceIds({}, 50, 500_001));
  });
});
