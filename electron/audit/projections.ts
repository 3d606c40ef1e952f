/**
 * The mutable views (batches, units) derived from the events. The store calls `resolve` before hashing (it checks
 * the event makes sense now and fills in batch/slot from the unit) and `apply` in the same transaction as the
 * insert, so a view can never disagree with the trail: either both change or neither does.
 */
import type { Database, Statement } from 'better-sqlite3';
import { AuditEventRejectedError } from './errors';
import { FINAL_UNIT_STATES, type BatchState, type UnitOutcome, type UnitState } from './events';
import type { EventRowFields } from './hash-chain';

export interface BatchRecord {
  id: string;
  name: string;
  recipeId: string;
  configSha256: string;
  operator: string | null;
  openedAt: string;
  closedAt: string | null;
  state: BatchState;
  /** When the batch was released (a signature meaning "released"), or null. */
  releasedAt: string | null;
  lastSeq: number;
}

export interface UnitRecord {
  id: string;
  batchId: string;
  slot: number | null;
  soc: string | null;
  mcuId: string | null;
  deviceId: string | null;
  /** The serial number scanned for the unit's latest attempt, when one was. */
  serialNumber: string | null;
  state: UnitState;
  /** The step most recently started or finished. */
  lastStep: string | null;
  outcome: UnitOutcome | null;
  errorCode: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  /** 1 for the first run of this unit id; each later unit.started (a re-provision) adds one. */
  attempt: number;
  /** Who started the unit's latest attempt. */
  operator: string | null;
  /** When QA last signed this attempt reviewed, or null. */
  reviewedAt: string | null;
  /** The last event that changed this row. */
  lastSeq: number;
}

interface BatchRow {
  id: string;
  name: string;
  recipe_id: string;
  config_sha256: string;
  operator: string | null;
  opened_at: string;
  closed_at: string | null;
  state: BatchState;
  released_at: string | null;
  last_seq: number;
}

interface UnitRow {
  id: string;
  batch_id: string;
  slot: number | null;
  soc: string | null;
  mcu_id: string | null;
  device_id: string | null;
  serial_number: string | null;
  state: UnitState;
  last_step: string | null;
  outcome: UnitOutcome | null;
  error_code: string | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  attempt: number;
  operator: string | null;
  reviewed_at: string | null;
  last_seq: number;
}

/** The envelope fields `resolve` may fill in from what the views already know. */
export interface EnvelopeFields {
  kind: string;
  batch_id: string | null;
  unit_id: string | null;
  slot: number | null;
  supersedes: number | null;
}

const isFinal = (state: UnitState) => FINAL_UNIT_STATES.includes(state);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const reject = (message: string): never => {
  throw new AuditEventRejectedError(`audit event refused: ${message}`);
};

export class Projections {
  private readonly getBatch: Statement<[string], BatchRow>;
  private readonly getUnit: Statement<[string], UnitRow>;
  private readonly getEventUnit: Statement<[number], { unit_id: string | null; batch_id: string | null }>;
  private readonly insertBatch: Statement;
  private readonly closeBatch: Statement;
  private readonly releaseBatch: Statement;
  private readonly insertUnit: Statement;
  private readonly restartUnit: Statement;
  private readonly updateUnit: Statement;

  constructor(private readonly db: Database) {
    this.getBatch = db.prepare('SELECT * FROM batches WHERE id = ?');
    this.getUnit = db.prepare('SELECT * FROM units WHERE id = ?');
    this.getEventUnit = db.prepare('SELECT unit_id, batch_id FROM events WHERE seq = ?');
    this.insertBatch = db.prepare(
      `INSERT INTO batches (id, name, recipe_id, config_sha256, operator, opened_at, state, last_seq)
       VALUES (@id, @name, @recipe_id, @config_sha256, @operator, @opened_at, 'open', @last_seq)`,
    );
    this.closeBatch = db.prepare(
      `UPDATE batches SET state = 'closed', closed_at = @closed_at, last_seq = @last_seq WHERE id = @id`,
    );
    this.releaseBatch = db.prepare(
      `UPDATE batches SET released_at = @released_at, last_seq = @last_seq WHERE id = @id`,
    );
    this.insertUnit = db.prepare(
      `INSERT INTO units (id, batch_id, slot, soc, mcu_id, serial_number, state, started_at, attempt, operator,
                          last_seq)
       VALUES (@id, @batch_id, @slot, @soc, @mcu_id, @serial_number, 'in-progress', @started_at, 1, @operator,
               @last_seq)`,
    );
    // A new attempt is a new record to review: its review starts over.
    this.restartUnit = db.prepare(
      `UPDATE units SET batch_id = @batch_id, slot = @slot, soc = coalesce(@soc, soc),
         mcu_id = coalesce(@mcu_id, mcu_id), serial_number = coalesce(@serial_number, serial_number),
         state = 'in-progress', last_step = NULL, outcome = NULL,
         error_code = NULL, started_at = @started_at, ended_at = NULL, duration_ms = NULL,
         attempt = attempt + 1, operator = @operator, reviewed_at = NULL, last_seq = @last_seq
       WHERE id = @id`,
    );
    this.updateUnit = db.prepare(
      `UPDATE units SET soc = @soc, mcu_id = @mcu_id, device_id = @device_id, state = @state,
         last_step = @last_step, outcome = @outcome, error_code = @error_code, ended_at = @ended_at,
         duration_ms = @duration_ms, reviewed_at = @reviewed_at, last_seq = @last_seq
       WHERE id = @id`,
    );
  }

