/**
 * `station provision`: a one-shot batch, headless. A thin client of the station core: it opens the station with
 * the person running it logged in by the host, opens (or continues) the batch, starts one unit per slot, prints a
 * progress line per step and a summary, and closes the batch. Everything about the batch itself (config recorded,
 * secrets fingerprinted, reconciliation) happens in the core, exactly as for the app.
 */
import type { Command } from 'commander';
import { openStationLog, type StationLog } from '../../logging';
import { openStation, StationSetupError, type Station } from '../../station';
import type { StationEvent, UnitOutcome } from '../../station-api';
import { CliError, EXIT_USAGE, printJson, printProgress } from '../cli-output';
import {
  addStationOptions,
  loadConfigOrFail,
  logDirFor,
  stationOptionsFrom,
  type StationCliOptions,
} from '../station-options';
import { positiveInteger } from './board';

interface ProvisionOptions extends StationCliOptions {
  batch: string;
  operator: string;
  recipe?: string;
  count?: number;
  json?: boolean;
}

/** Names are checked before anything is written: a bad one is a usage error, not a refused audit event. */
function checkNames(options: ProvisionOptions): { operator: string; batch: string } {
  const operator = options.operator.trim();
  const batch = options.batch.trim();
  if (!/^[\x21-\x7e]{1,128}$/.test(operator)) {
    throw new CliError(
      `--operator must be 1 to 128 printable characters without spaces (got ${operator === '' ? 'nothing' : `${operator.length} characters`})`,
      EXIT_USAGE,
    );
  }
  if (batch.length < 1 || batch.length > 200) {
    throw new CliError(
      `--batch must be 1 to 200 characters (got ${batch === '' ? 'nothing' : `${batch.length}`})`,
      EXIT_USAGE,
    );
  }
  return { operator, batch };
}

export function registerProvisionCommand(program: Command): void {
  addStationOptions(
    program
      .command('provision')
      .description('provision a batch headless: every slot at once, recorded in the audit trail'),
  )
    .requiredOption(
      '--batch <name>',
      'batch name, as supervisors will look it up (an open batch of that name continues)',
    )
    .requiredOption('--operator <name>', 'who runs the batch; recorded on every event')
    .option('--recipe <id>', 'recipe id (default: the only recipe in the config)')
    .option('--count <k>', 'provision at most K units', positiveInteger)
    .option('--json', 'print one JSON summary on stdout')
    .action(async (options: ProvisionOptions) => {
      // station.mjs sets process.exitCode from runStationCli's result, so a failed batch must throw to exit 1.
      await provisionCommand(options);
    });
}

function progressLine(event: StationEvent): string | null {
  if (event.kind === 'step.started') return `${event.slot} ${event.step} started`;
  if (event.kind !== 'step.finished') return null;
  const why = event.error ? `: ${event.error.code}: ${event.error.message}` : '';
  return `${event.slot} ${event.step} ${event.outcome} (${Math.round(event.durationMs)} ms)${why}`;
}

interface UnitLine {
  slot: string;
  mcuId: string | null;
  deviceId: string | null;
  outcome: UnitOutcome;
  durationMs: number;
  failedStep?: string;
  errorCode?: string;
  message?: string;
}

