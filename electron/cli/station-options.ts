/**
 * The options every command that opens a station shares (provision, run, serve): which config, which ports or how
 * many virtual boards, where the data lives, and the test/demo fault knobs. One place, so the three agree.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { parseFault, type FaultRule } from '../../firmware-protocol/virtual-board';
import { parseFaultFlag, parseFaultFlags } from '../sandbox';
import { join } from 'node:path';
import { EnvFileSecretStore, SECRETS_DIR_ENV } from '../secrets';
import {
  auditMaxPageCountFromEnv,
  crashingJournals,
  crashPointFromEnv,
  TestHookError,
  type OpenStationOptions,
} from '../station';
import { describeLoadFailure, loadStationConfig, type LoadResult } from '../../station-config';
import { CliError, EXIT_USAGE } from './cli-output';
import { positiveInteger } from './commands/board';
import { baudRate, boardMs } from './commands/sim';

export interface StationCliOptions {
  config?: string;
  ports?: string[];
  sim?: number;
  data?: string;
  secretsDir?: string;
  simFault: Array<{ board?: number; rule: FaultRule }>;
  sandboxFault: string[];
  simDelayMs?: number;
  simFlashMs?: number;
  simBootMs?: number;
  simBaud?: number;
  simWireModel?: boolean;
  central?: string;
}

/** `--sim-fault [N:]SPEC`: a virtual-board fault (PROTOCOL.md appendix B), on board N (0-based) or on every board. */
function collectSimFault(
  value: string,
  previous: Array<{ board?: number; rule: FaultRule }>,
): Array<{ board?: number; rule: FaultRule }> {
  const target = /^(\d+):(.*)$/.exec(value);
  const parsed = parseFault(target ? target[2]! : value);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.message);
  return [...previous, { ...(target && { board: Number(target[1]) }), rule: parsed.rule }];
}

