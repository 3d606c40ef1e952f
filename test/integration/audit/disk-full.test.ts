/**
 * A full disk, for real: `PRAGMA max_page_count` caps the file so SQLite itself returns SQLITE_FULL, exactly as
 * when the filesystem runs out of space.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_WRITE_FAILED_MESSAGE,
  AuditWriteError,
  verifyAuditChain,
  type AuditEvent,
} from '../../../electron/audit/index';
import { openStore, recordBatch, tempDbFile } from '../../support/audit';

function pageCount(file: string): number {
  const db = new Database(file, { readonly: true });
  const n = db.pragma('page_count', { simple: true }) as number;
  db.close();
  return n;
}

describe('when the audit trail cannot be written', () => {
  it('throws AuditWriteError with the operator message, refuses every later append, and keeps what was written', () => {
    const file = tempDbFile();
    const setup = openStore(file);
    recordBatch(setup, 1);
    setup.append({ kind: 'unit.started', batchId: 'batch-1', unitId: 'u-log', slot: 0, details: {} });
    setup.close();

    const store = openStore(file, { maxPageCount: pageCount(file) });
    const lines = Array.from({ length: 40 }, (_, i) => `board log line ${i}: ${'x'.repeat(80)}`);
    let written: AuditEvent | null = null;
    let failure: unknown = null;
    for (let i = 0; i < 500 && failure === null; i++) {
      try {
        written = store.append({ kind: 'step.log', unitId: 'u-log', details: { source: 'board', lines } });
      } catch (error) {
        failure = error;
      }
    }
    expect(failure).toBeInstanceOf(AuditWriteError);
    const error = failure as AuditWriteError;
    expect(error.code).toBe('AUDIT_WRITE_FAILED');
    expect(error.sqliteCode).toBe('SQLITE_FULL');
    expect(error.message).toBe(
      'The audit trail could not be written (disk full?): provisioning is stopped. Free disk space or call IT, then restart.',
    );
    expect(error.operatorMessage).toBe(AUDIT_WRITE_FAILED_MESSAGE);
    expect(store.failed).toBe(true);

    // Even an event that would fit is refused: nothing proceeds unrecorded after a failed write.
    const refused = (() => {
      try {
        store.append({ kind: 'operator.logout', operator: 'ann', details: {} });
      } catch (e) {
        return e;
      }
    })();
    expect(refused).toBeInstanceOf(AuditWriteError);
    expect(refused).toMatchObject({ message: AUDIT_WRITE_FAILED_MESSAGE, sqliteCode: 'SQLITE_FULL' });
    const lastSeq = written?.seq ?? 9;
    expect(store.lastEvent()?.seq).toBe(lastSeq);
    // The views did not move with the failed event either.
    expect(store.unit('u-log')?.lastSeq).toBe(9);
    store.close();

    expect(verifyAuditChain(file)).toMatchObject({ ok: true, events: lastSeq });

    // Once space is back, a reopened store carries on the same chain.
    const reopened = openStore(file);
    const next = reopened.append({ kind: 'operator.logout', operator: 'ann', details: {} });
    expect(next.seq).toBe(lastSeq + 1);
    reopened.close();
    expect(verifyAuditChain(file)).toMatchObject({ ok: true, events: lastSeq + 1, lastHash: next.hash });
  });

  it('a write locked out past the busy timeout fails the same way', () => {
    const file = tempDbFile();
    const setup = openStore(file);
    recordBatch(setup, 1);
    setup.close();
    // A second connection holding an exclusive lock makes the store's writes fail once its busy timeout runs out.
    const blocker = new Database(file);
    blocker.exec('BEGIN EXCLUSIVE');
    const store = openStore(file, { busyTimeoutMs: 50 });
    expect(() => store.append({ kind: 'operator.logout', operator: 'ann', details: {} })).toThrow(
      AuditWriteError,
    );
    expect(store.failed).toBe(true);
    blocker.exec('ROLLBACK');
    blocker.close();
    expect(() => store.append({ kind: 'operator.logout', operator: 'ann', details: {} })).toThrow(
      AUDIT_WRITE_FAILED_MESSAGE,
    );
    store.close();
  });
});
