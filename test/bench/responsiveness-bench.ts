/**
 * Responsiveness of `station serve` while every slot provisions at once (the responsiveness rows of the
 * units-per-hour benchmark). Per slot count N, each run is a fresh station whose parts run in their own processes,
 * as on a station PC: `station sandbox` (the backend), `station sim boards --count N` (the boards, on PTYs) and
 * `station serve` (a production config, backend "remote" pointed at the sandbox, the PTYs as configured ports).
 * One batch of N units on N slots, all at once, measured from `batch.open` to the N-th `unit.finished`:
 *
 * - the host's event-loop delay p50/p99/max and RSS, sampled inside the host (STATION_LOOP_STATS_FILE test hook,
 *   electron/station/loop-stats.ts), framed by SIGUSR2 at batch start and end;
 * - the bytes of the event stream a WebSocket client receives over the batch, per unit finished;
 * - at the slot counts in `rendererAt` (default 32): the operator screen in headless Chromium, logged in as the
 *   operator, its long tasks (PerformanceObserver 'longtask') over the batch, and one screenshot when every slot
 *   is running (the busiest the grid gets) in `outDir`.
 *
 * Figures are medians of `runs` runs with min and max. Run by `npm run bench -- --only responsiveness`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { WebSocket, type RawData } from 'ws';
import type { LoopStatsFile, LoopStatsSecond, LoopStatsWindow } from '../../electron/station';
import type { StationEvent } from '../../electron/station-api';
import type { StationConfigInput } from '../../station-config';
import { runStation } from '../support/cli';
import { WebHostClient } from '../support/web-host-client';
import { cpuSnapshot, cpuUse } from './process-cpu';
import { Cleanup, StationProcess, stationEnv } from './station-processes';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SANDBOX_CONFIG = join(ROOT, 'station-config', 'sandbox.json');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RECIPE = 'sandbox-sensor';
/** The operator the served browser tests log in as (the sandbox's demo operator), made here on a new station. */
const OPERATOR = { operatorId: 'operator', name: 'Operator', pin: '1111' };
const ADMIN_PIN = '90817263';
const EVENT_LOOP_P99_TARGET_MS = 20;
const LONG_TASK_TARGET_MS = 50;
const HOST_RSS_TARGET_MB = 300;
const TARGET_SLOTS = 32;

export interface ResponsivenessBenchOptions {
  /** Slot counts measured, one batch of that many units on that many slots each (default 16 and 32). */
  slots?: number[];
  /** Runs per slot count; figures are their medians with min and max (default 1). */
  runs?: number;
  /** Slot counts at which the operator screen is open in Chromium during the batch (default 32). */
  rendererAt?: number[];
  /** Extra arguments for `station sandbox` (latency, jitter, faults). Default none. */
  sandboxArgs?: string[];
  /** Extra arguments for `station sim boards` (baud rate, flash and boot times, delays). Default none. */
  simArgs?: string[];
  /** `backend.concurrency` of the station (default: station-config/sandbox.json's). */
  backendConcurrency?: number;
  /** Where screenshots (and CPU profiles) go (default test-results/bench). */
  outDir?: string;
  /** Run the serve host with `node --cpu-prof`; the profile goes to `outDir`. */
  cpuProfile?: boolean;
  /** Build the operator app (renderer/dist) before a run with the browser (default true). */
  buildRenderer?: boolean;
  /**
   * Where each run's temp folder (the station's data, the boards' flash) is made (default the OS temp folder, a
   * disk like a station's). /dev/shm shows what the audit trail's fsyncs cost.
   */
  tempRoot?: string;
  /** Longest a batch may take (default 10 minutes). */
  batchTimeoutMs?: number;
  /** Progress lines (default stderr). */
  log?: (line: string) => void;
}

export interface RendererFigures {
  longTasks: number;
  maxLongTaskMs: number;
  totalLongTaskMs: number;
}

export interface RunFigures {
  units: number;
  passed: number;
  wallMs: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  eventStreamBytesPerUnit: number;
  hostPeakRssMb: number;
  renderer?: RendererFigures;
}

/** The renderer main thread's busy time (Chromium's Performance.getMetrics), over the batch. */
interface MainThreadTimes {
  taskMs: number;
  scriptMs: number;
  styleMs: number;
  layoutMs: number;
}

