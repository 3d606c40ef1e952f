/**
 * The parts of a floor run, each in its own process so the figures are the station's own: the sandbox backend
 * (`station sandbox`, with its per-request latency), the virtual boards (`station sim boards`, with the wire model),
 * and the station (`station provision --ports`, talking to both as it would to the Infuse cloud and real boards).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStationTimed, type StationRun } from '../run-station';

const STATION = fileURLToPath(new URL('../../../electron/cli/station.mjs', import.meta.url));
const SANDBOX_CONFIG = fileURLToPath(new URL('../../../station-config/sandbox.json', import.meta.url));

export interface Spawned {
  child: ChildProcess;
  /** Lines the process printed on stdout, parsed as JSON, in order. */
  lines: unknown[];
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Starts `station <args>` and resolves once it has printed `readyLines` JSON lines on stdout. */
export async function spawnStation(args: string[], readyLines: number, timeoutMs = 60_000): Promise<Spawned> {
  const child = spawn(process.execPath, [STATION, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: unknown[] = [];
  let stderr = '';
  let pending = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`station ${args[0]} did not start in ${timeoutMs} ms:\n${stderr.slice(-800)}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      pending += d.toString();
      let lf: number;
      while ((lf = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, lf).trim();
        pending = pending.slice(lf + 1);
        if (line.startsWith('{')) lines.push(JSON.parse(line));
      }
      if (lines.length >= readyLines) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`station ${args[0]} exited (${code}) before it was ready:\n${stderr.slice(-800)}`));
    });
  });
  return { child, lines, stderr: () => stderr, stop };
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