  /** Checks the event against the current views and fills in batch_id and slot for events about a known unit. */
  resolve(event: EnvelopeFields): void {
    if (event.kind === 'correction' && event.supersedes !== null) {
      const target = this.getEventUnit.get(event.supersedes);
      if (!target) return reject(`correction supersedes event seq ${event.supersedes}, which does not exist`);
      if (event.unit_id !== null && target.unit_id !== null && event.unit_id !== target.unit_id) {
        reject(
          `correction names unit "${event.unit_id}" but event seq ${event.supersedes} is about "${target.unit_id}"`,
        );
      }
      event.unit_id ??= target.unit_id;
      event.batch_id ??= target.batch_id;
    }
    if (event.kind.startsWith('batch.') || event.kind === 'unit.started') {
      const batchId = event.batch_id ?? reject(`${event.kind} needs a batchId`);
      const batch = this.getBatch.get(batchId);
      if (event.kind === 'batch.opened' && batch) reject(`batch "${batchId}" was already opened`);
      if (event.kind !== 'batch.opened' && !batch) reject(`batch "${batchId}" was never opened`);
      if (event.kind !== 'batch.opened' && batch?.state === 'closed') reject(`batch "${batchId}" is closed`);
      return;
    }
    if (event.unit_id === null) return;
    const unit = this.getUnit.get(event.unit_id);
    if (!unit) {
      if (event.kind === 'correction') return;
      return reject(`unit "${event.unit_id}" was never started (record unit.started first)`);
    }
    if (event.batch_id !== null && event.batch_id !== unit.batch_id) {
      reject(`unit "${unit.id}" belongs to batch "${unit.batch_id}", not "${event.batch_id}"`);
    }
    event.batch_id = unit.batch_id;
    event.slot ??= unit.slot;
    const needsUnfinished = [
      'step.started',
      'step.intent',
      'step.finished',
      'unit.attention',
      'unit.finished',
    ];
    if (needsUnfinished.includes(event.kind) && isFinal(unit.state)) {
      reject(
        `unit "${unit.id}" already ended (${unit.state}); start a new attempt with unit.started, ` +
          'or record a correction',
      );
    }
  }

