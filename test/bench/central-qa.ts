/**
 * QA's queries over the central record, as the central QA host runs them (CentralReview): the units query across
 * every station (first page, and a page halfway down), under each filter (station, line and site too) and search,
 * a unit's record (its slice copied out and made by the station's own code) and the filter menus. Each shape runs
 * `repeats` times; the figure is the p95 over every run of every shape, as in the station's review bench.
 */
import type pg from 'pg';
import { CentralReview, encodeCentralCursor } from '../../electron/central-review';
import type { UnitQuery } from '../../electron/station-api';
import { QueryTimer } from './query-timer';

interface Sample {
  station_id: string;
  id: string;
  batch_id: string;
  mcu_id: string;
  device_id: string | null;
  serial_number: string | null;
  operator: string;
  error_code: string | null;
}

export async function centralQaBench(pool: pg.Pool, options: { repeats?: number } = {}) {
  const repeats = options.repeats ?? 20;
  const review = new CentralReview(pool, 'bench');
  // A failed unit (any unit in a tiny record) of a station in the middle of the list: what QA would search for.
  const { rows: samples } = await pool.query<Sample>(
    `SELECT station_id, id, batch_id, mcu_id, device_id, serial_number, operator, error_code FROM central_units
      WHERE mcu_id IS NOT NULL AND station_id = (SELECT station_id FROM central_stations ORDER BY station_id
                                               OFFSET (SELECT count(*) / 2 FROM central_stations) LIMIT 1)
      ORDER BY state <> 'failed', started_at LIMIT 1`,
  );
  const failed = samples[0];
  if (!failed) throw new Error('the central record holds no unit to search for');
  const { rows: stationRows } = await pool.query<{
    site: string;
    line: string;
    recipe: string;
    units: string;
  }>(
    `SELECT s.site, s.line, (SELECT recipe_id FROM central_batches b WHERE b.station_id = s.station_id
                                                                  AND b.id = $2) AS recipe,
            (SELECT count(*) FROM central_units) AS units
       FROM central_stations s WHERE s.station_id = $1`,
    [failed.station_id, failed.batch_id],
  );
  const station = stationRows[0]!;
  const units = Number(station.units);
  const span = await pool.query<{ first: string; last: string }>(
    'SELECT min(started_at) AS first, max(started_at) AS last FROM central_units',
  );
  const mid = new Date((Date.parse(span.rows[0]!.first) + Date.parse(span.rows[0]!.last)) / 2).toISOString();
  const shapes: Array<[string, UnitQuery]> = [
    ['all stations', {}],
    ['station', { stationId: failed.station_id }],
    ['line', { line: station.line }],
    ['site', { site: station.site }],
    ['state=failed', { state: 'failed' }],
    ...(failed.error_code
      ? ([['errorCode', { errorCode: failed.error_code }]] as Array<[string, UnitQuery]>)
      : []),
    ['operator', { operator: failed.operator }],
    ['slot', { slot: 3 }],
    ['batch', { batchId: failed.batch_id }],
    ['recipe', { recipeId: station.recipe }],
    ['station+failed', { stationId: failed.station_id, state: 'failed' }],
    ['reviewed=false', { reviewed: false }],
    ['time window', { from: mid, to: new Date(Date.parse(mid) + 8 * 3_600_000).toISOString() }],
    ['search mcuId', { search: failed.mcu_id }],
    ['search mcuId prefix', { search: failed.mcu_id.slice(0, 6) }],
    ...(failed.serial_number
      ? ([['search serial', { search: failed.serial_number }]] as Array<[string, UnitQuery]>)
      : []),
    ...(failed.device_id
      ? ([['search device id', { search: failed.device_id }]] as Array<[string, UnitQuery]>)
      : []),
  ];
  const { rows: deepRows } = await pool.query<{ startedAt: string; stationId: string; id: string }>(
    `SELECT started_at AS "startedAt", station_id AS "stationId", id FROM central_units
      ORDER BY started_at DESC, station_id DESC, id DESC LIMIT 1 OFFSET $1`,
    [Math.floor(units / 2)],
  );
  const deep = deepRows[0]!;
  const timer = new QueryTimer(repeats);
  for (const [name, filter] of shapes) await timer.time(name, () => review.queryUnits({ filter, limit: 50 }));
  await timer.time('page 50% deep', () =>
    review.queryUnits({ limit: 50, cursor: encodeCentralCursor(deep) }),
  );
  await timer.time('unit detail', () => review.unitDetail(failed.id, failed.station_id));
  await timer.time('facets', () => review.facets());
  const p95 = timer.p95Ms;
  return {
    units,
    repeats,
    pageSize: 50,
    shapes: shapes.length + 3,
    queryP95Ms: p95,
    met: p95 < 50,
    perShape: timer.perShape,
  };
}
