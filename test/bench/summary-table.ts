/**
 * The short table `npm run bench` prints on stderr beside its JSON (stdout): every target each benchmark checked,
 * its value and met or missed, and the floor bench's gang rows, so a person reads the run at a glance.
 */

interface TargetRow {
  benchmark: string;
  target: string;
  value: string;
  status: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const shown = (value: unknown): string =>
  value === null || value === undefined
    ? 'not measured'
    : typeof value === 'number'
      ? String(value)
      : String(value);

/** The benchmarks state targets in a few shapes: `{value|valueMs, target, met}` or `{value, target, status}`. */
function targetRows(benchmark: Record<string, unknown>): TargetRow[] {
  const name = String(benchmark.benchmark ?? benchmark.name ?? '?');
  const rows: TargetRow[] = [];
  if (isRecord(benchmark.targets)) {
    for (const [key, entry] of Object.entries(benchmark.targets)) {
      if (!isRecord(entry)) continue;
      const status =
        typeof entry.status === 'string'
          ? entry.status
          : entry.met === true
            ? 'met'
            : entry.met === false
              ? 'missed'
              : 'not measured';
      rows.push({
        benchmark: name,
        target:
          `${key} ${typeof entry.target === 'string' && entry.target.length < 40 ? entry.target : ''}`.trim(),
        value: shown(entry.value ?? entry.valueMs),
        status,
      });
    }
  } else if (isRecord(benchmark.target)) {
    // The review bench: `{ queryP95Ms: 50, met }` beside its measured `queryP95Ms`.
    const { met, ...limits } = benchmark.target;
    for (const [key, limit] of Object.entries(limits)) {
      rows.push({
        benchmark: name,
        target: `${key} < ${shown(limit)}`,
        value: shown(benchmark[key]),
        status: met === true ? 'met' : met === false ? 'missed' : 'not measured',
      });
    }
  }
  return rows;
}

function gangRows(benchmark: Record<string, unknown>): string[] {
  if (benchmark.benchmark !== 'units-per-hour') return [];
  const lines: string[] = [];
  for (const [label, rows] of [
    ['gang', benchmark.gang],
    ['gang, backend limit 4', benchmark.gangBackendLimit4],
  ] as const) {
    if (!Array.isArray(rows) || rows.length === 0) continue;
    lines.push(`${label}: slots  units/h  efficiency  unit ms  commits/unit  busy cores`);
    for (const row of rows as Array<Record<string, unknown>>) {
      const median = (value: unknown) => (isRecord(value) ? shown(value.median) : shown(value));
      const cpu = isRecord(row.cpu) ? row.cpu : {};
      lines.push(
        `  ${[
          String(row.slots).padStart(5),
          median(row.unitsPerHour).padStart(8),
          median(row.efficiency).padStart(10),
          median(row.unitMs).padStart(8),
          median(row.auditCommitsPerUnit).padStart(12),
          median(cpu.busyCores).padStart(10),
        ].join('  ')}`,
      );
    }
  }
  return lines;
}

export function summaryTable(benchmarks: object[]): string {
  const rows = benchmarks.flatMap((b) => targetRows(b as Record<string, unknown>));
  const widths = {
    benchmark: Math.max(9, ...rows.map((r) => r.benchmark.length)),
    target: Math.max(6, ...rows.map((r) => r.target.length)),
    value: Math.max(5, ...rows.map((r) => r.value.length)),
  };
  const line = (r: TargetRow) =>
    `${r.benchmark.padEnd(widths.benchmark)}  ${r.target.padEnd(widths.target)}  ${r.value.padStart(widths.value)}  ${r.status}`;
  return [
    line({ benchmark: 'benchmark', target: 'target', value: 'value', status: 'status' }),
    ...rows.map(line),
    ...benchmarks.flatMap((b) => gangRows(b as Record<string, unknown>)),
  ].join('\n');
}
