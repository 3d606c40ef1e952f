/**
 * The station's audit trail: one SQLite file, an append-only hash-chained `events` table and the batch/unit views
 * derived from it. Synchronous on purpose: when `append` returns, the event is on disk (WAL + synchronous=FULL),
 * and when it throws, nothing was recorded and the caller must not carry on as if it had been.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AuditEventRejectedError, AuditOpenError, AuditWriteError, sqliteCodeOf } from './errors';
import {
  auditEventInputSchema,
  auditTimestamp,
  type AuditEvent,
  type AuditEventInput,
  type ParsedAuditEventInput,
  type CheckpointReason,
} from './events';
import { canonicalJson, eventHash, GENESIS_HASH, type EventRowFields } from './hash-chain';
import { Projections, type BatchRecord, type UnitRecord } from './projections';
import { checkpointMessage, type TrailSigner } from './signing';
import { MIGRATIONS, SCHEMA_VERSION } from './schema';
import { findSecretLikeKey, secretKeyRefusal } from './secret-keys';

export interface AuditStoreOptions {
  /** Written into every event, and checked against the file: one station, one file. */
  stationId: string;
  /** How long a write waits for another connection's lock before failing (default 5 s). */
  busyTimeoutMs?: number;
  /**
   * Cap on the file size in database pages (`PRAGMA max_page_count`). Appends beyond it fail exactly as on a full
   * disk, which is how the tests prove the disk-full path for real.
   */
  maxPageCount?: number;
  /** Clock for events that carry no `at` (tests pin it). */
  now?: () => Date;
  /** Signs checkpoints (the station's identity key). Without one the trail is chained but not signed. */
  signer?: TrailSigner;
  /** A checkpoint after this many events without one (default 100). */
  checkpointEvery?: number;
  /** Told about every checkpoint once it is on disk: an anchor for logs, summaries and exports. */
  onCheckpoint?: (anchor: CheckpointAnchor) => void;
}

/** A checkpoint as an anchor outside the file: the chain head (its seq and hash) and the signature there. */
export interface CheckpointAnchor {
  seq: number;
  hash: string;
  signature: string;
  reason: CheckpointReason;
  publicKeyFp: string;
}

export interface StoredEvent extends AuditEvent {
  /** Seqs of later events that supersede this one (corrections). */
  supersededBy: number[];
}

export interface UnitHistory {
  unit: UnitRecord | null;
  /** Every event about the unit, in order, across all its attempts, corrections included. */
  events: StoredEvent[];
}

export interface BatchSummary {
  batch: BatchRecord;
  units: number;
  inProgress: number;
  attention: number;
  passed: number;
  failed: number;
  cancelled: number;
  voided: number;
  /** Units that passed on their first attempt. */
  firstPass: number;
  /** passed / (passed + failed); null until a unit has finished. Voided, cancelled and unfinished units do not count. */
  yield: number | null;
}

/**
 * What a side-table change sees inside its transaction: the connection, and an append that is part of the same
 * transaction, so the table and the event that records its change commit together or not at all.
 */
export interface SideTableTransaction {
  db: Database.Database;
  append(input: AuditEventInput): AuditEvent;
}

/** The pragma values that make the trail durable; `open` refuses a connection that does not read back these. */
export interface DurabilityPragmas {
  journalMode: unknown;
  synchronous: unknown;
  foreignKeys: unknown;
}

export function assertDurablePragmas(file: string, actual: DurabilityPragmas): void {
  const problems: string[] = [];
  if (String(actual.journalMode).toLowerCase() !== 'wal')
    problems.push(`journal_mode is ${actual.journalMode}, not wal`);
  // better-sqlite3 quietly runs WAL at NORMAL, which can lose the last commits on power loss.
  if (actual.synchronous !== 2) problems.push(`synchronous is ${actual.synchronous}, not FULL (2)`);
  if (actual.foreignKeys !== 1) problems.push(`foreign_keys is ${actual.foreignKeys}, not ON (1)`);
  if (problems.length > 0) {
    throw new AuditOpenError(
      'AUDIT_OPEN_FAILED',
      `refusing to use the audit trail ${file}: ${problems.join('; ')}; events could be lost on power failure`,
    );
  }
}

