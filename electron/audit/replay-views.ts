/**
 * The views (batches, units) rebuilt from the events alone, in a scratch database, and compared with the stored
 * ones: a view edited on its own (a failed unit made passed, a batch reopened) is named by row and column.
 */
import Database from 'better-sqlite3';
import type { EventRowFields } from './hash-chain';
import { Projections } from './projections';
import { MIGRATIONS } from './schema';
import { EVENT_COLUMNS } from './store';

const VIEWS = [
  { table: 'batches', what: 'batch' },
  { table: 'units', what: 'unit' },
] as const;

type Row = Record<string, unknown> & { id: string };

export function replayViews(db: Database.Database): { seq: number; message: string } | null {
  const scratch = new Database(':memory:');
  try {
    scratch.pragma('foreign_keys = ON');
    for (const migration of MIGRATIONS) scratch.exec(migration);
    const projections = new Projections(scratch);
    const insert = scratch.prepare(
      `INSERT INTO events (${EVENT_COLUMNS}) VALUES (@seq, @event_id, @at, @station_id, @operator, @batch_id,
        @unit_id, @slot, @step, @kind, @outcome, @details, @supersedes, @prev_hash, @hash)`,
    );
    const rows = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY seq`).iterate() as IterableIterator<
      Record<string, unknown> & { seq: number; details: string; kind: string }
    >;
    let failed: { seq: number; message: string } | null = null;
    scratch.transaction(() => {
      for (const row of rows) {
        try {
          projections.resolve({
            kind: row.kind,
            batch_id: row.batch_id as string | null,
            unit_id: row.unit_id as string | null,
            slot: row.slot as number | null,
            supersedes: row.supersedes as number | null,
          });
          insert.run(row);
          projections.apply({
            ...(row as unknown as EventRowFields),
            details: JSON.parse(row.details) as Record<string, unknown>,
          });
        } catch (error) {
          failed = {
            seq: row.seq,
            message: `event seq ${row.seq} cannot be replayed onto the events before it (${error instanceof Error ? error.message : String(error)})`,
          };
          return;
        }
      }
    })();
    if (failed) return failed;
    for (const { table, what } of VIEWS) {
      const difference = compare(
        db.prepare(`SELECT * FROM ${table} ORDER BY id`).all() as Row[],
        scratch.prepare(`SELECT * FROM ${table} ORDER BY id`).all() as Row[],
        table,
        what,
      );
      if (difference) return difference;
    }
    return null;
  } finally {
    scratch.close();
  }
}

function compare(
  stored: Row[],
  replayed: Row[],
  table: string,
  what: string,
): { seq: number; message: string } | null {
  const fromEvents = new Map(replayed.map((row) => [row.id, row]));
  const inView = new Map(stored.map((row) => [row.id, row]));
  for (const row of stored) {
    const expected = fromEvents.get(row.id);
    const seq = typeof row.last_seq === 'number' ? row.last_seq : 0;
    if (!expected) return { seq, message: `the ${table} view holds ${what} ${row.id}, which no event made` };
    for (const [column, value] of Object.entries(expected)) {
      if (row[column] !== value) {
        return {
          seq,
          message: `the ${table} view says ${what} ${row.id} has ${column} ${JSON.stringify(row[column])}, but its events give ${JSON.stringify(value)}: the view was edited`,
        };
      }
    }
  }
  for (const row of replayed) {
    if (!inView.has(row.id)) {
      return {
        seq: typeof row.last_seq === 'number' ? row.last_seq : 0,
        message: `the ${table} view lacks ${what} ${row.id}, which the events make: the view was edited`,
      };
    }
  }
  return null;
}