/** Long animation frames over the batch, and where their time went. */
interface LongFrames {
  count: number;
  maxMs: number;
  totalMs: number;
  /** Script the frames ran (event handlers, timers, promise callbacks) ... */
  scriptMs: number;
  /** ... and the rendering update after it: style, layout, paint (`renderStart` to the frame's end) ... */
  renderMs: number;
  /** ... of which style and layout. */
  styleLayoutMs: number;
  /** The scripts that took longest in them, summed by what invoked them. */
  topScripts: Array<{ invoker: string; count: number; ms: number }>;
  durationsMs: number[];
}

interface LongFrameEntry {
  start: number;
  duration: number;
  renderMs: number;
  styleLayoutMs: number;
  scripts: Array<{ invoker: string; duration: number }>;
}

function summariseFrames(frames: LongFrameEntry[]): LongFrames {
  const byInvoker = new Map<string, { count: number; ms: number }>();
  for (const script of frames.flatMap((frame) => frame.scripts)) {
    const entry = byInvoker.get(script.invoker) ?? { count: 0, ms: 0 };
    entry.count += 1;
    entry.ms += script.duration;
    byInvoker.set(script.invoker, entry);
  }
  const sum = (get: (frame: LongFrameEntry) => number) => round(frames.reduce((t, f) => t + get(f), 0));
  return {
    count: frames.length,
    maxMs: round(Math.max(0, ...frames.map((frame) => frame.duration))),
    totalMs: sum((frame) => frame.duration),
    scriptMs: sum((frame) => frame.scripts.reduce((t, script) => t + script.duration, 0)),
    renderMs: sum((frame) => frame.renderMs),
    styleLayoutMs: sum((frame) => frame.styleLayoutMs),
    topScripts: [...byInvoker]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 5)
      .map(([invoker, entry]) => ({ invoker, count: entry.count, ms: round(entry.ms) })),
    durationsMs: frames.map((frame) => round(frame.duration)).sort((a, b) => b - a),
  };
}

interface Screenshot {
  file: string;
  /** Since batch.open. */
  atMs: number;
  slotsRunning: number;
  /** Events on the stream in the second before it (the batch's busiest second is in eventStream). */
  messagesInLastSecond: number;
  /** The page's clock (performance.now()) around the capture, to tell its own long tasks apart. */
  pageFrom: number;
  pageTo: number;
}

interface RunDetails {
  run: number;
  eventLoop: LoopStatsWindow['eventLoopDelayMs'];
  hostRssMb: { beforeBatch: number; batchPeakSampled: number; processPeak: number; afterBatch: number };
  eventStream: {
    messages: number;
    bytes: number;
    peakMessagesPerSecond: number;
    messagesPerSecond: number[];
    byKind: Record<string, { messages: number; bytes: number }>;
  };
  renderer?: {
    longTaskDurationsMs: number[];
    /** PerformanceObserver 'long-animation-frame' (frames over 50 ms, rendering included). */
    longAnimationFrames: LongFrames;
    /** Long tasks that overlap the screenshot's capture (the bench's own doing, perhaps), and the rest's longest. */
    longTasksDuringScreenshot: number;
    maxLongTaskMsOutsideScreenshot: number;
    /** From the N-th unit.finished on the stream to the page showing N passed tiles. */
    catchUpMs: number;
    /** From batch.open until the page shows every unit passed (Chromium's counters). */
    mainThreadMs: { task: number; script: number; style: number; layout: number };
    passedTiles: number;
    pageProblems: string[];
    screenshot: Screenshot | null;
  };
  /** The host's loop, second by second over the batch (the sampler's per-second series). */
  eventLoopPerSecond: Array<Pick<LoopStatsSecond, 'p99Ms' | 'maxMs' | 'rssMb'>>;
  /** Who used the cores during the batch (Linux). */
  cpu: ReturnType<typeof cpuUse>;
  cpuProfileDir?: string;
  loadAverage: { before: number[]; after: number[] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, places = 1) => Math.round(value * 10 ** places) / 10 ** places;
const loadAverage = () => os.loadavg().map((l) => round(l, 2));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** The event socket, counting the bytes of every message (JSON text frames, payload only) while `counting`. */
class StreamMeter {
  counting = false;
  messages = 0;
  bytes = 0;
  finished = 0;
  passed = 0;
  readonly running = new Set<string>();
  readonly byKind = new Map<string, { messages: number; bytes: number }>();
  lastMessageAt = 0;
  private readonly perSecond = new Map<number, number>();
  private readonly stamps: number[] = [];
  private readonly socket: WebSocket;
  private readonly waiters = new Set<() => void>();
  readonly opened: Promise<void>;