/** `--sandbox-fault SPEC`: the sandbox's own `--fault` grammar (electron/sandbox/faults.ts), checked up front. */
function collectSandboxFault(value: string, previous: string[]): string[] {
  try {
    parseFaultFlag(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
  return [...previous, value];
}

function portList(value: string): string[] {
  const ports = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (ports.length === 0) throw new InvalidArgumentError('expected one or more port paths, comma-separated');
  return ports;
}

/**
 * `central`: what --central means for this command. `ship` (run, provision): ship the trail there while running.
 * `review` (serve): be the central QA/supervisor host over that database instead of a station.
 */
export function addStationOptions(command: Command, central: 'ship' | 'review' = 'ship'): Command {
  return (
    command
      .option('--config <file>', 'station config (default: $STATION_CONFIG, else the sandbox config)')
      .option(
        '--ports <p1,p2>',
        "serial ports to provision, one slot each (instead of the config's)",
        portList,
      )
      .option('--sim <n>', 'start N virtual boards (sandbox configs)', positiveInteger)
      .option('--data <dir>', 'keep the audit database, logs, virtual boards and sandbox data here')
      .option('--secrets-dir <dir>', 'secrets folder for the headless secret store')
      .option(
        '--central <url>',
        central === 'ship'
          ? "ship the audit trail to this central PostgreSQL while running (instead of the config's central.url); password: secret central-database-password"
          : "be the read-only central QA/supervisor host over this PostgreSQL: every station's units, records, dashboards and reports (filter by site, line, station); runs no line; password: secret central-database-password",
      )
      .option(
        '--sim-fault <[N:]spec>',
        'arm a virtual-board fault (PROTOCOL.md appendix B) on every board, or on board N (0-based); repeatable; for tests and demos',
        collectSimFault,
        [],
      )
      .option(
        '--sandbox-fault <spec>',
        'arm a sandbox backend fault (same grammar as `station sandbox --fault`); repeatable; for tests and demos',
        collectSandboxFault,
        [],
      )
      // The timing knobs of `station sim boards` (--delay-ms, --flash-ms, --boot-ms, --baud, --wire-model), for
      // benchmarks of --sim runs.
      .option(
        '--sim-delay-ms <ms>',
        'virtual boards: processing time per ordinary command (default 5)',
        boardMs,
      )
      .option('--sim-flash-ms <ms>', 'virtual boards: extra time a flash write takes (default 20)', boardMs)
      .option(
        '--sim-boot-ms <ms>',
        'virtual boards: time from power-on or REBOOT to the boot event (default 150)',
        boardMs,
      )
      .option(
        '--sim-baud <rate>',
        'virtual boards: pace each serial line like a UART at this rate (implies --sim-wire-model)',
        baudRate,
      )
      .option('--sim-wire-model', 'virtual boards: pace each serial line like a UART at 115200 baud')
  );
}

/** The virtual boards' timing from the --sim-* flags; undefined when none is given. */
function simTimingFrom(options: StationCliOptions): OpenStationOptions['simTiming'] {
  const timing: NonNullable<OpenStationOptions['simTiming']> = {
    ...(options.simDelayMs !== undefined && { processingDelayMs: options.simDelayMs }),
    ...(options.simFlashMs !== undefined && { flashWriteDelayMs: options.simFlashMs }),
    ...(options.simBootMs !== undefined && { bootDelayMs: options.simBootMs }),
    ...((options.simBaud !== undefined || options.simWireModel) && {
      wire: options.simBaud !== undefined ? { baudRate: options.simBaud } : {},
    }),
  };
  return Object.keys(timing).length > 0 ? timing : undefined;
}

/** The config, or a CLI error with every problem (`config check`'s messages). */
export function loadConfigOrFail(file: string | undefined): Extract<LoadResult, { ok: true }> {
  const loaded = loadStationConfig(file);
  if (!loaded.ok) throw new CliError(describeLoadFailure(loaded).join('\n'));
  return loaded;
}

/** What openStation needs from these options (test-only hooks included: they are inert without STATION_TEST_HOOKS=1). */
export function stationOptionsFrom(
  options: StationCliOptions,
  loaded: Extract<LoadResult, { ok: true }>,
): Omit<OpenStationOptions, 'logger'> {
  if (options.ports && options.sim !== undefined)
    throw new CliError('give either --ports or --sim, not both', EXIT_USAGE);
  let crashPoint;
  let maxPageCount;
  try {
    crashPoint = crashPointFromEnv();
    maxPageCount = auditMaxPageCountFromEnv();
  } catch (error) {
    if (error instanceof TestHookError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
  const simTiming = simTimingFrom(options);
  return {
    config: loaded.config,
    paths: loaded.paths,
    secrets: stationSecrets(options),
    ...(options.data !== undefined && { dataDir: options.data }),
    ...(options.sim !== undefined && { sim: options.sim }),
    ...(options.ports !== undefined && { ports: options.ports }),
    ...(options.simFault.length > 0 && { simFaults: options.simFault }),
    ...(options.sandboxFault.length > 0 && { sandboxFaults: parseFaultFlags(options.sandboxFault) }),
    ...(simTiming && { simTiming }),
    ...(maxPageCount !== undefined && { maxPageCount }),
    ...(options.central !== undefined && { centralUrl: options.central }),
    // Test-only (STATION_TEST_HOOKS=1): SIGKILL at a chosen journal boundary.
    ...(crashPoint && { wrapJournal: crashingJournals(crashPoint) }),
  };
}

/**
 * The headless secret store: --secrets-dir, else $STATION_SECRETS_DIR, else with --data the folder `secrets` in
 * it (a data folder is a station of its own: its trail and its identity key belong together), else the user's.
 */
export function stationSecrets(options: { secretsDir?: string; data?: string }): EnvFileSecretStore {
  const dir =
    options.secretsDir ??
    process.env[SECRETS_DIR_ENV] ??
    (options.data !== undefined ? join(options.data, 'secrets') : undefined);
  return new EnvFileSecretStore(dir !== undefined ? { dir } : {});
}

/** The log folder a station with these options writes to. */
export function logDirFor(options: StationCliOptions, loaded: Extract<LoadResult, { ok: true }>): string {
  return options.data !== undefined ? `${options.data}/logs` : loaded.paths.logDir;
}
