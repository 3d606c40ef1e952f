/**
 * The station core: a long-lived object every host drives through the contract (execute a command, read the
 * snapshot, follow the events). It owns the audit store, the backend client, the slots, the current batch and who
 * is logged in. Every command is validated by the contract and its roles checked here, never only in a host.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  AuditWriteError,
  verifyAuditChain,
  type AuditStore,
  type CheckpointAnchor,
  type TrailSigner,
} from '../audit';
import type { AccountStore } from '../people';
import { openReviewDb, type ReviewDb } from '../review';
import type { Reconciliation } from '../provisioning';
import {
  COMMANDS,
  isCommandName,
  parseCommandInput,
  type CommandFailure,
  type CommandName,
  type CommandResult,
  type Session,
  type Snapshot,
  type StationEvent,
} from '../station-api';
import type { BatchRuntime } from './batch-runtime';
import { HANDLERS, type HandlerContext } from './command-handlers';
import type { StationEnvironment } from './environment';
import type { EventBus } from './event-bus';
import type { Sessions } from './sessions';
import { ReportCommands, reportsDirFor, trailBatchSource, type BatchSource } from './report-commands';
import { CENTRAL_RECORD_HANDLERS, HOST } from './central-record-commands';
import type { CentralReview } from '../central-review';
import type { StationVerdict } from '../central';
import type { LastVerification } from './review-commands';
import type { Slots } from './slots';
import type { StationHandle } from './station-handle';

/** Commands that only read: they never wait behind a command that changes something. */
const READ_ONLY: ReadonlySet<CommandName> = new Set([
  'station.status',
  'ports.list',
  'unit.history',
  'audit.verify',
  'audit.status',
  'units.query',
  'units.facets',
  'unit.detail',
  'batch.dashboard',
  'batch.report',
  // Writes files, not the trail: an export of a big batch must not hold up scans and starts behind it.
  'batch.export',
  'accounts.list',
]);

/** What the central QA host reads the central record through (opened by openStation's `centralReview`). */
export interface CentralRecordSource {
  review: CentralReview;
  batches: BatchSource;
  verify: () => Promise<StationVerdict[]>;
}

export interface StationParts {
  runId: string;
  environment: StationEnvironment;
  store: AuditStore;
  accounts: AccountStore;
  bus: EventBus;
  sessions: Sessions;
  batch: BatchRuntime;
  slots: Slots;
  reconciled: Reconciliation[];
  firstAdminName: string;
  sandbox: boolean;
  /** The station's identity key (public side and signing only). */
  signer: TrailSigner;
  /** The latest checkpoint written: an anchor for summaries and reports. */
  anchors: { last: CheckpointAnchor | null };
  logger?: Logger;
  now: () => Date;
  /** How the trail verified when the station opened it (QA's chain status until someone runs Verify now). */
  openVerification: LastVerification | null;
  /** The station's site and line (config), for QA's filters. */
  site: string | null;
  line: string | null;
  /** The central QA host: review and reports read the central record (read-only). */
  centralRecord: CentralRecordSource | null;
  /** Releases what openStation acquired beyond the parts (the log subscription). */
  release: () => Promise<void>;
}

export class Station implements StationHandle {
  readonly runId: string;
  /** Units a crash had left unfinished, and how they were settled when the station opened. */
  readonly reconciled: Reconciliation[];
  private readonly handlers: HandlerContext;
  private queue: Promise<unknown> = Promise.resolve();
  private stoppedReason: string | null = null;
  private closing: Promise<void> | undefined;
  private reviewDb: ReviewDb | undefined;

  constructor(private readonly parts: StationParts) {
    this.runId = parts.runId;
    this.reconciled = parts.reconciled;
    this.handlers = {
      store: parts.store,
      accounts: parts.accounts,
      sessions: parts.sessions,
      batch: parts.batch,
      slots: parts.slots,
      snapshot: () => parts.bus.snapshot,
      accountsChanged: () =>
        parts.bus.publish({
          kind: 'accounts.changed',
          at: parts.now().toISOString(),
          needsFirstAdmin: parts.accounts.count() === 0,
        }),
      firstAdminName: parts.firstAdminName,
      // The station checks its trail as `station audit verify` does: against its own key, and its last anchor.
      verifyTrail: () =>
        verifyAuditChain(parts.store.file, {
          expectKey: { publicKey: parts.signer.publicKey },
          anchors: parts.anchors.last ? [parts.anchors.last] : [],
        }),
      reviewDb: () => (this.reviewDb ??= openReviewDb(parts.store.file)),
      self: { id: parts.store.stationId, site: parts.site, line: parts.line },
      verification: { last: parts.openVerification },
      stationKeyFingerprint: parts.signer.fingerprint,
      lastCheckpoint: () =>
        parts.anchors.last ? { seq: parts.anchors.last.seq, hash: parts.anchors.last.hash } : null,
      now: parts.now,
      reports: new ReportCommands({
        source: trailBatchSource(parts.store),
        signer: parts.signer,
        now: parts.now,
        reportsDir: reportsDirFor(parts.store.file),
      }),
      central: parts.centralRecord
        ? {
            review: parts.centralRecord.review,
            verify: parts.centralRecord.verify,
            verification: { last: null },
            reports: new ReportCommands({
              source: parts.centralRecord.batches,
              signer: parts.signer,
              now: parts.now,
              reportsDir: reportsDirFor(parts.store.file),
            }),
          }
        : null,
    };
  }

