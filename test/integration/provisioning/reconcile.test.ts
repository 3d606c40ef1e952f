import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditStore } from '../../../electron/audit';
import { InfuseClient, SecretBytes, unwrap } from '../../../electron/backend';
import { reconcileUnfinishedUnits } from '../../../electron/provisioning';
import { startSandbox, type SandboxHandle } from '../../../electron/sandbox';
import { BoardSession, SerialLink } from '../../../electron/serial';
import { startSimulator, type Simulator } from '../../../firmware-protocol/virtual-board';

let sandbox: SandboxHandle | undefined;
let simulator: Simulator | undefined;
let store: AuditStore | undefined;
const dirs: string[] = [];
afterEach(async () => {
  store?.close();
  await simulator?.stop();
  await sandbox?.close();
  sandbox = simulator = store = undefined;
  dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

async function setUp() {
  sandbox = await startSandbox({});
  simulator = await startSimulator({
    count: 1,
    cloudPublicKey: Buffer.from(sandbox.cloudPublicKey, 'base64'),
    processingDelayMs: 1,
  });
  const dir = mkdtempSync(join(tmpdir(), 'reconcile-'));
  dirs.push(dir);
  store = AuditStore.open(join(dir, 'station.sqlite'), { stationId: 'test-station' });
  const client = new InfuseClient({
    baseUrl: sandbox.url,
    apiKey: SecretBytes.fromText(sandbox.apiKey),
    authMode: 'x-api-key-bearer',
  });
  const board = simulator.boards[0]!;
  return { client, board, store, sandbox };
}

/** What a station killed mid-unit leaves behind: the unit started, maybe identified, a step begun. */
function interruptedUnit(
  store: AuditStore,
  identified: { soc: string; mcuId: string } | null,
  lastStep: string,
) {
  store.append({
    kind: 'batch.opened',
    operator: 'alice',
    batchId: 'b1',
    details: { name: 'b', recipeId: 'r', configSha256: 'a'.repeat(64) },
  });
  store.append({
    kind: 'unit.started',
    operator: 'alice',
    batchId: 'b1',
    unitId: 'u1',
    slot: 1,
    details: {},
  });
  if (identified)
    store.append({
      kind: 'unit.identified',
      unitId: 'u1',
      details: { ...identified, cloudMcuId: identified.mcuId },
    });
  store.append({ kind: 'step.started', unitId: 'u1', step: lastStep, details: {} });
}

async function commitOnBoard(path: string, deviceId: string) {
  const link = await SerialLink.open({ path });
  try {
    const session = new BoardSession(link);
    await session.hello();
    await session.write({ deviceId });
    await session.commit();
  } finally {
    await link.close();
  }
}

describe('reconciling units a crash left in progress', () => {
  it('closes a unit interrupted before identify: nothing was created', async () => {
    const { client, store } = await setUp();
    interruptedUnit(store, null, 'connect');
    const result = await reconcileUnfinishedUnits({ store, client, operator: 'bob' });
    expect(result).toEqual([
      {
        unitId: 'u1',
        resolution: 'interrupted',
        reason: 'interrupted at connect, before the board was identified: nothing was created or written',
      },
    ]);
    expect(store.unit('u1')).toMatchObject({ state: 'failed', errorCode: 'INTERRUPTED' });
    expect(store.unfinishedUnits()).toEqual([]);
  });

  it('closes a unit whose board and cloud agree, noting the device the next run re-uses', async () => {
    const { client, store, board, sandbox } = await setUp();
    const device = unwrap(
      await client.createDevice({
        mcuId: board.mcuId,
        boardId: sandbox.boardId,
        organisationId: sandbox.organisationId,
      }),
    );
    await commitOnBoard(board.path, device.deviceId);
    interruptedUnit(store, { soc: board.soc, mcuId: board.mcuId }, 'write-credentials');
    const [result] = await reconcileUnfinishedUnits({ store, client, operator: 'bob', ports: [board.path] });
    expect(result).toMatchObject({ resolution: 'interrupted' });
    expect(result!.reason).toBe(
      `interrupted at write-credentials; device ${device.deviceId} exists and the board holds it; the next run re-uses it`,
    );
    expect(store.unit('u1')).toMatchObject({ state: 'failed', deviceId: device.deviceId });
  });

  it('puts a unit aside for an operator when the board holds another id than the cloud', async () => {
    const { client, store, board, sandbox } = await setUp();
    const device = unwrap(
      await client.createDevice({
        mcuId: board.mcuId,
        boardId: sandbox.boardId,
        organisationId: sandbox.organisationId,
      }),
    );
    await commitOnBoard(board.path, '0123456789abcdef');
    interruptedUnit(store, { soc: board.soc, mcuId: board.mcuId }, 'write-credentials');
    const [result] = await reconcileUnfinishedUnits({ store, client, operator: 'bob', ports: [board.path] });
    expect(result).toEqual({
      unitId: 'u1',
      resolution: 'attention',
      reason: `board holds device id 0123456789abcdef but the cloud registered its chip as ${device.deviceId}`,
    });
    expect(store.unit('u1')).toMatchObject({ state: 'attention' });
    // Attention units wait for a supervisor: a second reconciliation leaves them alone.
    expect(await reconcileUnfinishedUnits({ store, client, operator: 'bob', ports: [board.path] })).toEqual(
      [],
    );
  });
});
