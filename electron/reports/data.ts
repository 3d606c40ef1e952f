/**
 * Everything a batch report shows, read from the station's audit file in one read-only pass: the batch and its
 * units from the views (which carry corrections), and every event of the batch in one ordered scan over the
 * events_batch(batch_id, seq) index, folded into attempts and steps as it goes. No query per unit: a 10,000-unit
 * batch (a quarter of a million events) is one statement and one walk.
 *
 * All reads happen inside one read transaction, so the units, the events and the chain head all describe the same
 * moment even while the station keeps appending to the file.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { checkpointMessage, keyFingerprint, verifyCheckpoint } from '../audit';
import { messageOf, ReportError } from './errors';
import { signatureValidity, type SignatureValidity } from './signatures';

export type UnitStateName = 'in-progress' | 'passed' | 'failed' | 'cancelled' | 'attention' | 'voided';
export type StepOutcome = 'passed' | 'failed' | 'skipped';
export type AttemptOutcome = 'passed' | 'failed' | 'cancelled';

export interface ReportBatch {
  id: string;
  name: string;
  recipeId: string;
  configSha256: string;
  workOrder: string | null;
  targetQuantity: number | null;
  /** Who opened the batch. */
  operator: string | null;
  openedAt: string;
  closedAt: string | null;
  closeReason: string | null;
  state: 'open' | 'closed';
  releasedAt: string | null;
}

/** One backend request a step made, as the trail records it (a path template, never a concrete path). */
export interface BackendCall {
  method: string;
  endpoint: string;
  attempt: number;
  outcome: string;
  status: number | null;
  durationMs: number;
  code: string | null;
}

export interface ReportStep {
  name: string;
  /** Its place in the workflow (1-based) as the station journaled it, when it did. */
  index: number | null;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  /** null: started and never finished (the unit was cancelled or the station stopped mid-step). */
  outcome: StepOutcome | null;
  errorCode: string | null;
  message: string | null;
  retrySafe: boolean | null;
  measurements: Record<string, unknown>;
  backend: BackendCall[];
  intents: Array<{ at: string; action: string; details: Record<string, unknown> }>;
  log: Array<{ at: string; source: string; lines: string[] }>;
  /** The seq of the step's step.finished, else of its step.started: with the station id, a stable name for it. */
  seq: number;
}

export interface ReportAttempt {
  attempt: number;
  startedAt: string;
  endedAt: string | null;
  outcome: AttemptOutcome | null;
  durationMs: number | null;
  errorCode: string | null;
  message: string | null;
  failedStep: string | null;
  operator: string | null;
  slot: number | null;
  slotName: string | null;
  scan: Record<string, string>;
  attention: { at: string; reason: string; errorCode: string | null } | null;
  steps: ReportStep[];
}

export interface ReportNote {
  seq: number;
  at: string;
  operator: string | null;
  unitId: string | null;
  text: string;
}

export interface ReportCorrection {
  seq: number;
  at: string;
  operator: string | null;
  unitId: string | null;
  /** The seq of the event it corrects. */
  supersedes: number | null;
  reason: string;
  set: Record<string, unknown>;
}

export interface ReportSignature {
  seq: number;
  at: string;
  /** The operator id of the person who signed (re-authenticated with their PIN). */
  signerId: string | null;
  signerName: string;
  meaning: string;
  subject: { type: string; id: string };
  recordHash: string;
  coversSeq: number;
  reason: string | null;
  validity: SignatureValidity;
  problem: string | null;
}

export interface ReportRetryAuthorization {
  seq: number;
  at: string;
  slotName: string | null;
  reason: string;
  authorizedBy: string | null;
  errorCode: string | null;
}

