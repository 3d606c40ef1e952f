/**
 * What a station runs against, outside Electron: the backend client (the sandbox started in-process when the
 * config says so), virtual boards when asked (or when a sandbox config names them), the configured ports, and
 * where the data lives. Every host gets the same environment through openStation.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InfuseClient, SecretBytes, type BackendLogEntry, type BackendLogger } from '../backend';
import { recordBackendCall } from '../provisioning';
import { sealUplink, sendUplink, startSandbox, type FaultConfigInput, type SandboxHandle } from '../sandbox';
import type { SecretStore } from '../secrets';
import {
  startSimulator,
  type FaultRule,
  type Simulator,
  type SimulatorOptions,
} from '../../firmware-protocol/virtual-board';
import type { StationConfig, StationPaths } from '../../station-config';

/** A port the station provisions on, as configured (or a virtual board's PTY). */
export interface ConfiguredPort {
  /** The slot's stable name: the configured name, else slot-N in configuration order. */
  name: string;
  path: string;
  source: 'configured' | 'virtual';
  /** The virtual board behind it (sandbox), for sim.unplug / sim.replug. */
  virtual?: Simulator['boards'][number];
}

export interface StationEnvironmentOptions {
  config: StationConfig;
  paths: StationPaths;
  /** Overrides where the audit database, the virtual boards' flash and the sandbox's data live. */
  dataDir?: string;
  /**
   * Start this many virtual boards (sandbox backends only). Without it a sandbox config with
   * `slots.virtualBoards` starts that many, unless explicit ports are given.
   */
  sim?: number;
  /** Explicit ports; otherwise the config's ports. */
  ports?: string[];
  secrets: SecretStore;
  /** Receives one entry per backend request (method, path template, status, duration; never a secret). */
  backendLogger?: BackendLogger;
  /**
   * Faults armed on the virtual boards (PROTOCOL.md appendix B), for tests and demos: `board` (0-based, as in
   * `boards/board-<n>.json`) limits a rule to one board; without it every board gets the rule.
   */
  simFaults?: Array<{ board?: number; rule: FaultRule }>;
  /**
   * How fast the virtual boards are (benchmarks): per-command, flash-write and boot delays, and the UART wire
   * model (PROTOCOL.md appendix A). Without it the boards' defaults, at the PTY's speed.
   */
  simTiming?: Pick<SimulatorOptions, 'processingDelayMs' | 'flashWriteDelayMs' | 'bootDelayMs' | 'wire'>;
  /** Faults the in-process sandbox injects from the start (electron/sandbox/faults.ts), for tests and demos. */
  sandboxFaults?: FaultConfigInput;
}

export interface StationEnvironment {
  client: InfuseClient;
  ports: ConfiguredPort[];
  databaseFile: string;
  logDir: string;
  sandbox?: SandboxHandle;
  simulator?: Simulator;
  close(): Promise<void>;
}

export class StationSetupError extends Error {
  override name = 'StationSetupError';
}