  constructor(port: number, token: string) {
    this.socket = new WebSocket(`ws://127.0.0.1:${port}/api/events?token=${encodeURIComponent(token)}`);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('message', (data) => this.take(data));
  }

  private take(data: RawData): void {
    const payload = asBuffer(data);
    const bytes = payload.length;
    const message = JSON.parse(payload.toString('utf8')) as { type: string; event?: StationEvent };
    const kind = message.event?.kind ?? message.type;
    const event = message.event;
    if (event?.kind === 'unit.started') this.running.add(event.slot);
    if (event?.kind === 'unit.finished') {
      this.running.delete(event.slot);
      if (this.counting) {
        this.finished += 1;
        if (event.outcome === 'passed') this.passed += 1;
      }
    }
    if (this.counting) {
      this.messages += 1;
      this.bytes += bytes;
      const entry = this.byKind.get(kind) ?? { messages: 0, bytes: 0 };
      entry.messages += 1;
      entry.bytes += bytes;
      this.byKind.set(kind, entry);
      this.stamps.push(performance.now());
      const second = Math.floor(performance.now() / 1000);
      this.perSecond.set(second, (this.perSecond.get(second) ?? 0) + 1);
    }
    this.lastMessageAt = performance.now();
    for (const waiter of [...this.waiters]) waiter();
  }

  get peakMessagesPerSecond(): number {
    return Math.max(0, ...this.perSecond.values());
  }

  /** Messages counted in the last `ms` milliseconds. */
  recent(ms: number): number {
    const since = performance.now() - ms;
    let count = 0;
    for (let i = this.stamps.length - 1; i >= 0 && this.stamps[i]! >= since; i--) count += 1;
    return count;
  }

  /** Messages per second of the batch, in order. */
  get timeline(): number[] {
    const seconds = [...this.perSecond.keys()];
    if (seconds.length === 0) return [];
    const first = Math.min(...seconds);
    const last = Math.max(...seconds);
    return Array.from({ length: last - first + 1 }, (_, i) => this.perSecond.get(first + i) ?? 0);
  }

