/**
 * The supervisor's dashboard and batch reports, run by the station over its own trail (electron/reports). The
 * dashboard's numbers are cached per batch until the trail grows, so a screen that refreshes does not reload a
 * 10,000-unit batch each time. Exports go into the station's reports folder, signed with its identity key; small
 * files travel back to the UI for a download, big ones (a 10,000-unit units.json) stay on the station.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AuditStore, TrailSigner } from '../audit';
import {
  batchStats,
  loadBatchReportData,
  renderBatchReportHtml,
  ReportError,
  writeBatchReport,
  type BatchReportData,
  type BatchStats,
} from '../reports';
import type { CommandFailure, ReportExport, ReportFormat } from '../station-api';

export interface ReportContext {
  store: AuditStore;
  signer: TrailSigner;
  now: () => Date;
  /** Where exports are written: a folder per export. */
  reportsDir: string;
}

/** Files up to this size are sent to the UI for a download. */
const MAX_INLINE_BYTES = 8 * 1024 * 1024;

const MEDIA_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
};

export function reportsDirFor(databaseFile: string): string {
  return join(dirname(databaseFile), 'reports');
}

function failure(error: unknown): CommandFailure {
  if (error instanceof ReportError) {
    const code =
      error.code === 'REPORT_BATCH_NOT_FOUND'
        ? 'BATCH_NOT_FOUND'
        : error.code === 'REPORT_BAD_OPTION'
          ? 'BAD_INPUT'
          : error.code;
    return { ok: false, code, message: error.message };
  }
  throw error;
}

export class ReportCommands {
  private cached: { key: string; data: BatchReportData; stats: BatchStats } | null = null;

  constructor(private readonly c: ReportContext) {}

  private load(batchId: string, shifts?: readonly string[]): { data: BatchReportData; stats: BatchStats } {
    const key = `${batchId}@${this.c.store.lastEvent()?.seq ?? 0}#${shifts?.join(',') ?? ''}`;
    if (this.cached?.key === key) return this.cached;
    const data = loadBatchReportData(this.c.store.file, batchId);
    const stats = batchStats(data, { ...(shifts && { shifts }) });
    this.cached = { key, data, stats };
    return this.cached;
  }

  dashboard(batchId: string, shifts?: readonly string[]) {
    try {
      return { ok: true as const, stats: this.load(batchId, shifts).stats };
    } catch (error) {
      return failure(error);
    }
  }

  html(batchId: string) {
    try {
      const { data, stats } = this.load(batchId);
      const html = renderBatchReportHtml(data, stats, {
        generatedAt: this.c.now().toISOString(),
        signedBy: { fingerprint: this.c.signer.fingerprint },
      });
      return { ok: true as const, html };
    } catch (error) {
      return failure(error);
    }
  }

  async export(batchId: string, formats: readonly ReportFormat[]) {
    const batch = this.c.store.batch(batchId);
    if (!batch) {
      return {
        ok: false as const,
        code: 'BATCH_NOT_FOUND',
        message: `There is no batch ${batchId} in this station's record.`,
      };
    }
    const stamp = this.c.now().toISOString().replace(/[:.]/g, '-');
    const safeName = batch.name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'batch';
    const outDir = join(this.c.reportsDir, `${safeName}-${stamp}`);
    mkdirSync(this.c.reportsDir, { recursive: true });
    try {
      const manifest = await writeBatchReport({
        dbFile: this.c.store.file,
        batch: batchId,
        formats: [...new Set(formats)],
        outDir,
        signer: this.c.signer,
        stationId: this.c.store.stationId,
        now: this.c.now,
      });
      const files: ReportExport['files'] = manifest.files.map((file) => {
        const extension = /\.[a-z]+$/.exec(file.name)?.[0] ?? '';
        return {
          name: file.name,
          sha256: file.sha256,
          bytes: file.bytes,
          mediaType: MEDIA_TYPES[extension] ?? 'application/octet-stream',
          contentBase64:
            file.bytes <= MAX_INLINE_BYTES ? readFileSync(join(outDir, file.name)).toString('base64') : null,
        };
      });
      const manifestBytes = readFileSync(join(outDir, 'manifest.json'));
      files.push({
        name: 'manifest.json',
        sha256: createHash('sha256').update(manifestBytes).digest('hex'),
        bytes: manifestBytes.length,
        mediaType: 'application/json',
        contentBase64: manifestBytes.toString('base64'),
      });
      return {
        ok: true as const,
        export: {
          dir: outDir,
          manifest: {
            batch: manifest.batch,
            generatedAt: manifest.generatedAt,
            chainHead: manifest.chainHead,
            keyFingerprint: manifest.keyFingerprint,
          },
          files,
        },
      };
    } catch (error) {
      return failure(error);
    }
  }
}