  get environment(): StationEnvironment {
    return this.parts.environment;
  }

  get databaseFile(): string {
    return this.parts.environment.databaseFile;
  }

  /** The station's public identity: what a customer or a central system registers. */
  get identity(): { publicKey: string; fingerprint: string } {
    return {
      publicKey: this.parts.signer.publicKey.toString('base64'),
      fingerprint: this.parts.signer.fingerprint,
    };
  }

  /** Audit events and commits (one fsync each) this station wrote since it started. */
  get auditWrites(): { events: number; commits: number } {
    return this.parts.store.writes;
  }

  /** The last checkpoint the station signed (seq, head hash, signature). */
  get lastCheckpoint(): CheckpointAnchor | null {
    return this.parts.anchors.last;
  }

  snapshot(): Snapshot {
    return this.parts.bus.snapshot;
  }

  eventsAfter(seq: number): StationEvent[] | null {
    return this.parts.bus.eventsAfter(seq);
  }

  subscribe(listener: (event: StationEvent) => void): () => void {
    return this.parts.bus.subscribe(listener);
  }

  async executeUnchecked(
    name: unknown,
    input: unknown,
  ): Promise<CommandResult<CommandName> | CommandFailure> {
    if (!isCommandName(name)) {
      return {
        ok: false,
        code: 'UNKNOWN_COMMAND',
        message: `${typeof name === 'string' ? `"${name.slice(0, 64)}"` : 'that'} is not a station command.`,
      };
    }
    return this.execute(name, input);
  }

  execute<N extends CommandName>(name: N, input: unknown): Promise<CommandResult<N>> {
    if (READ_ONLY.has(name)) return this.run(name, input);
    // Commands that change something run one at a time: two batch.open calls cannot both pass the checks.
    const result = this.queue.then(() => this.run(name, input));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async run<N extends CommandName>(name: N, input: unknown): Promise<CommandResult<N>> {
    const spec = COMMANDS[name];
    if (this.stoppedReason !== null && name !== 'station.status') {
      return { ok: false, code: 'STATION_STOPPED', message: this.stoppedReason };
    }
    const parsed = parseCommandInput(name, input);
    if (!parsed.ok) return parsed;
    if ('sandboxOnly' in spec && spec.sandboxOnly && !this.parts.sandbox) {
      return { ok: false, code: 'SANDBOX_ONLY', message: `${name} works on a sandbox station only.` };
    }
    try {
      const { sessions } = this.parts;
      sessions.expireIfIdle();
      const denied = sessions.check(name, spec.access);
      if (denied) return denied;
      const session = sessions.current;
      // The central QA host answers QA's commands from the central record, and refuses what would write there.
      const central = this.parts.centralRecord ? CENTRAL_RECORD_HANDLERS[name] : HOST;
      const handler = (central === HOST ? HANDLERS[name] : central) as (
        context: HandlerContext,
        input: unknown,
        session: Session | null,
      ) => Promise<CommandResult<N>> | CommandResult<N>;
      const result = await handler(this.handlers, parsed.input, session);
      if (session && sessions.current?.operatorId === session.operatorId) sessions.touch();
      return result;
    } catch (error) {
      if (error instanceof AuditWriteError) {
        this.halt(error.operatorMessage);
        return { ok: false, code: 'STATION_STOPPED', message: error.operatorMessage };
      }
      this.parts.logger?.error({ event: 'command.failed', command: name, message: messageOf(error) });
      return {
        ok: false,
        code: 'INTERNAL_ERROR',
        message: `The station hit an internal error running ${name}: report it to engineering with the station log.`,
      };
    }
  }

  /**
   * Stops provisioning for good (the audit trail cannot be written, or a unit ended unaccountably): no unit
   * starts again, running ones are cancelled, and every command but station.status is refused with `reason`.
   */
  halt(reason: string): void {
    if (this.stoppedReason !== null) return;
    this.stoppedReason = reason;
    this.parts.logger?.error({ event: 'station.halted', reason });
    this.parts.bus.publish({ kind: 'station.stopped', at: this.parts.now().toISOString(), reason });
    void this.parts.slots.stop();
  }

  /** Resolves when no unit is running. */
  settled(): Promise<void> {
    return this.parts.slots.settled();
  }

  /**
   * Shuts the station down: running units end their current step and are recorded as cancelled, the batch stays
   * open for the next start, every resource is released. Safe to call twice.
   */
  close(reason = 'the station was shut down'): Promise<void> {
    this.closing ??= this.shutDown(reason);
    return this.closing;
  }

  private async shutDown(reason: string): Promise<void> {
    const { slots, sessions, batch, store, bus, environment, now } = this.parts;
    await slots.stop();
    sessions.close();
    if (this.stoppedReason === null) {
      this.stoppedReason = reason;
      bus.publish({ kind: 'station.stopped', at: now().toISOString(), reason });
    }
    batch.release();
    await this.parts.release();
    // A clean shutdown is signed: whatever is appended after it without the station's next signature is forged.
    if (!store.failed) {
      try {
        store.checkpoint('shutdown');
      } catch {
        // A full disk now: the next start verifies from the last checkpoint that did reach the disk.
      }
    }
    this.reviewDb?.close();
    store.close();
    await environment.close();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const newRunId = (): string => randomUUID();
