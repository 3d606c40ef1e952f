import { afterEach, describe, expect, it } from 'vitest';
import { InfuseClient, SecretBytes } from '../../../electron/backend';
import { openBatchContext, provisionUnit, runBatch, type BatchContext } from '../../../electron/provisioning';
import { BoardSession, SerialLink } from '../../../electron/serial';
import { AuditWriteError } from '../../../electron/audit';
import { sealUplink, sendUplink, startSandbox, type SandboxHandle } from '../../../electron/sandbox';
import { startSimulator, type Simulator, type FaultRule } from '../../../firmware-protocol/virtual-board';
import { loadStationConfig, type Recipe } from '../../../station-config';
import { VENDOR_DEFAULT_NETWORK_KEY } from '../../../firmware-protocol';
import { MemoryJournal } from '../../support/memory-journal';

const sandboxConfig = (() => {
  const loaded = loadStationConfig(undefined, {});
  if (!loaded.ok) throw new Error('sandbox config does not load');
  return loaded.config;
})();

let sandbox: SandboxHandle | undefined;
let simulator: Simulator | undefined;
let batch: BatchContext | undefined;
afterEach(async () => {
  batch?.close();
  await simulator?.stop();
  await sandbox?.close();
  sandbox = simulator = batch = undefined;
});

async function setUp(options: {
  boards: number;
  faults?: FaultRule[];
  recipe?: Partial<Recipe>;
  online?: boolean;
}) {
  sandbox = await startSandbox({});
  const s = sandbox;
  simulator = await startSimulator({
    count: options.boards,
    faults: options.faults ?? [],
    cloudPublicKey: Buffer.from(s.cloudPublicKey, 'base64'),
    processingDelayMs: 2,
    replugMs: 300,
    ...(options.online && {
      comesOnline: async ({ deviceId, devicePrivateKey, cloudPublicKey }) => {
        await sendUplink(s.url, sealUplink(devicePrivateKey, cloudPublicKey, deviceId, new Date()), s.apiKey);
      },
    }),
  });
  const client = new InfuseClient({
    baseUrl: s.url,
    apiKey: SecretBytes.fromText(s.apiKey),
    authMode: 'x-api-key-bearer',
  });
  const recipe = { ...sandboxConfig.recipes[0]!, ...options.recipe } as Recipe;
  batch = await openBatchContext({ client, recipe, station: sandboxConfig.station, concurrency: 4 });
  return { client, boards: simulator.boards, batch };
}

