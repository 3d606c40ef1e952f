/**
 * QA reads the trail through its own read-only connection: a reader in WAL mode never blocks the station's writer,
 * and a query cannot change the record even by mistake. The same code reads a station's live file, a copy of it,
 * or (later) the central database's export.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';

export type ReviewDb = Database.Database;

export class ReviewOpenError extends Error {
  override readonly name = 'ReviewOpenError';
}

export function openReviewDb(file: string): ReviewDb {
  if (!existsSync(file)) {
    throw new ReviewOpenError(
      `there is no audit trail at ${file}: give the station's audit file (--db FILE, or the config's station.databaseFile)`,
    );
  }
  let db: ReviewDb;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new ReviewOpenError(
      `cannot open ${file} for review: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    const hasUnits = db
      .prepare<[], { n: number }>(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'units'",
      )
      .get();
    if (!hasUnits || hasUnits.n === 0) {
      throw new ReviewOpenError(`${file} is not a station audit trail (it has no units table)`);
    }
    if (version < 3) {
      throw new ReviewOpenError(
        `${file} is an audit trail of format ${version}: open it once with this station version (it migrates it) and review it then`,
      );
    }
    // A reader waits for a checkpointing writer rather than failing the query.
    db.pragma('busy_timeout = 5000');
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
