/**
 * Shifts: the day cut at fixed UTC times (default 06:00, 14:00, 22:00, three 8-hour shifts). Each shift runs from
 * its start to the next start, the last one across midnight into the next day. A shift instance is named by the
 * UTC date it started on and its times, e.g. 2026-11-25 22:00-06:00.
 */
import { ReportError } from './errors';

export const DEFAULT_SHIFT_STARTS: readonly string[] = ['06:00', '14:00', '22:00'];

const DAY_MS = 24 * 60 * 60 * 1000;
const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export interface ShiftWindow {
  /** e.g. `22:00-06:00`. */
  shift: string;
  /** The UTC date the shift started on, YYYY-MM-DD. */
  date: string;
  /** ISO start and end (end exclusive). */
  start: string;
  end: string;
  startMs: number;
  endMs: number;
}

/** Shift start times from `06:00,14:00,22:00`; a clear error for anything else. */
export function parseShiftStarts(text: string | readonly string[]): string[] {
  const parts = (typeof text === 'string' ? text.split(',') : [...text]).map((p) => p.trim()).filter(Boolean);
  const problem = (what: string) =>
    new ReportError(
      'REPORT_BAD_OPTION',
      `shifts ${JSON.stringify(typeof text === 'string' ? text : text.join(','))}: ${what}; give the UTC start times in order, e.g. 06:00,14:00,22:00`,
    );
  if (parts.length === 0) throw problem('no start time given');
  if (parts.length > 24) throw problem('more than 24 shifts');
  let previous = -1;
  for (const part of parts) {
    const match = HHMM.exec(part);
    if (!match) throw problem(`"${part}" is not a time like 06:00`);
    const minutes = Number(match[1]) * 60 + Number(match[2]);
    if (minutes <= previous) throw problem(`"${part}" is not after the start before it`);
    previous = minutes;
  }
  return parts;
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The shift instance a moment falls in. */
export function shiftAt(ms: number, starts: readonly string[]): ShiftWindow {
  const dayStart = Math.floor(ms / DAY_MS) * DAY_MS;
  const minute = Math.floor((ms - dayStart) / 60_000);
  const offsets = starts.map(minutesOf);
  let index = -1;
  for (let i = 0; i < offsets.length; i++) if (offsets[i]! <= minute) index = i;
  // Before the first start of the day: still the previous day's last shift.
  const shiftDay = index === -1 ? dayStart - DAY_MS : dayStart;
  if (index === -1) index = offsets.length - 1;
  const startMs = shiftDay + offsets[index]! * 60_000;
  const endMs =
    index + 1 < offsets.length
      ? shiftDay + offsets[index + 1]! * 60_000
      : shiftDay + DAY_MS + offsets[0]! * 60_000;
  const next = starts[index + 1] ?? starts[0]!;
  return {
    shift: `${starts[index]!}-${next}`,
    date: new Date(shiftDay).toISOString().slice(0, 10),
    start: new Date(startMs).toISOString(),
    end: new Date(endMs).toISOString(),
    startMs,
    endMs,
  };
}
