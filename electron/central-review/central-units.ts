/**
 * The QA units table over the central record: every station's units, newest first, filtered (by station, site and
 * line too) and searched, one page at a time. The same contract as a station's own table (review/unit-query.ts),
 * the same keyset paging, on (started_at, station_id, id): unit ids are each station's own, so the station is part
 * of a unit's key. The indexes are central_units' (central/schema.ts, migration 2).
 */
import type pg from 'pg';
import {
  decodeKeyCursor,
  encodeKeyCursor,
  normaliseAuditTime,
  parseUnitPageRequest,
  searchPrefixEnd,
  SEARCH_MIN_PREFIX,
} from '../review';
import type { UnitPage, UnitPageRequest, UnitQuery, UnitRow } from '../station-api';

/**
 * Matches are counted up to here ("10,000+"), a tenth of a station's cap: over every station's units, counting
 * 100,000 matches of a broad filter costs PostgreSQL more than the page itself, and a count that large tells QA
 * to narrow the filter either way.
 */
export const CENTRAL_COUNT_CAP = 10_000;

export function encodeCentralCursor(row: { startedAt: string; stationId: string; id: string }): string {
  return encodeKeyCursor([row.startedAt, row.stationId, row.id]);
}

function decodeCentralCursor(text: string): { startedAt: string; stationId: string; id: string } {
  const [startedAt, stationId, id] = decodeKeyCursor(text, 3, 'the central record') as [
    string,
    string,
    string,
  ];
  return { startedAt, stationId, id };
}

/** Query text with numbered parameters, built term by term. */
class Terms {
  readonly where: string[] = [];
  readonly values: unknown[] = [];
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
  add(term: string): void {
    this.where.push(term);
  }
  clause(extra: string[] = []): string {
    const all = [...this.where, ...extra];
    return all.length > 0 ? `WHERE ${all.join(' AND ')}` : '';
  }
}

export const CENTRAL_UNIT_COLUMNS = `u.station_id AS "stationId", s.name AS "stationName", u.id,
  u.batch_id AS "batchId", b.name AS "batchName", b.recipe_id AS "recipeId", u.slot, u.soc, u.mcu_id AS "mcuId",
  u.device_id AS "deviceId", u.serial_number AS "serialNumber", u.state, u.outcome, u.error_code AS "errorCode",
  u.last_step AS "lastStep", u.operator, u.started_at AS "startedAt", u.ended_at AS "endedAt",
  u.duration_ms AS "durationMs", u.attempt, u.reviewed_at AS "reviewedAt"`;

export const CENTRAL_UNIT_FROM = `central_units u
  JOIN central_batches b ON b.station_id = u.station_id AND b.id = u.batch_id
  JOIN central_stations s ON s.station_id = u.station_id`;

/** pg returns bigint/double columns as they are typed; these are ints and floats that fit a JS number. */
export function toUnitRow(row: Record<string, unknown>): UnitRow {
  return {
    ...(row as unknown as UnitRow),
    slot: row.slot === null ? null : Number(row.slot),
    durationMs: row.durationMs === null ? null : Number(row.durationMs),
    attempt: Number(row.attempt),
  };
}

