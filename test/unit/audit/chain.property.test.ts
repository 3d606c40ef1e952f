/**
 * Properties of the chain: any sequence of valid events verifies, and any single byte flipped in any stored value
 * of any event row (written with plain SQL, triggers dropped) is detected.
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findSecretLikeKey, verifyAuditChain, type AuditEventInput } from '../../../electron/audit/index';
import { CONFIG_SHA, openStore, tempDbFile } from '../../support/audit';

type Action =
  | { type: 'start'; slot: number }
  | { type: 'step'; outcome: 'passed' | 'failed' | 'skipped'; extra: Record<string, unknown> }
  | { type: 'finish'; outcome: 'passed' | 'failed' }
  | { type: 'attention' }
  | { type: 'log'; lines: string[] }
  | { type: 'correct' };

const safeKey = fc.constantFrom(
  'note',
  'count',
  'rssi',
  'firmware',
  'ok',
  'deviceId',
  'keyFp',
  'ünïcode',
  '',
);
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ type: fc.constant('start' as const), slot: fc.nat(15) }),
  fc.record({
    type: fc.constant('step' as const),
    outcome: fc.constantFrom('passed' as const, 'failed' as const, 'skipped' as const),
    // Nested objects get random keys; one named like a secret ("key") is refused by design, so leave those out.
    extra: fc
      .dictionary(safeKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
      .filter((extra) => findSecretLikeKey(extra) === null),
  }),
  fc.record({
    type: fc.constant('finish' as const),
    outcome: fc.constantFrom('passed' as const, 'failed' as const),
  }),
  fc.record({ type: fc.constant('attention' as const) }),
  fc.record({
    type: fc.constant('log' as const),
    lines: fc.array(fc.string({ unit: 'binary' }), { maxLength: 3 }),
  }),
  fc.record({ type: fc.constant('correct' as const) }),
);

/** Records the actions, turning each into an event that is valid in the current state; returns the event count. */
function record(file: string, actions: Action[]): number {
  const store = openStore(file);
  store.append({
    kind: 'batch.opened',
    batchId: 'b',
    details: { name: 'B', recipeId: 'r', configSha256: CONFIG_SHA },
  });
  let units = 0;
  let current: string | null = null;
  for (const a of actions) {
    let event: AuditEventInput | null = null;
    if (a.type === 'start' || current === null) {
      current = `u${units++}`;
      event = {
        kind: 'unit.started',
        batchId: 'b',
        unitId: current,
        slot: a.type === 'start' ? a.slot : 0,
        details: {},
      };
    } else if (a.type === 'step') {
      event = {
        kind: 'step.finished',
        unitId: current,
        step: 'identify',
        outcome: a.outcome,
        details: { durationMs: 5, ...a.extra },
      };
    } else if (a.type === 'finish') {
      event = { kind: 'unit.finished', unitId: current, outcome: a.outcome, details: {} };
    } else if (a.type === 'attention') {
      event = { kind: 'unit.attention', unitId: current, details: { reason: 'check the cable' } };
    } else if (a.type === 'log') {
      event = { kind: 'step.log', unitId: current, details: { source: 'board', lines: a.lines } };
    } else {
      event = {
        kind: 'correction',
        supersedes: store.lastEvent()!.seq,
        details: { reason: 'operator typo' },
      };
    }
    const state = store.unit(current)?.state;
    if (
      (a.type === 'step' || a.type === 'finish' || a.type === 'attention') &&
      state !== 'in-progress' &&
      state !== 'attention'
    ) {
      current = null;
      continue;
    }
    store.append(event);
    if (a.type === 'finish') current = null;
  }
  const count = store.lastEvent()!.seq;
  store.close();
  return count;
}

const COLUMNS = [
  'seq',
  'event_id',
  'at',
  'station_id',
  'operator',
  'batch_id',
  'unit_id',
  'slot',
  'step',
  'kind',
  'outcome',
  'details',
  'supersedes',
  'prev_hash',
  'hash',
] as const;

describe('hash chain properties', () => {
  it('any sequence of valid events verifies', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 30 }), (actions) => {
        const file = tempDbFile();
        const count = record(file, actions);
        expect(verifyAuditChain(file)).toMatchObject({ ok: true, events: count });
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it('flipping any single byte of any stored value in any row is detected', () => {
    fc.assert(
      fc.property(
        fc.array(action, { minLength: 1, maxLength: 15 }),
        fc.nat(),
        fc.constantFrom(...COLUMNS),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (actions, rowPick, column, bytePick, mask) => {
          const file = tempDbFile();
          const count = record(file, actions);
          const seq = 1 + (rowPick % count);
          const db = new Database(file);
          db.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;');
          const current = db.prepare(`SELECT ${column} AS v FROM events WHERE seq = ?`).get(seq) as {
            v: unknown;
          };
          fc.pre(current.v !== null); // a NULL has no bytes to flip
          try {
            if (typeof current.v === 'number') {
              // An integer column: flip one of its low four bytes.
              const flipped = current.v ^ (mask << (8 * (bytePick % 4)));
              db.prepare(`UPDATE events SET ${column} = ? WHERE seq = ?`).run(flipped, seq);
            } else {
              const bytes = Buffer.from(String(current.v), 'utf8');
              bytes[bytePick % bytes.length]! ^= mask;
              // CAST keeps it TEXT even when the flip leaves invalid UTF-8, as a hex editor would.
              db.prepare(`UPDATE events SET ${column} = CAST(? AS TEXT) WHERE seq = ?`).run(bytes, seq);
            }
          } catch (error) {
            // The flip collided with a constraint (a seq already taken, supersedes >= seq): not a tamper SQLite allows.
            db.close();
            fc.pre(!(error instanceof Error && /constraint/i.test(error.message)));
            throw error;
          }
          db.close();
          const result = verifyAuditChain(file);
          expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);
});
