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
 * Wraps every slot's journal: once the entry that matches the crash point is on disk, the process kills itself
 * with SIGKILL: no finally blocks, no closing, exactly like a power cut of the station. A boundary commits at the
 * end of the turn (group commit), so the kill comes then: the workflow may have started its next move, as it
 * may have when the power goes.
 */
export function crashingJournals(point: CrashPoint): (inner: UnitJournal) => UnitJournal {
  let seen = 0;
  const isCrashPoint = (entry: JournalEntry) => {
    const step = 'step' in entry ? entry.step : undefined;
    if (entry.kind !== point.kind || (point.step !== undefined && step !== point.step)) return false;
    seen += 1;
    return seen === point.n;
  };
  const kill = (entry: JournalEntry) => {
    const step = 'step' in entry ? entry.step : undefined;
    // stderr is a pipe or a tty: synchronous on Linux, so this line is out before the kill. The count is the
    // crash point's (other slots may match again before the commit).
    process.stderr.write(
      `test hook: SIGKILL after ${entry.kind}${step ? `:${step}` : ''}#${point.n} (STATION_TEST_CRASH_AFTER)\n`,
    );
    process.kill(process.pid, 'SIGKILL');
  };
  return (inner) => ({
    record(entry) {
      if (!isCrashPoint(entry)) return inner.record(entry);
      // On disk once its commit has settled: the durable path says when.
      void inner.recordDurably(entry).then(() => kill(entry));
    },
    async recordDurably(entry) {
      const crash = isCrashPoint(entry);
      await inner.recordDurably(entry);
      if (crash) kill(entry);
    },
  });
}
