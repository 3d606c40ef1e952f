import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { AuditStore, AuditWriteError } from '../../audit';
import { BackendError, SecretBytes } from '../../backend';
import { decodeBase64Exact } from '../../../firmware-protocol';
import {
  auditJournal,
  openBatchContext,
  ProvisioningError,
  reconcileUnfinishedUnits,
  runBatch,
  type BatchContext,
  type StepProgress,
} from '../../provisioning';
import { openStationLog, type StationLog } from '../../logging';
import { EnvFileSecretStore } from '../../secrets';
import { parseFault, type FaultRule } from '../../../firmware-protocol/virtual-board';
import { parseFaultFlag, parseFaultFlags } from '../../sandbox';
import {
  auditMaxPageCountFromEnv,
  crashingJournals,
  crashPointFromEnv,
  startHeadlessStation,
  StationSetupError,
  TestHookError,
  type HeadlessStation,
} from '../../station-runtime';
import {
  describeLoadFailure,
  effectiveConfig,
  loadStationConfig,
  secretReferences,
} from '../../../station-config';
import { CliError, printJson, printProgress } from '../cli-output';
import { positiveInteger } from './board';

interface ProvisionOptions {
  config?: string;
  batch: string;
  operator: string;
  recipe?: string;
  ports?: string[];
  sim?: number;
  count?: number;
  json?: boolean;
  data?: string;
  secretsDir?: string;
  simFault: Array<{ board?: number; rule: FaultRule }>;
  sandboxFault: string[];
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

function progressLine(progress: StepProgress): string {
  const took = progress.durationMs === undefined ? '' : ` (${progress.durationMs} ms)`;
  const why = progress.error ? `: ${progress.error.code}: ${progress.error.operatorMessage}` : '';
  return `${progress.slot} ${progress.step} ${progress.status}${took}${why}`;
}

export function registerProvisionCommand(program: Command): void {
  program
    .command('provision')
    .description('provision a batch headless: every slot at once, recorded in the audit trail')
    .option('--config <file>', 'station config (default: $STATION_CONFIG, else the sandbox config)')
    .requiredOption('--batch <name>', 'batch name, as supervisors will look it up')
    .requiredOption('--operator <name>', 'who runs the batch; recorded on every event')
    .option('--recipe <id>', 'recipe id (default: the only recipe in the config)')
    .option('--ports <p1,p2>', 'serial ports to provision, one slot each', portList)
    .option('--sim <n>', 'start N virtual boards (sandbox configs) and provision them', positiveInteger)
    .option('--count <k>', 'provision at most K units', positiveInteger)
    .option('--data <dir>', 'keep the audit database, virtual boards and sandbox data here')
    .option('--secrets-dir <dir>', 'secrets folder for the headless secret store')
    .option('--json', 'print one JSON summary on stdout')
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
    .action(async (options: ProvisionOptions) => {
      // station.mjs sets process.exitCode from runStationCli's result, so a failed batch must throw to exit 1.
      await provisionCommand(options);
    });
}

async function provisionCommand(options: ProvisionOptions): Promise<void> {
  if (options.ports && options.sim !== undefined)
    throw new CliError('give either --ports or --sim, not both', 2);
  const loaded = loadStationConfig(options.config);
  if (!loaded.ok) throw new CliError(describeLoadFailure(loaded).join('\n'));
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
      2,
    );
  }

  let crashPoint;
  let maxPageCount;
  try {
    crashPoint = crashPointFromEnv();
    maxPageCount = auditMaxPageCountFromEnv();
  } catch (error) {
    if (error instanceof TestHookError) throw new CliError(error.message, 2);
    throw error;
  }
  const crashing = crashPoint && crashingJournals(crashPoint);

  const secrets = new EnvFileSecretStore(options.secretsDir ? { dir: options.secretsDir } : {});
  const log: StationLog = openStationLog({
    dir: options.data !== undefined ? join(options.data, 'logs') : loaded.paths.logDir,
    stationId: config.station.id,
  });
  const logger = log.logger.child({ operator: options.operator, batchName: options.batch });
  let station: HeadlessStation;
  try {
    station = await startHeadlessStation({
      config,
      paths: loaded.paths,
      secrets,
      backendLogger: (entry) => logger.info(entry, 'backend request'),
      ...(options.data !== undefined && { dataDir: options.data }),
      ...(options.sim !== undefined && { sim: options.sim }),
      ...(options.ports !== undefined && { ports: options.ports }),
      ...(options.simFault.length > 0 && { simFaults: options.simFault }),
      ...(options.sandboxFault.length > 0 && { sandboxFaults: parseFaultFlags(options.sandboxFault) }),
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

  let store: AuditStore | undefined;
  let batch: BatchContext | undefined;
  const interrupt = new AbortController();
  const onSignal = () => {
    printProgress('interrupted: finishing the steps in progress, then stopping');
    interrupt.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    store = AuditStore.open(station.databaseFile, {
      stationId: config.station.id,
      ...(maxPageCount !== undefined && { maxPageCount }),
    });
    const audit = store;

    // Units a crash left unfinished are settled before any new unit starts.
    const reconciled = await reconcileUnfinishedUnits({
      store: audit,
      client: station.client,
      operator: options.operator,
      ports: station.slots.map((slot) => slot.port),
      baudRate: config.slots.baudRate,
      closeAbandonedBatches: true,
    });
    for (const line of reconciled) {
      logger.warn({ event: 'unit.reconciled', ...line });
      printProgress(`reconciled unit ${line.unitId}: ${line.resolution} (${line.reason})`);
    }

    const fingerprints: Record<string, string | null> = {};
    for (const name of secretReferences(config))
      fingerprints[name] = (await secrets.get(name))?.fingerprint ?? null;
    const effective = effectiveConfig(config, fingerprints);
    const batchId = randomUUID();
    audit.append({
      kind: 'config.recorded',
      operator: options.operator,
      batchId,
      details: {
        configSha256: effective.sha256,
        environment: config.environment,
        recipeIds: config.recipes.map((r) => r.id),
        secretFingerprints: effective.secrets,
        configJson: effective.canonicalJson,
      },
    });
    audit.append({
      kind: 'batch.opened',
      operator: options.operator,
      batchId,
      details: {
        name: options.batch,
        recipeId: recipe.id,
        configSha256: effective.sha256,
        plannedUnits: Math.min(options.count ?? station.slots.length, station.slots.length),
      },
    });
    logger.info({ event: 'batch.opened', batchId, recipeId: recipe.id, configSha256: effective.sha256 });
    if (config.environment === 'sandbox') {
      printProgress(
        'SANDBOX station: a local Infuse-compatible backend and virtual boards; nothing here reaches the Infuse cloud',
      );
    }
    printProgress(
      `batch "${options.batch}" (${batchId}) opened with recipe ${recipe.id}; audit trail ${station.databaseFile}`,
    );

    try {
      batch = await openBatchContext({
        client: station.client,
        recipe,
        station: config.station,
        concurrency: config.backend.concurrency,
        networkKeyFromStore: async (name) => {
          const stored = await secrets.get(name);
          if (!stored) return undefined;
          const bytes = stored.use((text) => decodeBase64Exact(text.toString('utf8').trim(), 32));
          if (!bytes) {
            throw new CliError(
              `the secret "${name}" is not the base64 of a 32-byte network key: store it again`,
            );
          }
          const key = SecretBytes.fromBytes(bytes, name);
          bytes.fill(0);
          return key;
        },
      });
    } catch (error) {
      const message =
        error instanceof BackendError || error instanceof ProvisioningError
          ? error.operatorMessage
          : error instanceof Error
            ? error.message
            : String(error);
      audit.append({
        kind: 'batch.closed',
        operator: options.operator,
        batchId,
        details: { reason: `could not open: ${message}` },
      });
      throw new CliError(`could not prepare the batch: ${message}`);
    }

    const result = await runBatch({
      batch,
      slots: station.slots,
      maxConcurrent: config.slots.maxConcurrent,
      ...(options.count !== undefined && { count: options.count }),
      journalFor: (slot) => {
        const journal = auditJournal({
          store: audit,
          batchId,
          operator: options.operator,
          slotNumber: station.slots.indexOf(slot) + 1,
        });
        // Test-only (STATION_TEST_HOOKS=1): SIGKILL at a chosen journal boundary.
        return crashing ? crashing(journal) : journal;
      },
      link: { baudRate: config.slots.baudRate },
      signal: interrupt.signal,
      onProgress: (progress) => {
        (progress.status === 'failed' ? logger.warn.bind(logger) : logger.info.bind(logger))({
          event: 'step',
          ...progress,
        });
        printProgress(progressLine(progress));
      },
    });
    const passed = result.units.filter((u) => u.outcome === 'passed').length;
    const failed = result.units.length - passed;
    if (!result.stoppedBy) {
      audit.append({
        kind: 'batch.closed',
        operator: options.operator,
        batchId,
        details: { reason: `run finished: ${passed} passed, ${failed} failed` },
      });
    }
    const summary = {
      batch: options.batch,
      batchId,
      db: station.databaseFile,
      passed,
      failed,
      units: result.units.map((u) => ({
        mcuId: u.mcuId,
        deviceId: u.deviceId,
        outcome: u.outcome,
        durationMs: u.durationMs,
        ...(u.error && {
          failedStep: u.failedStep,
          errorCode: u.error.code,
          message: u.error.operatorMessage,
        }),
      })),
    };
    logger.info({ event: 'batch.finished', batchId, passed, failed, stoppedBy: result.stoppedBy ?? null });
    if (options.json) printJson(summary);
    printProgress(`${passed} passed, ${failed} failed`);
    if (result.stoppedBy) throw new CliError(result.stoppedBy);
    if (passed === 0 && failed === 0) throw new CliError('no unit was provisioned');
    if (failed > 0)
      throw new CliError(
        `${failed} of ${failed + passed} units failed: see the summary for each unit's error and what to do`,
      );
  } catch (error) {
    if (error instanceof AuditWriteError) throw new CliError(error.operatorMessage);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    batch?.close();
    store?.close();
    await station.close();
    await log.close();
  }
}
