/**
 * Everything QA reads about one unit, from its events: identity, batch and recipe, each attempt's steps (start,
 * duration, result, error and the operator's text, backend requests with their status codes, board log lines,
 * intents), key fingerprints (never keys: the trail refuses secret-named fields), notes, corrections, signatures
 * with their validity, and where its events sit in the hash chain.
 */
import type { ReviewDb } from './review-db';
import { currentRecordHash, signaturesOf } from '../audit';
import type { AttemptView, StepView, UnitDetail, UnitRow } from '../station-api';

type BackendCallView = StepView['backend'][number];
type FingerprintView = UnitDetail['fingerprints'][number];
type ChainEventView = UnitDetail['chain']['events'][number];

interface EventRow {
  seq: number;
  at: string;
  operator: string | null;
  slot: number | null;
  step: string | null;
  kind: string;
  outcome: string | null;
  details: string;
  supersedes: number | null;
  prev_hash: string;
  hash: string;
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);
const record = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/**
 * Key material QA may see: fingerprints (the naming rule the trail enforces for secrets: "...Fp") and public keys.
 * Secrets themselves never reach the trail (the store refuses secret-named fields).
 */
const KEY_NAME = /(Fp|Fingerprint|PublicKey)$/;

function keyFields(step: string, value: unknown, path: string, into: FingerprintView[], depth = 0): void {
  if (depth > 3 || !value || typeof value !== 'object') return;
  for (const [name, inner] of Object.entries(value as Record<string, unknown>)) {
    const at = path ? `${path}.${name}` : name;
    if (KEY_NAME.test(name) && typeof inner === 'string') into.push({ step, name: at, value: inner });
    else keyFields(step, inner, at, into, depth + 1);
  }
}

function backendCalls(value: unknown): BackendCallView[] {
  if (!Array.isArray(value)) return [];
  return value.map((raw) => {
    const call = record(raw);
    return {
      method: str(call.method) ?? '?',
      endpoint: str(call.endpoint) ?? '?',
      attempt: num(call.attempt) ?? 1,
      outcome: str(call.outcome) ?? '?',
      status: num(call.status),
      durationMs: num(call.durationMs) ?? 0,
    };
  });
}

