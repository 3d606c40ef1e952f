/**
 * Puts a station together outside Electron: the backend client (the sandbox started in-process when the config
 * says so), virtual boards when asked, the slots to provision, and where the data lives. The CLI uses it today;
 * the web host and the Electron app use the same pieces.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InfuseClient, SecretBytes, type BackendLogger } from '../backend';
import { sealUplink, sendUplink, startSandbox, type FaultConfigInput, type SandboxHandle } from '../sandbox';
import type { SecretStore } from '../secrets';
import { startSimulator, type FaultRule, type Simulator } from '../../firmware-protocol/virtual-board';
import type { StationConfig, StationPaths } from '../../station-config';
import type { SlotSpec } from '../provisioning';

export interface HeadlessStationOptions {
  config: StationConfig;
  paths: StationPaths;
  /** Overrides where the audit database, the virtual boards' flash and the sandbox's data live. */
  dataDir?: string;
  /** Start this many virtual boards (sandbox configs only, or with an explicit sandbox backend). */
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
  /** Faults the in-process sandbox injects from the start (electron/sandbox/faults.ts), for tests and demos. */
  sandboxFaults?: FaultConfigInput;
}

export interface HeadlessStation {
  client: InfuseClient;
  slots: SlotSpec[];
  databaseFile: string;
  logDir: string;
  sandbox?: SandboxHandle;
  simulator?: Simulator;
  close(): Promise<void>;
}

export class StationSetupError extends Error {
  override name = 'StationSetupError';
}

export async function startHeadlessStation(options: HeadlessStationOptions): Promise<HeadlessStation> {
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
    const budget = {
      timeoutMs: config.backend.timeoutMs,
      retry: { maxAttempts: config.backend.retries + 1 },
      ...(options.backendLogger && { logger: options.backendLogger }),
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
    let ports = options.ports ?? config.slots.discovery.ports;
    if (options.sim !== undefined) {
      if (!sandbox) {
        throw new StationSetupError(
          '--sim needs a sandbox backend (a config with "backend": {"mode": "sandbox"})',
        );
      }
      const uplink = { url: sandbox.url, apiKey: sandbox.apiKey };
      simulator = await startSimulator({
        count: options.sim,
        soc: config.slots.virtualBoards?.soc ?? config.recipes[0]?.soc ?? 'nRF52840',
        stateDir: join(dataDir, 'boards'),
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
      ports = sim.boards.map((board) => board.path);
    }
    if (options.simFaults?.length && !simulator)
      throw new StationSetupError('virtual-board faults need virtual boards (--sim N)');
    if (ports.length === 0) {
      throw new StationSetupError(
        'no ports to provision: pass --ports P1,P2, or --sim N with a sandbox config, or list slots.discovery.ports in the config',
      );
    }
    const slots: SlotSpec[] = ports.map((port, index) => ({ slot: `slot-${index + 1}`, port }));
    return {
      client,
      slots,
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
