/**
 * The supervisor's numbers for one batch, as plain JSON (the UI's dashboard and every report format use these, so
 * they agree): counts, first-pass yield, pace, where failures come from, who and which slot, how long units and
 * steps take, and the same per shift. Pure: the same data gives the same numbers, whatever the clock says.
 *
 * Definitions (also in README.md):
 * - counts are of units by their state in the units view, corrections applied;
 * - first-pass yield = units passed on their first attempt / units passed or failed (the station banner's rule);
 *   yield = passed / (passed + failed); both null until a unit has passed or failed;
 * - units per hour = passed units / hours from the first unit's start to the last unit's end (at least a minute);
 * - failures by cause count failed attempts (a unit that failed, was retried and passed counts there once);
 * - median and p95 interpolate linearly between the closest ranks (Excel PERCENTILE.INC, numpy's default).
 */
import type { BatchReportData, ReportAttempt, ReportUnit, UnitStateName } from './data';
import { DEFAULT_SHIFT_STARTS, parseShiftStarts, shiftAt } from './shifts';

export interface BatchStatsOptions {
  /** UTC shift start times, e.g. ['06:00', '14:00', '22:00'] (the default). */
  shifts?: readonly string[] | string;
}

export interface UnitCounts {
  units: number;
  passed: number;
  failed: number;
  cancelled: number;
  inProgress: number;
  attention: number;
  voided: number;
}

export interface Distribution {
  count: number;
  medianMs: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
}

export interface GroupStats extends UnitCounts {
  firstPass: number;
  firstPassYield: number | null;
}

export interface StepStats {
  step: string;
  count: number;
  passed: number;
  failed: number;
  skipped: number;
  time: Distribution | null;
}

export interface FailureCause {
  /** The error code, or UNKNOWN when the trail has none. */
  code: string;
  /** The most recent operator text recorded with it. */
  description: string | null;
  /** The step it happened in most often. */
  step: string | null;
  count: number;
  share: number;
  cumulativeShare: number;
}

export interface ThroughputBucket {
  /** The UTC hour, ISO. */
  hourStart: string;
  passed: number;
  failed: number;
  cancelled: number;
}

export interface ShiftStats extends GroupStats {
  shift: string;
  date: string;
  start: string;
  end: string;
  unitsPerHour: number | null;
}

export interface BatchStats {
  batch: {
    id: string;
    name: string;
    recipeId: string;
    state: string;
    openedAt: string;
    closedAt: string | null;
    /** When the batch was released (a "released" signature), and by whom (the signer's printed name). */
    releasedAt: string | null;
    releasedBy: string | null;
  };
  counts: UnitCounts;
  firstPass: number;
  firstPassYield: number | null;
  yield: number | null;
  unitsPerHour: number | null;
  /** From the first unit's start to the last unit's end. */
  span: { firstStartAt: string | null; lastEndAt: string | null; hours: number };
  /** Time per unit over units that passed or failed (their latest attempt). */
  unitTime: Distribution | null;
  /** Every step of every attempt, in workflow order. */
  steps: StepStats[];
  /** Units that ended in each UTC hour of the batch. */
  throughput: ThroughputBucket[];
  failedAttempts: number;
  /** Pareto: causes of failed attempts, most frequent first, with the cumulative share. */
  failuresByCause: FailureCause[];
  perOperator: Array<GroupStats & { operator: string }>;
  perSlot: Array<GroupStats & { slot: number | null; slotName: string | null }>;
  shiftStarts: string[];
  /** Units by the shift they ended in (or started in, when they have not ended). */
  shifts: ShiftStats[];
}

const HOUR_MS = 3_600_000;

export function emptyCounts(): UnitCounts {
  return { units: 0, passed: 0, failed: 0, cancelled: 0, inProgress: 0, attention: 0, voided: 0 };
}

const COUNT_KEY: Record<UnitStateName, keyof UnitCounts> = {
  passed: 'passed',
  failed: 'failed',
  cancelled: 'cancelled',
  'in-progress': 'inProgress',
  attention: 'attention',
  voided: 'voided',
};

function group(): GroupStats {
  return { ...emptyCounts(), firstPass: 0, firstPassYield: null };
}

