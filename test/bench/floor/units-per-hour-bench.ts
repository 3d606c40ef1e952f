/**
 * Units per hour against the physical floor (`npm run bench -- --only floor`). The station provisions real PTY
 * boards that pace their bytes at the baud rate, against a sandbox backend that answers every request after a
 * latency L, both in their own processes. The floor for one unit is what the wire, the backend and the board
 * allow, computed from what the run actually did:
 *
 *   floor = bytes on the wire both ways x 10 / baud                   (the boards' counters)
 *         + backend round trips the unit had to wait for x L           (the record: calls that overlap are one)
 *         + board processing: commands x per-command time + flash writes x flash time + reboots x boot time
 *                                                                      (the record's board log: "X from station")
 *
 * Then: one slot (actual unit time vs the floor), a gang of 1..32 boards at once (units per hour and efficiency
 * = throughput(N) / (N x throughput(1))), the same with the backend limited to 4 requests at a time, and what
 * durability costs (audit commits per unit, commits per second with synchronous=FULL).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cpuSnapshot, cpuUse } from '../process-cpu';
import { measureCommits } from './durability';
import {
  provisionOnce,
  remoteStationConfig,
  spawnStation,
  type BoardInfo,
  type SandboxInfo,
  type Spawned,
} from './processes';
import { sharedEventsPerUnit, unitTrails } from './trail-analysis';

export interface FloorBenchOptions {
  gang: number[];
  runs: number;
  latencyMs: number;
  jitterMs: number;
  baud: number;
  boardDelayMs: number;
  flashMs: number;
  bootMs: number;
  /** Appends timed for the commits-per-second figure. */
  durabilityAppends: number;
  /** Also run the gang with the backend limited to 4 requests at a time. */
  backendLimitRun: boolean;
}

export const DEFAULT_FLOOR_OPTIONS: FloorBenchOptions = {
  gang: [1, 2, 4, 8, 16, 32],
  runs: 3,
  latencyMs: 40,
  jitterMs: 5,
  baud: 115200,
  boardDelayMs: 5,
  flashMs: 20,
  bootMs: 150,
  durabilityAppends: 2000,
  backendLimitRun: true,
};

/** The virtual board waits this long between its REBOOT reply and going down (board.ts). */
const REBOOT_GAP_MS = 20;
const FLASH_COMMANDS = new Set(['COMMIT', 'LOCK', 'FACTORY-RESET']);

interface WireStats {
  total: { stationToBoardBytes: number; boardToStationBytes: number };
}

interface SandboxStats {
  requests: number;
  totalMs: number;
}

