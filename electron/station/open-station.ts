/**
 * Puts a station together and opens it: environment (backend, sandbox, virtual boards), the audit trail, the
 * accounts, reconciliation of what a crash left unfinished (before any unit starts), the batch that was open, the
 * slots. The same function serves every host; hosts differ only in the options they pass.
 */
import type { Logger } from 'pino';
import { startCentralShipping, type CentralShipping } from './central-shipping';
import { openCentralRecord, type OpenedCentralRecord } from './central-record';
import { AuditStore, loadStationSigner, type CheckpointAnchor } from '../audit';
import { AccountStore, type DemoAccount } from '../people';
import { openReviewDb } from '../review';
import { reconcileUnfinishedUnits, type UnitJournal } from '../provisioning';
import { STATION_KEY_SECRET, type SecretStore } from '../secrets';
import type { PortInfo } from '../serial';
import type { Role, Snapshot, StationEvent } from '../station-api';
import type { StationConfig, StationPaths } from '../../station-config';
import { BatchRuntime, recipeRequiresScan } from './batch-runtime';
import { startEnvironment, StationSetupError, type StationEnvironmentOptions } from './environment';
import { guardTrail, TrailRefusedError, writeAnchor } from './trail-guard';
import { EventBus } from './event-bus';
import { Sessions } from './sessions';
import { Slots } from './slots';
import type { LastVerification } from './review-commands';
import { newRunId, Station } from './station';
import { SOFTWARE_VERSION } from './version';

export interface OpenStationOptions extends Omit<StationEnvironmentOptions, 'backendLogger'> {
  config: StationConfig;
  paths: StationPaths;
  secrets: SecretStore;
  /** A headless host names the person running it; they are logged in from the start, recorded as host-named. */
  hostOperator?: { operatorId: string; roles: Role[] };
  /** Start units by themselves when a board is ready (default). One-shot runs start slots themselves. */
  autoStart?: boolean;
  /** Multiplies every serial timeout (slow hubs). */
  timeoutScale?: number;
  /** Caps the audit file (test-only disk-full hook). */
  maxPageCount?: number;
  /** Wraps each unit's journal (test-only crash hooks). */
  wrapJournal?: (journal: UnitJournal) => UnitJournal;
  logger?: Logger;
  now?: () => Date;
  /** Lists USB serial adapters (default: the OS's list); for tests of hot-plug discovery. */
  listPorts?: () => Promise<PortInfo[]>;
  /** Ship the trail to this central database (instead of the config's `central.url`). */
  centralUrl?: string;
  /**
   * Be the central QA/supervisor host over this central database: QA's screens and reports read every station's
   * record there (read-only), the line is not run. The host keeps its own trail (logins, accounts) and signs its
   * exports with its own key.
   */
  centralReview?: string;
}

export class StationOpenError extends Error {
  override name = 'StationOpenError';
}

function initialSnapshot(
  config: StationConfig,
  runId: string,
  demoAccounts: DemoAccount[] | null,
  needsFirstAdmin: boolean,
): Snapshot {
  return {
    seq: 0,
    runId,
    station: {
      id: config.station.id,
      name: config.station.name,
      line: config.station.line ?? null,
      site: config.station.site ?? null,
      environment: config.environment,
      startMode: config.slots.start,
      softwareVersion: SOFTWARE_VERSION,
      demoAccounts: demoAccounts && demoAccounts.map((demo) => ({ ...demo, roles: [...demo.roles] })),
      needsFirstAdmin,
    },
    recipes: config.recipes.map((recipe) => ({
      id: recipe.id,
      name: recipe.name,
      product: recipe.product,
      requiresScan: recipeRequiresScan(config, recipe),
    })),
    session: null,
    batch: null,
    slots: [],
    recentUnits: [],
    lastScan: null,
    stopped: null,
    central: null,
    centralRecord: null,
  };
}

