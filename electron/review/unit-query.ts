/**
 * The units table of QA review: the station's whole history, newest first, filtered and searched, one page at a
 * time. Paging is keyset paging on (started_at, id) over the indexes of schema migration 3, so page 20,000 costs
 * what page 1 costs; an offset would read and throw away every row before it. A cursor is the last row's key,
 * opaque to clients (base64url JSON).
 */
import type { UnitPage, UnitPageRequest, UnitQuery, UnitRow } from '../station-api';
import type { ReviewDb } from './review-db';
import {
  decodeKeyCursor,
  encodeKeyCursor,
  normaliseAuditTime,
  parseUnitPageRequest,
  searchPrefixEnd,
  SEARCH_MIN_PREFIX,
} from './unit-query-parts';

export type { UnitPage, UnitPageRequest, UnitQuery, UnitRow };
export { UnitQueryError } from './unit-query-parts';

/** Counting every match of a broad filter on a million rows costs more than a page: past this, "100,000+". */
export const COUNT_CAP = 100_000;

export function encodeCursor(row: { startedAt: string; id: string }): string {
  return encodeKeyCursor([row.startedAt, row.id]);
}

function decodeCursor(text: string): { startedAt: string; id: string } {
  const [startedAt, id] = decodeKeyCursor(text, 2, 'this station') as [string, string];
  return { startedAt, id };
}

const SELECT = `SELECT u.id, u.batch_id AS batchId, b.name AS batchName, b.recipe_id AS recipeId, u.slot, u.soc,
  u.mcu_id AS mcuId, u.device_id AS deviceId, u.serial_number AS serialNumber, u.state, u.outcome,
  u.error_code AS errorCode, u.last_step AS lastStep, u.operator, u.started_at AS startedAt, u.ended_at AS endedAt,
  u.duration_ms AS durationMs, u.attempt, u.reviewed_at AS reviewedAt
  FROM units u CROSS JOIN batches b ON b.id = u.batch_id`;
// CROSS JOIN: SQLite keeps units as the outer loop, so it walks a units index in (started_at, id) order and stops
// after a page, instead of starting from the small batches table and sorting every unit it finds.

interface Built {
  where: string[];
  params: Record<string, string | number>;
}

function build(db: ReviewDb, filter: UnitQuery): Built {
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  if (filter.from) {
    where.push('u.started_at >= @from');
    params.from = normaliseAuditTime(filter.from);
  }
  if (filter.to) {
    where.push('u.started_at < @to');
    params.to = normaliseAuditTime(filter.to);
  }
  if (filter.batchId) {
    where.push('u.batch_id = @batchId');
    params.batchId = filter.batchId;
  }
  if (filter.state) {
    where.push('u.state = @state');
    params.state = filter.state;
  }
  if (filter.errorCode) {
    where.push('u.error_code = @errorCode');
    params.errorCode = filter.errorCode;
  }
  if (filter.operator) {
    where.push('u.operator = @operator');
    params.operator = filter.operator;
  }
  if (filter.slot !== undefined) {
    where.push('u.slot = @slot');
    params.slot = filter.slot;
  }
  if (filter.reviewed !== undefined) {
    where.push(filter.reviewed ? 'u.reviewed_at IS NOT NULL' : 'u.reviewed_at IS NULL');
  }
  if (filter.recipeId && !filter.batchId) {
    // A recipe is a set of batches; listing them keeps the units query on its (started_at) order instead of
    // sorting every unit of every matching batch. `+u.batch_id` keeps the planner off the batch index for it.
    const batches = db
      .prepare<[string], { id: string }>('SELECT id FROM batches WHERE recipe_id = ?')
      .all(filter.recipeId)
      .map((row) => row.id);
    if (batches.length === 0) where.push('0');
    else {
      const names = batches.map((id, index) => {
        params[`recipeBatch${index}`] = id;
        return `@recipeBatch${index}`;
      });
      where.push(`+u.batch_id IN (${names.join(', ')})`);
    }
  } else if (filter.recipeId) {
    where.push('b.recipe_id = @recipeId');
    params.recipeId = filter.recipeId;
  }
  if (filter.search) {
    const text = filter.search;
    const hex = text.toLowerCase();
    params.searchExact = text;
    params.searchHex = hex;
    const parts = [
      'SELECT rowid FROM units WHERE id = @searchExact',
      'SELECT rowid FROM units WHERE mcu_id = @searchHex',
      'SELECT rowid FROM units WHERE device_id = @searchHex',
      'SELECT rowid FROM units WHERE serial_number = @searchExact',
    ];
    if (text.length >= SEARCH_MIN_PREFIX) {
      params.searchHexEnd = searchPrefixEnd(hex);
      params.searchEnd = searchPrefixEnd(text);
      parts.push(
        'SELECT rowid FROM units WHERE mcu_id >= @searchHex AND mcu_id < @searchHexEnd',
        'SELECT rowid FROM units WHERE device_id >= @searchHex AND device_id < @searchHexEnd',
        'SELECT rowid FROM units WHERE serial_number >= @searchExact AND serial_number < @searchEnd',
      );
    }
    where.push(`u.rowid IN (${parts.join(' UNION ')})`);
  }
  return { where, params };
}

/** One page of units matching `request.filter`, newest first. */
export function queryUnits(db: ReviewDb, input: UnitPageRequest): UnitPage {
  const { filter, limit, cursor } = parseUnitPageRequest(input);
  const { where, params } = build(db, filter);
  const pageWhere = [...where];
  const pageParams: Record<string, string | number> = { ...params, limit: limit + 1 };
  if (cursor) {
    const key = decodeCursor(cursor);
    pageWhere.push('(u.started_at, u.id) < (@cursorAt, @cursorId)');
    pageParams.cursorAt = key.startedAt;
    pageParams.cursorId = key.id;
  }
  const clause = pageWhere.length > 0 ? `WHERE ${pageWhere.join(' AND ')}` : '';
  const rows = db
    .prepare<Record<string, string | number>, UnitRow>(
      `${SELECT} ${clause} ORDER BY u.started_at DESC, u.id DESC LIMIT @limit`,
    )
    .all(pageParams);
  const more = rows.length > limit;
  const units = more ? rows.slice(0, limit) : rows;
  let total: number | null = null;
  let totalCapped = false;
  if (!cursor) {
    // Counting has no order to keep: there the batch index serves a recipe filter (one range per batch).
    const countWhere = where.map((term) => term.replace(/^\+u\.batch_id IN/, 'u.batch_id IN'));
    const countClause = countWhere.length > 0 ? `WHERE ${countWhere.join(' AND ')}` : '';
    // Only the recipe-with-batch filter reads the batch row; otherwise counting needs no join.
    const from = where.some((term) => term.startsWith('b.'))
      ? 'units u CROSS JOIN batches b ON b.id = u.batch_id'
      : 'units u';
    const counted =
      db
        .prepare<Record<string, string | number>, { n: number }>(
          `SELECT count(*) AS n FROM (SELECT 1 FROM ${from} ${countClause} LIMIT ${COUNT_CAP + 1})`,
        )
        .get(params)?.n ?? 0;
    totalCapped = counted > COUNT_CAP;
    total = Math.min(counted, COUNT_CAP);
  }
  const last = units.at(-1);
  return { units, next: more && last ? encodeCursor(last) : null, total, totalCapped };
}
