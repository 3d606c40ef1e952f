/**
 * `units.json`: every unit's full record, shaped like an OpenHTF test record (openhtf/core/test_record.py) so tools
 * that read those read ours: one record per unit (its latest attempt; earlier attempts under
 * `metadata.earlier_attempts`), one phase per workflow step. What OpenHTF has no field for (the station's own unit
 * state, slot, scan, notes, corrections) goes into `metadata`; README.md lists every field.
 */
import { createHash } from 'node:crypto';
import type { BatchReportData, ReportAttempt, ReportStep, ReportUnit, UnitStateName } from './data';
import type { BatchStats } from './stats';

export type OpenHtfOutcome = 'PASS' | 'FAIL' | 'ERROR' | 'ABORTED';
export type OpenHtfPhaseOutcome = 'PASS' | 'FAIL' | 'SKIP' | 'ERROR';

export interface OpenHtfMeasurement {
  name: string;
  /** PASS when the step recorded a value (the station sets no validators), UNSET when it recorded null. */
  outcome: 'PASS' | 'UNSET';
  measured_value?: unknown;
}

export interface OpenHtfAttachment {
  mimetype: string;
  sha1: string;
  size: number;
  /** The content, base64 (as OpenHTF's JSON output inlines attachments). */
  data: string;
}

export interface OpenHtfPhase {
  name: string;
  start_time_millis: number | null;
  end_time_millis: number | null;
  outcome: OpenHtfPhaseOutcome;
  measurements: Record<string, OpenHtfMeasurement>;
  attachments: Record<string, OpenHtfAttachment>;
  /** The station's additions: the step's place, its error, what it was about to do. */
  index: number | null;
  duration_ms: number | null;
  error: { code: string | null; description: string | null; retry_safe: boolean | null } | null;
}

export interface OpenHtfLogRecord {
  /** Python logging levels: 10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR. */
  level: number;
  logger_name: string;
  source: string;
  lineno: number;
  timestamp_millis: number;
  message: string;
}

export interface OpenHtfRecord {
  dut_id: string;
  station_id: string;
  start_time_millis: number;
  end_time_millis: number | null;
  outcome: OpenHtfOutcome | null;
  outcome_details: Array<{ code: string; description: string }>;
  metadata: Record<string, unknown>;
  phases: OpenHtfPhase[];
  log_records: OpenHtfLogRecord[];
}

const millis = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

/** The unit's station state as an OpenHTF outcome; null while it is still running (OpenHTF's "not finished"). */
export function openHtfOutcome(state: UnitStateName): OpenHtfOutcome | null {
  switch (state) {
    case 'passed':
      return 'PASS';
    case 'failed':
      return 'FAIL';
    case 'attention':
      return 'ERROR';
    case 'cancelled':
    case 'voided':
      return 'ABORTED';
    case 'in-progress':
      return null;
  }
}

function phaseOutcome(step: ReportStep): OpenHtfPhaseOutcome {
  if (step.outcome === 'passed') return 'PASS';
  if (step.outcome === 'failed') return 'FAIL';
  if (step.outcome === 'skipped') return 'SKIP';
  return 'ERROR';
}

function attachment(mimetype: string, text: string): OpenHtfAttachment {
  const bytes = Buffer.from(text, 'utf8');
  return {
    mimetype,
    sha1: createHash('sha1').update(bytes).digest('hex'),
    size: bytes.length,
    data: bytes.toString('base64'),
  };
}

function phase(step: ReportStep): OpenHtfPhase {
  const measurements: Record<string, OpenHtfMeasurement> = {};
  for (const [name, value] of Object.entries(step.measurements)) {
    measurements[name] =
      value === null || value === undefined
        ? { name, outcome: 'UNSET' }
        : { name, outcome: 'PASS', measured_value: value };
  }
  const attachments: Record<string, OpenHtfAttachment> = {};
  const boardLines = step.log.filter((l) => l.source === 'board').flatMap((l) => l.lines);
  if (boardLines.length > 0)
    attachments['board.log'] = attachment('text/plain', `${boardLines.join('\n')}\n`);
  if (step.backend.length > 0)
    attachments['backend-requests.json'] = attachment('application/json', JSON.stringify(step.backend));
  return {
    name: step.name,
    start_time_millis: millis(step.startedAt),
    end_time_millis: millis(step.endedAt),
    outcome: phaseOutcome(step),
    measurements,
    attachments,
    index: step.index,
    duration_ms: step.durationMs,
    error:
      step.errorCode !== null || step.message !== null
        ? { code: step.errorCode, description: step.message, retry_safe: step.retrySafe }
        : null,
  };
}