/** What the station log keeps of the event stream: the facts a technician looks for, never a secret. */
function logEvent(logger: Logger, event: StationEvent): void {
  switch (event.kind) {
    case 'step.finished':
      (event.outcome === 'failed' ? logger.warn : logger.info).call(logger, {
        event: 'step',
        slot: event.slot,
        unitId: event.unitId,
        step: event.step,
        status: event.outcome,
        durationMs: event.durationMs,
        ...(event.error && { error: event.error }),
      });
      return;
    case 'unit.finished':
    case 'batch.opened':
    case 'batch.closed':
    case 'unit.reconciled':
    case 'scan.refused':
    case 'station.stopped':
    case 'port.added':
    case 'port.removed': {
      const { seq: _seq, ...fields } = event;
      logger.info({ ...fields, event: event.kind });
      return;
    }
    case 'session.changed':
      logger.info({ event: event.kind, reason: event.reason, operator: event.session?.operatorId ?? null });
      return;
    default:
      return;
  }
}

/**
 * The central QA host keeps a trail of its own (logins, accounts): a data folder whose trail holds batches is a
 * station's, and the QA host must not add to that station's record.
 */
function refuseStationRecord(databaseFile: string): void {
  const db = openReviewDb(databaseFile);
  try {
    const held = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM batches').get()?.n ?? 0;
    if (held > 0) {
      throw new StationSetupError(
        `${databaseFile} is a station's record (${held} batches): give the central QA host its own data folder (--data DIR, or a config of its own)`,
      );
    }
  } finally {
    db.close();
  }
}