function add(target: UnitCounts & { firstPass?: number }, unit: ReportUnit): void {
  target.units++;
  target[COUNT_KEY[unit.state]]++;
  if (unit.firstPass && target.firstPass !== undefined) target.firstPass++;
}

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

function closeGroup<T extends GroupStats>(stats: T): T {
  stats.firstPassYield = ratio(stats.firstPass, stats.passed + stats.failed);
  return stats;
}

/** Linear interpolation between closest ranks (PERCENTILE.INC) on sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export function distribution(values: number[]): Distribution | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const list = Array.from(sorted);
  return {
    count: list.length,
    medianMs: percentile(list, 50),
    p95Ms: percentile(list, 95),
    minMs: list[0]!,
    maxMs: list[list.length - 1]!,
    meanMs: sum / list.length,
  };
}

/** When a unit counts for throughput and shifts: when it ended, else when it started. */
function unitMoment(unit: ReportUnit): number {
  return Date.parse(unit.endedAt ?? unit.startedAt);
}

export function batchStats(data: BatchReportData, options: BatchStatsOptions = {}): BatchStats {
  const shiftStarts = parseShiftStarts(options.shifts ?? DEFAULT_SHIFT_STARTS);
  const counts = emptyCounts();
  let firstPass = 0;
  let firstStart = Number.POSITIVE_INFINITY;
  let lastEnd = Number.NEGATIVE_INFINITY;
  const unitTimes: number[] = [];
  const operators = new Map<string, GroupStats & { operator: string }>();
  const slots = new Map<string, GroupStats & { slot: number | null; slotName: string | null }>();
  const hours = new Map<number, ThroughputBucket>();
  const shifts = new Map<string, ShiftStats>();
  const steps = new Map<string, { stats: StepStats; times: number[]; order: number }>();
  const causes = new Map<string, { count: number; description: string | null; steps: Map<string, number> }>();
  let failedAttempts = 0;

  for (const unit of data.units) {
    add(counts, unit);
    if (unit.firstPass) firstPass++;
    const started = Date.parse(unit.startedAt);
    if (started < firstStart) firstStart = started;
    if (unit.endedAt !== null) lastEnd = Math.max(lastEnd, Date.parse(unit.endedAt));
    if ((unit.state === 'passed' || unit.state === 'failed') && unit.durationMs !== null)
      unitTimes.push(unit.durationMs);

    const operator = unit.operator ?? '(none)';
    let byOperator = operators.get(operator);
    if (!byOperator) operators.set(operator, (byOperator = { operator, ...group() }));
    add(byOperator, unit);

    const slotKey = `${unit.slot ?? ''}|${unit.slotName ?? ''}`;
    let bySlot = slots.get(slotKey);
    if (!bySlot) slots.set(slotKey, (bySlot = { slot: unit.slot, slotName: unit.slotName, ...group() }));
    add(bySlot, unit);

    const moment = unitMoment(unit);
    if (unit.endedAt !== null && ended(unit.state)) {
      const hour = Math.floor(moment / HOUR_MS) * HOUR_MS;
      let bucket = hours.get(hour);
      if (!bucket)
        hours.set(
          hour,
          (bucket = { hourStart: new Date(hour).toISOString(), passed: 0, failed: 0, cancelled: 0 }),
        );
      if (unit.state === 'passed') bucket.passed++;
      else if (unit.state === 'failed') bucket.failed++;
      else if (unit.state === 'cancelled') bucket.cancelled++;
    }
    const window = shiftAt(moment, shiftStarts);
    const shiftKey = `${window.date} ${window.shift}`;
    let byShift = shifts.get(shiftKey);
    if (!byShift) {
      const { startMs: _s, endMs: _e, ...named } = window;
      shifts.set(shiftKey, (byShift = { ...named, ...group(), unitsPerHour: null }));
    }
    add(byShift, unit);

    for (const attempt of unit.attemptRecords) {
      if (attempt.outcome === 'failed') {
        failedAttempts++;
        const code = attempt.errorCode ?? lastFailedStep(attempt)?.errorCode ?? 'UNKNOWN';
        let cause = causes.get(code);
        if (!cause) causes.set(code, (cause = { count: 0, description: null, steps: new Map() }));
        cause.count++;
        cause.description = attempt.message ?? lastFailedStep(attempt)?.message ?? cause.description;
        const step = attempt.failedStep ?? lastFailedStep(attempt)?.name;
        if (step) cause.steps.set(step, (cause.steps.get(step) ?? 0) + 1);
      }
      for (const step of attempt.steps) {
        if (step.outcome === null) continue;
        let entry = steps.get(step.name);
        if (!entry) {
          entry = {
            stats: { step: step.name, count: 0, passed: 0, failed: 0, skipped: 0, time: null },
            times: [],
            order: step.index ?? 1000 + steps.size,
          };
          steps.set(step.name, entry);
        }
        entry.stats.count++;
        entry.stats[step.outcome]++;
        if (step.durationMs !== null && step.outcome !== 'skipped') entry.times.push(step.durationMs);
      }
    }
  }

  const spanHours =
    Number.isFinite(firstStart) && Number.isFinite(lastEnd)
      ? Math.max(lastEnd - firstStart, 60_000) / HOUR_MS
      : 0;
  for (const shift of shifts.values()) {
    closeGroup(shift);
    // The hours of the shift the batch was running in: the overlap of the shift and the batch's span.
    const from = Math.max(Date.parse(shift.start), firstStart);
    const to = Math.min(Date.parse(shift.end), Number.isFinite(lastEnd) ? lastEnd : from);
    const hoursOn = Math.max(to - from, 60_000) / HOUR_MS;
    shift.unitsPerHour = shift.passed === 0 ? null : shift.passed / hoursOn;
  }

  const causeList = [...causes.entries()]
    .map(([code, cause]) => ({
      code,
      description: cause.description,
      step: [...cause.steps.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null,
      count: cause.count,
      share: 0,
      cumulativeShare: 0,
    }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  let cumulative = 0;
  for (const cause of causeList) {
    cause.share = cause.count / failedAttempts;
    cumulative += cause.count;
    cause.cumulativeShare = cumulative / failedAttempts;
  }

  return {
    batch: {
      id: data.batch.id,
      name: data.batch.name,
      recipeId: data.batch.recipeId,
      state: data.batch.state,
      openedAt: data.batch.openedAt,
      closedAt: data.batch.closedAt,
      releasedAt: data.batch.releasedAt,
      releasedBy:
        data.signatures.findLast((s) => s.meaning === 'released' && s.subject.type === 'batch')?.signerName ??
        null,
    },
    counts,
    firstPass,
    firstPassYield: ratio(firstPass, counts.passed + counts.failed),
    yield: ratio(counts.passed, counts.passed + counts.failed),
    unitsPerHour: counts.passed === 0 || spanHours === 0 ? null : counts.passed / spanHours,
    span: {
      firstStartAt: Number.isFinite(firstStart) ? new Date(firstStart).toISOString() : null,
      lastEndAt: Number.isFinite(lastEnd) ? new Date(lastEnd).toISOString() : null,
      hours: spanHours,
    },
    unitTime: distribution(unitTimes),
    steps: [...steps.values()]
      .sort((a, b) => a.order - b.order)
      .map((entry) => ({ ...entry.stats, time: distribution(entry.times) })),
    throughput: [...hours.entries()].sort((a, b) => a[0] - b[0]).map(([, bucket]) => bucket),
    failedAttempts,
    failuresByCause: causeList,
    perOperator: [...operators.values()].map(closeGroup).sort((a, b) => a.operator.localeCompare(b.operator)),
    perSlot: [...slots.values()]
      .map(closeGroup)
      .sort((a, b) => (a.slot ?? -1) - (b.slot ?? -1) || (a.slotName ?? '').localeCompare(b.slotName ?? '')),
    shiftStarts,
    shifts: [...shifts.values()].sort((a, b) => a.start.localeCompare(b.start)),
  };
}

function ended(state: UnitStateName): boolean {
  return state === 'passed' || state === 'failed' || state === 'cancelled';
}

function lastFailedStep(attempt: ReportAttempt) {
  return attempt.steps.findLast((step) => step.outcome === 'failed');
}
