/**
 * One station's shipping, set up as `station sync` and the station service both need it: the pool on the central
 * database (password from the secret store), the shipper over the station's trail, and what may be shown of the
 * URL. A bad URL throws CentralConfigError (each host turns it into its own kind of error).
 */
import type { SecretStore } from '../secrets';
import { describeCentralUrl, openCentralPool } from './connection';
import { TrailShipper, type StationRegistration } from './shipper';

export interface TrailShipping {
  shipper: TrailShipper;
  /** The database as it may be shown (no password). */
  where: string;
  close(): Promise<void>;
}

export async function openTrailShipping(input: {
  url: string;
  secrets: SecretStore;
  databaseFile: string;
  station: StationRegistration;
  publicKey: Buffer;
  batchSize?: number;
}): Promise<TrailShipping> {
  const pool = await openCentralPool(input.url, input.secrets, {
    applicationName: `infuse-station ${input.station.id}`,
  });
  let shipper: TrailShipper;
  try {
    shipper = new TrailShipper({
      databaseFile: input.databaseFile,
      station: input.station,
      publicKey: input.publicKey,
      pool,
      ...(input.batchSize !== undefined && { batchSize: input.batchSize }),
    });
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return {
    shipper,
    where: describeCentralUrl(input.url),
    async close() {
      shipper.close();
      await pool.end().catch(() => undefined);
    },
  };
}
