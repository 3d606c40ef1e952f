/**
 * `station run`: the station continuously, headless (kiosks, automation). Boards are provisioned as they are
 * plugged in (or scanned); events go to stdout as JSON lines with --json, else as progress lines on stderr.
 * Commands come in on stdin as JSON lines `{"command": "slot.scan", "input": {...}}` (the station API contract);
 * each answer is one line `{"result": {...}, "command": "..."}`. SIGINT/SIGTERM: running units end their current
 * step, are recorded as cancelled, and the station stops.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Command } from 'commander';
import { openStationLog } from '../../logging';
import { openStation, StationSetupError, type Station } from '../../station';
import type { StationEvent } from '../../station-api';
import { CliError, EXIT_USAGE, printJson, printProgress, untilStopSignal } from '../cli-output';
import {
  addStationOptions,
  loadConfigOrFail,
  logDirFor,
  stationOptionsFrom,
  type StationCliOptions,
} from '../station-options';
import { positiveInteger } from './board';

interface RunOptions extends StationCliOptions {
  json?: boolean;
  operator?: string;
  batch?: string;
  recipe?: string;
  target?: number;
}

/** One line a person reads for the events worth a line; null for the rest. */
export function describeEvent(event: StationEvent): string | null {
  switch (event.kind) {
    case 'step.finished':
      return `${event.slot} ${event.step} ${event.outcome} (${Math.round(event.durationMs)} ms)${event.error ? `: ${event.error.code}: ${event.error.message}` : ''}`;
    case 'unit.finished':
      return `${event.slot} ${event.outcome.toUpperCase()}${event.deviceId ? ` device ${event.deviceId}` : ''}${event.error ? `: ${event.error.message}` : ''}`;
    case 'port.added':
      return `${event.slot} board plugged in (${event.port})`;
    case 'port.removed':
      return `${event.slot} board removed`;
    case 'scan.accepted':
      return `scan ${event.text} -> ${event.slot}`;
    case 'scan.refused':
      return `scan ${event.text} refused: ${event.message}`;
    case 'batch.opened':
      return `batch "${event.name}" open (recipe ${event.recipeId}${event.targetQuantity ? `, target ${event.targetQuantity}` : ''})`;
    case 'batch.closed':
      return `batch closed: ${event.reason}`;
    case 'batch.changed':
      return event.targetReached ? 'batch target reached: no more units start' : null;
    case 'session.changed':
      return event.session
        ? `${event.session.name} logged in (${event.session.roles.join(', ')})`
        : `logged out (${event.reason})`;
    case 'unit.reconciled':
      return `reconciled unit ${event.unitId}: ${event.resolution} (${event.reason})`;
    case 'station.stopped':
      return `station stopped: ${event.reason}`;
    default:
      return null;
  }
}

export function registerRunCommand(program: Command): void {
  addStationOptions(
    program
      .command('run')
      .description(
        'run the station continuously, headless: events out (JSON lines with --json), commands in on stdin',
      ),
  )
    .option('--json', 'events as JSON lines on stdout')
    .option('--operator <id>', 'log this person in, named by the host (as provision does)')
    .option('--batch <name>', 'open (or continue) this batch at start')
    .option('--recipe <id>', 'recipe of the batch (default: the only one)')
    .option('--target <n>', 'target quantity of the batch', positiveInteger)
    .action(async (options: RunOptions) => runCommand(options));
}

async function runCommand(options: RunOptions): Promise<void> {
  const loaded = loadConfigOrFail(options.config);
  const opening = stationOptionsFrom(options, loaded);
  if (options.batch !== undefined && options.operator === undefined)
    throw new CliError('--batch needs --operator (someone must be logged in to open a batch)', EXIT_USAGE);
  const log = openStationLog({ dir: logDirFor(options, loaded), stationId: loaded.config.station.id });
  let station: Station;
  try {
    station = await openStation({
      ...opening,
      logger: log.logger,
      ...(options.operator !== undefined && {
        hostOperator: { operatorId: options.operator, roles: ['operator'] },
      }),
    });
  } catch (error) {
    await log.close();
    if (error instanceof StationSetupError) throw new CliError(error.message);
    throw error;
  }
  const emit = (event: StationEvent) => {
    if (options.json) printJson(event);
    else {
      const line = describeEvent(event);
      if (line) printProgress(line);
    }
  };
  // Everything so far (slots found, reconciliations) first, then live.
  for (const event of station.eventsAfter(0) ?? []) emit(event);
  const unsubscribe = station.subscribe(emit);
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
  try {
    if (options.batch !== undefined) {
      const opened = await station.execute('batch.open', {
        name: options.batch,
        ...(options.recipe !== undefined && { recipeId: options.recipe }),
        ...(options.target !== undefined && { targetQuantity: options.target }),
      });
      if (!opened.ok) throw new CliError(`${opened.code}: ${opened.message}`);
    }
    const input = process.stdin.isTTY
      ? undefined
      : createInterface({ input: process.stdin, crlfDelay: Infinity });
    if (input) void answerCommands(station, input, options.json === true);
    await untilStopSignal();
    printProgress('stopping: running units end their current step and are recorded as cancelled');
    // An open stdin would keep the process alive after the station has stopped.
    input?.close();
    process.stdin.destroy();
  } finally {
    await station.close('the station was stopped');
    unsubscribe();
    await log.close();
  }
}

/**
 * JSON-line commands from stdin, answered one line each, in order. At the end of the input the station keeps
 * running (a script finished sending) until a stop signal, like a service.
 */
async function answerCommands(station: Station, lines: Interface, json: boolean): Promise<void> {
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let request: { command?: unknown; input?: unknown };
    try {
      request = JSON.parse(line) as typeof request;
    } catch {
      printJson({ result: { ok: false, code: 'BAD_REQUEST', message: 'a command line must be JSON' } });
      continue;
    }
    const result = await station.executeUnchecked(request?.command, request?.input);
    if (json) printJson({ command: request?.command ?? null, result });
    else
      printProgress(`${String(request?.command)}: ${result.ok ? 'ok' : `${result.code}: ${result.message}`}`);
  }
  // The input ended (a script finished sending): keep running until a stop signal, like a service.
  await untilStopSignal();
}