/** One unit: its row in the units view (the truth after corrections) and the attempts this batch's events show. */
export interface ReportUnit {
  id: string;
  serialNumber: string | null;
  slot: number | null;
  slotName: string | null;
  /** Who started the unit's latest attempt. */
  operator: string | null;
  soc: string | null;
  mcuId: string | null;
  deviceId: string | null;
  firmwareVersion: string | null;
  state: UnitStateName;
  outcome: AttemptOutcome | null;
  errorCode: string | null;
  /** The step the latest attempt failed in, if it failed in one. */
  failedStep: string | null;
  /** The operator text of the latest attempt's failure. */
  message: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  /** How many attempts the unit has had (1 = its first run). */
  attempts: number;
  /** Passed on its first attempt: the station's own first-pass rule (state passed, attempt 1). */
  firstPass: boolean;
  reviewedAt: string | null;
  voided: { at: string; reason: string; operator: string | null } | null;
  /** The attempts recorded in this batch, oldest first (the last is the one the view describes). */
  attemptRecords: ReportAttempt[];
  notes: ReportNote[];
  corrections: ReportCorrection[];
}

export interface ChainStatus {
  /** The last event of the whole trail when the report was read: what the report covers. */
  head: { seq: number; hash: string; at: string } | null;
  /** The station keys the trail records (station.identity events), oldest first. */
  stationKeys: Array<{ seq: number; fingerprint: string; publicKey: string }>;
  /** The latest signed checkpoint and whether its signature verifies with the key recorded before it. */
  lastCheckpoint: {
    seq: number;
    hash: string;
    at: string;
    reason: string;
    publicKeyFp: string;
    signatureValid: boolean;
  } | null;
  /** Events after the last checkpoint (protected by the chain only until the next checkpoint signs them). */
  unsignedTail: number;
}

export interface BatchReportData {
  /** How much was read (`summary`: no measurements, board logs, backend calls or intents). */
  detail: ReportDetail;
  stationId: string;
  /** The config environment recorded with the batch (e.g. `sandbox`), when one was. */
  environment: string | null;
  batch: ReportBatch;
  units: ReportUnit[];
  signatures: ReportSignature[];
  corrections: ReportCorrection[];
  notes: ReportNote[];
  retryAuthorizations: ReportRetryAuthorization[];
  /** How many events of each kind the batch has. */
  eventCounts: Record<string, number>;
  /** Events of the batch about units that have since moved to another batch (re-provisioned there): not shown. */
  movedUnitEvents: number;
  chain: ChainStatus;
}

interface BatchRow {
  id: string;
  name: string;
  recipe_id: string;
  config_sha256: string;
  operator: string | null;
  opened_at: string;
  closed_at: string | null;
  state: 'open' | 'closed';
  released_at?: string | null;
}

interface UnitRow {
  id: string;
  slot: number | null;
  soc: string | null;
  mcu_id: string | null;
  device_id: string | null;
  serial_number?: string | null;
  state: UnitStateName;
  outcome: AttemptOutcome | null;
  error_code: string | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  attempt: number;
  operator?: string | null;
  reviewed_at?: string | null;
}

interface EventRow {
  seq: number;
  at: string;
  operator: string | null;
  unit_id: string | null;
  slot: number | null;
  step: string | null;
  kind: string;
  outcome: string | null;
  /** The stored JSON, or null where the scan leaves it out (see EVENT_SCAN). */
  details: string | null;
  supersedes: number | null;
  /** step.started's details.index, extracted by SQLite (its details are not read). */
  step_index: number | null;
}

type EventTuple = [
  number,
  string,
  string | null,
  string | null,
  number | null,
  string | null,
  string,
  string | null,
  string | null,
  number | null,
  number | null,
];

/**
 * How much of each event the report needs. `full`: everything (units.json and the CFX message carry measurements,
 * board logs, backend calls and intents). `summary`: what the stats, the CSV and the PDF show; board logs and
 * intents are not read at all, nor step starts (a step's time is in its result), and step results come without
 * their measurements: half the rows of a big batch, and a lighter scan.
 */
export type ReportDetail = 'full' | 'summary';

/**
 * The one scan of a batch's events. Columns a kind does not use come back NULL (CASE in SQL), so no JS string is
 * made for them: turning a quarter of a million rows of text into strings is most of the cost of reading a batch.
 */
