/**
 * One export: read the batch once, compute its stats once, write each requested format into a new folder, and
 * sign a manifest of what was written. The manifest is written last, so a folder with a manifest is a finished
 * export; if anything fails on the way, the files already written are removed again.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { verifyAuditChain, type TrailSigner } from '../audit';
import { renderCfx } from './cfx';
import { renderCsv } from './csv';
import { loadBatchReportData, type BatchReportData, type ReportDetail } from './data';
import { ReportError } from './errors';
import { pdfPageTemplates, renderBatchReportHtml, type ReportHtmlExtras } from './html';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  signManifest,
  type ManifestFile,
  type ReportManifest,
} from './manifest';
import { renderUnitsJson } from './openhtf';
import { startChromium, type ChromiumSession, type PdfPrinter } from './pdf';
import { batchStats, type BatchStats } from './stats';

export const REPORT_FORMATS = ['csv', 'json', 'cfx', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The file each format writes. */
export const REPORT_FILES: Record<ReportFormat, string> = {
  csv: 'units.csv',
  json: 'units.json',
  cfx: 'units-tested.cfx.json',
  pdf: 'report.pdf',
};

/** `csv,pdf` (or a list) as formats, in the order given, each once; a clear error for anything else. */
export function parseFormats(value: string | readonly string[]): ReportFormat[] {
  const parts = (typeof value === 'string' ? value.split(',') : [...value]).map((p) =>
    p.trim().toLowerCase(),
  );
  const formats: ReportFormat[] = [];
  for (const part of parts.filter(Boolean)) {
    if (!(REPORT_FORMATS as readonly string[]).includes(part)) {
      throw new ReportError(
        'REPORT_BAD_OPTION',
        `unknown report format ${JSON.stringify(part)}: choose from ${REPORT_FORMATS.join(', ')} (comma-separated)`,
      );
    }
    if (!formats.includes(part as ReportFormat)) formats.push(part as ReportFormat);
  }
  if (formats.length === 0)
    throw new ReportError(
      'REPORT_BAD_OPTION',
      `no report format given: choose from ${REPORT_FORMATS.join(', ')}`,
    );
  return formats;
}

/** `html` is part of `pdf`; with several formats the PDF prints while the others are written. */
export type ReportPhase = 'load' | 'stats' | 'verify-trail' | 'html' | ReportFormat;

export interface WriteBatchReportOptions {
  /** The station's audit SQLite file (opened read-only). */
  dbFile: string;
  /**
   * The batch's data from elsewhere than `dbFile` (the central record, read by the central QA host): the export is
   * then signed by that host's key, not the key of the station that wrote the trail (the data names that key).
   */
  loadData?: (batch: string, detail: ReportDetail) => Promise<BatchReportData>;
  /** Batch name (the most recent of that name) or id. */
  batch: string;
  /** Default: all four. */
  formats?: readonly ReportFormat[];
  /** A new or empty folder. */
  outDir: string;
  /** The station's identity key: signs the manifest. */
  signer: TrailSigner;
  /** When given, the trail must be this station's. */
  stationId?: string;
  /** Default: headless Chromium, started as the export begins. */
  printPdf?: PdfPrinter;
  /** UTC shift start times (default 06:00, 14:00, 22:00). */
  shifts?: readonly string[] | string;
  /** Also walk the whole trail (every hash and checkpoint against this key) and print the outcome in the PDF. */
  verifyTrail?: boolean;
  /** The export's time (tests pin it). */
  now?: () => Date;
  /** Told how long each phase took, in ms (the bench). */
  onTiming?: (phase: ReportPhase, ms: number) => void;
}

export interface WriteBatchReportResult {
  manifest: ReportManifest;
  data: BatchReportData;
  stats: BatchStats;
}

/**
 * Writes chunks to a file in ~1 MB writes, hashing as it goes, and lets the event loop run between writes: while
 * this writes units.json, Chromium can be printing the PDF in its own process.
 */
async function writeFileHashed(
  path: string,
  chunks: Iterable<string | Buffer>,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  const fd = openSync(path, 'wx');
  let bytes = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (pendingBytes === 0) return;
    const buffer = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
    hash.update(buffer);
    bytes += buffer.length;
    pending = [];
    pendingBytes = 0;
  };
  try {
    for (const chunk of chunks) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      pending.push(buffer);
      pendingBytes += buffer.length;
      if (pendingBytes >= 1 << 20) {
        flush();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), bytes };
}

function prepareOutDir(outDir: string): boolean {
  if (existsSync(outDir)) {
    const entries = readdirSync(outDir);
    if (entries.length > 0) {
      throw new ReportError(
        'REPORT_BAD_OPTION',
        `${outDir} already holds files (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}): give a new or empty folder, so the signed manifest describes exactly what is in it`,
      );
    }
    return false;
  }
  mkdirSync(outDir, { recursive: true });
  return true;
}

export async function writeBatchReport(options: WriteBatchReportOptions): Promise<ReportManifest> {
  return (await writeBatchReportDetailed(options)).manifest;
}

/** writeBatchReport, also handing back the data and stats it used (for a summary without reading them again). */
export async function writeBatchReportDetailed(
  options: WriteBatchReportOptions,
): Promise<WriteBatchReportResult> {
  const formats = options.formats ? parseFormats(options.formats) : [...REPORT_FORMATS];
  const generatedAt = (options.now?.() ?? new Date()).toISOString();
  const time = <T>(phase: ReportPhase, work: () => T): T => {
    const start = performance.now();
    const result = work();
    options.onTiming?.(phase, performance.now() - start);
    return result;
  };
  // Chromium starts first and boots in its own process while the trail is read (a moment's yield lets it spawn).
  const chromium = formats.includes('pdf') && !options.printPdf ? startChromium() : null;
  if (chromium) await new Promise((resolve) => setTimeout(resolve, 5));
  try {
    return await exportBatch(options, formats, generatedAt, time, chromium);
  } finally {
    await chromium?.close();
  }
}