async function provisionCommand(options: ProvisionOptions): Promise<void> {
  const names = checkNames(options);
  const loaded = loadConfigOrFail(options.config);
  const { config } = loaded;
  const recipe = options.recipe
    ? config.recipes.find((r) => r.id === options.recipe)
    : config.recipes.length === 1
      ? config.recipes[0]
      : undefined;
  if (!recipe) {
    throw new CliError(
      options.recipe
        ? `no recipe "${options.recipe}" in ${loaded.source.path}; recipes: ${config.recipes.map((r) => r.id).join(', ')}`
        : `the config has ${config.recipes.length} recipes: pick one with --recipe (${config.recipes.map((r) => r.id).join(', ')})`,
      EXIT_USAGE,
    );
  }

  const opening = stationOptionsFrom(options, loaded);
  const log: StationLog = openStationLog({
    dir: logDirFor(options, loaded),
    stationId: config.station.id,
  });
  const logger = log.logger.child({ operator: names.operator, batchName: names.batch });
  let station: Station;
  try {
    station = await openStation({
      ...opening,
      hostOperator: { operatorId: names.operator, roles: ['operator'] },
      autoStart: false,
      logger,
    });
  } catch (error) {
    logger.error({
      event: 'station.setup-failed',
      message: error instanceof Error ? error.message : String(error),
    });
    await log.close();
    if (error instanceof StationSetupError) throw new CliError(error.message);
    throw error;
  }

  const units: UnitLine[] = [];
  const unsubscribe = station.subscribe((event) => {
    const line = progressLine(event);
    if (line) printProgress(line);
    if (event.kind === 'unit.finished') {
      units.push({
        slot: event.slot,
        mcuId: event.mcuId,
        deviceId: event.deviceId,
        outcome: event.outcome,
        durationMs: Math.round(event.durationMs),
        ...(event.error && {
          ...(event.failedStep && { failedStep: event.failedStep }),
          errorCode: event.error.code,
          message: event.error.message,
        }),
      });
    }
  });
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    printProgress('interrupted: finishing the steps in progress, then stopping');
    for (const slot of station.snapshot().slots)
      if (slot.state === 'running') void station.execute('slot.cancel', { slot: slot.name });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const summary = {
    batch: names.batch,
    batchId: null as string | null,
    db: station.databaseFile,
    passed: 0,
    failed: 0,
    cancelled: 0,
    notStarted: 0,
    units,
    notStartedSlots: [] as Array<{ slot: string; reason: string }>,
    /** The station's signature over the trail once the batch closed: an anchor for `audit verify --anchor`. */
    checkpoint: null as { seq: number; hash: string; signature: string; publicKeyFp: string } | null,
    /** Audit events and commits (fsyncs) this run wrote, batch and reconciliation included. */
    audit: { events: 0, commits: 0 },
  };
  let problem: string | undefined;
  try {
    for (const line of station.reconciled)
      printProgress(`reconciled unit ${line.unitId}: ${line.resolution} (${line.reason})`);
    if (config.environment === 'sandbox') {
      printProgress(
        'SANDBOX station: a local Infuse-compatible backend and virtual boards; nothing here reaches the Infuse cloud',
      );
    }
    const slots = station.snapshot().slots;
    if (slots.length === 0) {
      throw new CliError(
        'no ports to provision: no configured port, and no USB adapter matching slots.discovery.usb is plugged in; pass --ports P1,P2, or --sim N with a sandbox config, or list slots.discovery.ports in the config',
      );
    }

    // A batch a crashed run left open is closed (as that run would have), unless it is the one asked for.
    const open = station.snapshot().batch;
    if (open && open.name !== names.batch) {
      const reason = 'interrupted: the run that opened this batch stopped without closing it';
      const closed = await station.execute('batch.close', { reason });
      if (!closed.ok)
        throw new CliError(`batch "${open.name}" is still open and cannot be closed: ${closed.message}`);
      printProgress(`closed batch "${open.name}" (${open.id}): ${reason}`);
    }
    const opened = await station.execute('batch.open', { name: names.batch, recipeId: recipe.id });
    if (!opened.ok) {
      problem = opened.message;
      throw new CliError(opened.message);
    }
    summary.batchId = opened.batchId;
    printProgress(
      `batch "${names.batch}" (${opened.batchId}) ${opened.continued ? 'continued' : 'opened'} with recipe ${recipe.id}; audit trail ${station.databaseFile}`,
    );

    const planned = slots.slice(0, options.count ?? slots.length);
    for (const slot of planned) {
      if (interrupted) {
        summary.notStartedSlots.push({ slot: slot.name, reason: 'interrupted before it started' });
        continue;
      }
      const started = await station.execute('slot.start', { slot: slot.name });
      if (started.ok) continue;
      const current = station.snapshot().slots.find((s) => s.name === slot.name);
      const reason =
        current?.present === false ? `no board at ${current.port ?? slot.name}` : started.message;
      summary.notStartedSlots.push({ slot: slot.name, reason });
      printProgress(`${slot.name} not started: ${reason}`);
    }
    await station.settled();

    const order = new Map(station.snapshot().slots.map((slot) => [slot.name, slot.number]));
    units.sort((a, b) => (order.get(a.slot) ?? 0) - (order.get(b.slot) ?? 0));
    const stopped = station.snapshot().stopped;
    summary.passed = units.filter((u) => u.outcome === 'passed').length;
    summary.failed = units.filter((u) => u.outcome === 'failed').length;
    summary.cancelled = units.filter((u) => u.outcome === 'cancelled').length;
    summary.notStarted = summary.notStartedSlots.length;
    if (stopped) {
      problem = stopped.reason;
    } else {
      const closed = await station.execute('batch.close', {
        reason: `run ${interrupted ? 'interrupted' : 'finished'}: ${summary.passed} passed, ${summary.failed} failed, ${summary.cancelled} cancelled, ${summary.notStarted} not started`,
      });
      if (!closed.ok) problem = closed.message;
      const signed = station.lastCheckpoint;
      if (signed) {
        summary.checkpoint = {
          seq: signed.seq,
          hash: signed.hash,
          signature: signed.signature,
          publicKeyFp: signed.publicKeyFp,
        };
        printProgress(
          `trail signed by ${signed.publicKeyFp} at seq ${signed.seq} (anchor ${signed.seq}:${signed.hash})`,
        );
      }
    }
    printProgress(
      `${summary.passed} passed, ${summary.failed} failed, ${summary.cancelled} cancelled, ${summary.notStarted} not started`,
    );
    if (problem) throw new CliError(problem);
    if (interrupted)
      throw new CliError(
        `interrupted: ${summary.cancelled} units cancelled, ${summary.notStarted} not started`,
      );
    if (units.length === 0) throw new CliError('no unit was provisioned: no slot had a board');
    if (summary.failed + summary.notStarted > 0) {
      const notStarted = summary.notStarted > 0 ? `, ${summary.notStarted} not started` : '';
      throw new CliError(
        `${summary.failed} of ${planned.length} units failed${notStarted}: see the summary for each unit's error and what to do`,
      );
    }
  } finally {
    summary.audit = station.auditWrites;
    if (options.json) printJson({ ...summary, ...(problem !== undefined && { problem }) });
    unsubscribe();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await station.close('the provision run ended');
    await log.close();
  }
}