export async function startEnvironment(options: StationEnvironmentOptions): Promise<StationEnvironment> {
  const { config } = options;
  const dataDir = options.dataDir ?? options.paths.dataDir;
  mkdirSync(dataDir, { recursive: true });
  const databaseFile = options.dataDir ? join(dataDir, 'station.sqlite') : options.paths.databaseFile;
  const logDir = options.dataDir ? join(dataDir, 'logs') : options.paths.logDir;
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };

  try {
    let client: InfuseClient;
    let sandbox: SandboxHandle | undefined;
    const forward = options.backendLogger;
    const budget = {
      timeoutMs: config.backend.timeoutMs,
      retry: { maxAttempts: config.backend.retries + 1 },
      // Every request goes into the record of the step that made it, and on to the station log.
      logger: (entry: BackendLogEntry) => {
        recordBackendCall(entry);
        if (typeof forward === 'function') forward(entry);
        else
          forward?.info(entry, `backend ${entry.method} ${entry.endpoint} ${entry.status ?? entry.outcome}`);
      },
    };
    if (config.backend.mode === 'sandbox') {
      sandbox = await startSandbox({
        dataFile: join(dataDir, 'sandbox.sqlite'),
        ...(options.sandboxFaults && { faults: options.sandboxFaults }),
      });
      const handle = sandbox;
      closers.push(() => handle.close());
      client = new InfuseClient({
        baseUrl: sandbox.url,
        apiKey: SecretBytes.fromText(sandbox.apiKey, 'backend-api-key'),
        authMode: 'x-api-key-bearer',
        ...budget,
      });
    } else {
      if (options.sandboxFaults)
        throw new StationSetupError(
          'sandbox faults need a sandbox backend (a config with "backend": {"mode": "sandbox"})',
        );
      const apiKey = await options.secrets.get(config.backend.apiKeySecret);
      if (!apiKey) {
        throw new StationSetupError(
          `the backend API key "${config.backend.apiKeySecret}" is not in the secret store: store it with \`station secret set ${config.backend.apiKeySecret}\` (reads stdin)`,
        );
      }
      client = new InfuseClient({
        baseUrl: config.backend.baseUrl,
        apiKey,
        authMode: config.backend.authMode,
        ...budget,
      });
    }

    let simulator: Simulator | undefined;
    let ports: ConfiguredPort[] = (options.ports ?? config.slots.discovery.ports).map((entry, index) =>
      typeof entry === 'string'
        ? { name: `slot-${index + 1}`, path: entry, source: 'configured' }
        : { name: entry.name, path: entry.path, source: 'configured' },
    );
    const simCount =
      options.sim ?? (options.ports === undefined && sandbox ? config.slots.virtualBoards?.count : undefined);
    if (simCount !== undefined) {
      if (!sandbox) {
        throw new StationSetupError(
          '--sim needs a sandbox backend (a config with "backend": {"mode": "sandbox"})',
        );
      }
      const uplink = { url: sandbox.url, apiKey: sandbox.apiKey };
      simulator = await startSimulator({
        count: simCount,
        soc: config.slots.virtualBoards?.soc ?? config.recipes[0]?.soc ?? 'nRF52840',
        ...options.simTiming,
        stateDir: join(dataDir, 'boards'),
        // Beside the boards' flash rather than in /tmp: a station killed outright leaves no stray folder, and the
        // next start replaces the stale links.
        ptyDir: join(dataDir, 'pty'),
        cloudPublicKey: Buffer.from(sandbox.cloudPublicKey, 'base64'),
        // A provisioned virtual board "comes online" the way a real one would send its first packet.
        comesOnline: async ({ deviceId, devicePrivateKey, cloudPublicKey }) => {
          const outcome = await sendUplink(
            uplink.url,
            sealUplink(devicePrivateKey, cloudPublicKey, deviceId, new Date()),
            uplink.apiKey,
          );
          if (!outcome.ok) throw new Error(`sandbox refused the uplink (HTTP ${outcome.status})`);
        },
      });
      const sim = simulator;
      closers.push(() => sim.stop());
      for (const { board, rule } of options.simFaults ?? []) {
        if (board !== undefined && !sim.boards[board]) {
          throw new StationSetupError(
            `a virtual-board fault targets board ${board}, but boards are numbered 0..${sim.boards.length - 1}`,
          );
        }
        for (const target of board === undefined ? sim.boards : [sim.boards[board]!])
          target.board.faults.add(rule);
      }
      ports = sim.boards.map((board) => ({
        name: `slot-${board.index + 1}`,
        path: board.path,
        source: 'virtual',
        virtual: board,
      }));
    }
    if (options.simFaults?.length && !simulator)
      throw new StationSetupError('virtual-board faults need virtual boards (--sim N)');
    if (options.simTiming && !simulator)
      throw new StationSetupError('virtual-board timing needs virtual boards (--sim N)');
    return {
      client,
      ports,
      databaseFile,
      logDir,
      ...(sandbox && { sandbox }),
      ...(simulator && { simulator }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
