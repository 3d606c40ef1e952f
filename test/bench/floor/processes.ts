/**
 * The parts of a floor run, each in its own process so the figures are the station's own: the sandbox backend
 * (`station sandbox`, with its per-request latency), the virtual boards (`station sim boards`, with the wire model),
 * and the station (`station provision --ports`, talking to both as it would to the Infuse cloud and real boards).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStationTimed, type StationRun } from '../run-station';
import { StationProcess, stationEnv } from '../station-processes';

const SANDBOX_CONFIG = fileURLToPath(new URL('../../../station-config/sandbox.json', import.meta.url));

export interface Spawned {
  station: StationProcess;
  /** The JSON lines it printed when ready (the sandbox's address, one line per board). */
  ready: unknown[];
  /** Asks for its counters: `station sim boards` and `station sandbox` print one `{"stats": ...}` line on SIGUSR2. */
  stats<T>(): Promise<T>;
  stop(): Promise<void>;
}

/** Starts `station <args>` (the bench's shared child-process runner) and waits for its first `readyLines` JSON lines. */
export async function spawnStation(args: string[], readyLines: number, timeoutMs = 60_000): Promise<Spawned> {
  const station = new StationProcess(args[0] ?? 'station', args, stationEnv({}));
  let ready: unknown[];
  try {
    ready = await station.waitForJsonLines<unknown>(readyLines, timeoutMs);
  } catch (error) {
    await station.stop();
    throw error;
  }
  return {
    station,
    ready,
    async stats<T>() {
      const before = station.lines.length;
      station.child.kill('SIGUSR2');
      const deadline = Date.now() + 5000;
      for (;;) {
        const line = station.lines.slice(before).find((l) => l.startsWith('{"stats"'));
        if (line) return (JSON.parse(line) as { stats: T }).stats;
        if (Date.now() > deadline) throw new Error(`${station.name}: no stats line after SIGUSR2`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop: () => station.stop(),
  };
}

export interface SandboxInfo {
  url: string;
  apiKey: string;
  cloudPublicKey: string;
}

export interface BoardInfo {
  path: string;
  soc: string;
  mcuId: string;
}

/**
 * A config for a station that talks to `sandbox` as a remote backend and provisions the given ports, with the
 * sandbox recipe (its organisation, board profile and network exist in every sandbox).
 */
export function remoteStationConfig(
  dir: string,
  sandbox: SandboxInfo,
  ports: string[],
  backend: { concurrency: number },
): string {
  const config = JSON.parse(readFileSync(SANDBOX_CONFIG, 'utf8')) as Record<string, unknown> & {
    station: Record<string, unknown>;
    slots: Record<string, unknown>;
  };
  delete config.$schema;
  config.backend = {
    mode: 'remote',
    baseUrl: sandbox.url,
    authMode: 'x-api-key-bearer',
    apiKeySecret: 'backend-api-key',
    timeoutMs: 10_000,
    retries: 2,
    concurrency: backend.concurrency,
    // The backend is the sandbox, which refuses a second device for a chip: creating first is safe here.
    createDeviceFirst: true,
  };
  config.station = { ...config.station, dataDir: dir };
  config.slots = {
    ...config.slots,
    discovery: { ports, usb: [] },
  };
  delete config.slots.virtualBoards;
  const file = join(dir, 'station.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export interface ProvisionSummary {
  passed: number;
  failed: number;
  units: Array<{ slot: string; mcuId: string | null; outcome: string; durationMs: number; message?: string }>;
  /** What the run wrote to its audit trail: events, and the transactions (fsyncs) they took. */
  audit: { events: number; commits: number };
}

/** One batch: every port one unit, all at once, as `station provision --ports` runs it. */
export async function provisionOnce(input: {
  config: string;
  dataDir: string;
  ports: string[];
  apiKey: string;
  batch: string;
}): Promise<{ run: StationRun; summary: ProvisionSummary }> {
  const run = await runStationTimed(
    [
      'provision',
      '--config',
      input.config,
      '--ports',
      input.ports.join(','),
      '--batch',
      input.batch,
      '--operator',
      'bench',
      '--json',
      '--data',
      input.dataDir,
      '--secrets-dir',
      join(input.dataDir, 'secrets'),
    ],
    { STATION_SECRET_BACKEND_API_KEY: input.apiKey },
  );
  if (!run.stdout.trim().startsWith('{')) {
    throw new Error(`provision printed no summary (exit ${run.code}):\n${run.stderr.slice(-1200)}`);
  }
  return { run, summary: JSON.parse(run.stdout) as ProvisionSummary };
}