function eventScan(detail: ReportDetail): string {
  const details =
    detail === 'full'
      ? "CASE WHEN kind = 'step.started' THEN NULL ELSE details END"
      : `CASE kind WHEN 'step.started' THEN NULL
           WHEN 'step.finished' THEN json_remove(details, '$.measurements', '$.backend')
           ELSE details END`;
  return `SELECT seq, at,
      CASE WHEN kind IN ('unit.started', 'signature', 'correction', 'unit.note', 'unit.voided') THEN operator END,
      unit_id,
      CASE WHEN kind = 'unit.started' THEN slot END,
      step, kind, outcome, ${details},
      supersedes,
      CASE WHEN kind = 'step.started' THEN json_extract(details, '$.index') END
    FROM events WHERE batch_id = ?${
      detail === 'summary' ? " AND kind NOT IN ('step.log', 'step.intent', 'step.started')" : ''
    }
    ORDER BY seq`;
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;
const obj = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

function parseDetails(text: string | null): Record<string, unknown> {
  if (text === null) return {};
  try {
    return obj(JSON.parse(text));
  } catch {
    return {};
  }
}

/** Opens an audit file read-only, saying plainly what is wrong when it cannot. */
export function openAuditReadOnly(dbFile: string): Database.Database {
  if (!existsSync(dbFile)) {
    throw new ReportError(
      'REPORT_DB_NOT_FOUND',
      `${dbFile}: no such file (give the station's audit database with --db, or its config with --config)`,
    );
  }
  let db: Database.Database;
  try {
    db = new Database(dbFile, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new ReportError('REPORT_DB_NOT_FOUND', `${dbFile}: cannot open (${messageOf(error)})`, {
      cause: error,
    });
  }
  try {
    db.pragma('query_only = ON');
    db.prepare('SELECT seq FROM events LIMIT 1').get();
    db.prepare('SELECT id FROM batches LIMIT 1').get();
  } catch (error) {
    db.close();
    throw new ReportError(
      'REPORT_NOT_AN_AUDIT_DB',
      `${dbFile} is not a station audit trail (${messageOf(error)})`,
      { cause: error },
    );
  }
  return db;
}

/** The batch with this id, else the one most recently opened under this name. */
function findBatch(db: Database.Database, dbFile: string, nameOrId: string): BatchRow {
  const byId = db.prepare<[string], BatchRow>('SELECT * FROM batches WHERE id = ?').get(nameOrId);
  if (byId) return byId;
  const byName = db
    .prepare<[string], BatchRow>('SELECT * FROM batches WHERE name = ? ORDER BY opened_at DESC, id LIMIT 1')
    .get(nameOrId);
  if (byName) return byName;
  const recent = db
    .prepare<[], { name: string }>('SELECT name FROM batches ORDER BY opened_at DESC LIMIT 5')
    .all()
    .map((row) => JSON.stringify(row.name));
  throw new ReportError(
    'REPORT_BATCH_NOT_FOUND',
    `no batch named or with id ${JSON.stringify(nameOrId)} in ${dbFile}` +
      (recent.length > 0
        ? `; the most recent batches are ${recent.join(', ')}`
        : '; the trail holds no batch yet'),
  );
}

/**
 * The report data of one batch (by id, or the most recent batch of that name). The file is opened read-only and
 * closed again; nothing is written, not even a WAL checkpoint.
 */
export function loadBatchReportData(
  dbFile: string,
  batchNameOrId: string,
  options: { detail?: ReportDetail } = {},
): BatchReportData {
  const db = openAuditReadOnly(dbFile);
  try {
    // One read transaction: the views, the batch's events and the chain head are one consistent snapshot.
    db.exec('BEGIN');
    try {
      return readBatchReportData(db, dbFile, batchNameOrId, options);
    } finally {
      db.exec('COMMIT');
    }
  } finally {
    db.close();
  }
}

/**
 * The same, from a trail already open (a station's file, or the slice of one station's record the central QA host
 * copies out of the central database). `where` names it in errors.
 */
export function readBatchReportData(
  db: Database.Database,
  where: string,
  batchNameOrId: string,
  options: { detail?: ReportDetail } = {},
): BatchReportData {
  return readBatch(db, where, batchNameOrId, options.detail ?? 'full');
}

function readBatch(
  db: Database.Database,
  dbFile: string,
  nameOrId: string,
  detail: ReportDetail,
): BatchReportData {
  const batchRow = findBatch(db, dbFile, nameOrId);
  const stationId =
    db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'station_id'").get()?.value ?? '';
  const batch: ReportBatch = {
    id: batchRow.id,
    name: batchRow.name,
    recipeId: batchRow.recipe_id,
    configSha256: batchRow.config_sha256,
    workOrder: null,
    targetQuantity: null,
    operator: batchRow.operator,
    openedAt: batchRow.opened_at,
    closedAt: batchRow.closed_at,
    closeReason: null,
    state: batchRow.state,
    releasedAt: batchRow.released_at ?? null,
  };

  const units = new Map<string, ReportUnit>();
  for (const row of db
    .prepare<[string], UnitRow>('SELECT * FROM units WHERE batch_id = ? ORDER BY started_at, id')
    .iterate(batch.id)) {
    units.set(row.id, {
      id: row.id,
      serialNumber: row.serial_number ?? null,
      slot: row.slot,
      slotName: null,
      operator: row.operator ?? null,
      soc: row.soc,
      mcuId: row.mcu_id,
      deviceId: row.device_id,
      firmwareVersion: null,
      state: row.state,
      outcome: row.outcome,
      errorCode: row.error_code,
      failedStep: null,
      message: null,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      durationMs: row.duration_ms,
      attempts: row.attempt,
      firstPass: row.state === 'passed' && row.attempt === 1,
      reviewedAt: row.reviewed_at ?? null,
      voided: null,
      attemptRecords: [],
      notes: [],
      corrections: [],
    });
  }

  const signatures: ReportSignature[] = [];
  const corrections: ReportCorrection[] = [];
  const notes: ReportNote[] = [];
  const retryAuthorizations: ReportRetryAuthorization[] = [];
  const eventCounts: Record<string, number> = {};
  let environment: string | null = null;
  let movedUnitEvents = 0;

  const events = db.prepare<[string], EventTuple>(eventScan(detail)).raw().iterate(batch.id);
  for (const row of events) {
    const event: EventRow = {
      seq: row[0],
      at: row[1],
      operator: row[2],
      unit_id: row[3],
      slot: row[4],
      step: row[5],
      kind: row[6],
      outcome: row[7],
      details: row[8],
      supersedes: row[9],
      step_index: row[10],
    };
    eventCounts[event.kind] = (eventCounts[event.kind] ?? 0) + 1;
    const unit = event.unit_id !== null ? units.get(event.unit_id) : undefined;
    if (event.unit_id !== null && !unit && event.kind !== 'correction') {
      movedUnitEvents++;
      continue;
    }
    const details = parseDetails(event.details);
    switch (event.kind) {
      case 'batch.opened':
        batch.workOrder = str(details.workOrder);
        batch.targetQuantity = num(details.targetQuantity) ?? num(details.plannedUnits);
        break;
      case 'batch.closed':
        batch.closeReason = str(details.reason);
        break;
      case 'config.recorded':
        environment = str(details.environment) ?? environment;
        break;
      case 'retry.authorized':
        retryAuthorizations.push({
          seq: event.seq,
          at: event.at,
          slotName: str(details.slotName),
          reason: str(details.reason) ?? '',
          authorizedBy: str(details.authorizedBy),
          errorCode: str(details.errorCode),
        });
        break;
      case 'signature': {
        const subject = obj(details.subject);
        const check = signatureValidity(db, {
          seq: event.seq,
          at: event.at,
          operator: event.operator,
          details: event.details ?? '{}',
        });
        signatures.push({
          seq: event.seq,
          at: event.at,
          signerId: event.operator,
          signerName: str(details.signerName) ?? '?',
          meaning: str(details.meaning) ?? '?',
          subject: { type: str(subject.type) ?? '?', id: str(subject.id) ?? '?' },
          recordHash: str(details.recordHash) ?? '',
          coversSeq: num(details.coversSeq) ?? 0,
          reason: str(details.reason),
          validity: check.validity,
          problem: check.problem,
        });
        break;
      }
      case 'correction': {
        const correction: ReportCorrection = {
          seq: event.seq,
          at: event.at,
          operator: event.operator,
          unitId: event.unit_id,
          supersedes: event.supersedes,
          reason: str(details.reason) ?? '',
          set: obj(details.set),
        };
        corrections.push(correction);
        unit?.corrections.push(correction);
        break;
      }
      case 'unit.note': {
        const note: ReportNote = {
          seq: event.seq,
          at: event.at,
          operator: event.operator,
          unitId: event.unit_id,
          text: str(details.text) ?? '',
        };
        notes.push(note);
        unit?.notes.push(note);
        break;
      }
      default:
        if (unit) foldUnitEvent(unit, event, details);
    }
  }

  for (const unit of units.values()) finishUnit(unit);

  return {
    detail,
    stationId,
    environment,
    batch,
    units: [...units.values()],
    signatures,
    corrections,
    notes,
    retryAuthorizations,
    eventCounts,
    movedUnitEvents,
    chain: chainStatus(db),
  };
}

function newAttempt(event: EventRow, details: Record<string, unknown>, number: number): ReportAttempt {
  const scan: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj(details.scan)))
    if (typeof value === 'string') scan[key] = value;
  return {
    attempt: number,
    startedAt: event.at,
    endedAt: null,
    outcome: null,
    durationMs: null,
    errorCode: null,
    message: null,
    failedStep: null,
    operator: event.operator,
    slot: event.slot,
    slotName: str(details.slotName),
    scan,
    attention: null,
    steps: [],
  };
}

