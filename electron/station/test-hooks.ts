/**
 * Test-only hooks of the station. Honoured only when `STATION_TEST_HOOKS=1`; a station in production never
 * sets it, and without it every variable below is ignored.
 *
 * - `STATION_TEST_CRASH_AFTER=<kind>[:<step>][#<n>]`: SIGKILL the process right after the n-th (default 1st) unit
 *   journal event of that kind (and step) is in the audit trail, counted over every slot of the run. Kinds:
 *   `unit.started`, `unit.identified`, `step.started`, `step.intent`, `step.finished`, `unit.finished`. Lets the
 *   crash tests stop the station at every step boundary, deterministically.
 * - `STATION_AUDIT_MAX_PAGE_COUNT=<pages>`: cap the audit database (`PRAGMA max_page_count`) so it really fills
 *   (SQLITE_FULL) mid-batch, as on a full disk.
 * - `STATION_LOOP_STATS_FILE=<path>`: the host samples its event-loop delay and RSS and writes them to that JSON
 *   file every second (loop-stats.ts), for the responsiveness benchmark.
 */
import type { JournalEntry, UnitJournal } from '../provisioning';

export const CRASH_KINDS = [
  'unit.started',
  'unit.identified',
  'step.started',
  'step.intent',
  'step.finished',
  'unit.finished',
] as const;
export type CrashKind = (typeof CRASH_KINDS)[number];

export interface CrashPoint {
  kind: CrashKind;
  step?: string;
  /** Crash after this many matching events (1-based). */
  n: number;
}

export class TestHookError extends Error {
  override name = 'TestHookError';
}

function hooksEnabled(env: NodeJS.ProcessEnv): boolean {
  return env.STATION_TEST_HOOKS === '1';
}

export function parseCrashPoint(text: string): CrashPoint {
  const match = /^(?<kind>[a-z.]+)(?::(?<step>[a-z-]+))?(?:#(?<n>[1-9][0-9]*))?$/.exec(text.trim());
  const kind = match?.groups?.kind;
  if (!match?.groups || !kind || !(CRASH_KINDS as readonly string[]).includes(kind)) {
    throw new TestHookError(
      `STATION_TEST_CRASH_AFTER="${text}" is not <kind>[:<step>][#<n>] with kind one of ${CRASH_KINDS.join(', ')}`,
    );
  }
  return {
    kind: kind as CrashKind,
    ...(match.groups.step !== undefined && { step: match.groups.step }),
    n: match.groups.n === undefined ? 1 : Number(match.groups.n),
  };
}

/** The crash point the environment asks for, or undefined (always undefined without STATION_TEST_HOOKS=1). */
export function crashPointFromEnv(env: NodeJS.ProcessEnv = process.env): CrashPoint | undefined {
  const text = env.STATION_TEST_CRASH_AFTER;
  if (!hooksEnabled(env) || !text) return undefined;
  return parseCrashPoint(text);
}

/** `max_page_count` for the audit store, or undefined (always undefined without STATION_TEST_HOOKS=1). */
export function auditMaxPageCountFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.STATION_AUDIT_MAX_PAGE_COUNT;
  if (!hooksEnabled(env) || !text) return undefined;
  const pages = Number(text);
  if (!Number.isInteger(pages) || pages < 1)
    throw new TestHookError(`STATION_AUDIT_MAX_PAGE_COUNT="${text}" is not a positive whole number`);
  return pages;
}

/** Where the host writes its event-loop and memory figures, or undefined (always without STATION_TEST_HOOKS=1). */
export function loopStatsFileFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.STATION_LOOP_STATS_FILE;
  if (!hooksEnabled(env) || !file) return undefined;
  return file;
}

/**
 * Wraps every slot's journal: after the entry that matches the crash point has been recorded (so it is on disk),
 * the process kills itself with SIGKILL: no finally blocks, no closing, exactly like a power cut of the station.
 */
export function crashingJournals(point: CrashPoint): (inner: UnitJournal) => UnitJournal {
  let seen = 0;
  const after = (entry: JournalEntry) => {
    const step = 'step' in entry ? entry.step : undefined;
    if (entry.kind !== point.kind || (point.step !== undefined && step !== point.step)) return;
    seen += 1;
    if (seen !== point.n) return;
    // stderr is a pipe or a tty: synchronous on Linux, so this line is out before the kill.
    process.stderr.write(
      `test hook: SIGKILL after ${entry.kind}${step ? `:${step}` : ''}#${seen} (STATION_TEST_CRASH_AFTER)\n`,
    );
    process.kill(process.pid, 'SIGKILL');
  };
  return (inner) => ({
    record(entry) {
      inner.record(entry);
      after(entry);
    },
  });
}