export const EVENT_COLUMNS =
  'seq, event_id, at, station_id, operator, batch_id, unit_id, slot, step, kind, outcome, details, supersedes, prev_hash, hash';

/** An events row as SQLite returns it (details still text). */
export interface EventRow extends Omit<EventRowFields, 'details'> {
  details: string;
  hash: string;
}

export function rowToEvent(row: EventRow): AuditEvent {
  return {
    seq: row.seq,
    eventId: row.event_id,
    at: row.at,
    stationId: row.station_id,
    operator: row.operator,
    batchId: row.batch_id,
    unitId: row.unit_id,
    slot: row.slot,
    step: row.step,
    kind: row.kind,
    outcome: row.outcome,
    details: JSON.parse(row.details) as Record<string, unknown>,
    supersedes: row.supersedes,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

interface QueuedAppend {
  inputs: ParsedAuditEventInput[];
  settle: (outcome: QueuedAppendOutcome) => void;
}

/** What became of events queued with `appendSoon`: stored (as the trail holds them), or kept out by `error`. */
export type QueuedAppendOutcome =
  { events: AuditEvent[]; error?: undefined } | { events?: undefined; error: unknown };

export class AuditStore {
  private failure: unknown = null;
  private closed = false;
  private readonly projections: Projections;
  private readonly now: () => Date;
  private readonly lastRow: Database.Statement<[], { seq: number; hash: string }>;
  private readonly insertEvent: Database.Statement;
  private readonly signer: TrailSigner | undefined;
  private readonly checkpointEvery: number;
  private lastCheckpointSeq: number;
  private pendingAnchors: CheckpointAnchor[] = [];
  /** Events waiting for the end of this turn of the event loop (group commit, see `appendSoon`). */
  private queued: QueuedAppend[] = [];
  private flushTimer: NodeJS.Immediate | null = null;
  private written = { events: 0, commits: 0 };
  /** Events the transaction being committed has appended (counted into `written` once it commits). */
  private appendedInTransaction = 0;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    readonly stationId: string,
    private readonly options: AuditStoreOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.signer = options.signer;
    this.checkpointEvery = Math.max(1, Math.trunc(options.checkpointEvery ?? 100));
    this.lastCheckpointSeq =
      db
        .prepare<[], { seq: number | null }>("SELECT max(seq) AS seq FROM events WHERE kind = 'checkpoint'")
        .get()?.seq ?? 0;
    this.projections = new Projections(db);
    this.lastRow = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
    this.insertEvent = db.prepare(
      `INSERT INTO events (${EVENT_COLUMNS}) VALUES (@seq, @event_id, @at, @station_id, @operator, @batch_id,
        @unit_id, @slot, @step, @kind, @outcome, @details, @supersedes, @prev_hash, @hash)`,
    );
  }

  /** Opens (creating and migrating when needed) the station's audit file. Throws AuditOpenError when unusable. */
  static open(file: string, options: AuditStoreOptions): AuditStore {
    if (!/^[\x21-\x7e]{1,64}$/.test(options.stationId)) {
      throw new AuditOpenError(
        'AUDIT_OPEN_FAILED',
        `invalid station id ${JSON.stringify(options.stationId)}`,
      );
    }
    const existed = existsSync(file);
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (error) {
      throw new AuditOpenError(
        'AUDIT_OPEN_FAILED',
        `cannot open the audit trail ${file}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      assertDurablePragmas(file, {
        journalMode: db.pragma('journal_mode', { simple: true }),
        synchronous: db.pragma('synchronous', { simple: true }),
        foreignKeys: db.pragma('foreign_keys', { simple: true }),
      });
      migrate(db, file, existed);
      claimStation(db, file, options.stationId);
      if (options.maxPageCount !== undefined)
        db.pragma(`max_page_count = ${Math.trunc(options.maxPageCount)}`);
      return new AuditStore(db, file, options.stationId, options);
    } catch (error) {
      db.close();
      if (error instanceof AuditOpenError) throw error;
      throw new AuditOpenError(
        'AUDIT_OPEN_FAILED',
        `cannot open the audit trail ${file}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * Events and transactions committed through this connection since it opened: with synchronous=FULL each commit
   * is one fsync, what durability costs (`station provision --json` reports them; the floor bench reads them).
   */
  get writes(): { events: number; commits: number } {
    return { ...this.written };
  }

  /** True once a write has failed: every later append throws AuditWriteError until the store is reopened. */
  get failed(): boolean {
    return this.failure !== null;
  }

  /**
   * Records one event and updates the views in the same transaction; returns the event as stored. Throws
   * AuditEventRejectedError for a bad event (nothing written, store still usable) and AuditWriteError when the
   * file cannot be written (nothing written, store refuses further appends).
   */
  append(input: AuditEventInput): AuditEvent {
    const parsed = parseInput(input);
    return this.write(() => this.appendInTransaction(parsed));
  }

  /**
   * Records several events in one transaction, in order: all of them or none (one commit, one fsync). For entries
   * that are one fact in several events, such as a step's board log and its step.finished.
   */
  appendAll(inputs: AuditEventInput[]): AuditEvent[] {
    const parsed = inputs.map(parseInput);
    return this.write(() => parsed.map((input) => this.appendInTransaction(input)));
  }

  /**
   * Group commit: records the events at the end of this turn of the event loop, in one transaction with every
   * other event queued in the turn, so slots working side by side share one fsync instead of paying one each. A
   * durable `append` (or any read) meanwhile commits the queue first, in order, in its own transaction.
   *
   * For events whose loss in a crash leaves nothing the trail cannot account for, such as a unit workflow's step
   * boundaries: a crash before the commit looks like a crash just before the event. Anything that must be on
   * disk before a side effect (an intent, a unit's end) uses `append`. The events are validated now (a bad one
   * throws AuditEventRejectedError here); `settle` runs once, after the commit, with the stored events, or with
   * the error that kept them out (AuditWriteError: the store now refuses appends).
   */
  appendSoon(inputs: AuditEventInput[], settle: (outcome: QueuedAppendOutcome) => void): void {
    const parsed = inputs.map(parseInput);
    if (this.closed) throw new Error('the audit store is closed');
    if (this.failure !== null) throw new AuditWriteError(this.failure);
    this.queued.push({ inputs: parsed, settle });
    this.flushTimer ??= setImmediate(() => this.flushQueued());
  }

  /** Commits what `appendSoon` queued, now. Failures reach the queued callers, not this one. */
  flushQueued(): void {
    if (this.queued.length === 0) return;
    if (this.closed || this.failure !== null) {
      const error = this.closed ? new Error('the audit store is closed') : new AuditWriteError(this.failure);
      for (const queued of this.takeQueued()) queued.settle({ error });
      return;
    }
    try {
      this.write(() => undefined);
    } catch {
      // Delivered to each queued caller by `write`.
    }
  }

  private takeQueued(): QueuedAppend[] {
    const queued = this.queued;
    this.queued = [];
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = null;
    return queued;
  }

  private announceCheckpoints(): void {
    const anchors = this.pendingAnchors;
    this.pendingAnchors = [];
    for (const anchor of anchors) {
      try {
        this.options.onCheckpoint?.(anchor);
      } catch {
        // An anchor that cannot be logged does not undo the checkpoint on disk.
      }
    }
  }

  /**
   * Changes a station-owned side table (accounts) and records the change, in one immediate transaction. Events are
   * validated before anything is written; the same failure rules as `append` apply (a full disk stops the store).
   */
  changeSideTable<T>(work: (tx: SideTableTransaction) => T): T {
    return this.write(() =>
      work({ db: this.db, append: (input) => this.appendInTransaction(parseInput(input)) }),
    );
  }

  /** Reads a station-owned side table (accounts). */
  readSideTable<T>(read: (db: Database.Database) => T): T {
    if (this.closed) throw new Error('the audit store is closed');
    return read(this.reader);
  }

  /** The connection for a read: every event appended before it is committed first, so the read sees it. */
  private get reader(): Database.Database {
    this.flushQueued();
    return this.db;
  }

  /** The views for a read, likewise. */
  private get views(): Projections {
    this.flushQueued();
    return this.projections;
  }

  /**
   * Signs the chain as it stands now (batch closed, station opened or shutting down): a checkpoint event whose
   * signature covers every event before it. Nothing happens without a signer. Returns the anchor.
   */
  checkpoint(reason: CheckpointReason): CheckpointAnchor | null {
    if (!this.signer) return null;
    return this.write(() => this.appendCheckpoint(reason), false);
  }

  /** Records the station's public key, unless the trail's latest identity already is this key. */
  recordIdentity(): void {
    const signer = this.signer;
    if (!signer) return;
    const last = this.db
      .prepare<[], { details: string }>(
        "SELECT details FROM events WHERE kind = 'station.identity' ORDER BY seq DESC LIMIT 1",
      )
      .get();
    const known = last ? (JSON.parse(last.details) as { publicKeyFp?: unknown }).publicKeyFp : undefined;
    if (known === signer.fingerprint) return;
    this.append({
      kind: 'station.identity',
      details: {
        algorithm: 'ed25519',
        stationPublicKey: signer.publicKey.toString('base64'),
        publicKeyFp: signer.fingerprint,
      },
    });
  }

  private appendCheckpoint(reason: CheckpointReason): CheckpointAnchor | null {
    const signer = this.signer;
    const head = this.lastRow.get();
    if (!signer || !head) return null;
    const signature = signer.sign(checkpointMessage(this.stationId, head.seq, head.hash)).toString('base64');
    const event = this.appendInTransaction(
      parseInput({ kind: 'checkpoint', details: { reason, publicKeyFp: signer.fingerprint, signature } }),
    );
    this.lastCheckpointSeq = event.seq;
    const anchor = { seq: event.seq, hash: event.hash, signature, reason, publicKeyFp: signer.fingerprint };
    this.pendingAnchors.push(anchor);
    return anchor;
  }

  private write<T>(work: () => T, checkpointWhenDue = true): T {
    if (this.closed) throw new Error('the audit store is closed');
    if (this.failure !== null) throw new AuditWriteError(this.failure);
    const queued = this.takeQueued();
    if (queued.length === 0) return this.commit(work, checkpointWhenDue);
    // The queue goes first, in the same transaction: one commit, and the chain keeps the order things happened.
    let stored: AuditEvent[][] = [];
    try {
      const result = this.commit(() => {
        stored = queued.map((q) => q.inputs.map((input) => this.appendInTransaction(input)));
        return work();
      }, checkpointWhenDue);
      queued.forEach((q, i) => q.settle({ events: stored[i]! }));
      return result;
    } catch (error) {
      if (!(error instanceof AuditEventRejectedError)) {
        for (const q of queued) q.settle({ error });
        throw error;
      }
    }
    // One event was refused: commit each queued group on its own, so the refusal is only its owner's.
    for (const [i, q] of queued.entries()) {
      try {
        q.settle({ events: this.commit(() => q.inputs.map((input) => this.appendInTransaction(input))) });
      } catch (error) {
        q.settle({ error });
        if (!(error instanceof AuditEventRejectedError)) {
          for (const rest of queued.slice(i + 1)) rest.settle({ error });
          throw error;
        }
      }
    }
    return this.commit(work, checkpointWhenDue);
  }

  private commit<T>(work: () => T, checkpointWhenDue = true): T {
    const checkpointed = this.lastCheckpointSeq;
    this.appendedInTransaction = 0;
    try {
      const result = this.db
        .transaction(() => {
          const value = work();
          // In the same transaction as the event that made it due: the signature is on disk with the events.
          const head = this.lastRow.get();
          if (checkpointWhenDue && head && head.seq - this.lastCheckpointSeq >= this.checkpointEvery)
            this.appendCheckpoint('interval');
          return value;
        })
        .immediate();
      if (this.appendedInTransaction > 0) {
        this.written.events += this.appendedInTransaction;
        this.written.commits += 1;
      }
      this.announceCheckpoints();
      return result;
    } catch (error) {
      this.lastCheckpointSeq = checkpointed;
      this.pendingAnchors = [];
      if (error instanceof AuditEventRejectedError) throw error;
      const code = sqliteCodeOf(error);
      if (code?.startsWith('SQLITE_CONSTRAINT')) {
        throw new AuditEventRejectedError(`audit event refused: ${messageOf(error)}`);
      }
      if (code !== null) {
        this.failure = error;
        throw new AuditWriteError(error);
      }
      throw error;
    }
  }

  private appendInTransaction(input: ParsedAuditEventInput): AuditEvent {
    const last = this.lastRow.get();
    const envelope = {
      kind: input.kind as string,
      batch_id: input.batchId ?? null,
      unit_id: input.unitId ?? null,
      slot: input.slot ?? null,
      supersedes: input.supersedes ?? null,
    };
    this.projections.resolve(envelope);
    const detailsJson = canonicalJson(input.details);
    const fields: EventRowFields = {
      seq: (last?.seq ?? 0) + 1,
      event_id: input.eventId ?? randomUUID(),
      at: typeof input.at === 'string' ? input.at : auditTimestamp(input.at ?? this.now()),
      station_id: this.stationId,
      operator: input.operator ?? null,
      batch_id: envelope.batch_id,
      unit_id: envelope.unit_id,
      slot: envelope.slot,
      step: input.step ?? null,
      kind: input.kind,
      outcome: input.outcome ?? null,
      // Hash what will be read back: the canonical text parsed again, not the caller's object.
      details: JSON.parse(detailsJson) as Record<string, unknown>,
      supersedes: envelope.supersedes,
      prev_hash: last?.hash ?? GENESIS_HASH,
    };
    const hash = eventHash(fields);
    this.insertEvent.run({ ...fields, details: detailsJson, hash });
    this.appendedInTransaction += 1;
    this.projections.apply(fields);
    return rowToEvent({ ...fields, details: detailsJson, hash });
  }

  /** The durability settings as the live connection reports them now (for tests and a station health view). */
  durability(): DurabilityPragmas & { busyTimeoutMs: number } {
    return {
      journalMode: this.db.pragma('journal_mode', { simple: true }),
      synchronous: this.db.pragma('synchronous', { simple: true }),
      foreignKeys: this.db.pragma('foreign_keys', { simple: true }),
      busyTimeoutMs: this.db.pragma('busy_timeout', { simple: true }) as number,
    };
  }

  /** The last event recorded, or null for an empty trail. */
  lastEvent(): AuditEvent | null {
    const row = this.reader
      .prepare<[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY seq DESC LIMIT 1`)
      .get();
    return row ? rowToEvent(row) : null;
  }

  /** Events with seq > afterSeq, oldest first: what an outbox ships next. */
  eventsAfter(afterSeq: number, limit = 1000): AuditEvent[] {
    return this.reader
      .prepare<[number, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
      )
      .all(afterSeq, limit)
      .map(rowToEvent);
  }

  unit(unitId: string): UnitRecord | null {
    return this.views.unit(unitId);
  }

  batch(batchId: string): BatchRecord | null {
    return this.views.batch(batchId);
  }

  unitHistory(unitId: string): UnitHistory {
    const rows = this.reader
      .prepare<[string], EventRow & { superseded_by: string | null }>(
        `SELECT ${EVENT_COLUMNS.split(', ')
          .map((c) => `e.${c}`)
          .join(', ')},
          (SELECT group_concat(c.seq) FROM events c WHERE c.supersedes = e.seq) AS superseded_by
         FROM events e WHERE e.unit_id = ? ORDER BY e.seq`,
      )
      .all(unitId);
    return {
      unit: this.views.unit(unitId),
      events: rows.map((row) => ({
        ...rowToEvent(row),
        supersededBy: row.superseded_by
          ? row.superseded_by
              .split(',')
              .map(Number)
              .sort((a, b) => a - b)
          : [],
      })),
    };
  }

  batchSummary(batchId: string): BatchSummary | null {
    const batch = this.views.batch(batchId);
    if (!batch) return null;
    const c = this.views.stateCounts(batchId);
    const finished = c.passed + c.failed;
    return {
      batch,
      units: c['in-progress'] + c.attention + c.passed + c.failed + c.cancelled + c.voided,
      inProgress: c['in-progress'],
      attention: c.attention,
      passed: c.passed,
      failed: c.failed,
      cancelled: c.cancelled,
      voided: c.voided,
      firstPass: this.views.firstPassCount(batchId),
      yield: finished === 0 ? null : c.passed / finished,
    };
  }

  /** Units started but not passed, failed or voided: what the journal must resume or reconcile after a restart. */
  unfinishedUnits(): UnitRecord[] {
    return this.views.unfinishedUnits();
  }

  openBatches(): BatchRecord[] {
    return this.views.openBatches();
  }

  /** The batch most recently opened under this name, or null. */
  batchByName(name: string): BatchRecord | null {
    return this.views.batchByName(name);
  }

  /** The `batch.opened` event of a batch (its details hold work order and target), or null. */
  batchOpenedEvent(batchId: string): AuditEvent | null {
    const row = this.reader
      .prepare<[string], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE batch_id = ? AND kind = 'batch.opened' ORDER BY seq LIMIT 1`,
      )
      .get(batchId);
    return row ? rowToEvent(row) : null;
  }

  /** Units of the batch that passed at or after `since` (an audit timestamp): units per hour over a window. */
  passedSince(batchId: string, since: string): number {
    return this.views.passedSince(batchId, since);
  }

  /** The unit last started on this slot number in this batch, or null. */
  lastUnitOnSlot(batchId: string, slot: number): UnitRecord | null {
    return this.views.lastUnitOnSlot(batchId, slot);
  }

  /** The last unit that passed with this scanned serial number, or null. */
  passedUnitBySerial(serialNumber: string): UnitRecord | null {
    return this.views.passedUnitBySerial(serialNumber);
  }

  /** The unit that last passed for this board identity, or null. */
  passedUnitByMcuId(soc: string, mcuId: string): UnitRecord | null {
    return this.views.passedUnitByMcuId(soc, mcuId);
  }

  /**
   * The unit last started for this board identity, or null. Unlike the other reads it does not commit the queue
   * first: the workflow asks it as it identifies a board, and a gang identifies many in one turn. What it could
   * miss is another unit's identification queued in this same turn; a chip is on one port at a time, and a unit
   * ends on disk before the next unit on its chip can start.
   */
  findUnitByMcuId(soc: string, mcuId: string): UnitRecord | null {
    return this.projections.findUnitByMcuId(soc, mcuId);
  }

  close(): void {
    if (this.closed) return;
    this.flushQueued();
    this.closed = true;
    this.db.close();
  }
}

function parseInput(input: AuditEventInput): ParsedAuditEventInput {
  const result = auditEventInputSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue && issue.path.length > 0 ? issue.path.join('.') : 'event';
    throw new AuditEventRejectedError(`audit event refused: ${path}: ${issue?.message ?? 'invalid'}`);
  }
  const secretPath = findSecretLikeKey(result.data.details);
  if (secretPath !== null) throw new AuditEventRejectedError(secretKeyRefusal(secretPath));
  const notJson = findNonJson(result.data.details, 'details');
  if (notJson !== null) {
    throw new AuditEventRejectedError(`audit event refused: ${notJson} is not a JSON value`);
  }
  return result.data;
}

/** Path of the first value JSON cannot carry faithfully (undefined, NaN, a Date...), or null. */
function findNonJson(value: unknown, path: string): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNonJson(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, child] of Object.entries(value)) {
      const found = findNonJson(child, `${path}.${key}`);
      if (found) return found;
    }
    return null;
  }
  return path;
}

function migrate(db: Database.Database, file: string, existed: boolean): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new AuditOpenError(
      'AUDIT_OPEN_FAILED',
      `the audit trail ${file} has schema version ${version}, newer than this station understands (${SCHEMA_VERSION}); update the station software`,
    );
  }
  if (version === 0 && existed) {
    const tables = db
      .prepare("SELECT count(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
      .get() as {
      n: number;
    };
    if (tables.n > 0) {
      throw new AuditOpenError('AUDIT_NOT_AN_AUDIT_DB', `${file} is an SQLite file but not an audit trail`);
    }
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

function claimStation(db: Database.Database, file: string, stationId: string): void {
  const row = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'station_id'").get();
  if (!row) {
    db.prepare("INSERT INTO meta (key, value) VALUES ('station_id', ?)").run(stationId);
  } else if (row.value !== stationId) {
    throw new AuditOpenError(
      'AUDIT_OPEN_FAILED',
      `the audit trail ${file} belongs to station "${row.value}", not "${stationId}": each station keeps its own file`,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