  /** The reducer: how each kind changes the views. Kinds not named here only add to the trail. */
  apply(event: EventRowFields): void {
    const d = event.details;
    const seq = event.seq;
    switch (event.kind) {
      case 'batch.opened':
        this.insertBatch.run({
          id: event.batch_id,
          name: str(d.name),
          recipe_id: str(d.recipeId),
          config_sha256: str(d.configSha256),
          operator: event.operator,
          opened_at: event.at,
          last_seq: seq,
        });
        return;
      case 'batch.closed':
        this.closeBatch.run({ id: event.batch_id, closed_at: event.at, last_seq: seq });
        return;
      case 'unit.started': {
        const row = {
          id: event.unit_id,
          batch_id: event.batch_id,
          slot: event.slot,
          soc: str(d.soc) ?? null,
          mcu_id: str(d.mcuId) ?? null,
          serial_number: str((d.scan as Record<string, unknown> | undefined)?.serialNumber) ?? null,
          started_at: event.at,
          operator: event.operator,
          last_seq: seq,
        };
        if (this.getUnit.get(event.unit_id ?? '')) this.restartUnit.run(row);
        else this.insertUnit.run(row);
        return;
      }
      case 'unit.identified':
        return this.changeUnit(event, (u) => {
          u.soc = str(d.soc) ?? u.soc;
          u.mcu_id = str(d.mcuId) ?? u.mcu_id;
          u.device_id = str(d.deviceId) ?? u.device_id;
        });
      case 'step.started':
      case 'step.finished':
        return this.changeUnit(event, (u) => {
          u.last_step = event.step;
        });
      case 'unit.attention':
        return this.changeUnit(event, (u) => {
          u.state = 'attention';
          u.error_code = str(d.errorCode) ?? u.error_code;
        });
      case 'unit.finished':
        return this.changeUnit(event, (u) => {
          const outcome: UnitOutcome =
            event.outcome === 'passed' || event.outcome === 'cancelled' ? event.outcome : 'failed';
          u.state = outcome;
          u.outcome = outcome;
          u.error_code = str(d.errorCode) ?? (outcome === 'passed' ? null : u.error_code);
          u.device_id = str(d.deviceId) ?? u.device_id;
          u.ended_at = event.at;
          u.duration_ms =
            typeof d.durationMs === 'number' ? d.durationMs : Date.parse(event.at) - Date.parse(u.started_at);
        });
      case 'unit.voided':
        return this.changeUnit(event, (u) => {
          u.state = 'voided';
          u.ended_at ??= event.at;
        });
      case 'signature': {
        const subject = d.subject as { type?: unknown; id?: unknown } | undefined;
        // A signature is about exactly the record its envelope names, so queries by unit or batch find it.
        if (
          subject?.type === 'unit' &&
          (event.unit_id !== subject.id || !this.getUnit.get(String(subject.id)))
        )
          return reject(
            `a signature on unit "${String(subject?.id)}" must name that started unit as its unitId`,
          );
        if (
          subject?.type === 'batch' &&
          (event.batch_id !== subject.id || event.unit_id !== null || !this.getBatch.get(String(subject.id)))
        )
          return reject(`a signature on batch "${String(subject?.id)}" must name that batch (and no unit)`);
        if (d.meaning === 'reviewed' && subject?.type === 'unit') {
          return this.changeUnit(event, (u) => {
            u.reviewed_at = event.at;
          });
        }
        if (d.meaning === 'released' && subject?.type === 'batch' && typeof subject.id === 'string') {
          this.releaseBatch.run({ id: subject.id, released_at: event.at, last_seq: seq });
        }
        return;
      }
      case 'correction': {
        const set = d.set as Record<string, unknown> | undefined;
        if (!set || Object.keys(set).length === 0) return;
        if (event.unit_id === null || !this.getUnit.get(event.unit_id)) {
          return reject(
            `correction sets unit fields but event seq ${event.supersedes} is about no started unit`,
          );
        }
        return this.changeUnit(event, (u) => {
          if (set.state !== undefined) u.state = set.state as UnitState;
          if (set.outcome !== undefined) u.outcome = set.outcome as UnitRow['outcome'];
          if (set.errorCode !== undefined) u.error_code = set.errorCode as string | null;
          if (set.deviceId !== undefined) u.device_id = set.deviceId as string | null;
          if (set.soc !== undefined) u.soc = set.soc as string | null;
          if (set.mcuId !== undefined) u.mcu_id = set.mcuId as string | null;
        });
      }
    }
  }

  private changeUnit(event: EventRowFields, change: (unit: UnitRow) => void): void {
    const unit = this.getUnit.get(event.unit_id ?? '');
    if (!unit) return; // resolve() already refused events about unknown units
    change(unit);
    this.updateUnit.run({ ...unit, last_seq: event.seq });
  }

  // --- queries -------------------------------------------------------------------------------------------------

  batch(id: string): BatchRecord | null {
    const row = this.getBatch.get(id);
    return row ? toBatchRecord(row) : null;
  }

  unit(id: string): UnitRecord | null {
    const row = this.getUnit.get(id);
    return row ? toUnitRecord(row) : null;
  }

  unitsOfBatch(batchId: string): UnitRecord[] {
    return this.db
      .prepare<[string], UnitRow>('SELECT * FROM units WHERE batch_id = ? ORDER BY started_at, id')
      .all(batchId)
      .map(toUnitRecord);
  }

  openBatches(): BatchRecord[] {
    return this.db
      .prepare<[], BatchRow>("SELECT * FROM batches WHERE state = 'open' ORDER BY opened_at, id")
      .all()
      .map(toBatchRecord);
  }