function currentAttempt(unit: ReportUnit, event: EventRow): ReportAttempt {
  const last = unit.attemptRecords.at(-1);
  if (last) return last;
  // Events of an attempt whose unit.started is not in this batch: keep them, under an attempt of their own.
  const attempt = newAttempt(event, {}, 0);
  unit.attemptRecords.push(attempt);
  return attempt;
}

/** The step of this name still open in the attempt (or the last of that name), made when the trail has none. */
function stepOf(attempt: ReportAttempt, event: EventRow, open: boolean): ReportStep {
  const name = event.step ?? '(unnamed)';
  for (let i = attempt.steps.length - 1; i >= 0; i--) {
    const step = attempt.steps[i]!;
    if (step.name === name && (!open || step.outcome === null)) return step;
  }
  const step = newStep(name, event, null);
  attempt.steps.push(step);
  return step;
}

function newStep(name: string, event: EventRow, index: number | null): ReportStep {
  return {
    name,
    index,
    startedAt: event.kind === 'step.started' ? event.at : null,
    endedAt: null,
    durationMs: null,
    outcome: null,
    errorCode: null,
    message: null,
    retrySafe: null,
    measurements: {},
    backend: [],
    intents: [],
    log: [],
    seq: event.seq,
  };
}

function backendCalls(value: unknown): BackendCall[] {
  if (!Array.isArray(value)) return [];
  return value.map((entry) => {
    const call = obj(entry);
    return {
      method: str(call.method) ?? '',
      endpoint: str(call.endpoint) ?? '',
      attempt: num(call.attempt) ?? 1,
      outcome: str(call.outcome) ?? '',
      status: num(call.status),
      durationMs: num(call.durationMs) ?? 0,
      code: str(call.code),
    };
  });
}

