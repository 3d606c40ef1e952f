import { describe, expect, it } from 'vitest';
import {
  SecretBytes,
  resolveBoard,
  resolveNetwork,
  resolveOrganisation,
  unwrap,
  type BackendLogEntry,
} from '../../../electron/backend';
import { VENDOR_DEFAULT_NETWORK_KEY } from '../../../firmware-protocol';
import { type Harness, errorOf, useHarness } from './contract-harness';

let h: Harness;
useHarness((harness) => (h = harness));

describe('resolveOrganisation', () => {
  it('by id', async () => {
    const r = unwrap(await resolveOrganisation(h.client, { id: h.sandbox.organisationId }));
    expect(r).toMatchObject({ created: false, value: { id: h.sandbox.organisationId } });
  });

  it('by name: creates once, then finds', async () => {
    const first = unwrap(await resolveOrganisation(h.client, { name: 'Resolve Org' }));
    expect(first.created).toBe(true);
    const second = unwrap(await resolveOrganisation(h.client, { name: 'Resolve Org' }));
    expect(second).toEqual({ value: first.value, created: false });
  });

  it('a create that races another station (409) resolves to the record that won', async () => {
    // The lookup says "absent", then someone else creates it: our POST gets 409 and we look up again.
    unwrap(await h.client.createOrganisation({ name: 'Raced Org' }));
    h.sandbox.faults.addRule({
      method: 'GET',
      route: '/organisation/name/{name}',
      action: { kind: 'status', status: 404 },
      times: 1,
    });
    const r = unwrap(await resolveOrganisation(h.client, { name: 'Raced Org' }));
    expect(r.created).toBe(false);
    expect(r.value.name).toBe('Raced Org');
  });

  it('an unknown id is BACKEND_NOT_FOUND', async () => {
    const error = errorOf(
      await resolveOrganisation(h.client, { id: '00000000-0000-4000-8000-000000000000' }),
    );
    expect(error.code).toBe('BACKEND_NOT_FOUND');
  });
});

describe('resolveBoard', () => {
  it('by id, with the soc checked', async () => {
    const r = unwrap(await resolveBoard(h.client, { id: h.sandbox.boardId }, 'nRF52840'));
    expect(r.value.soc).toBe('nRF52840');
    const mismatch = errorOf(await resolveBoard(h.client, { id: h.sandbox.boardId }, 'nRF9151'));
    expect(mismatch.code).toBe('BACKEND_SOC_MISMATCH');
    expect(mismatch.message).toBe(
      'BACKEND_SOC_MISMATCH GET /board: Board profile "Sandbox Board" is for SoC nRF52840, but this recipe expects nRF9151. Choose the matching board profile in the recipe.',
    );
  });

  it('by name: creates with the expected soc once, then finds it across pages', async () => {
    const org = unwrap(await h.client.createOrganisation({ name: 'Board Resolve Org' }));
    for (let i = 0; i < 12; i++) {
      unwrap(
        await h.client.createBoard({
          name: `Filler ${i}`,
          description: 'x',
          soc: 'rp2350',
          organisationId: org.id,
        }),
      );
    }
    const ref = { name: 'Tracker', organisationId: org.id };
    const first = unwrap(await resolveBoard(h.client, ref, 'nRF9151'));
    expect(first).toMatchObject({ created: true, value: { soc: 'nRF9151', name: 'Tracker' } });
    const second = unwrap(await resolveBoard(h.client, ref, 'nRF9151'));
    expect(second).toEqual({ value: first.value, created: false });
    expect(errorOf(await resolveBoard(h.client, ref, 'nRF52840')).code).toBe('BACKEND_SOC_MISMATCH');
  });
});

describe('resolveNetwork', () => {
  it('by UUID and by 24-bit id', async () => {
    const byUuid = unwrap(
      await resolveNetwork(h.client, { id: h.sandbox.networkUuid, organisationId: h.sandbox.organisationId }),
    );
    expect(byUuid.value.networkId).toBe(h.sandbox.networkId);
    const byId = unwrap(
      await resolveNetwork(h.client, {
        networkId: h.sandbox.networkId,
        organisationId: h.sandbox.organisationId,
      }),
    );
    expect(byId.value.id).toBe(h.sandbox.networkUuid);
    const missing = errorOf(
      await resolveNetwork(h.client, { networkId: 1, organisationId: h.sandbox.organisationId }),
    );
    expect(missing.operatorMessage).toBe(
      'The provisioning backend has no such record: "no network with network id 1 in this organisation". Check the ids in the recipe or work order.',
    );
  });

  it('create: random non-zero id and random key, created once (lookup-first), never retried', async () => {
    const lines: BackendLogEntry[] = [];
    const client = h.newClient({ logger: (e) => lines.push(e) });
    const ref = { create: { name: 'Line 7', organisationId: h.sandbox.organisationId } };
    const first = unwrap(await resolveNetwork(client, ref));
    expect(first.created).toBe(true);
    expect(first.value.networkId).toBeGreaterThan(0);
    expect(first.value.networkId).toBeLessThanOrEqual(0xffffff);
    expect(first.value.key.length).toBe(32);
    const second = unwrap(await resolveNetwork(client, ref));
    expect(second.created).toBe(false);
    expect(second.value.key.equals(first.value.key)).toBe(true);
    expect(lines.filter((l) => l.method === 'POST')).toHaveLength(1);
  });

  it("refuses the vendor's public default network", async () => {
    const key = SecretBytes.fromBytes(VENDOR_DEFAULT_NETWORK_KEY);
    const error = errorOf(
      await resolveNetwork(h.client, {
        create: { name: 'Default', organisationId: h.sandbox.organisationId, key },
      }),
    );
    expect(error.message).toBe(
      "BACKEND_INVALID_ARGUMENT GET /network: Network key is the vendor's public default key. Fix the value in the recipe or station config.",
    );
    const zero = errorOf(
      await resolveNetwork(h.client, {
        create: { name: 'Zero', organisationId: h.sandbox.organisationId, networkId: 0 },
      }),
    );
    expect(zero.operatorMessage).toBe(
      'Network id must be from 1 to 16777215, got 0. Fix the value in the recipe or station config.',
    );
  });
});