  unfinishedUnits(): UnitRecord[] {
    return this.db
      .prepare<[], UnitRow>(
        "SELECT * FROM units WHERE state IN ('in-progress', 'attention') ORDER BY started_at, id",
      )
      .all()
      .map(toUnitRecord);
  }

  findUnitByMcuId(soc: string, mcuId: string): UnitRecord | null {
    const row = this.db
      .prepare<[string, string], UnitRow>(
        'SELECT * FROM units WHERE soc = ? AND mcu_id = ? ORDER BY started_at DESC, last_seq DESC LIMIT 1',
      )
      .get(soc, mcuId);
    return row ? toUnitRecord(row) : null;
  }

  /** The batch most recently opened under this name, or null. */
  batchByName(name: string): BatchRecord | null {
    const row = this.db
      .prepare<[string], BatchRow>('SELECT * FROM batches WHERE name = ? ORDER BY opened_at DESC, id LIMIT 1')
      .get(name);
    return row ? toBatchRecord(row) : null;
  }

  /** Units of the batch that passed at or after `since` (an audit timestamp). */
  passedSince(batchId: string, since: string): number {
    return (
      this.db
        .prepare<[string, string], { n: number }>(
          "SELECT count(*) AS n FROM units WHERE batch_id = ? AND state = 'passed' AND ended_at >= ?",
        )
        .get(batchId, since)?.n ?? 0
    );
  }

  /** The unit last started on this slot number in this batch, or null. */
  lastUnitOnSlot(batchId: string, slot: number): UnitRecord | null {
    const row = this.db
      .prepare<[string, number], UnitRow>(
        'SELECT * FROM units WHERE batch_id = ? AND slot = ? ORDER BY last_seq DESC LIMIT 1',
      )
      .get(batchId, slot);
    return row ? toUnitRecord(row) : null;
  }

  /** The last unit that passed with this scanned serial number, or null. */
  passedUnitBySerial(serialNumber: string): UnitRecord | null {
    const row = this.db
      .prepare<[string], UnitRow>(
        "SELECT * FROM units WHERE serial_number = ? AND state = 'passed' ORDER BY ended_at DESC LIMIT 1",
      )
      .get(serialNumber);
    return row ? toUnitRecord(row) : null;
  }

  /** The unit that last passed for this board identity, or null (a locked board seen again). */
  passedUnitByMcuId(soc: string, mcuId: string): UnitRecord | null {
    const row = this.db
      .prepare<[string, string], UnitRow>(
        "SELECT * FROM units WHERE soc = ? AND mcu_id = ? AND state = 'passed' ORDER BY ended_at DESC, last_seq DESC LIMIT 1",
      )
      .get(soc, mcuId);
    return row ? toUnitRecord(row) : null;
  }

  /** Units of the batch that passed on their first attempt. */
  firstPassCount(batchId: string): number {
    return (
      this.db
        .prepare<[string], { n: number }>(
          "SELECT count(*) AS n FROM units WHERE batch_id = ? AND state = 'passed' AND attempt = 1",
        )
        .get(batchId)?.n ?? 0
    );
  }

  stateCounts(batchId: string): Record<UnitState, number> {
    const counts: Record<UnitState, number> = {
      'in-progress': 0,
      passed: 0,
      failed: 0,
      cancelled: 0,
      attention: 0,
      voided: 0,
    };
    const rows = this.db
      .prepare<[string], { state: UnitState; n: number }>(
        'SELECT state, count(*) AS n FROM units WHERE batch_id = ? GROUP BY state',
      )
      .all(batchId);
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }
}

function toBatchRecord(row: BatchRow): BatchRecord {
  return {
    id: row.id,
    name: row.name,
    recipeId: row.recipe_id,
    configSha256: row.config_sha256,
    operator: row.operator,
    openedAt: row.opened_at,
    closedAt: row.closed_at,
    state: row.state,
    releasedAt: row.released_at,
    lastSeq: row.last_seq,
  };
}

function toUnitRecord(row: UnitRow): UnitRecord {
  return {
    id: row.id,
    batchId: row.batch_id,
    slot: row.slot,
    soc: row.soc,
    mcuId: row.mcu_id,
    deviceId: row.device_id,
    serialNumber: row.serial_number,
    state: row.state,
    lastStep: row.last_step,
    outcome: row.outcome,
    errorCode: row.error_code,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms,
    attempt: row.attempt,
    operator: row.operator,
    reviewedAt: row.reviewed_at,
    lastSeq: row.last_seq,
  };
}
