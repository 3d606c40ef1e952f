/**
 * `units.csv`: one row per unit, for a spreadsheet. UTF-8 with a BOM (so Excel reads accents and the odd scanned
 * character right), CRLF line ends, ISO 8601 UTC times exactly as the trail holds them, numbers as numbers.
 *
 * Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and some also after a tab or
 * CR) as a formula. Serial numbers are scanned from labels anyone can print and operator ids are typed, so every
 * text cell that starts with one of those characters gets a leading `'`, which spreadsheets show as text. Number
 * cells are never touched (a negative duration would still be a number).
 */
import { stringify } from 'csv-stringify/sync';
import type { BatchReportData, ReportUnit } from './data';
import { DEFAULT_SHIFT_STARTS, parseShiftStarts, shiftAt } from './shifts';

export const CSV_COLUMNS = [
  'unit_id',
  'serial_number',
  'device_id',
  'soc',
  'mcu_id',
  'slot',
  'slot_name',
  'operator',
  'state',
  'outcome',
  'first_pass',
  'attempts',
  'error_code',
  'failed_step',
  'message',
  'started_at',
  'ended_at',
  'duration_ms',
  'shift',
  'reviewed_at',
  'corrections',
  'notes',
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];
export type CsvCell = string | number | null;
export type CsvRow = Record<CsvColumn, CsvCell>;

const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell a spreadsheet will not run as a formula. */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** The row of one unit, before neutralisation (what the CSV means; tests compare parsed cells with it). */
export function csvRow(unit: ReportUnit, shiftStarts: readonly string[]): CsvRow {
  const shift = shiftAt(Date.parse(unit.endedAt ?? unit.startedAt), shiftStarts);
  return {
    unit_id: unit.id,
    serial_number: unit.serialNumber,
    device_id: unit.deviceId,
    soc: unit.soc,
    mcu_id: unit.mcuId,
    slot: unit.slot,
    slot_name: unit.slotName,
    operator: unit.operator,
    state: unit.state,
    outcome: unit.outcome,
    // 1/0 rather than TRUE/FALSE: a spreadsheet sums it into the first-pass count.
    first_pass: unit.firstPass ? 1 : 0,
    attempts: unit.attempts,
    error_code: unit.errorCode,
    failed_step: unit.failedStep,
    message: unit.message,
    started_at: unit.startedAt,
    ended_at: unit.endedAt,
    duration_ms: unit.durationMs,
    shift: `${shift.date} ${shift.shift}`,
    reviewed_at: unit.reviewedAt,
    corrections: unit.corrections.length,
    notes: unit.notes.length,
  };
}

export function renderCsv(
  data: BatchReportData,
  options: { shifts?: readonly string[] | string } = {},
): Buffer {
  const starts = parseShiftStarts(options.shifts ?? DEFAULT_SHIFT_STARTS);
  const records = data.units.map((unit) => {
    const row = csvRow(unit, starts);
    return CSV_COLUMNS.map((column) => {
      const value = row[column];
      return typeof value === 'string' ? neutraliseCell(value) : value;
    });
  });
  const text = stringify(records, {
    bom: true,
    header: true,
    columns: [...CSV_COLUMNS],
    record_delimiter: 'windows',
  });
  return Buffer.from(text, 'utf8');
}
