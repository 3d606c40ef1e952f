/**
 * The values QA can filter by (batches, recipes, operators, slots, error codes), for the filter menus. Distinct
 * values of an indexed column are read by skipping through its index (one seek per distinct value), so a million
 * units with eight operators cost eight seeks, not a scan.
 */
import type { UnitFacets } from '../station-api';
import type { ReviewDb } from './review-db';

/** At most this many batches in a menu (newest first); the batch filter also takes an id typed in. */
const MAX_BATCHES = 500;

function distinct<T extends string | number>(db: ReviewDb, column: 'operator' | 'slot' | 'error_code'): T[] {
  // A recursive walk: the smallest value, then the smallest value greater than that, ... each an index seek.
  const rows = db
    .prepare<[], { v: T | null }>(
      `WITH RECURSIVE walk(v) AS (
         SELECT min(${column}) FROM units WHERE ${column} IS NOT NULL
         UNION ALL
         SELECT (SELECT min(${column}) FROM units WHERE ${column} > walk.v) FROM walk WHERE walk.v IS NOT NULL
       ) SELECT v FROM walk WHERE v IS NOT NULL LIMIT 1000`,
    )
    .all();
  return rows.map((row) => row.v as T);
}

export function unitFacets(db: ReviewDb): UnitFacets {
  const batches = db
    .prepare<[], UnitFacets['batches'][number]>(
      `SELECT id, name, recipe_id AS recipeId, state, opened_at AS openedAt, released_at AS releasedAt FROM batches
       ORDER BY opened_at DESC LIMIT ${MAX_BATCHES}`,
    )
    .all();
  const recipes = db
    .prepare<[], { recipe_id: string }>('SELECT DISTINCT recipe_id FROM batches ORDER BY recipe_id')
    .all()
    .map((row) => row.recipe_id);
  const span = db
    .prepare<[], { first: string | null; last: string | null }>(
      'SELECT (SELECT min(started_at) FROM units) AS first, (SELECT max(started_at) FROM units) AS last',
    )
    .get();
  return {
    batches,
    recipes,
    operators: distinct<string>(db, 'operator'),
    slots: distinct<number>(db, 'slot'),
    errorCodes: distinct<string>(db, 'error_code'),
    firstStartedAt: span?.first ?? null,
    lastStartedAt: span?.last ?? null,
  };
}