describe('unit workflow against the sandbox and virtual boards on PTYs', () => {
  it('provisions several boards in parallel, each verified and recorded step by step', async () => {
    const { client, boards, batch } = await setUp({ boards: 3 });
    const journals = new Map<string, MemoryJournal>();
    const result = await runBatch({
      batch,
      slots: boards.map((b, i) => ({ slot: `slot-${i + 1}`, port: b.path })),
      maxConcurrent: 3,
      journalFor: (slot) => {
        const journal = new MemoryJournal();
        journals.set(slot.slot, journal);
        return journal;
      },
      link: { timeoutScale: 1 },
    });
    expect(result.units.map((u) => [u.outcome, u.error?.operatorMessage])).toEqual([
      ['passed', undefined],
      ['passed', undefined],
      ['passed', undefined],
    ]);
    for (const [index, board] of boards.entries()) {
      const unit = result.units.find((u) => u.mcuId === board.mcuId)!;
      const device = await client.getDeviceBySocAndMcuId(board.soc, board.mcuId);
      expect(device.ok && device.value?.deviceId).toBe(unit.deviceId);
      expect(board.board.flash.credentials?.deviceId).toBe(unit.deviceId);
      const journal = journals.get(`slot-${index + 1}`)!;
      expect(journal.steps()).toEqual([
        ['connect', 'passed'],
        ['identify', 'passed'],
        ['recipe-checks', 'passed'],
        ['device-record', 'passed'],
        ['cloud-key', 'passed'],
        ['key-agreement', 'passed'],
        ['mqtt-token', 'passed'],
        ['write-credentials', 'passed'],
        ['verify', 'passed'],
        ['finish', 'passed'],
        ['communication-check', 'skipped'],
      ]);
      // The intent to write is journaled before the write, naming fingerprints only.
      const kinds = journal.entries.map((e) => (e.kind === 'step.intent' ? `intent:${e.action}` : e.kind));
      expect(kinds.indexOf('intent:write-and-commit')).toBeLessThan(kinds.lastIndexOf('step.finished'));
    }
  });

  it('provisions a board again idempotently: same device, no second cloud record', async () => {
    const { client, boards, batch } = await setUp({ boards: 1 });
    const slots = [{ slot: 'slot-1', port: boards[0]!.path }];
    const first = await runBatch({ batch, slots, maxConcurrent: 1, journalFor: () => new MemoryJournal() });
    const second = await runBatch({ batch, slots, maxConcurrent: 1, journalFor: () => new MemoryJournal() });
    expect(second.units[0]!.outcome).toBe('passed');
    expect(second.units[0]!.deviceId).toBe(first.units[0]!.deviceId);
    const all = await client.listAllDevices(batch.organisationId);
    expect(all.ok && all.value.filter((d) => d.mcuId === boards[0]!.mcuId)).toHaveLength(1);
  });

  it('fails one slot without stalling the others (storage failure on one board)', async () => {
    const { boards, batch } = await setUp({ boards: 2 });
    boards[0]!.board.faults.add({ kind: 'storage-fail', command: 'COMMIT' });
    const result = await runBatch({
      batch,
      slots: boards.map((b, i) => ({ slot: `slot-${i + 1}`, port: b.path })),
      maxConcurrent: 2,
      journalFor: () => new MemoryJournal(),
    });
    const failed = result.units.find((u) => u.mcuId === boards[0]!.mcuId)!;
    const passed = result.units.find((u) => u.mcuId === boards[1]!.mcuId)!;
    expect(passed.outcome).toBe('passed');
    expect(failed.outcome).toBe('failed');
    expect(failed.failedStep).toBe('write-credentials');
    expect(failed.error?.code).toBe('SERIAL_BOARD_ERROR_STORAGE');
    expect(failed.error?.retrySafe).toBe(false);
  });

  it('runs the communication check once the board has come online', async () => {
    const { boards, batch } = await setUp({
      boards: 1,
      online: true,
      recipe: { communicationCheck: { mode: 'last-route', withinSeconds: 20 } },
    });
    const result = await runBatch({
      batch,
      slots: [{ slot: 'slot-1', port: boards[0]!.path }],
      maxConcurrent: 1,
      journalFor: () => new MemoryJournal(),
    });
    expect(result.units[0]!.outcome).toBe('passed');
  });

  it('cancels one slot between steps: the unit ends cancelled with a complete record', async () => {
    const { boards, batch } = await setUp({ boards: 1 });
    const link = await SerialLink.open({ path: boards[0]!.path });
    const cancel = new AbortController();
    const journal = new MemoryJournal();
    try {
      const result = await provisionUnit({
        batch,
        session: new BoardSession(link),
        journal,
        slot: 'slot-1',
        signal: cancel.signal,
        onProgress: (p) => {
          if (p.step === 'identify' && p.status === 'passed') cancel.abort();
        },
      });
      expect(result.outcome).toBe('cancelled');
      expect(result.error?.code).toBe('CANCELLED');
      expect(journal.steps()).toEqual([
        ['connect', 'passed'],
        ['identify', 'passed'],
      ]);
      expect(journal.entries.at(-1)).toMatchObject({
        kind: 'unit.finished',
        finish: { outcome: 'cancelled' },
      });
      expect(boards[0]!.board.flash.credentials).toBeNull();
    } finally {
      await link.close();
    }
  });

  it('stops every slot when the audit trail cannot be written', async () => {
    const { boards, batch } = await setUp({ boards: 2 });
    let appends = 0;
    const failingAfter = (limit: number) => {
      const journal = new MemoryJournal();
      const guard = () => {
        appends += 1;
        if (appends > limit) throw new AuditWriteError(new Error('SQLITE_FULL: database or disk is full'));
      };
      return new Proxy(journal, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (typeof value !== 'function' || prop === 'steps') return value;
          return (...args: unknown[]) => {
            guard();
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    };
    const result = await runBatch({
      batch,
      slots: boards.map((b, i) => ({ slot: `slot-${i + 1}`, port: b.path })),
      maxConcurrent: 1,
      journalFor: () => failingAfter(8),
    });
    expect(result.stoppedBy).toContain('The audit trail could not be written');
    // The second slot never started: nothing proceeds unrecorded.
    expect(result.units).toHaveLength(1);
    expect(boards[1]!.board.flash.credentials).toBeNull();
  });

  it('sends the scanned metadata with POST /device, and refuses a unit without a required scan', async () => {
    const { client, boards, batch } = await setUp({
      boards: 2,
      recipe: { metadata: [{ name: 'Serial Number', from: 'scan:serialNumber', required: true }] },
    });
    const result = await runBatch({
      batch,
      slots: [
        { slot: 'slot-1', port: boards[0]!.path, scan: { serialNumber: 'AB12345678' } },
        { slot: 'slot-2', port: boards[1]!.path },
      ],
      maxConcurrent: 2,
      journalFor: () => new MemoryJournal(),
    });
    const scanned = result.units.find((u) => u.mcuId === boards[0]!.mcuId)!;
    const unscanned = result.units.find((u) => u.mcuId === boards[1]!.mcuId)!;
    expect(scanned.outcome).toBe('passed');
    const device = await client.getDeviceBySocAndMcuId(boards[0]!.soc, boards[0]!.mcuId);
    expect(device.ok && device.value?.metadata).toEqual({ 'Serial Number': 'AB12345678' });
    expect(unscanned).toMatchObject({ outcome: 'failed', failedStep: 'recipe-checks' });
    expect(unscanned.error?.operatorMessage).toBe(
      'Cannot provision yet: missing Serial Number: scan the label that carries it, then press Retry.',
    );
    expect(unscanned.error?.retrySafe).toBe(true);
  });

  describe('a network key held in the station secret store (recipe network.keySecret)', () => {
    async function open(storeKey: Buffer | undefined) {
      sandbox = await startSandbox({});
      const s = sandbox;
      const client = new InfuseClient({
        baseUrl: s.url,
        apiKey: SecretBytes.fromText(s.apiKey),
        authMode: 'x-api-key-bearer',
      });
      const recipe = {
        ...sandboxConfig.recipes[0]!,
        organisation: { id: s.organisationId },
        board: { id: s.boardId },
        network: { id: s.networkId, keySecret: 'network-key-line-1' },
      } as Recipe;
      return openBatchContext({
        client,
        recipe,
        station: sandboxConfig.station,
        concurrency: 2,
        networkKeyFromStore: async (name) =>
          name === 'network-key-line-1' && storeKey ? SecretBytes.fromBytes(storeKey, name) : undefined,
      });
    }

    it('is used instead of the backend key', async () => {
      const key = Buffer.alloc(32, 0x5a);
      batch = await open(key);
      expect(batch.network?.key.equals(key)).toBe(true);
    });

    it('is required when the recipe names it', async () => {
      await expect(open(undefined)).rejects.toMatchObject({
        code: 'NETWORK_KEY_MISSING',
        operatorMessage:
          'Recipe "Sandbox sensor" takes its network key from the secret "network-key-line-1", which is not in the secret store: store it with `station secret set network-key-line-1` (base64 of 32 bytes on stdin).',
      });
    });

    it("must not be the vendor's public default key", async () => {
      await expect(open(VENDOR_DEFAULT_NETWORK_KEY)).rejects.toMatchObject({
        code: 'DEFAULT_NETWORK_REFUSED',
      });
    });
  });
});
