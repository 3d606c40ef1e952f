/**
 * A batch export end to end on a real trail (the real AuditStore, a real SQLite file) and real Chromium: every
 * format reads back to the numbers `batchStats` gives (CSV through csv-parse, units.json, the CFX message, the PDF's
 * text through pdftotext), the scanned `=HYPERLINK("x")` comes out of the CSV as text, and the signed manifest
 * verifies, and then names what was changed: one byte of a file, a missing file, the signature, the counts, a
 * trail whose head is not the one exported, a key the trail does not record. The PDF's first pages are rendered
 * to test-results/reports/ for a person to look at.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateStationKey, signerFromSeed } from '../../../electron/audit/index';
import {
  batchStats,
  CSV_COLUMNS,
  csvRow,
  DEFAULT_SHIFT_STARTS,
  loadBatchReportData,
  neutraliseCell,
  ReportError,
  verifyReportDir,
  writeBatchReportDetailed,
  type BatchReportData,
  type BatchStats,
  type ReportManifest,
} from '../../../electron/reports/index';
import { tempDir } from '../../support/temp-dirs';
import { buildReportTrail, FORMULA_SERIAL, REPORT_STATION, type ReportTrail } from './report-fixture';

const SHOTS = join('test-results', 'reports');
const GENERATED = new Date('2026-11-27T08:00:00.000Z');

let trail: ReportTrail;
let outDir: string;
let manifest: ReportManifest;
let data: BatchReportData;
let stats: BatchStats;
/** The station key's private seed, kept so the test can look for it in every file the export wrote. */
const SEED = generateStationKey().seed;

beforeAll(async () => {
  const dir = tempDir('station-report-');
  trail = buildReportTrail(join(dir, 'audit.sqlite'), {
    units: 60,
    qaEvents: true,
    signer: signerFromSeed(Buffer.from(SEED)),
  });
  outDir = join(dir, 'report');
  ({ manifest, data, stats } = await writeBatchReportDetailed({
    dbFile: trail.file,
    batch: trail.batchName,
    outDir,
    signer: trail.signer,
    stationId: REPORT_STATION,
    now: () => GENERATED,
  }));
}, 60_000);

/** A copy of the export to damage, so each test starts from an intact folder. */
function copyOfExport(): string {
  const copy = join(tempDir('station-report-copy-'), 'report');
  cpSync(outDir, copy, { recursive: true });
  return copy;
}

describe('the export', () => {
  it('writes the four formats and a manifest that lists them with the batch, counts and chain head', () => {
    expect(manifest.files.map((f) => f.name)).toEqual([
      'units.csv',
      'units.json',
      'units-tested.cfx.json',
      'report.pdf',
    ]);
    expect(manifest).toMatchObject({
      batch: { id: trail.batchId, name: trail.batchName },
      stationId: REPORT_STATION,
      generatedAt: GENERATED.toISOString(),
      counts: { ...stats.counts, firstPass: stats.firstPass },
      chainHead: { seq: data.chain.head!.seq, hash: data.chain.head!.hash },
      algorithm: 'ed25519',
      publicKey: trail.signer.publicKey.toString('base64'),
      keyFingerprint: trail.signer.fingerprint,
    });
    // The fixture's plan: failures of three causes, two retried to a pass, one cancelled, one corrected to a pass.
    expect(stats.counts).toMatchObject({ units: 60, passed: 53, failed: 6, cancelled: 1 });
    expect(data.corrections).toHaveLength(1);
    expect(data.signatures.map((s) => [s.meaning, s.subject.type, s.validity])).toEqual([
      ['reviewed', 'unit', 'valid'],
      ['approved', 'batch', 'valid'],
    ]);
  });

  it('never puts the private key anywhere: only the public key and its fingerprint', () => {
    const text = readFileSync(join(outDir, 'manifest.json'), 'utf8');
    expect(text).toContain(trail.signer.fingerprint);
    // The seed in every form it could leak as, in every file of the export (the PDF's text streams included).
    const forms = [SEED.toString('base64'), SEED.toString('hex'), SEED.toString('base64url')];
    for (const name of readdirSync(outDir)) {
      const bytes = readFileSync(join(outDir, name)).toString('latin1');
      for (const form of forms) expect(bytes.includes(form), `${name} holds the private seed`).toBe(false);
    }
  });

  it('finds a batch by id as well as by name, and says which batches exist when neither matches', () => {
    expect(loadBatchReportData(trail.file, trail.batchId).batch.name).toBe(trail.batchName);
    expect(() => loadBatchReportData(trail.file, 'Week 49')).toThrow(
      /no batch named or with id "Week 49" in .*; the most recent batches are "Week 48 sensors"/,
    );
  });

  it('gives the same stats from the light scan the CSV and PDF use', () => {
    const summary = loadBatchReportData(trail.file, trail.batchName, { detail: 'summary' });
    expect(batchStats(summary)).toEqual(stats);
  });
});