function logRecords(attempt: ReportAttempt, unit: ReportUnit, latest: boolean): OpenHtfLogRecord[] {
  const records: OpenHtfLogRecord[] = [];
  const push = (level: number, logger: string, source: string, at: string, message: string) =>
    records.push({
      level,
      logger_name: logger,
      source,
      lineno: 0,
      timestamp_millis: Date.parse(at),
      message,
    });
  for (const step of attempt.steps) {
    for (const intent of step.intents) push(20, 'station.intent', step.name, intent.at, intent.action);
    for (const log of step.log) {
      // The board's own output is the phase's board.log attachment; what the station and backend said is logged.
      if (log.source === 'board') continue;
      for (const line of log.lines) push(20, log.source, step.name, log.at, line);
    }
    if (step.outcome === 'failed' && step.endedAt !== null)
      push(
        40,
        'station',
        step.name,
        step.endedAt,
        `${step.errorCode ?? 'FAILED'}: ${step.message ?? ''}`.trim(),
      );
  }
  if (attempt.attention) push(30, 'station', 'unit', attempt.attention.at, attempt.attention.reason);
  if (latest) {
    for (const note of unit.notes) push(20, 'qa.note', note.operator ?? '', note.at, note.text);
    for (const correction of unit.corrections)
      push(30, 'qa.correction', correction.operator ?? '', correction.at, correction.reason);
  }
  return records.sort((a, b) => a.timestamp_millis - b.timestamp_millis);
}

function outcomeDetails(
  code: string | null,
  message: string | null,
  step: string | null,
): Array<{ code: string; description: string }> {
  if (code === null && message === null) return [];
  return [{ code: code ?? 'FAILED', description: `${message ?? ''}${step ? ` (step ${step})` : ''}`.trim() }];
}

function attemptSummary(attempt: ReportAttempt, unit: ReportUnit) {
  const outcome: OpenHtfOutcome | null =
    attempt.outcome === 'passed'
      ? 'PASS'
      : attempt.outcome === 'failed'
        ? 'FAIL'
        : attempt.outcome === 'cancelled'
          ? 'ABORTED'
          : attempt.attention
            ? 'ERROR'
            : null;
  return {
    attempt: attempt.attempt,
    start_time_millis: Date.parse(attempt.startedAt),
    end_time_millis: millis(attempt.endedAt),
    outcome,
    outcome_details: outcomeDetails(attempt.errorCode, attempt.message, attempt.failedStep),
    operator: attempt.operator,
    slot: attempt.slot,
    slot_name: attempt.slotName,
    phases: attempt.steps.map(phase),
    log_records: logRecords(attempt, unit, false),
  };
}

export function openHtfRecord(unit: ReportUnit, data: BatchReportData): OpenHtfRecord {
  const latest = unit.attemptRecords.at(-1) ?? null;
  const details = outcomeDetails(
    unit.state === 'passed' ? null : unit.errorCode,
    unit.state === 'passed' ? null : unit.message,
    unit.failedStep,
  );
  if (unit.state === 'voided')
    details.push({ code: 'VOIDED', description: unit.voided?.reason ?? 'the unit was voided' });
  if (unit.corrections.length > 0)
    details.push({
      code: 'CORRECTED',
      description: `corrected by ${unit.corrections.map((c) => `seq ${c.seq}`).join(', ')}`,
    });
  return {
    dut_id: unit.serialNumber ?? unit.deviceId ?? unit.id,
    station_id: data.stationId,
    start_time_millis: Date.parse(unit.startedAt),
    end_time_millis: millis(unit.endedAt),
    outcome: openHtfOutcome(unit.state),
    outcome_details: details,
    metadata: {
      unit_id: unit.id,
      batch_id: data.batch.id,
      batch_name: data.batch.name,
      recipe_id: data.batch.recipeId,
      serial_number: unit.serialNumber,
      device_id: unit.deviceId,
      soc: unit.soc,
      mcu_id: unit.mcuId,
      firmware_version: unit.firmwareVersion,
      slot: unit.slot,
      slot_name: unit.slotName,
      operator: unit.operator,
      station_state: unit.state,
      attempt: latest?.attempt ?? unit.attempts,
      attempts: unit.attempts,
      first_pass: unit.firstPass,
      duration_ms: unit.durationMs,
      reviewed_at: unit.reviewedAt,
      voided: unit.voided,
      scan: latest?.scan ?? {},
      notes: unit.notes,
      corrections: unit.corrections,
      earlier_attempts: unit.attemptRecords.slice(0, -1).map((a) => attemptSummary(a, unit)),
    },
    phases: latest?.steps.map(phase) ?? [],
    log_records: latest ? logRecords(latest, unit, true) : [],
  };
}

export const UNITS_JSON_FORMAT = 'infuse-station.units/1';

/**
 * The file, in pieces: the header (batch, stats, signatures, corrections) and then one record at a time, so a
 * 10,000-unit batch is never one giant string.
 */
export function* renderUnitsJson(
  data: BatchReportData,
  stats: BatchStats,
  generatedAt: string,
): Generator<string> {
  const header = {
    format: UNITS_JSON_FORMAT,
    batch: data.batch,
    station_id: data.stationId,
    environment: data.environment,
    generated_at: generatedAt,
    chain_head: data.chain.head && { seq: data.chain.head.seq, hash: data.chain.head.hash },
    stats,
    signatures: data.signatures,
    corrections: data.corrections,
    notes: data.notes,
    retry_authorizations: data.retryAuthorizations,
  };
  const text = JSON.stringify(header);
  yield `${text.slice(0, -1)},"records":[`;
  let first = true;
  for (const unit of data.units) {
    yield `${first ? '\n' : ',\n'}${JSON.stringify(openHtfRecord(unit, data))}`;
    first = false;
  }
  yield '\n]}\n';
}