export async function openStation(options: OpenStationOptions): Promise<Station> {
  const { config, logger } = options;
  const now = options.now ?? (() => new Date());
  // The central QA host runs no line: no boards, no ports.
  const { sim, ...withoutBoards } = options;
  const environment = await startEnvironment({
    ...(options.centralReview !== undefined
      ? { ...withoutBoards, ports: [] }
      : { ...withoutBoards, ...(sim !== undefined && { sim }) }),
    ...(logger && { backendLogger: (entry) => logger.info(entry, 'backend request') }),
  });
  let store: AuditStore | undefined;
  let sessions: Sessions | undefined;
  let openVerification: LastVerification | null = null;
  let central: CentralShipping | null = null;
  let centralRecord: OpenedCentralRecord | null = null;
  try {
    centralRecord = options.centralReview
      ? await openCentralRecord(options.centralReview, options.secrets, config.station.id)
      : null;
    // A key made just now may adopt an unsigned (older software's) trail; a key that already existed may not.
    const keyExisted = await options.secrets.has(STATION_KEY_SECRET);
    const signer = await loadStationSigner(options.secrets, { create: true });
    if (!signer) throw new StationSetupError('the station could not make its identity key');
    const registered = config.audit.expectedKeyFingerprint;
    if (registered !== undefined && registered !== signer.fingerprint) {
      throw new StationSetupError(
        `this station's identity key is ${signer.fingerprint}, not the registered ${registered} (audit.expectedKeyFingerprint): restore the station's key from its backup, or register the new key`,
      );
    }
    // Before anything is appended: a trail that does not verify stops the station here.
    try {
      const guarded = guardTrail(environment.databaseFile, signer, { mayAdopt: !keyExisted });
      openVerification = {
        at: now().toISOString(),
        scope: 'open',
        intact: true,
        events: guarded.verifiedEvents,
        firstBadSeq: null,
        message: `verified when the station opened: ${guarded.verifiedEvents} events since the last verified checkpoint`,
        by: null,
      };
    } catch (error) {
      if (error instanceof TrailRefusedError) {
        logger?.error({ event: 'audit.refused', file: environment.databaseFile, message: error.message });
        throw new StationSetupError(error.message);
      }
      throw error;
    }
    const anchors: { last: CheckpointAnchor | null } = { last: null };
    store = AuditStore.open(environment.databaseFile, {
      stationId: config.station.id,
      signer,
      checkpointEvery: config.audit.checkpointEvery,
      onCheckpoint: (anchor) => {
        anchors.last = anchor;
        writeAnchor(environment.databaseFile, anchor);
        // An anchor outside the file: the log keeps every checkpoint's head and signature.
        logger?.info({ event: 'audit.checkpoint', ...anchor });
      },
      ...(options.maxPageCount !== undefined && { maxPageCount: options.maxPageCount }),
    });
    if (centralRecord) refuseStationRecord(environment.databaseFile);
    store.recordIdentity();
    store.checkpoint('opened');
    const accounts = new AccountStore(store, { now });
    const demo = config.environment === 'sandbox' ? await accounts.seedDemoAccounts() : null;
    const runId = newRunId();
    const initial = initialSnapshot(config, runId, demo, accounts.count() === 0);
    if (centralRecord) {
      initial.centralRecord = {
        database: centralRecord.source.review.where,
        userCanWrite: centralRecord.canWrite,
      };
    }
    const bus = new EventBus({ initial });
    const unsubscribe = logger ? bus.subscribe((event) => logEvent(logger, event)) : () => undefined;

    // Units a crash left unfinished are settled before any new unit starts.
    const reconciled = await reconcileUnfinishedUnits({
      store,
      client: environment.client,
      operator: options.hostOperator?.operatorId ?? 'station',
      ports: environment.ports.map((port) => port.path),
      baudRate: config.slots.baudRate,
    });
    for (const line of reconciled) bus.publish({ kind: 'unit.reconciled', at: now().toISOString(), ...line });

    sessions = new Sessions({
      store,
      accounts,
      bus,
      idleLogoutMs: config.accounts.idleLogoutMinutes * 60_000,
      now,
    });
    const batch = new BatchRuntime({
      config,
      client: environment.client,
      store,
      secrets: options.secrets,
      bus,
      now,
    });
    await batch.resume();
    // The central QA host ships nothing: its own trail holds logins, not units.
    const centralUrl = centralRecord ? undefined : (options.centralUrl ?? config.central?.url);
    central = centralUrl
      ? await startCentralShipping({
          url: centralUrl,
          intervalMs: config.central?.intervalMs ?? 2000,
          secrets: options.secrets,
          databaseFile: environment.databaseFile,
          config,
          publicKey: signer.publicKey,
          bus,
          now,
          ...(logger && { logger }),
        })
      : null;
    const station: { current?: Station } = {};
    const slots = new Slots({
      config,
      env: environment,
      store,
      bus,
      batch,
      sessions,
      now,
      autoStart: options.autoStart ?? true,
      link: {
        baudRate: config.slots.baudRate,
        ...(options.timeoutScale !== undefined && { timeoutScale: options.timeoutScale }),
      },
      ...(options.wrapJournal && { wrapJournal: options.wrapJournal }),
      ...(options.listPorts && { listPorts: options.listPorts }),
      ...(centralRecord && { listPorts: () => Promise.resolve([]) }),
      halt: (reason) => station.current?.halt(reason),
    });
    station.current = new Station({
      runId,
      environment,
      store,
      accounts,
      bus,
      sessions,
      batch,
      slots,
      reconciled,
      firstAdminName: config.firstAdmin?.name ?? 'admin',
      openVerification,
      signer,
      anchors,
      sandbox: config.environment === 'sandbox',
      site: config.station.site ?? null,
      line: config.station.line ?? null,
      centralRecord: centralRecord?.source ?? null,
      ...(logger && { logger }),
      now,
      release: async () => {
        unsubscribe();
        await central?.stop();
        await centralRecord?.close();
      },
    });
    await slots.start();
    if (options.hostOperator) sessions.hostLogin(options.hostOperator.operatorId, options.hostOperator.roles);
    return station.current;
  } catch (error) {
    await central?.stop();
    await centralRecord?.close();
    sessions?.close();
    store?.close();
    await environment.close();
    throw error;
  }
}