describe('units.csv', () => {
  const read = () => readFileSync(join(outDir, 'units.csv'));

  it('is UTF-8 with a BOM and parses back to one row per unit, the same rows and counts as batchStats', () => {
    const bytes = read();
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parse(bytes, { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(data.units.length);
    data.units.forEach((unit, i) => {
      const expected = csvRow(unit, DEFAULT_SHIFT_STARTS);
      for (const column of CSV_COLUMNS) {
        const value = expected[column];
        expect(rows[i]![column], `${unit.id} ${column}`).toBe(
          value === null ? '' : typeof value === 'number' ? String(value) : neutraliseCell(value),
        );
      }
    });
    const count = (state: string) => rows.filter((r) => r.state === state).length;
    expect(count('passed')).toBe(stats.counts.passed);
    expect(count('failed')).toBe(stats.counts.failed);
    expect(count('cancelled')).toBe(stats.counts.cancelled);
    expect(rows.reduce((n, r) => n + Number(r.first_pass), 0)).toBe(stats.firstPass);
  });

  it('writes the scanned formula as text a spreadsheet will not run', () => {
    const rows = parse(read(), { bom: true, columns: true }) as Array<Record<string, string>>;
    const unit = rows.find((r) => r.unit_id === trail.unitIds[2])!;
    expect(unit.serial_number).toBe(`'${FORMULA_SERIAL}`);
    expect(read().toString('utf8')).not.toMatch(/(^|,)"?=HYPERLINK/m);
    // Numbers stay numbers: unquoted digits, no apostrophe.
    expect(read().toString('utf8')).toMatch(new RegExp(`,${unit.duration_ms},`));
  });

  it('shows the correction: the corrected unit passed, with one correction counted', () => {
    const rows = parse(read(), { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(rows.find((r) => r.unit_id === trail.correctedUnitId)).toMatchObject({
      state: 'passed',
      corrections: '1',
    });
  });
});

describe('units.json (OpenHTF-shaped records)', () => {
  const read = () =>
    JSON.parse(readFileSync(join(outDir, 'units.json'), 'utf8')) as {
      format: string;
      batch: { id: string };
      station_id: string;
      generated_at: string;
      stats: BatchStats;
      signatures: unknown[];
      records: Array<{
        dut_id: string;
        station_id: string;
        outcome: string | null;
        outcome_details: Array<{ code: string; description: string }>;
        start_time_millis: number;
        end_time_millis: number | null;
        metadata: Record<string, unknown>;
        phases: Array<{ name: string; outcome: string; measurements: Record<string, unknown> }>;
        log_records: unknown[];
      }>;
    };

  it('holds a record per unit whose outcomes count to the stats', () => {
    const file = read();
    expect(file).toMatchObject({
      format: 'infuse-station.units/1',
      batch: { id: trail.batchId },
      station_id: REPORT_STATION,
      generated_at: GENERATED.toISOString(),
      stats,
    });
    expect(file.signatures).toHaveLength(2);
    expect(file.records).toHaveLength(60);
    const count = (outcome: string) => file.records.filter((r) => r.outcome === outcome).length;
    expect(count('PASS')).toBe(stats.counts.passed);
    expect(count('FAIL')).toBe(stats.counts.failed);
    expect(count('ABORTED')).toBe(stats.counts.cancelled);
  });

  it('shapes each record like OpenHTF: dut, times, outcome details, phases with measurements', () => {
    const records = read().records;
    const formula = records.find((r) => r.metadata.unit_id === trail.unitIds[2])!;
    expect(formula.dut_id).toBe(FORMULA_SERIAL);
    expect(formula.phases.map((p) => p.name)).toEqual([
      'connect',
      'identify',
      'recipe-checks',
      'device-record',
      'key-agreement',
      'write-credentials',
      'verify',
      'finish',
    ]);
    expect(formula.phases[1]!.measurements.soc).toEqual({
      name: 'soc',
      outcome: 'PASS',
      measured_value: 'nRF9151',
    });
    expect(formula.end_time_millis! - formula.start_time_millis).toBeGreaterThan(0);
    const failed = records.find((r) => r.outcome === 'FAIL')!;
    expect(failed.outcome_details[0]!.code).toMatch(/^[A-Z_]+$/);
    expect(failed.phases.at(-1)!.outcome).toBe('FAIL');
    const retried = records.find((r) => r.metadata.attempts === 2)!;
    expect(retried.outcome).toBe('PASS');
    expect(retried.metadata.earlier_attempts).toMatchObject([{ attempt: 1, outcome: 'FAIL' }]);
    const corrected = records.find((r) => r.metadata.unit_id === trail.correctedUnitId)!;
    expect(corrected.outcome).toBe('PASS');
    expect(corrected.outcome_details.map((d) => d.code)).toContain('CORRECTED');
  });
});

describe('units-tested.cfx.json', () => {
  it('is one CFX UnitsTested envelope whose results count to the stats', () => {
    const envelope = JSON.parse(readFileSync(join(outDir, 'units-tested.cfx.json'), 'utf8')) as {
      MessageName: string;
      Version: string;
      TimeStamp: string;
      UniqueID: string;
      Source: string;
      Target: null;
      RequestID: null;
      MessageBody: {
        TransactionId: string;
        TestedUnits: Array<{
          UnitIdentifier: string;
          UnitPositionNumber: number;
          OverallResult: string;
          Tests: Array<{ TestName: string; Result: string; SymptomsFound: Array<{ SymptomCode: string }> }>;
        }>;
      };
    };
    expect(envelope).toMatchObject({
      MessageName: 'CFX.Production.TestAndInspection.UnitsTested',
      Version: '2.1',
      Source: `Infuse.ProvisioningStation.${REPORT_STATION}`,
      Target: null,
      RequestID: null,
    });
    expect(envelope.UniqueID).toMatch(/^[0-9a-f-]{36}$/);
    const units = envelope.MessageBody.TestedUnits;
    expect(units).toHaveLength(60);
    expect(units.filter((u) => u.OverallResult === 'Passed')).toHaveLength(stats.counts.passed);
    expect(units.filter((u) => u.OverallResult === 'Failed')).toHaveLength(stats.counts.failed);
    const failed = units.find((u) => u.OverallResult === 'Failed')!;
    const failing = failed.Tests.find((t) => t.Result === 'Failed')!;
    expect(failing.SymptomsFound[0]!.SymptomCode).toMatch(/^[A-Z_]+$/);
    expect(units.find((u) => u.UnitIdentifier === FORMULA_SERIAL)).toBeDefined();
  });
});

describe('report.pdf', () => {
  it('opens, and its text holds the batch summary, counts, signatures and the chain head', () => {
    const pdf = join(outDir, 'report.pdf');
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    // Reading order, whitespace folded: a phrase wrapped in a table cell reads as one.
    const flow = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    expect(text).toContain(`Batch report: ${trail.batchName}`);
    expect(text).toContain(`Station ${REPORT_STATION}`);
    expect(text).toContain('sensor-v2');
    expect(text).toContain('WO-4711');
    expect(text).toMatch(
      new RegExp(`\\b${stats.counts.units}\\s+${stats.counts.passed}\\s+${stats.counts.failed}\\b`),
    );
    expect(text).toContain(`${(stats.firstPassYield! * 100).toFixed(1)} %`);
    expect(text).toContain('BACKEND_TIMEOUT');
    expect(text).toContain('Quinn QA');
    expect(text).toContain('VALID');
    expect(flow).toContain('False failure: the reference board was');
    expect(text).toContain(String(data.chain.head!.seq));
    expect(text).toMatch(/Page 1\/\d+/);
    // The operator's note is text, not markup.
    expect(flow).toContain('Label <b>smudged</b> & re-printed');
    const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
    expect(info).toMatch(/Page size:\s+59\d\.\d+ x 84\d\.\d+ pts \(A4\)/);
    // Pages for a person to look at.
    mkdirSync(SHOTS, { recursive: true });
    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', pdf, join(SHOTS, 'batch-report-p1')]);
    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '2', '-l', '3', pdf, join(SHOTS, 'batch-report')]);
  });
});

describe('verifying the export', () => {
  it('passes when nothing was changed, also against the trail', () => {
    const result = verifyReportDir(outDir, { dbFile: trail.file, expectKey: trail.signer.fingerprint });
    expect(result).toMatchObject({
      ok: true,
      filesChecked: 4,
      problems: [],
      unlisted: [],
      trail: { headHeld: true, keyRecorded: true },
    });
  });

  it('names the file when one byte of it changed', () => {
    const copy = copyOfExport();
    const file = join(copy, 'units.csv');
    const bytes = readFileSync(file);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0x01;
    writeFileSync(file, bytes);
    const result = verifyReportDir(copy);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      {
        code: 'hash',
        file: 'units.csv',
        message: 'units.csv does not match its SHA-256 in the manifest: the file was changed',
      },
    ]);
  });

  it('names a missing file and a file whose size changed', () => {
    const copy = copyOfExport();
    rmSync(join(copy, 'report.pdf'));
    writeFileSync(join(copy, 'units.json'), '{}');
    expect(verifyReportDir(copy).problems.map((p) => [p.code, p.file])).toEqual([
      ['size', 'units.json'],
      ['missing', 'report.pdf'],
    ]);
  });

  it('fails on a changed signature, and on counts changed in the manifest', () => {
    const copy = copyOfExport();
    const file = join(copy, 'manifest.json');
    const original = JSON.parse(readFileSync(file, 'utf8')) as ReportManifest;
    const signature = Buffer.from(original.signature, 'base64');
    signature[10] = signature[10]! ^ 0x40;
    writeFileSync(file, JSON.stringify({ ...original, signature: signature.toString('base64') }));
    expect(verifyReportDir(copy).problems).toMatchObject([{ code: 'signature', file: 'manifest.json' }]);
    writeFileSync(file, JSON.stringify({ ...original, counts: { ...original.counts, failed: 0 } }));
    expect(verifyReportDir(copy).problems[0]!.message).toMatch(
      /manifest.json was changed after the station signed it/,
    );
  });

  it('fails against another trail: the head is not there, and that trail records another key', () => {
    const other = buildReportTrail(join(tempDir('station-report-other-'), 'audit.sqlite'), {
      units: 8,
      batchId: trail.batchId,
      batchName: trail.batchName,
    });
    const result = verifyReportDir(outDir, { dbFile: other.file });
    expect(result.trail).toEqual({ headHeld: false, keyRecorded: false });
    expect(result.problems.map((p) => p.code)).toEqual(['head', 'wrong-key']);
  });

  it('fails against the same station trail once it no longer holds the head (rewritten, same key)', () => {
    const rewritten = buildReportTrail(join(tempDir('station-report-rewritten-'), 'audit.sqlite'), {
      units: 61,
      batchId: trail.batchId,
      batchName: trail.batchName,
      signer: trail.signer,
      qaEvents: true,
    });
    const result = verifyReportDir(outDir, { dbFile: rewritten.file });
    expect(result.trail).toEqual({ headHeld: false, keyRecorded: true });
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]!.message).toMatch(
      new RegExp(`^the trail's event seq ${manifest.chainHead!.seq} is not the one the export covers`),
    );
  });

  it('lists files the manifest does not cover without failing, and throws for a folder that is no export', () => {
    const copy = copyOfExport();
    writeFileSync(join(copy, 'notes.txt'), 'added later');
    expect(verifyReportDir(copy)).toMatchObject({ ok: true, unlisted: ['notes.txt'] });
    rmSync(join(copy, 'manifest.json'));
    expect(() => verifyReportDir(copy)).toThrow(ReportError);
  });
});

