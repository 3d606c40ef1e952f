/**
 * One station's record as far as one question needs it (a unit's record, a batch's report), copied out of the
 * central database into an in-memory trail with the station's own schema. The unit record and the batch report
 * are then made by exactly the code a station uses on its own file (review/unit-detail.ts, reports/data.ts):
 * the central QA host shows the same screens and exports the same reports, not a second version of them.
 *
 * A slice holds the rows the question reads: the unit or batch and its view rows, its events, the events the
 * chain status reads (the station's identity events, its last checkpoint and the first after the unit, its head),
 * so signatures and record hashes come out as they would on the station.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { EVENT_COLUMNS, openTrailInMemory } from '../audit';

/** Events are read in pages: a 10,000-unit batch has a quarter of a million. */
const PAGE = 20_000;

const EVENT_SELECT = `SELECT seq::integer AS seq, event_id::text AS event_id, at, station_id, operator, batch_id,
  unit_id, slot, step, kind, outcome, details, supersedes::integer AS supersedes, prev_hash, hash FROM central_events`;

const BATCH_COLUMNS =
  'id, name, recipe_id, config_sha256, operator, opened_at, closed_at, state, released_at, last_seq::integer AS last_seq';
const UNIT_COLUMNS = `id, batch_id, slot, soc, mcu_id, device_id, serial_number, state, last_step, outcome,
  error_code, started_at, ended_at, duration_ms, attempt, operator, reviewed_at, last_seq::integer AS last_seq`;

export class TrailSlice {
  private readonly insertEvent: Database.Statement;
  private readonly insertBatch: Database.Statement;
  private readonly insertUnit: Database.Statement;

  private constructor(
    readonly db: Database.Database,
    readonly stationId: string,
  ) {
    db.prepare("INSERT INTO meta (key, value) VALUES ('station_id', ?)").run(stationId);
    this.insertEvent = db.prepare(
      `INSERT OR IGNORE INTO events (${EVENT_COLUMNS}) VALUES (@seq, @event_id, @at, @station_id, @operator,
        @batch_id, @unit_id, @slot, @step, @kind, @outcome, @details, @supersedes, @prev_hash, @hash)`,
    );
    this.insertBatch = db.prepare(
      `INSERT OR IGNORE INTO batches (id, name, recipe_id, config_sha256, operator, opened_at, closed_at, state,
        released_at, last_seq) VALUES (@id, @name, @recipe_id, @config_sha256, @operator, @opened_at, @closed_at,
        @state, @released_at, @last_seq)`,
    );
    this.insertUnit = db.prepare(
      `INSERT OR IGNORE INTO units (id, batch_id, slot, soc, mcu_id, device_id, serial_number, state, last_step,
        outcome, error_code, started_at, ended_at, duration_ms, attempt, operator, reviewed_at, last_seq)
       VALUES (@id, @batch_id, @slot, @soc, @mcu_id, @device_id, @serial_number, @state, @last_step, @outcome,
        @error_code, @started_at, @ended_at, @duration_ms, @attempt, @operator, @reviewed_at, @last_seq)`,
    );
  }

  close(): void {
    this.db.close();
  }

  private addEvents(rows: readonly Record<string, unknown>[]): void {
    this.db.transaction(() => {
      for (const row of rows) this.insertEvent.run(row);
    })();
  }

  /** The events the chain status and record hashes read: identity keys, the last checkpoint, the head. */
  private async addChainEnds(client: pg.ClientBase): Promise<void> {
    const ends = await client.query<Record<string, unknown>>(
      `(${EVENT_SELECT} WHERE station_id = $1 AND kind = 'station.identity')
       UNION ALL (${EVENT_SELECT} WHERE station_id = $1 AND kind = 'checkpoint' ORDER BY central_events.seq DESC LIMIT 1)
       UNION ALL (${EVENT_SELECT} WHERE station_id = $1
                  AND seq = (SELECT head_seq FROM central_stations WHERE station_id = $1))`,
      [this.stationId],
    );
    this.addEvents(ends.rows);
  }

