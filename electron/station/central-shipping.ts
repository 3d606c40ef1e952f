/**
 * The station ships its own trail to the central database while it runs (`central.url` in the config, or
 * `--central`): the same shipper and loop as `station sync`, in the station's process. Provisioning never waits on
 * it; its status goes onto the event stream (`central.changed`) whenever it changes, so every screen can say how
 * far behind the station is, and into the log.
 */
import type { Logger } from 'pino';
import { CentralConfigError, openTrailShipping, ShippingLoop } from '../central';
import type { SecretStore } from '../secrets';
import type { StationConfig } from '../../station-config';
import type { EventBus } from './event-bus';
import { StationSetupError } from './environment';

export interface CentralShipping {
  stop(): Promise<void>;
}

export async function startCentralShipping(input: {
  url: string;
  intervalMs: number;
  secrets: SecretStore;
  databaseFile: string;
  config: StationConfig;
  publicKey: Buffer;
  bus: EventBus;
  now: () => Date;
  logger?: Logger;
}): Promise<CentralShipping> {
  let shipping;
  try {
    shipping = await openTrailShipping({
      url: input.url,
      secrets: input.secrets,
      databaseFile: input.databaseFile,
      station: input.config.station,
      publicKey: input.publicKey,
      // Small batches: each is checked on the station's event loop before it goes.
      batchSize: 200,
    });
  } catch (error) {
    if (error instanceof CentralConfigError) throw new StationSetupError(error.message);
    throw error;
  }
  const { shipper, where } = shipping;
  const loop = new ShippingLoop({
    shipper,
    url: where,
    intervalMs: input.intervalMs,
    now: input.now,
    onStatus: (status) => {
      input.bus.publish({ kind: 'central.changed', at: input.now().toISOString(), central: status });
      const entry = { event: 'central.status', ...status };
      if (status.state === 'down' || status.state === 'refused') input.logger?.warn(entry);
      else input.logger?.info(entry);
    },
  });
  input.bus.publish({ kind: 'central.changed', at: input.now().toISOString(), central: loop.status });
  loop.start();
  return {
    async stop() {
      await loop.stop();
      await shipping.close();
    },
  };
}