describe('refusals', () => {
  it('refuses a key that is not the one the trail records, and a folder that already holds files', async () => {
    const stranger = signerFromSeed(generateStationKey().seed);
    const dir = join(tempDir('station-report-refused-'), 'out');
    await expect(
      writeBatchReportDetailed({
        dbFile: trail.file,
        batch: trail.batchName,
        outDir: dir,
        signer: stranger,
        formats: ['csv'],
      }),
    ).rejects.toMatchObject({ code: 'REPORT_WRONG_STATION' });
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(outDir, 'units.csv'), join(dir, 'units.csv'));
    await expect(
      writeBatchReportDetailed({
        dbFile: trail.file,
        batch: trail.batchName,
        outDir: dir,
        signer: trail.signer,
        formats: ['csv'],
      }),
    ).rejects.toThrow(/already holds files \(units\.csv\): give a new or empty folder/);
  });

  it('leaves no half export when printing fails', async () => {
    const dir = join(tempDir('station-report-failed-'), 'out');
    await expect(
      writeBatchReportDetailed({
        dbFile: trail.file,
        batch: trail.batchName,
        outDir: dir,
        signer: trail.signer,
        printPdf: () => Promise.reject(new Error('printer on fire')),
      }),
    ).rejects.toThrow('printer on fire');
    expect(() => readFileSync(join(dir, 'units.csv'))).toThrow(/ENOENT/);
  });
});
