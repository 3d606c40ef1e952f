/**
 * `station serve`: the station in Node, its API and the operator app on 127.0.0.1 for a browser on this machine.
 * Prints one JSON line `{"url", "origin", "port"}` on stdout (the URL carries the run's access token) and runs until
 * SIGINT/SIGTERM. With no config it is the sandbox station with its four virtual boards.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { openStationLog } from '../../logging';
import {
  loopStatsFileFromEnv,
  openStation,
  startLoopStats,
  StationSetupError,
  type Station,
} from '../../station';
import { startWebHost, type WebHost } from '../../web-host';
import { findShippedFile } from '../../../station-config';
import { CliError, printJson, printProgress, untilStopSignal } from '../cli-output';
import {
  addStationOptions,
  loadConfigOrFail,
  logDirFor,
  stationOptionsFrom,
  type StationCliOptions,
} from '../station-options';
import { describeEvent } from './run';

interface ServeOptions extends StationCliOptions {
  port?: number;
  open?: boolean;
  verbose?: boolean;
}

/** Keeps a token across restarts of the host (the page then reconnects by itself): tests and kiosks set it. */
export const WEB_TOKEN_ENV = 'STATION_WEB_TOKEN';

function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('expected a TCP port, 0 to 65535');
  return n;
}

/** The built operator app, when there is one (`npm run build:renderer` writes renderer/dist). */
export function rendererBuildDir(): string | null {
  const dir = findShippedFile(join('renderer', 'dist', 'index.html'));
  return existsSync(dir) ? join(dir, '..') : null;
}

function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () =>
    printProgress(`could not open a browser (${command}); open the URL above yourself`),
  );
  child.unref();
}

export function registerServeCommand(program: Command): void {
  addStationOptions(
    program
      .command('serve')
      .description(
        'run the station and serve its API and the operator app on 127.0.0.1 (browser, tests); with --central, the central QA/supervisor host instead',
      ),
    'review',
  )
    .option('--port <p>', 'TCP port on 127.0.0.1 (default: any free port)', portNumber)
    .option('--open', 'open the operator app in the default browser')
    .option('--verbose', 'print a line per notable event on stderr')
    .action(async (options: ServeOptions) => serveCommand(options));
}

async function serveCommand(options: ServeOptions): Promise<void> {
  // Test-only (STATION_TEST_HOOKS=1): event-loop delay and RSS for the responsiveness benchmark.
  const loopStatsFile = loopStatsFileFromEnv();
  const loopStats = loopStatsFile ? startLoopStats(loopStatsFile) : undefined;
  try {
    await serveStation(options);
  } finally {
    loopStats?.stop();
  }
}

async function serveStation(options: ServeOptions): Promise<void> {
  const loaded = loadConfigOrFail(options.config);
  const { central, ...stationCli } = options;
  const opening = {
    ...stationOptionsFrom(stationCli, loaded),
    // --central on serve: the QA host over the central record (a serving station ships per its config's central.url).
    ...(central !== undefined && { centralReview: central }),
  };
  if (central !== undefined && (options.sim !== undefined || options.ports !== undefined)) {
    throw new CliError('the central QA host runs no line: leave out --sim and --ports with --central');
  }
  const log = openStationLog({ dir: logDirFor(options, loaded), stationId: loaded.config.station.id });
  let station: Station;
  try {
    station = await openStation({ ...opening, logger: log.logger });
  } catch (error) {
    await log.close();
    if (error instanceof StationSetupError) throw new CliError(error.message);
    throw error;
  }
  let host: WebHost | undefined;
  const unsubscribe = options.verbose
    ? station.subscribe((event) => {
        const line = describeEvent(event);
        if (line) printProgress(line);
      })
    : () => undefined;
  try {
    const token = process.env[WEB_TOKEN_ENV];
    host = await startWebHost({
      station,
      rendererDir: rendererBuildDir(),
      ...(options.port !== undefined && { port: options.port }),
      ...(token && { token }),
      log: (line) => log.logger.info({ event: 'web-host', line }),
    });
    if (loaded.config.environment === 'sandbox') {
      printProgress(
        'SANDBOX station: a local Infuse-compatible backend and virtual boards; nothing reaches the Infuse cloud',
      );
      const demo = station.snapshot().station.demoAccounts;
      if (demo?.length) {
        printProgress(
          `SANDBOX demo accounts: ${demo.map((a) => `${a.operatorId} / PIN ${a.pin} (${a.roles.join('+')})`).join(', ')}`,
        );
      }
    }
    for (const line of station.reconciled)
      printProgress(`reconciled unit ${line.unitId}: ${line.resolution} (${line.reason})`);
    const record = station.snapshot().centralRecord;
    if (record?.userCanWrite) {
      printProgress(
        `warning: the database user of ${record.database} may write to the central record (INSERT on central_events): the QA host only reads, so give it a user with SELECT rights alone (see README, "The central QA host")`,
      );
    }
    printProgress(
      record
        ? `central QA host over ${record.database} (read-only) serving on ${host.url}`
        : `station "${loaded.config.station.name}" serving on ${host.url}`,
    );
    printJson({ url: host.url, origin: host.origin, port: host.port });
    if (options.open) openBrowser(host.url);
    await untilStopSignal();
    printProgress('stopping: running units end their current step and are recorded as cancelled');
  } finally {
    await host?.close();
    await station.close('the station was stopped');
    unsubscribe();
    await log.close();
  }
}