  /** A unit's record, or null when the station has no such unit. */
  static async forUnit(pool: pg.Pool, stationId: string, unitId: string): Promise<TrailSlice | null> {
    return readConsistently(pool, async (client) => {
      const unit = await client.query<Record<string, unknown>>(
        `SELECT ${UNIT_COLUMNS} FROM central_units WHERE station_id = $1 AND id = $2`,
        [stationId, unitId],
      );
      const unitRow = unit.rows[0];
      if (!unitRow) return null;
      const slice = new TrailSlice(openTrailInMemory(), stationId);
      try {
        const batch = await client.query<Record<string, unknown>>(
          `SELECT ${BATCH_COLUMNS} FROM central_batches WHERE station_id = $1 AND id = $2`,
          [stationId, unitRow.batch_id],
        );
        slice.db.transaction(() => {
          for (const row of batch.rows) slice.insertBatch.run(row);
          slice.insertUnit.run(unitRow);
        })();
        const events = await client.query<Record<string, unknown> & { seq: number }>(
          `(${EVENT_SELECT} WHERE unit_id = $2 AND station_id = $1 ORDER BY central_events.seq)
           UNION ALL (${EVENT_SELECT} WHERE batch_id = $3 AND station_id = $1 AND kind = 'batch.opened'
                      ORDER BY central_events.seq LIMIT 1)`,
          [stationId, unitId, unitRow.batch_id],
        );
        slice.addEvents(events.rows);
        const lastSeq = Math.max(
          0,
          ...events.rows.filter((row) => row.unit_id === unitId).map((row) => row.seq),
        );
        const after = await client.query<Record<string, unknown>>(
          `${EVENT_SELECT} WHERE station_id = $1 AND kind = 'checkpoint' AND seq > $2 ORDER BY central_events.seq LIMIT 1`,
          [stationId, lastSeq],
        );
        slice.addEvents(after.rows);
        await slice.addChainEnds(client);
        return slice;
      } catch (error) {
        slice.close();
        throw error;
      }
    });
  }

  /** A batch's report data source; null when the station has no such batch. */
  static async forBatch(pool: pg.Pool, stationId: string, batchId: string): Promise<TrailSlice | null> {
    return readConsistently(pool, async (client) => {
      const batch = await client.query<Record<string, unknown>>(
        `SELECT ${BATCH_COLUMNS} FROM central_batches WHERE station_id = $1 AND id = $2`,
        [stationId, batchId],
      );
      if (batch.rows.length === 0) return null;
      const slice = new TrailSlice(openTrailInMemory(), stationId);
      try {
        const units = await client.query<Record<string, unknown>>(
          `SELECT ${UNIT_COLUMNS} FROM central_units WHERE station_id = $1 AND batch_id = $2`,
          [stationId, batchId],
        );
        slice.db.transaction(() => {
          for (const row of batch.rows) slice.insertBatch.run(row);
          for (const row of units.rows) slice.insertUnit.run(row);
        })();
        // Every event of the batch, even for a summary that reads no board logs or intents: a signature's validity
        // is the hash of every event of its subject, recomputed (audit/record-hash.ts).
        for (let after = 0; ;) {
          const page = await client.query<Record<string, unknown> & { seq: number }>(
            `${EVENT_SELECT} WHERE batch_id = $2 AND station_id = $1 AND seq > $3 ORDER BY central_events.seq LIMIT ${PAGE}`,
            [stationId, batchId, after],
          );
          slice.addEvents(page.rows);
          if (page.rows.length < PAGE) break;
          after = page.rows.at(-1)!.seq;
        }
        await slice.addChainEnds(client);
        return slice;
      } catch (error) {
        slice.close();
        throw error;
      }
    });
  }
}

/** One read-only transaction with a single snapshot: the view rows and the events agree, as in one SQLite read. */
async function readConsistently<T>(pool: pg.Pool, read: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      return await read(client);
    } finally {
      await client.query('COMMIT').catch((error: unknown) => {
        // A connection that cannot end its transaction does not go back to the pool.
        broken = error instanceof Error ? error : new Error(String(error));
      });
    }
  } finally {
    client.release(broken);
  }
}