async function build(pool: pg.Pool, filter: UnitQuery): Promise<Terms> {
  const terms = new Terms();
  if (filter.from) terms.add(`u.started_at >= ${terms.param(normaliseAuditTime(filter.from))}`);
  if (filter.to) terms.add(`u.started_at < ${terms.param(normaliseAuditTime(filter.to))}`);
  if (filter.stationId) terms.add(`u.station_id = ${terms.param(filter.stationId)}`);
  if (filter.site || filter.line) {
    // A site or a line is a set of stations: listed first, so the units query keeps to its indexes.
    const { rows } = await pool.query<{ station_id: string }>(
      `SELECT station_id FROM central_stations
        WHERE ($1::text IS NULL OR site = $1) AND ($2::text IS NULL OR line = $2)`,
      [filter.site ?? null, filter.line ?? null],
    );
    if (rows.length === 0) terms.add('false');
    else terms.add(`u.station_id = ANY(${terms.param(rows.map((row) => row.station_id))}::text[])`);
  }
  if (filter.batchId) {
    terms.add(`u.batch_id = ${terms.param(filter.batchId)}`);
    if (!filter.stationId) {
      // The stations that have a batch of this id, named: the batch index leads with the station.
      const { rows } = await pool.query<{ station_id: string }>(
        'SELECT station_id FROM central_batches WHERE id = $1',
        [filter.batchId],
      );
      terms.add(`u.station_id = ANY(${terms.param(rows.map((row) => row.station_id))}::text[])`);
    }
  }
  if (filter.state) terms.add(`u.state = ${terms.param(filter.state)}`);
  if (filter.errorCode) terms.add(`u.error_code = ${terms.param(filter.errorCode)}`);
  if (filter.operator) terms.add(`u.operator = ${terms.param(filter.operator)}`);
  if (filter.slot !== undefined) terms.add(`u.slot = ${terms.param(filter.slot)}`);
  if (filter.reviewed !== undefined) {
    terms.add(filter.reviewed ? 'u.reviewed_at IS NOT NULL' : 'u.reviewed_at IS NULL');
  }
  if (filter.recipeId) {
    // A recipe is a set of (station, batch) pairs, as on a station a set of batches.
    const { rows } = await pool.query<{ station_id: string; id: string }>(
      'SELECT station_id, id FROM central_batches WHERE recipe_id = $1',
      [filter.recipeId],
    );
    if (rows.length === 0) terms.add('false');
    else {
      const stations = terms.param(rows.map((row) => row.station_id));
      const batches = terms.param(rows.map((row) => row.id));
      terms.add(
        `(u.station_id, u.batch_id) IN (SELECT * FROM unnest(${stations}::text[], ${batches}::text[]))`,
      );
    }
  }
  if (filter.search) {
    const text = filter.search;
    const exact = terms.param(text);
    const hex = terms.param(text.toLowerCase());
    const parts = [
      `SELECT station_id, id FROM central_units WHERE id = ${exact}`,
      `SELECT station_id, id FROM central_units WHERE mcu_id = ${hex}`,
      `SELECT station_id, id FROM central_units WHERE device_id = ${hex}`,
      `SELECT station_id, id FROM central_units WHERE serial_number = ${exact}`,
    ];
    if (text.length >= SEARCH_MIN_PREFIX) {
      // The end of the range of strings that start with the text (COLLATE "C" compares UTF-8 bytes).
      const hexEnd = terms.param(searchPrefixEnd(text.toLowerCase()));
      const end = terms.param(searchPrefixEnd(text));
      parts.push(
        `SELECT station_id, id FROM central_units WHERE mcu_id >= ${hex} AND mcu_id < ${hexEnd}`,
        `SELECT station_id, id FROM central_units WHERE device_id >= ${hex} AND device_id < ${hexEnd}`,
        `SELECT station_id, id FROM central_units WHERE serial_number >= ${exact} AND serial_number < ${end}`,
      );
    }
    terms.add(`(u.station_id, u.id) IN (${parts.join(' UNION ')})`);
  }
  return terms;
}

/** One page of the central record's units matching `request.filter`, newest first. */
export async function queryCentralUnits(pool: pg.Pool, input: UnitPageRequest): Promise<UnitPage> {
  const { filter, limit, cursor } = parseUnitPageRequest(input);
  const terms = await build(pool, filter);
  const countClause = terms.clause();
  const countValues = [...terms.values];
  const paging: string[] = [];
  if (cursor) {
    const key = decodeCentralCursor(cursor);
    paging.push(
      `(u.started_at, u.station_id, u.id) < (${terms.param(key.startedAt)}, ${terms.param(key.stationId)}, ${terms.param(key.id)})`,
    );
  }
  // The page and the count go to two connections at once: a broad filter's count (up to CENTRAL_COUNT_CAP rows) costs
  // as much as the page, and the person waits for the slower of the two, not for both.
  const [page, counted] = await Promise.all([
    pool.query<Record<string, unknown>>(
      `SELECT ${CENTRAL_UNIT_COLUMNS} FROM ${CENTRAL_UNIT_FROM} ${terms.clause(paging)}
        ORDER BY u.started_at DESC, u.station_id DESC, u.id DESC LIMIT ${terms.param(limit + 1)}`,
      terms.values,
    ),
    cursor
      ? null
      : pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM (SELECT 1 FROM central_units u ${countClause} LIMIT ${CENTRAL_COUNT_CAP + 1}) matches`,
          countValues,
        ),
  ]);
  const rows = page.rows;
  const more = rows.length > limit;
  const units = (more ? rows.slice(0, limit) : rows).map(toUnitRow);
  let total: number | null = null;
  let totalCapped = false;
  if (counted) {
    const n = Number(counted.rows[0]?.n ?? 0);
    totalCapped = n > CENTRAL_COUNT_CAP;
    total = Math.min(n, CENTRAL_COUNT_CAP);
  }
  const last = units.at(-1);
  return {
    units,
    next:
      more && last
        ? encodeCentralCursor({ startedAt: last.startedAt, stationId: last.stationId!, id: last.id })
        : null,
    total,
    totalCapped,
  };
}
