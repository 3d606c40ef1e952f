/**
 * The cloud port over the Infuse API client. Every call of every slot goes through one limit, so N slots never put
 * N x calls on the backend at once; the cloud public key is fetched once per batch.
 */
import { AsyncResource } from 'node:async_hooks';
import pLimit from 'p-limit';
import { unwrap, type InfuseClient } from '../backend';
import type { CloudPort } from './ports';

export interface BackendCloudPortOptions {
  /** Most backend requests in flight at once (backend.concurrency in the config). */
  concurrency: number;
  /** The organisation MQTT tokens are scoped to. */
  organisationId: string;
}

export function backendCloudPort(client: InfuseClient, options: BackendCloudPortOptions): CloudPort {
  const limited = pLimit(Math.max(1, options.concurrency));
  // Each queued call must run in its caller's async context: the step whose record its backend requests belong to
  // (backend-calls.ts). p-limit keeps it today; binding says so, whatever limiter comes next.
  const limit = <T>(work: () => Promise<T>): Promise<T> => limited(AsyncResource.bind(work));
  let cloudKey: Promise<Buffer> | undefined;
  return {
    findDevice: async (soc, mcuId) => unwrap(await limit(() => client.getDeviceBySocAndMcuId(soc, mcuId))),
    createDevice: (body) => limit(() => client.createDevice(body)),
    cloudPublicKey() {
      cloudKey ??= limit(() => client.getCloudPublicKey()).then(unwrap);
      // A failed fetch must not poison the cache for the rest of the batch.
      cloudKey.catch(() => {
        cloudKey = undefined;
      });
      return cloudKey;
    },
    deriveDeviceKey: async (deviceId, keyInterface, state) =>
      unwrap(await limit(() => client.deriveDeviceKey(deviceId, keyInterface, state))),
    deviceSharedSecret: async (deviceId, state) =>
      unwrap(await limit(() => client.deviceSharedSecret(deviceId, state))),
    mqttToken: async (ttlSeconds) =>
      unwrap(await limit(() => client.mqttToken(options.organisationId, ttlSeconds))),
    deviceState: async (deviceId) => unwrap(await limit(() => client.getDeviceState(deviceId))),
  };
}
