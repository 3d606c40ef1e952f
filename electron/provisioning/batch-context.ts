/**
 * Everything a batch resolves once and every unit shares: the organisation, board profile and network from the
 * recipe, and the cloud port (which caches the cloud public key and limits concurrent backend calls).
 */
import {
  resolveBoard,
  resolveNetwork,
  resolveOrganisation,
  SecretBytes,
  unwrap,
  type InfuseClient,
} from '../backend';
import type { Recipe, StationConfig } from '../../station-config';
import { isVendorDefaultNetwork } from '../../firmware-protocol';
import { backendCloudPort } from './cloud-port';
import { fail } from './errors';
import type { CloudPort, ProvisioningRecords } from './ports';

export interface BatchNetwork {
  id: number;
  key: SecretBytes;
}

export interface BatchContext {
  recipe: Recipe;
  station: StationConfig['station'];
  organisationId: string;
  boardId: string;
  network: BatchNetwork | null;
  /** Every backend call of every slot goes through it. */
  cloud: CloudPort;
  /** The station's record of earlier units (a locked board seen again is checked against it). */
  records?: ProvisioningRecords;
  /** POST /device before looking the chip up (backend.createDeviceFirst: only where the backend 409s duplicates). */
  createDeviceFirst: boolean;
  /** Wipe secrets held for the batch (the network key). */
  close(): void;
}

export interface OpenBatchOptions {
  client: InfuseClient;
  recipe: Recipe;
  station: StationConfig['station'];
  concurrency: number;
  /** A network key kept in the station's secret store (recipe.network.keySecret). */
  networkKeyFromStore?: (name: string) => Promise<SecretBytes | undefined>;
  /** Replaces the backend cloud port (tests). */
  cloud?: CloudPort;
  records?: ProvisioningRecords;
  createDeviceFirst?: boolean;
}

export async function openBatchContext(options: OpenBatchOptions): Promise<BatchContext> {
  const { client, recipe } = options;
  const organisation = unwrap(
    await resolveOrganisation(
      client,
      'id' in recipe.organisation && recipe.organisation.id
        ? { id: recipe.organisation.id }
        : { name: recipe.organisation.name as string },
    ),
  ).value;
  const organisationId = organisation.id;
  const board = unwrap(
    await resolveBoard(
      client,
      recipe.board.id ? { id: recipe.board.id } : { name: recipe.board.name as string, organisationId },
      recipe.soc,
    ),
  ).value;

  let network: BatchNetwork | null = null;
  if (recipe.network) {
    const ref =
      recipe.network.id !== undefined
        ? { networkId: recipe.network.id, organisationId }
        : { create: { name: recipe.network.name as string, organisationId } };
    const resolved = unwrap(await resolveNetwork(client, ref)).value;
    let key = resolved.key;
    const secretName = recipe.network.keySecret;
    if (secretName) {
      const stored = await options.networkKeyFromStore?.(secretName);
      if (!stored) {
        throw fail(
          'NETWORK_KEY_MISSING',
          `Recipe "${recipe.name}" takes its network key from the secret "${secretName}", which is not in the secret store: store it with \`station secret set ${secretName}\` (base64 of 32 bytes on stdin).`,
          false,
        );
      }
      key = stored;
    }
    // The resolver refuses the public default network; a station-held key must not smuggle it back in.
    if (key.use((bytes) => isVendorDefaultNetwork(resolved.networkId, bytes))) {
      throw fail(
        'DEFAULT_NETWORK_REFUSED',
        `Recipe "${recipe.name}" would write the vendor's public default network key, which anyone can read: create a network with its own key.`,
        false,
      );
    }
    network = { id: resolved.networkId, key };
  }

  const cloud =
    options.cloud ?? backendCloudPort(client, { concurrency: options.concurrency, organisationId });
  // The cloud key is the batch's: asked for now, so no unit waits on it (a failure is asked again by the first
  // unit's cloud-key step, which reports it).
  cloud.cloudPublicKey().catch(() => undefined);
  return {
    recipe,
    station: options.station,
    organisationId,
    boardId: board.id,
    network,
    cloud,
    ...(options.records && { records: options.records }),
    createDeviceFirst: options.createDeviceFirst ?? false,
    close() {
      network?.key.wipe();
    },
  };
}