interface RunFigures {
  slots: number;
  backendConcurrency: number;
  passed: number;
  failed: number;
  /** First unit started to last unit finished, from the record. */
  windowMs: number;
  unitsPerHour: number;
  unitMs: { median: number; min: number; max: number };
  perUnit: {
    bytesToBoard: number;
    bytesToStation: number;
    backendCalls: number;
    criticalPathCalls: number;
    boardCommands: Record<string, number>;
    /** Events per unit, its share of the batch's own events included. */
    auditEvents: number;
    auditCommits: number;
  };
  floorMs: { wire: number; backend: number; board: number; total: number };
  /** Mean time of one backend request in the sandbox, from arrival to the last byte (L and its own work). */
  backendRequestMs: number;
  hostPeakRssMb: number | null;
  /** CPU the run cost each process (ms), and how many of the machine's cores were busy over the batch. */
  cpu: {
    stationMs: number | null;
    boardsMs: number | null;
    backendMs: number | null;
    busyCores: number | null;
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const spread = (values: number[]) => ({
  median: Math.round(median(values) * 100) / 100,
  min: Math.round(Math.min(...values) * 100) / 100,
  max: Math.round(Math.max(...values) * 100) / 100,
});

/** Commands each unit's board received, from the board's own log lines in the record ("COMMIT from station"). */
function boardCommands(databaseFile: string): Map<string, Record<string, number>> {
  const db = new Database(databaseFile, { readonly: true });
  try {
    const rows = db
      .prepare<[], { unit_id: string; details: string }>(
        "SELECT unit_id, details FROM events WHERE kind = 'step.log' AND unit_id IS NOT NULL",
      )
      .all();
    const perUnit = new Map<string, Record<string, number>>();
    for (const row of rows) {
      const counts = perUnit.get(row.unit_id) ?? {};
      for (const line of (JSON.parse(row.details) as { lines?: string[] }).lines ?? []) {
        const match = /infuse_prov: ([A-Z-]+) from station$/.exec(line);
        const retransmission = /retransmission of ([A-Z-]+), repeating reply$/.exec(line);
        const command = match?.[1] ?? retransmission?.[1];
        if (command) counts[command] = (counts[command] ?? 0) + 1;
      }
      perUnit.set(row.unit_id, counts);
    }
    return perUnit;
  } finally {
    db.close();
  }
}

function unitWindowMs(databaseFile: string): number {
  const db = new Database(databaseFile, { readonly: true });
  try {
    const row = db
      .prepare<[], { first: string; last: string }>(
        "SELECT min(CASE WHEN kind = 'unit.started' THEN at END) AS first, max(CASE WHEN kind = 'unit.finished' THEN at END) AS last FROM events",
      )
      .get()!;
    return Date.parse(row.last) - Date.parse(row.first);
  } finally {
    db.close();
  }
}

async function oneRun(
  options: FloorBenchOptions,
  slots: number,
  backendConcurrency: number,
  sandboxProcess: Spawned,
): Promise<RunFigures> {
  const sandbox = sandboxProcess.ready[0] as SandboxInfo;
  const dir = mkdtempSync(join(tmpdir(), 'station-floor-'));
  const boards = await spawnStation(
    [
      'sim',
      'boards',
      '--count',
      String(slots),
      '--cloud-public-key',
      sandbox.cloudPublicKey,
      '--baud',
      String(options.baud),
      '--delay-ms',
      String(options.boardDelayMs),
      '--flash-ms',
      String(options.flashMs),
      '--boot-ms',
      String(options.bootMs),
    ],
    slots,
  );
  try {
    const ports = (boards.ready as BoardInfo[]).map((board) => board.path);
    const config = remoteStationConfig(dir, sandbox, ports, { concurrency: backendConcurrency });
    const cpuBefore = cpuSnapshot();
    const { run, summary } = await provisionOnce({
      config,
      dataDir: dir,
      ports,
      apiKey: sandbox.apiKey,
      batch: `floor-${slots}-${backendConcurrency}`,
    });
    if (summary.failed > 0 || summary.passed !== slots) {
      const why = summary.units.find((unit) => unit.outcome !== 'passed')?.message ?? run.stderr.slice(-600);
      throw new Error(`floor run with ${slots} slots: ${summary.passed} of ${slots} passed: ${why}`);
    }
    const cpu = cpuUse(cpuBefore, cpuSnapshot(), {
      boards: boards.station.child.pid ?? -1,
      backend: sandboxProcess.station.child.pid ?? -1,
    });
    const wire = await boards.stats<WireStats>();
    const backendStats = await sandboxProcess.stats<SandboxStats>();
    // What one request costs in the backend, latency included (the sandbox's own work is the backend's too).
    const requestMs =
      backendStats.requests > 0 ? backendStats.totalMs / backendStats.requests : options.latencyMs;
    const databaseFile = join(dir, 'station.sqlite');
    const trails = unitTrails(databaseFile).filter((unit) => unit.outcome === 'passed');
    const commands = boardCommands(databaseFile);
    const perUnitCommands: Record<string, number> = {};
    for (const trail of trails) {
      for (const [command, count] of Object.entries(commands.get(trail.unitId) ?? {}))
        perUnitCommands[command] = (perUnitCommands[command] ?? 0) + count / trails.length;
    }
    const units = trails.length;
    const bytesToBoard = wire.total.stationToBoardBytes / units;
    const bytesToStation = wire.total.boardToStationBytes / units;
    const criticalPathCalls = median(trails.map((unit) => unit.criticalPathCalls));
    const boardMs = Object.entries(perUnitCommands).reduce(
      (sum, [command, count]) =>
        sum +
        count * options.boardDelayMs +
        (FLASH_COMMANDS.has(command) ? count * options.flashMs : 0) +
        (command === 'REBOOT' ? count * (REBOOT_GAP_MS + options.bootMs) : 0),
      0,
    );
    const wireMs = ((bytesToBoard + bytesToStation) * 10 * 1000) / options.baud;
    const backendMs = criticalPathCalls * requestMs;
    const windowMs = unitWindowMs(databaseFile);
    const unitTimes = trails.map((unit) => unit.durationMs ?? 0);
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      slots,
      backendConcurrency,
      passed: summary.passed,
      failed: summary.failed,
      windowMs,
      unitsPerHour: Math.round((units / windowMs) * 3_600_000),
      unitMs: spread(unitTimes),
      perUnit: {
        bytesToBoard: Math.round(bytesToBoard),
        bytesToStation: Math.round(bytesToStation),
        backendCalls: median(trails.map((unit) => unit.backendCalls)),
        criticalPathCalls,
        boardCommands: Object.fromEntries(
          Object.entries(perUnitCommands).map(([command, count]) => [command, round(count)]),
        ),
        auditEvents: round(
          median(trails.map((unit) => unit.auditEvents)) + sharedEventsPerUnit(databaseFile),
        ),
        // Counted by the station's store: with group commit, slots side by side share a commit.
        auditCommits: round(summary.audit.commits / units),
      },
      floorMs: {
        wire: round(wireMs),
        backend: round(backendMs),
        board: round(boardMs),
        total: round(wireMs + backendMs + boardMs),
      },
      backendRequestMs: round(requestMs),
      hostPeakRssMb: run.maxRssKb === null ? null : Math.round(run.maxRssKb / 1024),
      cpu: {
        // The whole CLI, start-up included: the gang rows take the one-slot run's off to get a unit's share.
        stationMs: run.cpuMs,
        boardsMs: cpu?.byTree.boards ?? null,
        backendMs: cpu?.byTree.backend ?? null,
        busyCores: cpu ? Math.round(cpu.machineBusyCores * 100) / 100 : null,
      },
    };
  } finally {
    await boards.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Met = { value: number; target: string; met: boolean };

export async function unitsPerHourBench(options: FloorBenchOptions) {
  const sandboxDir = mkdtempSync(join(tmpdir(), 'station-floor-sandbox-'));
  const sandbox = await spawnStation(
    [
      'sandbox',
      '--port',
      '0',
      '--data',
      join(sandboxDir, 'sandbox.sqlite'),
      '--latency-ms',
      String(options.latencyMs),
      '--jitter-ms',
      String(options.jitterMs),
    ],
    1,
  );
  try {
    const runsOf = async (slots: number, concurrency: number) => {
      const results: RunFigures[] = [];
      for (let i = 0; i < options.runs; i++) results.push(await oneRun(options, slots, concurrency, sandbox));
      return results;
    };
    // Each slot can have three backend requests in flight (the keys and the token side by side): "no limit".
    const unlimited = (slots: number) => Math.min(32, 3 * slots); // 32: the config's ceiling
    // A first batch warms the sandbox, the CLI bundle and the disk cache; it is not counted.
    await oneRun(options, 1, unlimited(1), sandbox);
    const oneSlot = await runsOf(1, unlimited(1));
    const unitMedian = median(oneSlot.map((r) => r.unitMs.median));
    const floorMedian = median(oneSlot.map((r) => r.floorMs.total));
    const throughput1 = median(oneSlot.map((r) => 1 / r.windowMs));
    const gangRows = async (concurrency: (slots: number) => number) => {
      const rows = [];
      for (const slots of options.gang) {
        const runs =
          slots === 1 && concurrency(1) === unlimited(1) ? oneSlot : await runsOf(slots, concurrency(slots));
        const throughputs = runs.map((r) => r.passed / r.windowMs);
        rows.push({
          slots,
          backendConcurrency: concurrency(slots),
          unitsPerHour: spread(runs.map((r) => r.unitsPerHour)),
          efficiency: spread(throughputs.map((t) => t / (slots * throughput1))),
          unitMs: spread(runs.map((r) => r.unitMs.median)),
          hostPeakRssMb: spread(runs.map((r) => r.hostPeakRssMb ?? 0)),
          // Slots side by side share commits (group commit): fewer fsyncs a unit as the gang grows.
          auditCommitsPerUnit: spread(runs.map((r) => r.perUnit.auditCommits)),
          cpu: cpuFigures(runs, slots),
        });
      }
      return rows;
    };
    // The station's CPU for one unit: a gang's CLI run less the one-slot run (start-up, one unit), per extra unit.
    const stationStartMs = median(oneSlot.map((r) => r.cpu.stationMs ?? 0));
    const perUnit = (values: Array<number | null>, divisor: number) =>
      values.every((v) => v !== null) ? Math.round(median(values as number[]) / divisor) : null;
    const cpuFigures = (runs: RunFigures[], slots: number) => ({
      busyCores: spread(runs.map((r) => r.cpu.busyCores ?? 0)),
      msPerUnit: {
        station:
          slots > 1
            ? perUnit(
                runs.map((r) => (r.cpu.stationMs === null ? null : r.cpu.stationMs - stationStartMs)),
                slots - 1,
              )
            : null,
        boards: perUnit(
          runs.map((r) => r.cpu.boardsMs),
          slots,
        ),
        backend: perUnit(
          runs.map((r) => r.cpu.backendMs),
          slots,
        ),
      },
    });
    const gang = await gangRows(unlimited);
    const gangLimited = options.backendLimitRun ? await gangRows(() => 4) : [];
    const commits = measureCommits(options.durabilityAppends);
    const commitsPerUnit = median(oneSlot.map((r) => r.perUnit.auditCommits));
    const efficiencyAt = (slots: number) => gang.find((row) => row.slots === slots)?.efficiency.median;
    const overhead = unitMedian / floorMedian - 1;
    const targets: Record<string, Met | { value: null; target: string; met: null; why: string }> = {
      oneSlotOverhead: { value: round3(overhead), target: '<= 0.10', met: overhead <= 0.1 },
      criticalPathCalls: {
        value: oneSlot[0]!.perUnit.criticalPathCalls,
        target: '= 2',
        met: oneSlot.every((r) => r.perUnit.criticalPathCalls === 2),
      },
      ...targetAt('gang16Efficiency', efficiencyAt(16), '>= 0.9', (v) => v >= 0.9),
      ...targetAt('gang32Efficiency', efficiencyAt(32), '>= 0.8', (v) => v >= 0.8),
    };
    return {
      benchmark: 'units-per-hour',
      inputs: {
        ...options,
        bitsPerByte: 10,
        boards: 'station sim boards, own process, PTY pairs, wire model on',
        backend: 'station sandbox, own process, latency L +- jitter per request',
        station: 'station provision --ports, one unit per board, all slots at once',
      },
      oneSlot: {
        unitMs: spread(oneSlot.map((r) => r.unitMs.median)),
        floorMs: oneSlot[0]!.floorMs,
        floorMsMedian: floorMedian,
        overhead: round3(overhead),
        perUnit: oneSlot[0]!.perUnit,
      },
      gang,
      gangBackendLimit4: gangLimited,
      durability: {
        auditCommitsPerUnit: commitsPerUnit,
        commitsPerSecond: commits.commitsPerSecond,
        appendMs: commits.appendMs,
        shareOfUnitTime: round3(commitsPerUnit / commits.commitsPerSecond / (unitMedian / 1000)),
        measuredIn: commits.folder,
      },
      targets,
    };
  } finally {
    await sandbox.stop();
    rmSync(sandboxDir, { recursive: true, force: true });
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function targetAt(
  name: string,
  value: number | undefined,
  target: string,
  met: (value: number) => boolean,
): Record<string, Met | { value: null; target: string; met: null; why: string }> {
  if (value === undefined) {
    return { [name]: { value: null, target, met: null, why: 'not measured: that gang size was not run' } };
  }
  return { [name]: { value: round3(value), target, met: met(value) } };
}
