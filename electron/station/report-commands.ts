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
import { CentralLookupError } from '../central-review';
import {
  batchStats,
  loadBatchReportData,
  type ReportDetail,
  renderBatchReportHtml,
  ReportError,
  writeBatchReport,
  type BatchReportData,
  type BatchStats,
} from '../reports';
import type { CommandFailure, ReportExport, ReportFormat } from '../station-api';

/**
 * Where a batch's report data comes from: the station's own trail, or (the central QA host) the central record.
 * `version` changes whenever the data may have (the trail grew), so the dashboard's cache knows when to reload.
 */
export interface BatchSource {
  /** Names the record in messages and in an export's manifest. */
  where: string;
  version(batchId: string, stationId?: string): Promise<string>;
  load(batchId: string, detail: ReportDetail, stationId?: string): Promise<BatchReportData>;
  /** The batch's name for the export folder, or null when there is no such batch. */
  name(batchId: string, stationId?: string): Promise<string | null>;
  /** Export from the station's file itself (its key must be the trail's), not from loaded data. */
  file?: string;
  /** The station whose file `file` is: an export checks the trail is its. */
  stationId?: string;
}

/** The station's own trail: a batch of another station is not in it. */
export function trailBatchSource(store: AuditStore): BatchSource {
  const own = (stationId: string | undefined) => {
    if (stationId !== undefined && stationId !== store.stationId) {
      throw new ReportError(
        'REPORT_BATCH_NOT_FOUND',
        `This is station ${store.stationId}: batches of station ${stationId} are in its own record, or the central record.`,
      );
    }
  };
  return {
    where: store.file,
    file: store.file,
    stationId: store.stationId,
    version: async (batchId, stationId) => {
      own(stationId);
      return `${batchId}@${store.lastEvent()?.seq ?? 0}`;
    },
    load: async (batchId, detail, stationId) => {
      own(stationId);
      return loadBatchReportData(store.file, batchId, { detail });
    },
    name: async (batchId, stationId) => {
      own(stationId);
      return store.batch(batchId)?.name ?? null;
    },
  };
}

export interface ReportContext {
  source: BatchSource;
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
  if (error instanceof CentralLookupError) {
    return { ok: false, code: error.code === 'AMBIGUOUS' ? 'BAD_INPUT' : error.code, message: error.message };
  }
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

  private async load(
    batchId: string,
    stationId: string | undefined,
    shifts?: readonly string[],
  ): Promise<{ data: BatchReportData; stats: BatchStats }> {
    const key = `${stationId ?? ''}/${await this.c.source.version(batchId, stationId)}#${shifts?.join(',') ?? ''}`;
    if (this.cached?.key === key) return this.cached;
    const data = await this.c.source.load(batchId, 'full', stationId);
    const stats = batchStats(data, { ...(shifts && { shifts }) });
    this.cached = { key, data, stats };
    return this.cached;
  }

  async dashboard(batchId: string, stationId?: string, shifts?: readonly string[]) {
    try {
      return { ok: true as const, stats: (await this.load(batchId, stationId, shifts)).stats };
    } catch (error) {
      return failure(error);
    }
  }

  async html(batchId: string, stationId?: string) {
    try {
      const { data, stats } = await this.load(batchId, stationId);
      const html = renderBatchReportHtml(data, stats, {
        generatedAt: this.c.now().toISOString(),
        signedBy: { fingerprint: this.c.signer.fingerprint },
      });
      return { ok: true as const, html };
    } catch (error) {
      return failure(error);
    }
  }

  async export(batchId: string, formats: readonly ReportFormat[], stationId?: string) {
    const { source } = this.c;
    let name: string | null;
    try {
      name = await source.name(batchId, stationId);
    } catch (error) {
      return failure(error);
    }
    if (name === null) {
      return {
        ok: false as const,
        code: 'BATCH_NOT_FOUND',
        message: `There is no batch ${batchId} in this station's record.`,
      };
    }
    const stamp = this.c.now().toISOString().replace(/[:.]/g, '-');
    const safeName = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'batch';
    const outDir = join(this.c.reportsDir, `${safeName}-${stamp}`);
    mkdirSync(this.c.reportsDir, { recursive: true });
    try {
      const manifest = await writeBatchReport({
        dbFile: source.file ?? source.where,
        // Not the station's own file: the data is loaded from the source, and signed by this host's key.
        ...(source.file === undefined && {
          loadData: (batch: string, detail: ReportDetail) => source.load(batch, detail, stationId),
        }),
        ...(source.stationId !== undefined && { stationId: source.stationId }),
        batch: batchId,
        formats: [...new Set(formats)],
        outDir,
        signer: this.c.signer,
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