export function unitDetail(db: ReviewDb, unitId: string): UnitDetail | null {
  const unit = db
    .prepare<[string], UnitRow>(
      `SELECT u.id, u.batch_id AS batchId, b.name AS batchName, b.recipe_id AS recipeId, u.slot, u.soc,
        u.mcu_id AS mcuId, u.device_id AS deviceId, u.serial_number AS serialNumber, u.state, u.outcome,
        u.error_code AS errorCode, u.last_step AS lastStep, u.operator, u.started_at AS startedAt,
        u.ended_at AS endedAt, u.duration_ms AS durationMs, u.attempt, u.reviewed_at AS reviewedAt
       FROM units u JOIN batches b ON b.id = u.batch_id WHERE u.id = ?`,
    )
    .get(unitId);
  if (!unit) return null;
  const batchRow = db
    .prepare<
      [string],
      {
        id: string;
        name: string;
        recipe_id: string;
        state: string;
        opened_at: string;
        closed_at: string | null;
        released_at: string | null;
        config_sha256: string;
        opened: string | null;
      }
    >(
      `SELECT b.*, (SELECT details FROM events WHERE batch_id = b.id AND kind = 'batch.opened' ORDER BY seq LIMIT 1)
         AS opened FROM batches b WHERE b.id = ?`,
    )
    .get(unit.batchId)!;
  const opened = batchRow.opened ? record(JSON.parse(batchRow.opened)) : {};
  const rows = db
    .prepare<[string], EventRow>(
      `SELECT seq, at, operator, slot, step, kind, outcome, details, supersedes, prev_hash, hash
       FROM events WHERE unit_id = ? ORDER BY seq`,
    )
    .all(unitId);

  const attempts: AttemptView[] = [];
  const fingerprints: FingerprintView[] = [];
  const notes: UnitDetail['notes'] = [];
  const corrections: UnitDetail['corrections'] = [];
  const voids: UnitDetail['voids'] = [];
  const chainEvents: ChainEventView[] = [];
  let attempt: AttemptView | null = null;
  const openSteps = new Map<string, StepView>();
  const stepFor = (name: string): StepView => {
    let step = openSteps.get(name);
    if (!step) {
      step = {
        step: name,
        startedAt: null,
        endedAt: null,
        durationMs: null,
        outcome: null,
        errorCode: null,
        message: null,
        retrySafe: null,
        backend: [],
        boardLog: [],
        intents: [],
        measurements: {},
        seqs: [],
      };
      openSteps.set(name, step);
      attempt?.steps.push(step);
    }
    return step;
  };

  for (const row of rows) {
    const details = record(JSON.parse(row.details));
    chainEvents.push({
      seq: row.seq,
      at: row.at,
      kind: row.kind,
      step: row.step,
      outcome: row.outcome,
      operator: row.operator,
      hash: row.hash,
      prevHash: row.prev_hash,
      supersedes: row.supersedes,
      details,
    });
    switch (row.kind) {
      case 'unit.started': {
        openSteps.clear();
        const scan = details.scan;
        attempt = {
          attempt: num(details.attempt) ?? attempts.length + 1,
          startedAt: row.at,
          operator: row.operator,
          slotName: str(details.slotName),
          port: str(details.port),
          scan: scan && typeof scan === 'object' ? record(scan) : null,
          identity: { soc: null, mcuId: null, firmwareVersion: null, deviceId: null },
          previousUnitId: null,
          outcome: null,
          errorCode: null,
          message: null,
          failedStep: null,
          durationMs: null,
          endedAt: null,
          steps: [],
        };
        attempts.push(attempt);
        break;
      }
      case 'unit.identified':
        if (attempt) {
          attempt.identity = {
            soc: str(details.soc),
            mcuId: str(details.mcuId),
            firmwareVersion: str(details.firmwareVersion),
            deviceId: str(details.deviceId),
          };
          attempt.previousUnitId = str(details.previousUnitId);
        }
        break;
      case 'step.started':
        if (row.step) {
          openSteps.delete(row.step);
          const step = stepFor(row.step);
          step.startedAt = row.at;
          step.seqs.push(row.seq);
        }
        break;
      case 'step.intent':
        if (row.step) {
          const step = stepFor(row.step);
          step.intents.push({ seq: row.seq, at: row.at, action: str(details.action) ?? '' });
          step.seqs.push(row.seq);
        }
        break;
      case 'step.log':
        if (row.step) {
          const step = stepFor(row.step);
          const lines = Array.isArray(details.lines)
            ? details.lines.filter((l) => typeof l === 'string')
            : [];
          step.boardLog.push(...(lines as string[]));
          step.seqs.push(row.seq);
        }
        break;
      case 'step.finished':
        if (row.step) {
          const step = stepFor(row.step);
          step.endedAt = row.at;
          step.outcome = row.outcome;
          step.durationMs = num(details.durationMs);
          step.errorCode = str(details.errorCode);
          step.message = str(details.message);
          step.retrySafe = typeof details.retrySafe === 'boolean' ? details.retrySafe : null;
          step.backend = backendCalls(details.backend);
          step.measurements = record(details.measurements);
          step.seqs.push(row.seq);
          keyFields(row.step, step.measurements, '', fingerprints);
        }
        break;
      case 'unit.finished':
        if (attempt) {
          attempt.outcome = row.outcome;
          attempt.errorCode = str(details.errorCode);
          attempt.message = str(details.message);
          attempt.failedStep = str(details.failedStep);
          attempt.durationMs = num(details.durationMs);
          attempt.endedAt = row.at;
        }
        break;
      case 'unit.note':
        notes.push({ seq: row.seq, at: row.at, operator: row.operator, text: str(details.text) ?? '' });
        break;
      case 'correction':
        corrections.push({
          seq: row.seq,
          at: row.at,
          operator: row.operator,
          supersedes: row.supersedes,
          reason: str(details.reason) ?? '',
          set: record(details.set),
        });
        break;
      case 'unit.voided':
        voids.push({ seq: row.seq, at: row.at, operator: row.operator, reason: str(details.reason) ?? '' });
        break;
      default:
        break;
    }
  }
  const lastSeq = rows.at(-1)?.seq ?? 0;
  const checkpointAfter =
    db
      .prepare<[number], { seq: number; at: string; hash: string }>(
        "SELECT seq, at, hash FROM events WHERE kind = 'checkpoint' AND seq > ? ORDER BY seq LIMIT 1",
      )
      .get(lastSeq) ?? null;
  const current = currentRecordHash(db, { type: 'unit', id: unitId });
  return {
    unit,
    batch: {
      id: batchRow.id,
      name: batchRow.name,
      recipeId: batchRow.recipe_id,
      state: batchRow.state,
      openedAt: batchRow.opened_at,
      closedAt: batchRow.closed_at,
      releasedAt: batchRow.released_at,
      workOrder: str(opened.workOrder),
      targetQuantity: num(opened.targetQuantity),
      configSha256: batchRow.config_sha256,
    },
    attempts,
    fingerprints,
    notes,
    corrections,
    voids,
    signatures: signaturesOf(db, { type: 'unit', id: unitId }),
    record: { recordHash: current.recordHash, coversSeq: current.coversSeq, events: current.events },
    chain: { firstSeq: rows[0]?.seq ?? 0, lastSeq, events: chainEvents, checkpointAfter },
  };
}
