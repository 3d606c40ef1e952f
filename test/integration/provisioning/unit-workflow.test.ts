import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { InfuseClient, SecretBytes } from '../../../electron/backend';
import { openBatchContext, runUnit, type BatchContext, type CloudPort } from '../../../electron/provisioning';
import { SerialBoardPort } from '../../../electron/serial';
import { AuditWriteError } from '../../../electron/audit';
import { sealUplink, sendUplink, startSandbox, type SandboxHandle } from '../../../electron/sandbox';
import { startSimulator, type Simulator, type FaultRule } from '../../../firmware-protocol/virtual-board';
import { loadStationConfig, type Recipe } from '../../../station-config';
import { VENDOR_DEFAULT_NETWORK_KEY } from '../../../firmware-protocol';
import { MemoryJournal } from '../../support/memory-journal';
import { memoryBoard } from '../../support/memory-board';

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

async function openBatch(recipe: Partial<Recipe> = {}) {
  sandbox = await startSandbox({});
  const client = new InfuseClient({
    baseUrl: sandbox.url,
    apiKey: SecretBytes.fromText(sandbox.apiKey),
    authMode: 'x-api-key-bearer',
  });
  const merged = { ...sandboxConfig.recipes[0]!, ...recipe } as Recipe;
  batch = await openBatchContext({ client, recipe: merged, station: sandboxConfig.station, concurrency: 4 });
  return { client, batch, cloudPublicKey: Buffer.from(sandbox.cloudPublicKey, 'base64') };
}

/** A unit on an in-memory virtual board (fast), built for the sandbox's cloud key. */
async function onMemoryBoard(
  setup: Awaited<ReturnType<typeof openBatch>>,
  options: {
    faults?: FaultRule[];
    scan?: Record<string, string>;
    signal?: AbortSignal;
    /** Looks into the board port before the unit runs (wraps a call to see when it is made). */
    beforeRun?: (port: Awaited<ReturnType<typeof memoryBoard>>['port']) => void;
  } = {},
) {
  const { board, port } = await memoryBoard({
    cloudPublicKey: setup.cloudPublicKey,
    ...(options.faults && { faults: options.faults }),
  });
  options.beforeRun?.(port);
  const journal = new MemoryJournal();
  const result = await runUnit({
    unitId: randomUUID(),
    attempt: 1,
    batch: setup.batch,
    board: port,
    journal,
    ...(options.scan && { scan: options.scan }),
    ...(options.signal && { signal: options.signal }),
  });
  return { board, port, journal, result };
}

/** A cloud port that notes when each call started and ended, to see which ran side by side. */
function timedCloud(inner: CloudPort) {
  const calls: { name: string; start: number; end: number }[] = [];
  const timed = Object.fromEntries(
    Object.entries(inner).map(([name, call]) => [
      name,
      async (...args: unknown[]) => {
        const start = performance.now();
        try {
          return await (call as (...a: unknown[]) => Promise<unknown>)(...args);
        } finally {
          calls.push({ name, start, end: performance.now() });
        }
      },
    ]),
  ) as unknown as CloudPort;
  /** Calls grouped into rounds: a round starts when a call starts after every earlier call has ended. */
  const rounds = (from: number) => {
    const groups: string[][] = [];
    let openUntil = -Infinity;
    // The cloud key is the batch's (fetched once, when the batch opens): a unit's ask is answered from the cache.
    const unitCalls = calls.filter((c) => c.start >= from && c.name !== 'cloudPublicKey');
    for (const call of unitCalls.sort((a, b) => a.start - b.start)) {
      if (call.start >= openUntil) groups.push([]);
      groups.at(-1)!.push(call.name);
      openUntil = Math.max(openUntil, call.end);
    }
    return groups.map((group) => group.sort());
  };
  return { cloud: timed, rounds, calls };
}