function foldUnitEvent(unit: ReportUnit, event: EventRow, details: Record<string, unknown>): void {
  switch (event.kind) {
    case 'unit.started': {
      const number = num(details.attempt) ?? unit.attemptRecords.length + 1;
      unit.attemptRecords.push(newAttempt(event, details, number));
      return;
    }
    case 'unit.identified':
      unit.firmwareVersion = str(details.firmwareVersion) ?? unit.firmwareVersion;
      return;
    case 'step.started': {
      const attempt = currentAttempt(unit, event);
      attempt.steps.push(newStep(event.step ?? '(unnamed)', event, event.step_index));
      return;
    }
    case 'step.intent': {
      const { action, ...rest } = details;
      stepOf(currentAttempt(unit, event), event, true).intents.push({
        at: event.at,
        action: str(action) ?? '',
        details: rest,
      });
      return;
    }
    case 'step.log': {
      const lines = Array.isArray(details.lines) ? details.lines.filter((l) => typeof l === 'string') : [];
      stepOf(currentAttempt(unit, event), event, false).log.push({
        at: event.at,
        source: str(details.source) ?? 'station',
        lines: lines as string[],
      });
      return;
    }
    case 'step.finished': {
      const step = stepOf(currentAttempt(unit, event), event, true);
      step.endedAt = event.at;
      step.outcome =
        event.outcome === 'passed' || event.outcome === 'skipped' ? event.outcome : ('failed' as const);
      step.durationMs = num(details.durationMs);
      step.errorCode = str(details.errorCode);
      step.message = str(details.message);
      step.retrySafe = typeof details.retrySafe === 'boolean' ? details.retrySafe : null;
      step.measurements = obj(details.measurements);
      step.backend = backendCalls(details.backend);
      step.seq = event.seq;
      return;
    }
    case 'unit.attention': {
      currentAttempt(unit, event).attention = {
        at: event.at,
        reason: str(details.reason) ?? '',
        errorCode: str(details.errorCode),
      };
      return;
    }
    case 'unit.finished': {
      const attempt = currentAttempt(unit, event);
      attempt.endedAt = event.at;
      attempt.outcome =
        event.outcome === 'passed' || event.outcome === 'cancelled' ? event.outcome : ('failed' as const);
      attempt.durationMs = num(details.durationMs) ?? Date.parse(event.at) - Date.parse(attempt.startedAt);
      attempt.errorCode = str(details.errorCode);
      attempt.message = str(details.message);
      attempt.failedStep = str(details.failedStep);
      return;
    }
    case 'unit.voided':
      unit.voided = { at: event.at, reason: str(details.reason) ?? '', operator: event.operator };
      return;
  }
}

