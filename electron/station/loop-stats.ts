/**
 * Test-only (README "Test-only hooks"): how responsive this process is, written to a JSON file for a benchmark in
 * another process to read. Started by a host when `STATION_TEST_HOOKS=1` and `STATION_LOOP_STATS_FILE=<path>`
 * (`loopStatsFileFromEnv`); never in production.
 *
 * - Event-loop delay from `perf_hooks.monitorEventLoopDelay` (10 ms resolution, Node's default). Node records the
 *   whole interval between two of its timer ticks, so the resolution is taken off every figure: 0 ms is a loop that
 *   was never late.
 * - RSS (`process.memoryUsage().rss`) sampled every 200 ms with its peak, and the kernel's high-water mark for the
 *   whole process (`process.resourceUsage().maxRSS`), which no sample can miss.
 * - Windows: SIGUSR2 closes the current window (its delay percentiles and peak RSS are kept in `windows`) and
 *   starts the next, and writes the file at once, so a benchmark can frame exactly the phase it measures.
 * - The file is rewritten every second (written beside it, then renamed: a reader never sees half of it), on
 *   SIGTERM/SIGINT, and a last time (`final: true`) when the sampler stops or the process exits.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export const LOOP_STATS_RESOLUTION_MS = 10;
const RSS_EVERY_MS = 200;
const WRITE_EVERY_MS = 1000;
/** Seconds of the per-second series kept in the file (the last ten minutes). */
const MAX_SECONDS = 600;

export interface DelayFigures {
  /** Timer ticks measured. */
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoopStatsWindow {
  from: string;
  to: string;
  eventLoopDelayMs: DelayFigures;
  /** Highest RSS sampled in the window. */
  peakRssMb: number;
  /** The kernel's high-water mark of the process when the window closed (process lifetime, not the window). */
  maxRssMb: number;
}

export interface LoopStatsSecond {
  at: string;
  p99Ms: number;
  maxMs: number;
  rssMb: number;
}

export interface LoopStatsFile {
  pid: number;
  resolutionMs: number;
  startedAt: string;
  writtenAt: string;
  /** The last write (the sampler stopped or the process exited): nothing follows. */
  final: boolean;
  rssMb: number;
  /** The kernel's high-water mark of the process so far. */
  maxRssMb: number;
  /** Closed windows, oldest first: the first from the start to the first SIGUSR2, then one per SIGUSR2. */
  windows: LoopStatsWindow[];
  /** The window still open (since the last SIGUSR2, or the start). */
  current: LoopStatsWindow;
  /** One entry per write: that second's delay and the RSS then. */
  seconds: LoopStatsSecond[];
}

export interface LoopStatsSampler {
  /** Closes the current window and starts the next (what SIGUSR2 does). */
  mark(): void;
  /** Writes the file now. */
  write(final?: boolean): void;
  /** Final write; stops sampling and removes its listeners. */
  stop(): void;
}

const mb = (bytes: number) => Math.round((bytes / 1e6) * 10) / 10;

function delayFigures(histogram: IntervalHistogram): DelayFigures {
  // Node records the interval between ticks; the delay is what exceeds the resolution.
  const ms = (ns: number) => Math.round(Math.max(0, ns / 1e6 - LOOP_STATS_RESOLUTION_MS) * 100) / 100;
  if (histogram.count === 0) return { samples: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  return {
    samples: histogram.count,
    p50: ms(histogram.percentile(50)),
    p90: ms(histogram.percentile(90)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
    mean: ms(histogram.mean),
  };
}

export function startLoopStats(file: string): LoopStatsSampler {
  const startedAt = new Date().toISOString();
  const window = monitorEventLoopDelay({ resolution: LOOP_STATS_RESOLUTION_MS });
  const second = monitorEventLoopDelay({ resolution: LOOP_STATS_RESOLUTION_MS });
  window.enable();
  second.enable();
  const windows: LoopStatsWindow[] = [];
  const seconds: LoopStatsSecond[] = [];
  let windowFrom = startedAt;
  let windowPeakRss = process.memoryUsage.rss();
  let stopped = false;

  const sampleRss = () => {
    const rss = process.memoryUsage.rss();
    if (rss > windowPeakRss) windowPeakRss = rss;
    return rss;
  };
  const maxRssMb = () => mb(process.resourceUsage().maxRSS * 1024);
  const currentWindow = (): LoopStatsWindow => ({
    from: windowFrom,
    to: new Date().toISOString(),
    eventLoopDelayMs: delayFigures(window),
    peakRssMb: mb(windowPeakRss),
    maxRssMb: maxRssMb(),
  });

  const write = (final = false) => {
    const rss = sampleRss();
    const body: LoopStatsFile = {
      pid: process.pid,
      resolutionMs: LOOP_STATS_RESOLUTION_MS,
      startedAt,
      writtenAt: new Date().toISOString(),
      final,
      rssMb: mb(rss),
      maxRssMb: maxRssMb(),
      windows,
      current: currentWindow(),
      seconds,
    };
    const temp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify(body));
      renameSync(temp, file);
    } catch {
      // A measurement aid: a full disk or a removed folder must not take the station down.
    }
  };
  const mark = () => {
    windows.push(currentWindow());
    window.reset();
    windowFrom = new Date().toISOString();
    windowPeakRss = sampleRss();
    write();
  };
  const tick = () => {
    const delay = delayFigures(second);
    second.reset();
    seconds.push({
      at: new Date().toISOString(),
      p99Ms: delay.p99,
      maxMs: delay.max,
      rssMb: mb(sampleRss()),
    });
    if (seconds.length > MAX_SECONDS) seconds.shift();
    write();
  };
  const rssTimer = setInterval(sampleRss, RSS_EVERY_MS);
  const writeTimer = setInterval(tick, WRITE_EVERY_MS);
  // The sampler never keeps a host alive that would otherwise exit.
  rssTimer.unref();
  writeTimer.unref();
  const onSignal = () => write();
  const onExit = () => stop();
  process.on('SIGUSR2', mark);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  process.once('exit', onExit);

  function stop(): void {
    if (stopped) return;
    stopped = true;
    clearInterval(rssTimer);
    clearInterval(writeTimer);
    process.off('SIGUSR2', mark);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('exit', onExit);
    write(true);
    window.disable();
    second.disable();
  }
  write();
  return { mark, write, stop };
}