async function exportBatch(
  options: WriteBatchReportOptions,
  formats: ReportFormat[],
  generatedAt: string,
  time: <T>(phase: ReportPhase, work: () => T) => T,
  chromium: ChromiumSession | null,
): Promise<WriteBatchReportResult> {
  // Only units.json and the CFX message carry measurements, logs and backend calls: the rest need a lighter scan.
  const detail = formats.includes('json') || formats.includes('cfx') ? 'full' : 'summary';
  let data: BatchReportData;
  if (options.loadData) {
    const start = performance.now();
    data = await options.loadData(options.batch, detail);
    options.onTiming?.('load', performance.now() - start);
    if (options.verifyTrail) {
      throw new ReportError(
        'REPORT_BAD_OPTION',
        'a whole-trail walk runs over a station file: run `station central verify` for the central record',
      );
    }
  } else {
    data = time('load', () => loadBatchReportData(options.dbFile, options.batch, { detail }));
    checkStation(data, options);
  }
  const stats = time('stats', () =>
    batchStats(data, { ...(options.shifts !== undefined && { shifts: options.shifts }) }),
  );
  let trailVerification: ReportHtmlExtras['trailVerification'] = null;
  if (options.verifyTrail) {
    trailVerification = time('verify-trail', () => {
      const verified = verifyAuditChain(options.dbFile, {
        expectKey: { publicKey: options.signer.publicKey },
        replayViews: false,
      });
      return verified.ok
        ? {
            ok: true,
            message: `${verified.events} events, every hash and ${verified.checkpoints} checkpoint signatures checked against ${verified.signedBy ?? 'the station key'}`,
          }
        : { ok: false, message: verified.message };
    });
  }

  const created = prepareOutDir(options.outDir);
  const written: string[] = [];
  const write = async (name: string, chunks: Iterable<string | Buffer>): Promise<ManifestFile> => {
    const path = join(options.outDir, name);
    written.push(path);
    return { name, ...(await writeFileHashed(path, chunks)) };
  };
  const files = new Map<ReportFormat, ManifestFile>();
  let pdf: Promise<ManifestFile> | null = null;
  try {
    if (formats.includes('pdf')) {
      // The PDF goes first: Chromium lays out and prints it while the other formats are written here.
      const start = performance.now();
      const html = time('html', () =>
        renderBatchReportHtml(data, stats, {
          generatedAt,
          signedBy: { fingerprint: options.signer.fingerprint },
          exportFiles: formats.map((f) => REPORT_FILES[f]),
          trailVerification,
        }),
      );
      const printer = options.printPdf ?? chromium!.print;
      pdf = printer(html, pdfPageTemplates(data, generatedAt)).then(async (bytes) => {
        const file = await write(REPORT_FILES.pdf, [bytes]);
        options.onTiming?.('pdf', performance.now() - start);
        return file;
      });
      // Awaited below; until then a failure must not count as unhandled.
      pdf.catch(() => undefined);
    }
    for (const format of formats) {
      if (format === 'pdf') continue;
      const start = performance.now();
      const name = REPORT_FILES[format];
      const chunks =
        format === 'csv'
          ? [renderCsv(data, { shifts: stats.shiftStarts })]
          : format === 'json'
            ? renderUnitsJson(data, stats, generatedAt)
            : renderCfx(data, generatedAt);
      files.set(format, await write(name, chunks));
      options.onTiming?.(format, performance.now() - start);
    }
    if (pdf) files.set('pdf', await pdf);
    const manifest = signManifest(
      {
        format: MANIFEST_FORMAT,
        batch: { id: data.batch.id, name: data.batch.name },
        stationId: data.stationId,
        generatedAt,
        counts: { ...stats.counts, firstPass: stats.firstPass },
        chainHead: data.chain.head && { seq: data.chain.head.seq, hash: data.chain.head.hash },
        files: formats.map((format) => files.get(format)!),
      },
      options.signer,
    );
    await write(MANIFEST_FILE, [`${JSON.stringify(manifest, null, 2)}\n`]);
    return { manifest, data, stats };
  } catch (error) {
    await pdf?.catch(() => undefined);
    // No half export: a folder without its manifest would only confuse whoever finds it.
    for (const path of written) rmSync(path, { force: true });
    if (created) rmSync(options.outDir, { recursive: true, force: true });
    throw error;
  }
}

/** The trail must be the one this station (and its key) wrote, or the export could never verify against it. */
function checkStation(data: BatchReportData, options: WriteBatchReportOptions): void {
  if (options.stationId !== undefined && options.stationId !== data.stationId) {
    throw new ReportError(
      'REPORT_WRONG_STATION',
      `the trail ${options.dbFile} belongs to station ${JSON.stringify(data.stationId)}, not ${JSON.stringify(options.stationId)}: export it with that station's config and secrets`,
    );
  }
  const keys = data.chain.stationKeys;
  if (keys.length > 0 && !keys.some((key) => key.fingerprint === options.signer.fingerprint)) {
    throw new ReportError(
      'REPORT_WRONG_STATION',
      `this station's key ${options.signer.fingerprint} is not the key the trail records (${keys
        .map((k) => k.fingerprint)
        .join(', ')}): make the report with the secrets of the station that wrote the trail (--secrets-dir)`,
    );
  }
}
