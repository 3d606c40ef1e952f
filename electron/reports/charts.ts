/**
 * The report's charts as inline SVG, drawn by Apache ECharts on the server (its SSR mode: no DOM, no canvas), so
 * the same markup shows in the UI, in a browser and in the PDF, with real text a PDF reader can search.
 *
 * ECharts is loaded through `require` when first needed: its CommonJS bundle loads in about a fifth of the time
 * of its ES module tree, and a `station` command that draws nothing never loads it at all.
 */
import { createRequire } from 'node:module';
import type * as ECharts from 'echarts';
import type { BatchStats } from './stats';

type EChartsOption = ECharts.EChartsOption;

let echarts: typeof ECharts | null = null;
function lib(): typeof ECharts {
  echarts ??= createRequire(import.meta.url)('echarts') as typeof ECharts;
  return echarts;
}

export const CHART_COLORS = {
  passed: '#2e7d32',
  failed: '#c62828',
  cancelled: '#9e9e9e',
  other: '#f9a825',
  accent: '#1f4e79',
  line: '#e65100',
};

const FONT = "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif";
const TEXT = { fontFamily: FONT, fontSize: 11, color: '#222' };

export function renderChart(option: EChartsOption, width: number, height: number): string {
  const chart = lib().init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: TEXT, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const hhmm = (iso: string) => iso.slice(11, 16);

/** Units finished per UTC hour, stacked by result. */
export function throughputChart(stats: BatchStats, width: number, height: number): string | null {
  if (stats.throughput.length === 0) return null;
  const multiDay =
    stats.throughput[0]!.hourStart.slice(0, 10) !== stats.throughput.at(-1)!.hourStart.slice(0, 10);
  const labels = stats.throughput.map((b) =>
    multiDay ? `${b.hourStart.slice(5, 10)} ${hhmm(b.hourStart)}` : hhmm(b.hourStart),
  );
  const series = (name: string, key: 'passed' | 'failed' | 'cancelled', color: string) => ({
    name,
    type: 'bar' as const,
    stack: 'units',
    barMaxWidth: 28,
    itemStyle: { color },
    data: stats.throughput.map((b) => b[key]),
  });
  return renderChart(
    {
      legend: { top: 0, right: 0, textStyle: TEXT, itemWidth: 12, itemHeight: 10 },
      grid: { left: 44, right: 12, top: 28, bottom: 42 },
      xAxis: {
        type: 'category',
        data: labels,
        name: 'hour (UTC)',
        nameLocation: 'middle',
        nameGap: 28,
        axisLabel: { ...TEXT, fontSize: 10, hideOverlap: true },
        nameTextStyle: TEXT,
      },
      yAxis: {
        type: 'value',
        name: 'units',
        minInterval: 1,
        axisLabel: { ...TEXT, fontSize: 10 },
        nameTextStyle: TEXT,
      },
      series: [
        series('passed', 'passed', CHART_COLORS.passed),
        series('failed', 'failed', CHART_COLORS.failed),
        series('cancelled', 'cancelled', CHART_COLORS.cancelled),
      ],
    },
    width,
    height,
  );
}

/** Failed attempts by cause, most frequent first, with the cumulative share (a Pareto chart). */
export function paretoChart(stats: BatchStats, width: number, height: number, top = 8): string | null {
  if (stats.failuresByCause.length === 0) return null;
  const causes = stats.failuresByCause.slice(0, top);
  return renderChart(
    {
      grid: { left: 40, right: 44, top: 26, bottom: 92 },
      xAxis: {
        type: 'category',
        data: causes.map((c) => c.code),
        axisLabel: { ...TEXT, fontSize: 9, rotate: 35, interval: 0, width: 120, overflow: 'truncate' },
      },
      yAxis: [
        {
          type: 'value',
          name: 'failures',
          minInterval: 1,
          axisLabel: { ...TEXT, fontSize: 10 },
          nameTextStyle: TEXT,
        },
        {
          type: 'value',
          name: 'cumulative',
          min: 0,
          max: 100,
          axisLabel: { ...TEXT, fontSize: 10, formatter: '{value}%' },
          nameTextStyle: TEXT,
          splitLine: { show: false },
        },
      ],
      series: [
        {
          type: 'bar',
          barMaxWidth: 36,
          itemStyle: { color: CHART_COLORS.failed },
          label: { show: true, position: 'top', ...TEXT, fontSize: 10 },
          data: causes.map((c) => c.count),
        },
        {
          type: 'line',
          yAxisIndex: 1,
          symbolSize: 5,
          itemStyle: { color: CHART_COLORS.line },
          lineStyle: { color: CHART_COLORS.line },
          data: causes.map((c) => Math.round(c.cumulativeShare * 1000) / 10),
        },
      ],
    },
    width,
    height,
  );
}

/** Passed / failed / other units per group (slot or operator), as stacked horizontal bars. */
export function groupChart(
  groups: Array<{ label: string; passed: number; failed: number; other: number }>,
  width: number,
  height: number,
): string | null {
  if (groups.length === 0) return null;
  const shown = groups.slice(0, 32);
  const series = (name: string, key: 'passed' | 'failed' | 'other', color: string) => ({
    name,
    type: 'bar' as const,
    stack: 'units',
    barMaxWidth: 14,
    itemStyle: { color },
    data: shown.map((g) => g[key]),
  });
  return renderChart(
    {
      legend: { top: 0, right: 0, textStyle: TEXT, itemWidth: 12, itemHeight: 10 },
      grid: { left: 100, right: 16, top: 26, bottom: 22 },
      yAxis: {
        type: 'category',
        inverse: true,
        data: shown.map((g) => g.label),
        axisLabel: { ...TEXT, fontSize: 10, width: 92, overflow: 'truncate' },
      },
      xAxis: { type: 'value', minInterval: 1, axisLabel: { ...TEXT, fontSize: 10 } },
      series: [
        series('passed', 'passed', CHART_COLORS.passed),
        series('failed', 'failed', CHART_COLORS.failed),
        series('other', 'other', CHART_COLORS.cancelled),
      ],
    },
    width,
    height,
  );
}

/** Median and p95 time per step, in seconds. */
export function stepTimeChart(stats: BatchStats, width: number, height: number): string | null {
  const steps = stats.steps.filter((s) => s.time !== null);
  if (steps.length === 0) return null;
  const seconds = (ms: number) => Math.round(ms) / 1000;
  return renderChart(
    {
      legend: { top: 0, right: 0, textStyle: TEXT, itemWidth: 12, itemHeight: 10 },
      // Room for the longest step name, set out explicitly: ECharts' containLabel cuts the widest label short.
      grid: { left: 112, right: 24, top: 26, bottom: 22 },
      yAxis: {
        type: 'category',
        inverse: true,
        data: steps.map((s) => s.step),
        axisLabel: { ...TEXT, fontSize: 10, width: 104, overflow: 'truncate' },
      },
      xAxis: {
        type: 'value',
        name: 's',
        axisLabel: { ...TEXT, fontSize: 10 },
        nameTextStyle: TEXT,
      },
      series: [
        {
          name: 'median',
          type: 'bar',
          barMaxWidth: 10,
          itemStyle: { color: CHART_COLORS.accent },
          data: steps.map((s) => seconds(s.time!.medianMs)),
        },
        {
          name: 'p95',
          type: 'bar',
          barMaxWidth: 10,
          itemStyle: { color: '#8fb3d9' },
          data: steps.map((s) => seconds(s.time!.p95Ms)),
        },
      ],
    },
    width,
    height,
  );
}