  waitUntil(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} (${this.finished} finished, ${this.running.size} running)`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves once no message has come for `quietMs` (at most `maxMs`). */
  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const until = performance.now() + maxMs;
    while (performance.now() < until && performance.now() - this.lastMessageAt < quietMs) await sleep(50);
  }

  close(): void {
    this.socket.terminate();
  }
}

/** The station config: the sandbox recipe and names, a production station on a remote backend (the sandbox). */
function writeConfig(
  dir: string,
  backend: { url: string; concurrency?: number },
  ports: string[],
): { file: string; concurrency: number } {
  const base = JSON.parse(readFileSync(SANDBOX_CONFIG, 'utf8')) as StationConfigInput;
  const concurrency = backend.concurrency ?? base.backend.concurrency ?? 4;
  const config: StationConfigInput = {
    configVersion: base.configVersion,
    environment: 'production',
    station: {
      ...base.station,
      id: 'responsiveness-bench',
      name: 'Responsiveness bench',
      line: 'Bench',
      site: 'This computer',
      dataDir: join(dir, 'data'),
    },
    backend: {
      mode: 'remote',
      baseUrl: backend.url,
      authMode: 'x-api-key-bearer',
      apiKeySecret: 'backend-api-key',
      ...(base.backend.timeoutMs !== undefined && { timeoutMs: base.backend.timeoutMs }),
      ...(base.backend.retries !== undefined && { retries: base.backend.retries }),
      concurrency,
      // The backend is the sandbox, which refuses a second device for a chip: creating first is safe here.
      createDeviceFirst: true,
    },
    slots: {
      ...(base.slots.baudRate !== undefined && { baudRate: base.slots.baudRate }),
      start: 'on-plug',
      discovery: { ports, usb: [] },
    },
    recipes: base.recipes,
    ...(base.scanning && { scanning: base.scanning }),
    ...(base.accounts && { accounts: base.accounts }),
    firstAdmin: base.firstAdmin ?? { name: 'admin' },
  };
  const file = join(dir, 'station.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { file, concurrency };
}

function readLoopStats(file: string): LoopStatsFile | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LoopStatsFile;
  } catch {
    return null;
  }
}

/** SIGUSR2 to the host closes its current loop-stats window; resolves with the file once it holds `windows`. */
async function markWindow(host: StationProcess, file: string, windows: number): Promise<LoopStatsFile> {
  process.kill(host.pid, 'SIGUSR2');
  const until = performance.now() + 10_000;
  for (;;) {
    const stats = readLoopStats(file);
    if (stats && stats.windows.length >= windows) return stats;
    if (performance.now() > until) throw new Error(`the host wrote no loop-stats window ${windows} in 10 s`);
    await sleep(10);
  }
}

async function ok<T>(answer: Promise<{ status: number; body: unknown }>, what: string): Promise<T> {
  const { status, body } = await answer;
  if (status !== 200 || (body as { ok?: boolean }).ok !== true)
    throw new Error(`${what}: HTTP ${status} ${JSON.stringify(body)}`);
  return body as T;
}

/** The operator screen in Chromium, logged in with the keypad, its long tasks recorded from now on. */
async function openOperatorScreen(pageUrl: string, slots: number, cleanup: Cleanup) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  cleanup.add(() => browser.close());
  const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  await page.goto(pageUrl);
  await page.getByLabel('Operator id').fill(OPERATOR.operatorId);
  for (const digit of OPERATOR.pin) await page.getByRole('button', { name: digit, exact: true }).click();
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('logged-in').waitFor();
  await pageCondition(page, `document.querySelectorAll('[data-slot]').length === ${slots}`, 30_000);
  // Long tasks, and long animation frames (a frame's script, style, layout and paint together) for the detail.
  await page.evaluate(`(() => {
    window.__benchLongTasks = [];
    window.__benchLongFrames = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        window.__benchLongTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask' });
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const end = entry.startTime + entry.duration;
        window.__benchLongFrames.push({
          start: entry.startTime,
          duration: entry.duration,
          renderMs: entry.renderStart > 0 ? end - entry.renderStart : 0,
          styleLayoutMs: entry.styleAndLayoutStart > 0 ? end - entry.styleAndLayoutStart : 0,
          scripts: entry.scripts.map((script) => ({ invoker: script.invoker, duration: script.duration })),
        });
      }
    }).observe({ type: 'long-animation-frame' });
  })()`);
  // The observer is proven to see a long task: an 80 ms one made here, before the batch and left out of its
  // figures, so "no long task" is a measurement and not a deaf observer. (A page task: what the DevTools protocol
  // evaluates itself is never reported as a long task.)
  await page.evaluate(
    'setTimeout(() => { const until = performance.now() + 80; while (performance.now() < until); }, 0)',
  );
  await pageCondition(page, 'window.__benchLongTasks.length > 0', 5_000);
  // The renderer's main-thread time (task, script, style, layout), from Chromium's own counters.
  const devtools = await page.context().newCDPSession(page);
  await devtools.send('Performance.enable');
  const mainThread = async (): Promise<MainThreadTimes> => {
    const { metrics } = await devtools.send('Performance.getMetrics');
    const seconds = (name: string) => metrics.find((metric) => metric.name === name)?.value ?? 0;
    return {
      taskMs: seconds('TaskDuration') * 1000,
      scriptMs: seconds('ScriptDuration') * 1000,
      styleMs: seconds('RecalcStyleDuration') * 1000,
      layoutMs: seconds('LayoutDuration') * 1000,
    };
  };
  return { page, problems, mainThread };
}

/**
 * Polls an expression in the page until it holds. Not page.waitForFunction: that evaluates its predicate with eval
 * inside the page, which the operator app's Content-Security-Policy (script-src 'self') refuses.
 */
async function pageCondition(page: Page, expression: string, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (performance.now() > until) throw new Error(`the page never had ${expression} (${timeoutMs} ms)`);
    await sleep(20);
  }
}

async function pageNow(page: Page): Promise<number> {
  return (await page.evaluate('performance.now()')) as number;
}

interface MeasureContext {
  options: ResponsivenessBenchOptions;
  outDir: string;
  log: (line: string) => void;
}

async function measureOnce(
  slots: number,
  run: number,
  withRenderer: boolean,
  context: MeasureContext,
): Promise<{ figures: RunFigures; details: RunDetails; concurrency: number }> {
  const { options, outDir, log } = context;
  const cleanup = new Cleanup();
  const timeoutMs = options.batchTimeoutMs ?? 600_000;
  try {
    const dir = cleanup.folder(mkdtempSync(join(options.tempRoot ?? tmpdir(), 'station-responsiveness-')));
    const baseEnv = stationEnv({});
    const sandbox = cleanup.process(
      new StationProcess(
        'station sandbox',
        ['sandbox', '--port', '0', ...(options.sandboxArgs ?? [])],
        baseEnv,
      ),
    );
    const [backend] = await sandbox.waitForJsonLines<{ url: string; apiKey: string; cloudPublicKey: string }>(
      1,
      60_000,
    );
    const boards = cleanup.process(
      new StationProcess(
        'station sim boards',
        [
          'sim',
          'boards',
          '--count',
          String(slots),
          '--cloud-public-key',
          backend!.cloudPublicKey,
          '--pty-dir',
          join(dir, 'pty'),
          '--state-dir',
          join(dir, 'boards'),
          ...(options.simArgs ?? []),
        ],
        baseEnv,
      ),
    );
    const ports = (await boards.waitForJsonLines<{ path: string }>(slots, 120_000)).map((b) => b.path);
    const { file: configFile, concurrency } = writeConfig(
      dir,
      {
        url: backend!.url,
        ...(options.backendConcurrency !== undefined && { concurrency: options.backendConcurrency }),
      },
      ports,
    );
    const checked = await runStation(['config', 'check', configFile], { env: baseEnv, timeoutMs: 60_000 });
    if (checked.code !== 0)
      throw new Error(`station config check refused the bench config:\n${checked.stderr}`);

    const token = `responsiveness-${Math.random().toString(36).slice(2)}-0123456789abcdef`;
    const statsFile = join(dir, 'loop-stats.json');
    const profileDir = join(outDir, 'cpu-profiles');
    if (options.cpuProfile) mkdirSync(profileDir, { recursive: true });
    const host = cleanup.process(
      new StationProcess(
        'station serve',
        ['serve', '--config', configFile, '--data', join(dir, 'data'), '--port', '0'],
        stationEnv({
          STATION_SECRET_BACKEND_API_KEY: backend!.apiKey,
          STATION_WEB_TOKEN: token,
          STATION_TEST_HOOKS: '1',
          STATION_LOOP_STATS_FILE: statsFile,
        }),
        options.cpuProfile
          ? [
              '--cpu-prof',
              `--cpu-prof-dir=${profileDir}`,
              `--cpu-prof-name=serve-${slots}-slots-run-${run}.cpuprofile`,
            ]
          : [],
      ),
    );
    const [served] = await host.waitForJsonLines<{ origin: string; port: number }>(1, 120_000);
    const http = new WebHostClient(served!.origin, token);
    cleanup.add(() => http.close());

    // A new production station: its first administrator, who makes the operator's account.
    await ok(http.command('accounts.init', { pin: ADMIN_PIN }), 'accounts.init');
    await ok(http.command('session.login', { operatorId: 'admin', pin: ADMIN_PIN }), 'admin login');
    await ok(
      http.command('accounts.create', {
        operatorId: OPERATOR.operatorId,
        name: OPERATOR.name,
        roles: ['operator'],
        pin: OPERATOR.pin,
      }),
      'accounts.create',
    );
    await ok(http.command('session.logout', {}), 'admin logout');

    const meter = new StreamMeter(served!.port, token);
    cleanup.add(() => meter.close());
    await meter.opened;

    // The station has one session: the operator logs in on the screen (or, without one, through the API).
    const screen = withRenderer
      ? await openOperatorScreen(`${served!.origin}/?token=${token}`, slots, cleanup)
      : undefined;
    if (!screen)
      await ok(
        http.command('session.login', { operatorId: OPERATOR.operatorId, pin: OPERATOR.pin }),
        'operator login',
      );

    const before = await markWindow(host, statsFile, 1);
    const loadBefore = loadAverage();
    const cpuBefore = cpuSnapshot();
    const pageT0 = screen ? await pageNow(screen.page) : 0;
    const mainThreadBefore = screen ? await screen.mainThread() : undefined;
    meter.counting = true;
    const t0 = performance.now();
    log(`responsiveness: ${slots} slots, run ${run}: batch open`);
    await ok(
      http.command('batch.open', {
        name: `responsiveness-${slots}`,
        recipeId: RECIPE,
        targetQuantity: slots,
      }),
      'batch.open',
    );

    // The busiest the grid gets: the first unit passes while every other slot is still running, mid-step, with
    // events at their fastest.
    let shot: Promise<Screenshot | null> = Promise.resolve(null);
    if (screen) {
      const file = join(outDir, `responsiveness-${slots}-slots-run-${run}.png`);
      shot = meter
        .waitUntil('the first unit finished', () => meter.finished > 0, timeoutMs)
        .then(async () => {
          const atMs = Math.round(performance.now() - t0);
          const slotsRunning = meter.running.size;
          const messagesInLastSecond = meter.recent(1000);
          const pageFrom = await pageNow(screen.page);
          await screen.page.screenshot({ path: file });
          return {
            file,
            atMs,
            slotsRunning,
            messagesInLastSecond,
            pageFrom,
            pageTo: await pageNow(screen.page),
          };
        })
        .catch(() => null);
    }

    await meter.waitUntil(`${slots} units finished`, () => meter.finished >= slots, timeoutMs);
    const finishedAt = performance.now();
    const wallMs = finishedAt - t0;
    const after = await markWindow(host, statsFile, 2);
    const cpu = cpuUse(cpuBefore, cpuSnapshot(), {
      host: host.pid,
      boards: boards.pid,
      sandbox: sandbox.pid,
    });
    const batchWindow = after.windows[1]!;
    const windowFrom = Date.parse(batchWindow.from);
    const windowTo = Date.parse(batchWindow.to) + 1000;
    const eventLoopPerSecond = after.seconds
      .filter((second) => Date.parse(second.at) > windowFrom && Date.parse(second.at) <= windowTo)
      .map(({ p99Ms, maxMs, rssMb }) => ({ p99Ms, maxMs, rssMb }));
    log(
      `responsiveness: ${slots} slots, run ${run}: ${meter.passed}/${meter.finished} passed in ${round(wallMs, 0)} ms`,
    );

    let renderer: RunFigures['renderer'];
    let rendererDetails: RunDetails['renderer'];
    if (screen) {
      await pageCondition(
        screen.page,
        `document.querySelectorAll('[data-slot][data-state="passed"]').length === ${meter.passed}`,
        60_000,
      );
      const catchUpMs = performance.now() - finishedAt;
      const mainThreadAfter = await screen.mainThread();
      const screenshot = await shot;
      await meter.quiet(1000, 10_000);
      await sleep(300);
      type Entry = { start: number; duration: number };
      const tasks = (await screen.page.evaluate('window.__benchLongTasks')) as Entry[];
      const frames = (await screen.page.evaluate('window.__benchLongFrames')) as LongFrameEntry[];
      const inBatch = tasks.filter((task) => task.start + task.duration >= pageT0);
      const framesInBatch = frames.filter((frame) => frame.start + frame.duration >= pageT0);
      const overlapsShot = (task: Entry) =>
        screenshot !== null &&
        task.start <= screenshot.pageTo &&
        task.start + task.duration >= screenshot.pageFrom;
      renderer = {
        longTasks: inBatch.length,
        maxLongTaskMs: round(Math.max(0, ...inBatch.map((task) => task.duration))),
        totalLongTaskMs: round(inBatch.reduce((sum, task) => sum + task.duration, 0)),
      };
      rendererDetails = {
        longTaskDurationsMs: inBatch.map((task) => round(task.duration)).sort((a, b) => b - a),
        longAnimationFrames: summariseFrames(framesInBatch),
        longTasksDuringScreenshot: inBatch.filter(overlapsShot).length,
        maxLongTaskMsOutsideScreenshot: round(
          Math.max(0, ...inBatch.filter((task) => !overlapsShot(task)).map((task) => task.duration)),
        ),
        catchUpMs: round(catchUpMs, 0),
        mainThreadMs: {
          task: round(mainThreadAfter.taskMs - mainThreadBefore!.taskMs, 0),
          script: round(mainThreadAfter.scriptMs - mainThreadBefore!.scriptMs, 0),
          style: round(mainThreadAfter.styleMs - mainThreadBefore!.styleMs, 0),
          layout: round(mainThreadAfter.layoutMs - mainThreadBefore!.layoutMs, 0),
        },
        passedTiles: await screen.page.locator('[data-slot][data-state="passed"]').count(),
        pageProblems: screen.problems,
        screenshot,
      };
    } else {
      await meter.quiet(1000, 10_000);
    }
    meter.counting = false;

    const figures: RunFigures = {
      units: meter.finished,
      passed: meter.passed,
      wallMs: round(wallMs, 0),
      eventLoopDelayMs: {
        p50: batchWindow.eventLoopDelayMs.p50,
        p99: batchWindow.eventLoopDelayMs.p99,
        max: batchWindow.eventLoopDelayMs.max,
      },
      eventStreamBytesPerUnit: round(meter.bytes / Math.max(1, meter.finished), 0),
      hostPeakRssMb: batchWindow.maxRssMb,
      ...(renderer && { renderer }),
    };
    const details: RunDetails = {
      run,
      eventLoop: batchWindow.eventLoopDelayMs,
      hostRssMb: {
        beforeBatch: before.rssMb,
        batchPeakSampled: batchWindow.peakRssMb,
        processPeak: batchWindow.maxRssMb,
        afterBatch: after.rssMb,
      },
      eventStream: {
        messages: meter.messages,
        bytes: meter.bytes,
        peakMessagesPerSecond: meter.peakMessagesPerSecond,
        messagesPerSecond: meter.timeline,
        byKind: Object.fromEntries([...meter.byKind].sort((a, b) => b[1].bytes - a[1].bytes)),
      },
      ...(rendererDetails && { renderer: rendererDetails }),
      eventLoopPerSecond,
      cpu,
      ...(options.cpuProfile && { cpuProfileDir: profileDir }),
      loadAverage: { before: loadBefore, after: loadAverage() },
    };
    return { figures, details, concurrency };
  } finally {
    await cleanup.run();
  }
}

function combine(runs: RunFigures[], pick: (values: number[]) => number): RunFigures {
  const of = (get: (figures: RunFigures) => number, places = 1) => round(pick(runs.map(get)), places);
  const withRenderer = runs.filter((r) => r.renderer !== undefined);
  return {
    units: of((r) => r.units, 0),
    passed: of((r) => r.passed, 0),
    wallMs: of((r) => r.wallMs, 0),
    eventLoopDelayMs: {
      p50: of((r) => r.eventLoopDelayMs.p50, 2),
      p99: of((r) => r.eventLoopDelayMs.p99, 2),
      max: of((r) => r.eventLoopDelayMs.max, 2),
    },
    eventStreamBytesPerUnit: of((r) => r.eventStreamBytesPerUnit, 0),
    hostPeakRssMb: of((r) => r.hostPeakRssMb),
    ...(withRenderer.length > 0 && {
      renderer: {
        longTasks: round(pick(withRenderer.map((r) => r.renderer!.longTasks)), 0),
        maxLongTaskMs: round(pick(withRenderer.map((r) => r.renderer!.maxLongTaskMs))),
        totalLongTaskMs: round(pick(withRenderer.map((r) => r.renderer!.totalLongTaskMs))),
      },
    }),
  };
}

type TargetStatus = 'met' | 'missed' | 'not measured';
interface Target {
  target: string;
  value: number | null;
  status: TargetStatus;
}

function target(description: string, value: number | undefined, met: (value: number) => boolean): Target {
  if (value === undefined) return { target: description, value: null, status: 'not measured' };
  return { target: description, value, status: met(value) ? 'met' : 'missed' };
}

export async function responsivenessBench(options: ResponsivenessBenchOptions = {}) {
  const slotCounts = options.slots ?? [16, 32];
  const runs = options.runs ?? 1;
  const rendererAt = options.rendererAt ?? [TARGET_SLOTS];
  const outDir = options.outDir ?? join(ROOT, 'test-results', 'bench');
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(outDir, { recursive: true });

  // The CLI bundle is rebuilt by the first `station` command after a source change: not inside a measurement.
  const warm = await runStation(['--version'], { timeoutMs: 180_000 });
  if (warm.code !== 0) throw new Error(`station --version failed: ${warm.stderr}`);
  if (slotCounts.some((n) => rendererAt.includes(n)) && (options.buildRenderer ?? true)) {
    execFileSync(
      process.execPath,
      [
        'node_modules/vite/bin/vite.js',
        'build',
        '--config',
        'renderer/vite.config.ts',
        '--logLevel',
        'error',
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } },
    );
  }
  if (
    slotCounts.some((n) => rendererAt.includes(n)) &&
    !existsSync(join(ROOT, 'renderer', 'dist', 'index.html'))
  )
    throw new Error('renderer/dist is not built: npm run build:renderer');

  const latency = options.sandboxArgs?.length
    ? `station sandbox ${options.sandboxArgs.join(' ')}`
    : 'none added (station sandbox on loopback, its defaults)';
  const boardSettings = options.simArgs?.length
    ? `station sim boards ${options.simArgs.join(' ')}`
    : 'virtual-board defaults (station sim boards, no extra arguments)';
  const results = [];
  for (const slots of slotCounts) {
    const withRenderer = rendererAt.includes(slots);
    const measured = [];
    for (let run = 1; run <= runs; run++)
      measured.push(await measureOnce(slots, run, withRenderer, { options, outDir, log }));
    const figures = measured.map((m) => m.figures);
    results.push({
      slots,
      runs,
      ...combine(figures, median),
      min: combine(figures, (values) => Math.min(...values)),
      max: combine(figures, (values) => Math.max(...values)),
      inputs: {
        slots,
        units: slots,
        operatorScreen: withRenderer ? 'headless Chromium, 1920x1080, logged in as operator' : 'none',
        backend: `station sandbox in its own process; station backend "remote", concurrency ${measured[0]!.concurrency}`,
        latency,
        boardSettings,
      },
      perRun: measured.map((m) => m.details),
    });
  }

  const at = results.find((r) => r.slots === TARGET_SLOTS);
  const longTaskRuns = results.filter((r) => r.renderer !== undefined);
  const worstLongTask = longTaskRuns.length
    ? Math.max(...longTaskRuns.map((r) => r.max.renderer?.maxLongTaskMs ?? 0))
    : undefined;
  return {
    benchmark: 'responsiveness',
    inputs: {
      slots: slotCounts,
      runs,
      rendererAt,
      sandboxArgs: options.sandboxArgs ?? [],
      simArgs: options.simArgs ?? [],
      latency,
      boardSettings,
      station:
        'station serve, production config (backend remote = the sandbox), boards as configured PTY ports',
      dataFolder: `${options.tempRoot ?? tmpdir()} (the audit trail, synchronous=FULL, and the boards' flash)`,
      eventLoop:
        'monitorEventLoopDelay in the host (10 ms resolution, resolution subtracted), from batch.open to the last unit.finished',
      eventStream:
        'payload bytes of every WebSocket message from batch.open until the stream is quiet, per unit finished',
      hostPeakRss: "the host's kernel high-water mark (process.resourceUsage().maxRSS) at the batch's end",
      machine: {
        cpus: os.cpus().length,
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
      },
    },
    results,
    targets: {
      eventLoopP99: target(
        `event-loop delay p99 < ${EVENT_LOOP_P99_TARGET_MS} ms with ${TARGET_SLOTS} slots (median of runs)`,
        at?.eventLoopDelayMs.p99,
        (v) => v < EVENT_LOOP_P99_TARGET_MS,
      ),
      rendererLongTasks: target(
        `no renderer long task over ${LONG_TASK_TARGET_MS} ms (longest over all runs with the screen open)`,
        worstLongTask,
        (v) => v <= LONG_TASK_TARGET_MS,
      ),
      hostRss: target(
        `host RSS < ${HOST_RSS_TARGET_MB} MB with ${TARGET_SLOTS} slots (median of runs)`,
        at?.hostPeakRssMb,
        (v) => v < HOST_RSS_TARGET_MB,
      ),
    },
  };
}
