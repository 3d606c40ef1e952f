/**
 * How the review and dashboard screens write times, durations, hashes and numbers. Times are UTC, as the station
 * records them and as its reports print them, so a screen and a report about the same unit read the same.
 */

/** `2026-12-01 06:02:11` from an ISO time (the trail's `+00:00` or `Z`), in UTC. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const utc = new Date(ms).toISOString();
  return `${utc.slice(0, 10)} ${utc.slice(11, 19)}`;
}

/** The time of day only (`06:02:11`), for events inside one unit. */
export function formatClock(iso: string | null | undefined): string {
  return formatTime(iso).slice(11) || '–';
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)} %`;
}

export function formatRate(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : value.toFixed(value < 10 ? 1 : 0);
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The start of a hash, enough to compare by eye (`3f9a61c0…`); the whole value stays in the title. */
export function shortHash(hash: string, length = 12): string {
  return hash.length > length ? `${hash.slice(0, length)}…` : hash;
}

/** A `datetime-local` field's value, read as UTC, as the ISO time the station's filters take. */
export function utcFieldToIso(value: string): string | undefined {
  if (value === '') return undefined;
  const ms = Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
