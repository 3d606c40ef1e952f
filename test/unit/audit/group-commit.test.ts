/**
 * Group commit (`appendSoon`): events queued in one turn of the event loop commit together at its end, before
 * any durable append or read, in the order they were queued; failures reach the callers that queued them.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  AuditEventRejectedError,
  AuditWriteError,
  verifyAuditChain,
  type AuditEvent,
  type AuditEventInput,
  type QueuedAppendOutcome,
} from '../../../electron/audit/index';
import { openStore, recordBatch, tempDbFile } from '../../support/audit';

/** What another connection sees on disk: committed events only. */
function kindsOnDisk(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[], { kind: string }>('SELECT kind FROM events ORDER BY seq')
      .all()
      .map((row) => row.kind);
  } finally {
    db.close();
  }
}

function collector() {
  const outcomes: QueuedAppendOutcome[] = [];
  return { outcomes, settle: (outcome: QueuedAppendOutcome) => outcomes.push(outcome) };
}

const step = (unitId: string, kind: 'step.started' | 'step.finished'): AuditEventInput =>
  kind === 'step.started'
    ? { kind, unitId, step: 'identify', details: {} }
    : { kind, unitId, step: 'identify', outcome: 'passed', details: { durationMs: 5 } };

function startUnit(file: string, units: string[]) {
  const store = openStore(file);
  recordBatch(store, 0);
  units.forEach((unitId, slot) =>
    store.append({ kind: 'unit.started', batchId: 'batch-1', unitId, slot, details: {} }),
  );
  return store;
}

describe('group commit', () => {
  it('commits what one turn queued in one transaction at its end, in order, and only then tells the callers', async () => {
    const file = tempDbFile();
    const store = startUnit(file, ['u1', 'u2']);
    const before = kindsOnDisk(file).length;
    const writesBefore = store.writes;
    const a = collector();
    const b = collector();
    store.appendSoon([step('u1', 'step.started')], a.settle);
    store.appendSoon([step('u2', 'step.started'), step('u2', 'step.finished')], b.settle);
    // Nothing on disk, nobody told, until the turn ends.
    expect(kindsOnDisk(file)).toHaveLength(before);
    expect(a.outcomes).toEqual([]);
    await nextTurn();
    expect(kindsOnDisk(file).slice(before)).toEqual(['step.started', 'step.started', 'step.finished']);
    expect(store.writes).toEqual({ events: writesBefore.events + 3, commits: writesBefore.commits + 1 });
    const [first] = a.outcomes;
    const [second] = b.outcomes;
    expect(first?.events?.map((e) => e.unitId)).toEqual(['u1']);
    expect(second?.events?.map((e) => [e.unitId, e.kind])).toEqual([
      ['u2', 'step.started'],
      ['u2', 'step.finished'],
    ]);
    // One chain, as if appended one by one.
    expect(second!.events![0]!.prevHash).toBe(first!.events![0]!.hash);
    store.close();
    expect(verifyAuditChain(file)).toMatchObject({ ok: true });
  });

  it('a durable append commits the queue first, in the same transaction, and its callers hear first', () => {
    const file = tempDbFile();
    const store = startUnit(file, ['u1']);
    const heard: string[] = [];
    store.appendSoon([step('u1', 'step.started')], (outcome) =>
      heard.push(`queued ${outcome.events?.[0]?.seq}`),
    );
    const intent = store.append({
      kind: 'step.intent',
      unitId: 'u1',
      step: 'identify',
      details: { action: 'write' },
    });
    heard.push(`durable ${intent.seq}`);
    expect(heard).toEqual([`queued ${intent.seq - 1}`, `durable ${intent.seq}`]);
    expect(kindsOnDisk(file).slice(-2)).toEqual(['step.started', 'step.intent']);
    store.close();
  });

  it('a read sees what was queued before it, and close commits what is left', () => {
    const file = tempDbFile();
    const store = startUnit(file, ['u1']);
    const { outcomes, settle } = collector();
    store.appendSoon([step('u1', 'step.started')], settle);
    expect(store.unitHistory('u1').events.map((e) => e.kind)).toEqual(['unit.started', 'step.started']);
    store.appendSoon([step('u1', 'step.finished')], settle);
    store.close();
    expect(outcomes.map((o) => o.events?.[0]?.kind)).toEqual(['step.started', 'step.finished']);
    expect(kindsOnDisk(file).slice(-2)).toEqual(['step.started', 'step.finished']);
  });

  it('refuses a malformed event at once, and a refused event fails only its own caller', async () => {
    const file = tempDbFile();
    const store = startUnit(file, ['u1']);
    expect(() => store.appendSoon([{ kind: 'no.such.kind', details: {} } as never], () => undefined)).toThrow(
      AuditEventRejectedError,
    );
    const good = collector();
    const bad = collector();
    store.appendSoon([step('u1', 'step.started')], good.settle);
    // Well-formed, but the views refuse it: the unit was never started.
    store.appendSoon([step('ghost', 'step.started')], bad.settle);
    const later = collector();
    store.appendSoon([step('u1', 'step.finished')], later.settle);
    await nextTurn();
    expect(good.outcomes[0]?.events?.[0]?.kind).toBe('step.started');
    expect(bad.outcomes[0]?.error).toBeInstanceOf(AuditEventRejectedError);
    expect(String((bad.outcomes[0]?.error as Error).message)).toContain('"ghost" was never started');
    expect(later.outcomes[0]?.events?.[0]?.kind).toBe('step.finished');
    expect(store.failed).toBe(false);
    store.close();
    expect(verifyAuditChain(file)).toMatchObject({ ok: true });
  });

  it('a full disk reaches every queued caller as AuditWriteError, and the store refuses what comes after', async () => {
    const file = tempDbFile();
    const setup = startUnit(file, ['u1']);
    setup.close();
    const pages = (() => {
      const db = new Database(file, { readonly: true });
      const n = db.pragma('page_count', { simple: true }) as number;
      db.close();
      return n;
    })();
    const store = openStore(file, { maxPageCount: pages });
    const lines = Array.from({ length: 40 }, (_, i) => `board log line ${i}: ${'x'.repeat(80)}`);
    const { outcomes, settle } = collector();
    for (let i = 0; i < 200; i++)
      store.appendSoon([{ kind: 'step.log', unitId: 'u1', details: { source: 'board', lines } }], settle);
    await nextTurn();
    expect(outcomes).toHaveLength(200);
    expect(outcomes.every((o) => o.error instanceof AuditWriteError)).toBe(true);
    expect(store.failed).toBe(true);
    expect(() => store.appendSoon([step('u1', 'step.started')], settle)).toThrow(AuditWriteError);
    const lastOnDisk: AuditEvent | null = store.lastEvent();
    expect(lastOnDisk?.kind).toBe('unit.started');
    store.close();
    expect(verifyAuditChain(file)).toMatchObject({ ok: true });
  });
});