describe('unit workflow against the sandbox', () => {
  it('a unit waits on two backend round trips: the device record, then the keys and the MQTT token side by side', async () => {
    sandbox = await startSandbox({});
    const client = new InfuseClient({
      baseUrl: sandbox.url,
      apiKey: SecretBytes.fromText(sandbox.apiKey),
      authMode: 'x-api-key-bearer',
    });
    const recipe = sandboxConfig.recipes[0]!;
    expect(recipe.credentials.mqttToken && recipe.credentials.derivedKey).toBeTruthy();
    let keyFetches = 0;
    const fetchKey = client.getCloudPublicKey.bind(client);
    client.getCloudPublicKey = () => {
      keyFetches += 1;
      return fetchKey();
    };
    batch = await openBatchContext({
      client,
      recipe,
      station: sandboxConfig.station,
      concurrency: 4,
      createDeviceFirst: true,
    });
    const timing = timedCloud(batch.cloud);
    batch.cloud = timing.cloud;
    const cloudPublicKey = Buffer.from(sandbox.cloudPublicKey, 'base64');
    // The cloud key is the batch's, asked for when the batch opens: no unit waits on it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let unit = 0; unit < 2; unit++) {
      const from = performance.now();
      const { port } = await memoryBoard({ cloudPublicKey });
      const result = await runUnit({
        unitId: randomUUID(),
        attempt: 1,
        batch,
        board: port,
        journal: new MemoryJournal(),
      });
      expect(result.outcome, result.error?.operatorMessage).toBe('passed');
      expect(timing.rounds(from)).toEqual([
        ['createDevice'],
        ['deriveDeviceKey', 'deviceSharedSecret', 'mqttToken'],
      ]);
    }
    expect(keyFetches).toBe(1);
  });

  it('looks the chip up before creating it unless the backend is known to refuse a duplicate chip: three round trips', async () => {
    const setup = await openBatch();
    expect(setup.batch.createDeviceFirst).toBe(false);
    const timing = timedCloud(setup.batch.cloud);
    setup.batch.cloud = timing.cloud;
    const from = performance.now();
    const { result } = await onMemoryBoard(setup);
    expect(result.outcome, result.error?.operatorMessage).toBe('passed');
    expect(timing.rounds(from)).toEqual([
      ['findDevice'],
      ['createDevice'],
      ['deriveDeviceKey', 'deviceSharedSecret', 'mqttToken'],
    ]);
  });

  it('the board answers its challenge while the backend creates the device record', async () => {
    const setup = await openBatch();
    const timing = timedCloud(setup.batch.cloud);
    setup.batch.cloud = timing.cloud;
    let challengeSentAt = Infinity;
    const { result, journal } = await onMemoryBoard(setup, {
      beforeRun: (port) => {
        const challenge = port.challenge.bind(port);
        port.challenge = (bytes: Buffer) => {
          challengeSentAt = performance.now();
          return challenge(bytes);
        };
      },
    });
    expect(result.outcome, result.error?.operatorMessage).toBe('passed');
    const created = timing.calls.find((call) => call.name === 'createDevice')!;
    // Sent before the record came back: the serial round trip hides behind the backend's.
    expect(challengeSentAt).toBeLessThan(created.end);
    const agreed = journal.entries.find((e) => e.kind === 'step.finished' && e.step === 'key-agreement');
    expect(agreed).toMatchObject({ outcome: 'passed', details: { challengedInStep: 'device-record' } });
  });

  it('provisions several boards on real PTYs in parallel, each verified and recorded step by step', async () => {
    const setup = await openBatch();
    simulator = await startSimulator({
      count: 3,
      cloudPublicKey: setup.cloudPublicKey,
      processingDelayMs: 2,
      replugMs: 300,
    });
    const runs = await Promise.all(
      simulator.boards.map(async (board) => {
        const journal = new MemoryJournal();
        const result = await runUnit({
          unitId: randomUUID(),
          attempt: 1,
          batch: setup.batch,
          board: SerialBoardPort.onPort({ path: board.path }),
          journal,
        });
        return { board, journal, result };
      }),
    );
    for (const { board, journal, result } of runs) {
      expect(result.outcome, result.error?.operatorMessage).toBe('passed');
      const device = await setup.client.getDeviceBySocAndMcuId(board.soc, board.mcuId);
      expect(device.ok && device.value?.deviceId).toBe(result.deviceId);
      expect(board.board.flash.credentials?.deviceId).toBe(result.deviceId);
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
      const kinds = journal.kinds();
      expect(kinds.indexOf('intent:write-and-commit')).toBeLessThan(kinds.lastIndexOf('step.finished'));
      expect(kinds[0]).toBe('unit.started');
      expect(kinds.at(-1)).toBe('unit.finished');
    }
  });

  it('journals each boundary once, as data, in order (an in-memory board)', async () => {
    const setup = await openBatch();
    const { journal, result, port } = await onMemoryBoard(setup);
    expect(result.outcome).toBe('passed');
    const started = journal.entries[0];
    expect(started).toMatchObject({ kind: 'unit.started', attempt: 1, port: port.path, stepCount: 11 });
    const stepStarts = journal.entries.filter((e) => e.kind === 'step.started');
    expect(stepStarts.map((e) => e.kind === 'step.started' && e.index)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    ]);
    expect(journal.kinds().filter((k) => k === 'unit.identified')).toHaveLength(1);
    expect(journal.entries.at(-1)).toMatchObject({
      kind: 'unit.finished',
      outcome: 'passed',
      failedStep: null,
    });
  });

  it('provisions a board again idempotently: same device, no second cloud record', async () => {
    const setup = await openBatch();
    const { board, port } = await memoryBoard({ cloudPublicKey: setup.cloudPublicKey });
    const run = () =>
      runUnit({
        unitId: randomUUID(),
        attempt: 1,
        batch: setup.batch,
        board: port,
        journal: new MemoryJournal(),
      });
    const first = await run();
    const second = await run();
    expect(second.outcome).toBe('passed');
    expect(second.deviceId).toBe(first.deviceId);
    const all = await setup.client.listAllDevices(setup.batch.organisationId);
    expect(all.ok && all.value.filter((d) => d.mcuId === board.mcuId)).toHaveLength(1);
  });

  it('fails one board without stalling the others (storage failure on one board)', async () => {
    const setup = await openBatch();
    const [failed, passed] = await Promise.all([
      onMemoryBoard(setup, { faults: [{ kind: 'storage-fail', command: 'COMMIT' }] }),
      onMemoryBoard(setup),
    ]);
    expect(passed.result.outcome).toBe('passed');
    expect(failed.result.outcome).toBe('failed');
    expect(failed.result.failedStep).toBe('write-credentials');
    expect(failed.result.error?.code).toBe('SERIAL_BOARD_ERROR_STORAGE');
    expect(failed.result.error?.retrySafe).toBe(false);
    expect(failed.journal.entries.at(-1)).toMatchObject({
      kind: 'unit.finished',
      outcome: 'failed',
      failedStep: 'write-credentials',
      error: { code: 'SERIAL_BOARD_ERROR_STORAGE', retrySafe: false },
    });
  });

  it('runs the communication check once the board has come online', async () => {
    const setup = await openBatch({ communicationCheck: { mode: 'last-route', withinSeconds: 20 } });
    const s = sandbox!;
    simulator = await startSimulator({
      count: 1,
      cloudPublicKey: setup.cloudPublicKey,
      processingDelayMs: 2,
      comesOnline: async ({ deviceId, devicePrivateKey, cloudPublicKey }) => {
        await sendUplink(s.url, sealUplink(devicePrivateKey, cloudPublicKey, deviceId, new Date()), s.apiKey);
      },
    });
    const result = await runUnit({
      unitId: randomUUID(),
      attempt: 1,
      batch: setup.batch,
      board: SerialBoardPort.onPort({ path: simulator.boards[0]!.path }),
      journal: new MemoryJournal(),
    });
    expect(result.outcome, result.error?.operatorMessage).toBe('passed');
  });

  it('cancels between steps: the unit ends cancelled with a complete record, nothing written', async () => {
    const setup = await openBatch();
    const cancel = new AbortController();
    const journal = new MemoryJournal();
    const { board, port } = await memoryBoard({ cloudPublicKey: setup.cloudPublicKey });
    const cancelling = {
      record(entry: Parameters<MemoryJournal['record']>[0]) {
        journal.record(entry);
        if (entry.kind === 'step.finished' && entry.step === 'identify') cancel.abort();
      },
      recordDurably: (entry: Parameters<MemoryJournal['record']>[0]) => journal.recordDurably(entry),
    };
    const result = await runUnit({
      unitId: randomUUID(),
      attempt: 1,
      batch: setup.batch,
      board: port,
      journal: cancelling,
      signal: cancel.signal,
    });
    expect(result.outcome).toBe('cancelled');
    expect(result.error?.code).toBe('CANCELLED');
    expect(journal.steps()).toEqual([
      ['connect', 'passed'],
      ['identify', 'passed'],
    ]);
    expect(journal.entries.at(-1)).toMatchObject({ kind: 'unit.finished', outcome: 'cancelled' });
    expect(board.flash.credentials).toBeNull();
  });

  it('stops the unit at once when the journal cannot be written: nothing proceeds unrecorded', async () => {
    const setup = await openBatch();
    const { board, port } = await memoryBoard({ cloudPublicKey: setup.cloudPublicKey });
    const journal = new MemoryJournal();
    let appends = 0;
    const failing = {
      record(entry: Parameters<MemoryJournal['record']>[0]) {
        if (++appends > 8) throw new AuditWriteError(new Error('SQLITE_FULL: database or disk is full'));
        journal.record(entry);
      },
      recordDurably(entry: Parameters<MemoryJournal['record']>[0]) {
        if (++appends > 8)
          return Promise.reject(new AuditWriteError(new Error('SQLITE_FULL: database or disk is full')));
        return journal.recordDurably(entry);
      },
    };
    const result = await runUnit({
      unitId: randomUUID(),
      attempt: 1,
      batch: setup.batch,
      board: port,
      journal: failing,
    });
    expect(result.outcome).toBe('failed');
    expect(result.error?.code).toBe('AUDIT_WRITE_FAILED');
    expect(journal.entries).toHaveLength(8);
    expect(journal.kinds()).not.toContain('unit.finished');
    expect(board.flash.credentials).toBeNull();
  });

  it('sends the scanned metadata with POST /device, and refuses a unit without a required scan', async () => {
    const setup = await openBatch({
      metadata: [{ name: 'Serial Number', from: 'scan:serialNumber', required: true }],
    });
    const [scanned, unscanned] = await Promise.all([
      onMemoryBoard(setup, { scan: { serialNumber: 'AB12345678' } }),
      onMemoryBoard(setup),
    ]);
    expect(scanned.result.outcome).toBe('passed');
    const device = await setup.client.getDeviceBySocAndMcuId('nRF52840', scanned.board.mcuId);
    expect(device.ok && device.value?.metadata).toEqual({ 'Serial Number': 'AB12345678' });
    expect(unscanned.result).toMatchObject({ outcome: 'failed', failedStep: 'recipe-checks' });
    expect(unscanned.result.error?.operatorMessage).toBe(
      'Cannot provision yet: missing Serial Number: scan the label that carries it, then retry.',
    );
    expect(unscanned.result.error?.retrySafe).toBe(true);
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
