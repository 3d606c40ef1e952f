/**
 * What a run did, read back from its audit trail: per unit, the backend requests each step made (with when they
 * started within the step, so requests side by side count as one round trip) and the audit events it wrote.
 */
import Database from 'better-sqlite3';

interface RecordedCall {
  method: string;
  endpoint: string;
  durationMs: number;
  startMs?: number;
}

export interface UnitTrail {
  unitId: string;
  outcome: string | null;
  durationMs: number | null;
  backendCalls: number;
  /** Round trips the unit waited on: within a step, calls that overlap in time are one round. */
  criticalPathCalls: number;
  auditEvents: number;
  calls: string[];
}

/** Calls grouped into rounds by time: a round starts when a call starts after every earlier one has ended. */
export function roundsOf(calls: RecordedCall[]): number {
  let rounds = 0;
  let openUntil = -Infinity;
  const timed = calls.map((call, i) => ({
    start: call.startMs ?? i * 1e9,
    end: (call.startMs ?? i * 1e9) + call.durationMs,
  }));
  for (const call of timed.sort((a, b) => a.start - b.start)) {
    if (call.start >= openUntil) rounds += 1;
    openUntil = Math.max(openUntil, call.end);
  }
  return rounds;
}

export function unitTrails(databaseFile: string): UnitTrail[] {
  const db = new Database(databaseFile, { readonly: true });
  try {
    const rows = db
      .prepare<[], { unit_id: string; kind: string; outcome: string | null; details: string }>(
        'SELECT unit_id, kind, outcome, details FROM events WHERE unit_id IS NOT NULL ORDER BY seq',
      )
      .all();
    const units = new Map<string, UnitTrail>();
    for (const row of rows) {
      let unit = units.get(row.unit_id);
      if (!unit) {
        unit = {
          unitId: row.unit_id,
          outcome: null,
          durationMs: null,
          backendCalls: 0,
          criticalPathCalls: 0,
          auditEvents: 0,
          calls: [],
        };
        units.set(row.unit_id, unit);
      }
      unit.auditEvents += 1;
      const details = JSON.parse(row.details) as { backend?: RecordedCall[]; durationMs?: number };
      if (row.kind === 'step.finished' && details.backend) {
        unit.backendCalls += details.backend.length;
        unit.criticalPathCalls += roundsOf(details.backend);
        unit.calls.push(...details.backend.map((call) => `${call.method} ${call.endpoint}`));
      }
      if (row.kind === 'unit.finished') {
        unit.outcome = row.outcome;
        unit.durationMs = details.durationMs ?? null;
      }
    }
    return [...units.values()];
  } finally {
    db.close();
  }
}

/** Events of the trail that belong to no unit (batch, checkpoints, config), per unit of the run. */
export function sharedEventsPerUnit(databaseFile: string): number {
  const db = new Database(databaseFile, { readonly: true });
  try {
    const shared = db.prepare('SELECT count(*) FROM events WHERE unit_id IS NULL').pluck().get() as number;
    const units = db
      .prepare('SELECT count(DISTINCT unit_id) FROM events WHERE unit_id IS NOT NULL')
      .pluck()
      .get() as number;
    return units > 0 ? shared / units : 0;
  } finally {
    db.close();
  }
}
