/**
 * The filter menus over the central record: stations (with site and line), batches (with their station),
 * recipes, operators, slots, error codes. Distinct values of an indexed column are read by skipping through its
 * index (a recursive query: one seek per value), as on a station, since PostgreSQL has no skip scan of its own.
 */
import type pg from 'pg';
import type { UnitFacets } from '../station-api';

const MAX_BATCHES = 500;

async function distinct(pool: pg.Pool, column: 'operator' | 'slot' | 'error_code'): Promise<unknown[]> {
  const { rows } = await pool.query<{ v: unknown }>(
    `WITH RECURSIVE walk(v) AS (
       SELECT min(${column}) FROM central_units WHERE ${column} IS NOT NULL
       UNION ALL
       SELECT (SELECT min(${column}) FROM central_units WHERE ${column} > walk.v) FROM walk WHERE walk.v IS NOT NULL
     ) SELECT v FROM walk WHERE v IS NOT NULL LIMIT 1000`,
  );
  return rows.map((row) => row.v);
}

export async function centralFacets(pool: pg.Pool): Promise<UnitFacets> {
  const [stations, batches, recipes, operators, slots, errorCodes, span] = await Promise.all([
    pool.query<{
      id: string;
      name: string | null;
      site: string | null;
      line: string | null;
      head_seq: string;
      refused: boolean;
    }>(
      `SELECT station_id AS id, name, site, line, head_seq, refused_at IS NOT NULL AS refused
         FROM central_stations ORDER BY site NULLS LAST, line NULLS LAST, name NULLS LAST, station_id`,
    ),
    pool.query<UnitFacets['batches'][number]>(
      `SELECT b.id, b.name, b.recipe_id AS "recipeId", b.state, b.opened_at AS "openedAt",
              b.released_at AS "releasedAt", b.station_id AS "stationId", s.name AS "stationName"
         FROM central_batches b JOIN central_stations s ON s.station_id = b.station_id
        ORDER BY b.opened_at DESC LIMIT ${MAX_BATCHES}`,
    ),
    pool.query<{ recipe_id: string }>('SELECT DISTINCT recipe_id FROM central_batches ORDER BY recipe_id'),
    distinct(pool, 'operator'),
    distinct(pool, 'slot'),
    distinct(pool, 'error_code'),
    pool.query<{ first: string | null; last: string | null }>(
      'SELECT (SELECT min(started_at) FROM central_units) AS first, (SELECT max(started_at) FROM central_units) AS last',
    ),
  ]);
  return {
    batches: batches.rows,
    recipes: recipes.rows.map((row) => row.recipe_id),
    operators: operators.map(String),
    slots: slots.map(Number),
    errorCodes: errorCodes.map(String),
    firstStartedAt: span.rows[0]?.first ?? null,
    lastStartedAt: span.rows[0]?.last ?? null,
    stations: stations.rows.map((row) => ({
      id: row.id,
      name: row.name,
      site: row.site,
      line: row.line,
      headSeq: Number(row.head_seq),
      refused: row.refused,
    })),
  };
}
