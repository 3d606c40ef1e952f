/**
 * Opens the central record for the central QA/supervisor host: a read-only pool on the central database (the
 * password from this host's secret store, transactions read-only on the server), the review over it, batch reports
 * from it, and the whole-record walk. The schema must be one this software reads: stations' shipping migrates it,
 * the QA host never writes.
 */
import {
  CENTRAL_MIGRATIONS,
  CentralConfigError,
  describeCentralUrl,
  openCentralPool,
  verifyCentral,
} from '../central';
import { CentralLookupError, CentralReview } from '../central-review';
import type { SecretStore } from '../secrets';
import { StationSetupError } from './environment';
import type { BatchSource } from './report-commands';
import type { CentralRecordSource } from './station';

export interface OpenedCentralRecord {
  source: CentralRecordSource;
  /** The database user may add events: a QA host should connect as a user that can only read. */
  canWrite: boolean;
  close(): Promise<void>;
}

export async function openCentralRecord(
  url: string,
  secrets: SecretStore,
  hostId: string,
): Promise<OpenedCentralRecord> {
  let pool;
  try {
    pool = await openCentralPool(url, secrets, {
      max: 4,
      applicationName: `infuse-station central QA host ${hostId}`,
      readOnly: true,
    });
  } catch (error) {
    if (error instanceof CentralConfigError) throw new StationSetupError(error.message);
    throw error;
  }
  const where = describeCentralUrl(url);
  try {
    const found = await pool
      .query<{ version: number }>('SELECT version FROM central_schema')
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        throw new StationSetupError(
          /central_schema/.test(message)
            ? `${where} holds no central record yet: run \`station sync --central ${where} --once\` on a station first (it creates the schema)`
            : `cannot read the central record at ${where}: ${message} (check the URL, that the database is up, and the password in the secret store: station secret set central-database-password)`,
        );
      });
    const version = found.rows[0]?.version ?? 0;
    if (version !== CENTRAL_MIGRATIONS.length) {
      throw new StationSetupError(
        version < CENTRAL_MIGRATIONS.length
          ? `the central record at ${where} is at schema version ${version}, older than this software reads (${CENTRAL_MIGRATIONS.length}): run \`station sync --once\` from a station with this software version (it migrates the schema), then start the QA host again`
          : `the central record at ${where} is at schema version ${version}, newer than this software knows (${CENTRAL_MIGRATIONS.length}): update this host's software`,
      );
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  // A QA host whose user could add events holds more than it needs: say so, it still starts. (central_ingest runs
  // with its caller's rights, so INSERT on central_events is what writing takes.)
  const canWrite = await pool
    .query<{ yes: boolean }>("SELECT has_table_privilege(current_user, 'central_events', 'INSERT') AS yes")
    .then((result) => result.rows[0]?.yes === true)
    .catch(() => false);
  const review = new CentralReview(pool, where);
  const batches: BatchSource = {
    where: `the central record (${where})`,
    version: async (batchId, stationId) => {
      const found = await review.findBatch(batchId, stationId);
      return `${found.stationId}/${found.batchId}@${await review.batchVersion(found.stationId, found.batchId)}`;
    },
    load: (batchId, detail, stationId) => review.batchReportData(batchId, detail, stationId),
    name: async (batchId, stationId) => {
      try {
        return (await review.findBatch(batchId, stationId)).name;
      } catch (error) {
        if (error instanceof CentralLookupError && error.code === 'BATCH_NOT_FOUND') return null;
        throw error;
      }
    },
  };
  return {
    source: { review, batches, verify: () => verifyCentral(pool) },
    canWrite,
    close: () => pool.end().catch(() => undefined),
  };
}
