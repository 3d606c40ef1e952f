/**
 * The provisioning guide's first three steps: resolve or create the organisation, the board profile and the
 * network. Creation is never retried by the client, so each helper looks up first and, when a create races with
 * another station (409), looks up again instead of failing.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { BackendError, fail, ok, operatorText, type BackendResult } from './errors';
import type { Board, InfuseClient, NetworkRecord, Organisation } from './infuse-client';
import { VENDOR_DEFAULT_NETWORK_ID, VENDOR_DEFAULT_NETWORK_KEY } from '../../firmware-protocol';
import { SecretBytes } from '../secrets';

export interface Resolved<T> {
  value: T;
  created: boolean;
}

export type OrganisationRef = { id: string } | { name: string };

export async function resolveOrganisation(
  client: InfuseClient,
  ref: OrganisationRef,
): Promise<BackendResult<Resolved<Organisation>>> {
  if ('id' in ref) {
    const found = await client.getOrganisationById(ref.id);
    return found.ok ? ok({ value: found.value, created: false }) : found;
  }
  const existing = await client.getOrganisationByName(ref.name);
  if (!existing.ok) return existing;
  if (existing.value) return ok({ value: existing.value, created: false });
  const created = await client.createOrganisation({ name: ref.name });
  if (created.ok) return ok({ value: created.value, created: true });
  if (created.error.code !== 'BACKEND_CONFLICT') return created;
  const raced = await client.getOrganisationByName(ref.name);
  if (!raced.ok) return raced;
  return raced.value ? ok({ value: raced.value, created: false }) : created;
}

export type BoardRef =
  { id: string } | { name: string; organisationId: string; description?: string; public?: boolean };

/**
 * A board profile fixes the chip: the vendor tool refuses a device whose SoC differs from its board's, so a
 * mismatch here stops the batch before any device is created.
 */
export async function resolveBoard(
  client: InfuseClient,
  ref: BoardRef,
  expectedSoc: string,
): Promise<BackendResult<Resolved<Board>>> {
  const checked = (board: Board, created: boolean): BackendResult<Resolved<Board>> =>
    board.soc === expectedSoc ? ok({ value: board, created }) : fail(socMismatch(board, expectedSoc));

  if ('id' in ref) {
    const found = await client.getBoardById(ref.id);
    return found.ok ? checked(found.value, false) : found;
  }
  const findByName = async (): Promise<BackendResult<Board | undefined>> => {
    const boards = await client.listAllBoards(ref.organisationId);
    return boards.ok ? ok(boards.value.find((b) => b.name === ref.name)) : boards;
  };
  const existing = await findByName();
  if (!existing.ok) return existing;
  if (existing.value) return checked(existing.value, false);
  const created = await client.createBoard({
    name: ref.name,
    description: ref.description ?? `${ref.name} (${expectedSoc})`,
    soc: expectedSoc,
    organisationId: ref.organisationId,
    public: ref.public ?? false,
    metadataFields: [],
  });
  if (created.ok) return checked(created.value, true);
  if (created.error.code !== 'BACKEND_CONFLICT') return created;
  const raced = await findByName();
  if (!raced.ok) return raced;
  return raced.value ? checked(raced.value, false) : created;
}

function socMismatch(board: Board, expectedSoc: string): BackendError {
  return new BackendError({
    code: 'BACKEND_SOC_MISMATCH',
    endpoint: 'GET /board',
    operatorMessage: operatorText.socMismatch(board.name, board.soc, expectedSoc),
  });
}

/** The vendor's public default network (id 0, key 00..1f): anyone can read its traffic. */

export type NetworkRef =
  | { id: string; organisationId: string }
  | { networkId: number; organisationId: string }
  | {
      create: {
        name: string;
        organisationId: string;
        description?: string;
        /** 24-bit id; a random non-zero one when omitted. */
        networkId?: number;
        /** 32 bytes; random when omitted. */
        key?: SecretBytes;
      };
    };

/**
 * Find a network by its UUID or its 24-bit id, or create one (looking it up by name first, as names are unique).
 * The vendor's insecure default network is refused whichever way it is reached.
 */
export async function resolveNetwork(
  client: InfuseClient,
  ref: NetworkRef,
): Promise<BackendResult<Resolved<NetworkRecord>>> {
  const endpoint = 'GET /network';
  const invalid = (detail: string): BackendResult<Resolved<NetworkRecord>> =>
    fail(
      new BackendError({
        code: 'BACKEND_INVALID_ARGUMENT',
        endpoint,
        operatorMessage: operatorText.invalidArgument(detail),
      }),
    );
  const secure = (network: NetworkRecord, created: boolean): BackendResult<Resolved<NetworkRecord>> =>
    network.networkId === VENDOR_DEFAULT_NETWORK_ID || network.key.equals(VENDOR_DEFAULT_NETWORK_KEY)
      ? invalid(`Network "${network.name}" is the vendor's public default network and is not secure`)
      : ok({ value: network, created });

  if (!('create' in ref)) {
    const all = await client.listAllNetworks(ref.organisationId);
    if (!all.ok) return all;
    const found = all.value.find((n) => ('id' in ref ? n.id === ref.id : n.networkId === ref.networkId));
    if (found) return secure(found, false);
    const what = 'id' in ref ? `id ${ref.id}` : `network id ${ref.networkId}`;
    return fail(
      new BackendError({
        code: 'BACKEND_NOT_FOUND',
        endpoint,
        operatorMessage: operatorText.notFound(`no network with ${what} in this organisation`),
      }),
    );
  }

  const spec = ref.create;
  const networkId = spec.networkId ?? randomInt(1, 0x1000000);
  if (!Number.isInteger(networkId) || networkId <= 0 || networkId > 0xffffff) {
    return invalid(`Network id must be from 1 to 16777215, got ${networkId}`);
  }
  const key = spec.key ?? SecretBytes.fromBytes(randomBytes(32), 'network-key');
  if (key.length !== 32) return invalid(`Network key must be 32 bytes, got ${key.length}`);
  if (key.equals(VENDOR_DEFAULT_NETWORK_KEY))
    return invalid("Network key is the vendor's public default key");

  const findByName = async (): Promise<BackendResult<NetworkRecord | undefined>> => {
    const all = await client.listAllNetworks(spec.organisationId);
    return all.ok ? ok(all.value.find((n) => n.name === spec.name)) : all;
  };
  const existing = await findByName();
  if (!existing.ok) return existing;
  if (existing.value) return secure(existing.value, false);
  const created = await client.createNetwork({
    name: spec.name,
    description: spec.description ?? spec.name,
    organisationId: spec.organisationId,
    networkId,
    key,
  });
  if (created.ok) return secure(created.value, true);
  if (created.error.code !== 'BACKEND_CONFLICT') return created;
  const raced = await findByName();
  if (!raced.ok) return raced;
  return raced.value ? secure(raced.value, false) : created;
}