/** What the latest attempt adds to the view's row: the slot's name, the failed step and the operator text. */
function finishUnit(unit: ReportUnit): void {
  const latest = unit.attemptRecords.at(-1);
  if (!latest) return;
  unit.slotName = latest.slotName;
  unit.serialNumber ??= latest.scan.serialNumber ?? null;
  if (unit.state === 'passed') return;
  const failed = latest.steps.findLast((step) => step.outcome === 'failed');
  unit.failedStep = latest.failedStep ?? failed?.name ?? null;
  unit.message = latest.message ?? failed?.message ?? latest.attention?.reason ?? null;
}

function chainStatus(db: Database.Database): ChainStatus {
  const head =
    db
      .prepare<[], { seq: number; hash: string; at: string }>(
        'SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1',
      )
      .get() ?? null;
  const stationKeys = db
    .prepare<[], { seq: number; details: string }>(
      "SELECT seq, details FROM events WHERE kind = 'station.identity' ORDER BY seq",
    )
    .all()
    .flatMap((row) => {
      const publicKey = str(parseDetails(row.details).stationPublicKey);
      if (publicKey === null) return [];
      return [{ seq: row.seq, publicKey, fingerprint: keyFingerprint(Buffer.from(publicKey, 'base64')) }];
    });
  const checkpoint = db
    .prepare<
      [],
      { seq: number; hash: string; at: string; details: string; prev_hash: string; station_id: string }
    >(
      "SELECT seq, hash, at, details, prev_hash, station_id FROM events WHERE kind = 'checkpoint' ORDER BY seq DESC LIMIT 1",
    )
    .get();
  let lastCheckpoint: ChainStatus['lastCheckpoint'] = null;
  if (checkpoint) {
    const details = parseDetails(checkpoint.details);
    // The key in force at the checkpoint: the latest identity recorded before it.
    const key = stationKeys.findLast((k) => k.seq < checkpoint.seq);
    const signature = Buffer.from(str(details.signature) ?? '', 'base64');
    lastCheckpoint = {
      seq: checkpoint.seq,
      hash: checkpoint.hash,
      at: checkpoint.at,
      reason: str(details.reason) ?? '?',
      publicKeyFp: str(details.publicKeyFp) ?? '?',
      signatureValid:
        key !== undefined &&
        verifyCheckpoint(
          Buffer.from(key.publicKey, 'base64'),
          checkpointMessage(checkpoint.station_id, checkpoint.seq - 1, checkpoint.prev_hash),
          signature,
        ),
    };
  }
  return {
    head,
    stationKeys,
    lastCheckpoint,
    unsignedTail: head ? head.seq - (lastCheckpoint?.seq ?? 0) : 0,
  };
}
