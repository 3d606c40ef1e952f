/** The contract's reducer and slot actions: slot states derived from events, as the operator screen shows them. */
import { describe, expect, it } from 'vitest';
import {
  reduceAll,
  slotActions,
  type Session,
  type Snapshot,
  type StationEvent,
  type UnsequencedEvent,
} from '../../../electron/station-api';

const at = '2026-12-01T08:00:00.000Z';

function initial(): Snapshot {
  return {
    seq: 0,
    runId: 'run-1',
    station: {
      id: 's',
      name: 'S',
      line: null,
      site: null,
      environment: 'sandbox',
      startMode: 'on-plug',
      softwareVersion: '0.0.0',
      demoAccounts: null,
      needsFirstAdmin: false,
    },
    recipes: [],
    session: null,
    batch: null,
    slots: [],
    recentUnits: [],
    lastScan: null,
    stopped: null,
    central: null,
    centralRecord: null,
  };
}

function play(...events: UnsequencedEvent[]): Snapshot {
  return reduceAll(
    initial(),
    events.map((event, i) => ({ seq: i + 1, ...event }) as StationEvent),
  );
}

const added: UnsequencedEvent = {
  kind: 'slot.changed',
  change: 'added',
  at,
  slotState: {
    name: 'slot-1',
    number: 1,
    source: 'virtual',
    port: '/dev/a',
    present: false,
    state: 'empty',
    since: at,
    scan: null,
    unit: null,
    result: null,
  },
};
const plugged: UnsequencedEvent = {
  kind: 'port.added',
  at,
  slot: 'slot-1',
  port: '/dev/a',
  serialNumber: null,
};
const batch = (requiresScan: boolean): UnsequencedEvent => ({
  kind: 'batch.opened',
  at,
  auditSeq: 1,
  batchId: 'b',
  name: 'B',
  workOrder: null,
  recipeId: 'r',
  targetQuantity: null,
  requiresScan,
  openedBy: 'ann',
  counts: { passed: 0, failed: 0, cancelled: 0, inProgress: 0, firstPass: 0 },
});
const started: UnsequencedEvent = {
  kind: 'unit.started',
  at,
  slot: 'slot-1',
  unitId: 'u-1',
  auditSeq: 2,
  batchId: 'b',
  port: '/dev/a',
  attempt: 1,
  operator: 'ann',
  stepCount: 11,
};
const failed = (retrySafe: boolean): UnsequencedEvent => ({
  kind: 'unit.finished',
  at: '2026-12-01T08:00:05.000Z',
  slot: 'slot-1',
  unitId: 'u-1',
  auditSeq: 9,
  outcome: 'failed',
  deviceId: null,
  mcuId: 'abcd',
  durationMs: 5000,
  failedStep: 'write-credentials',
  error: { code: 'SERIAL_BOARD_ERROR_STORAGE', message: 'storage', retrySafe },
});
const slot = (s: Snapshot) => s.slots[0]!;

const person = (roles: Session['roles']): Session => ({
  operatorId: 'x',
  name: 'X',
  roles,
  method: 'pin',
  since: at,
  idleLogoutMs: 0,
});

describe('slot states derived from events', () => {
  it('empty, board present, running step k of n, failed; removal empties it', () => {
    expect(slot(play(added)).state).toBe('empty');
    expect(slot(play(added, plugged)).state).toBe('board-present');
    const running = play(added, plugged, batch(false), started, {
      kind: 'step.started',
      at,
      slot: 'slot-1',
      unitId: 'u-1',
      auditSeq: 3,
      step: 'identify',
      index: 2,
      count: 11,
    });
    expect(slot(running)).toMatchObject({
      state: 'running',
      unit: { step: 'identify', stepIndex: 2, stepCount: 11 },
    });
    const done = play(added, plugged, batch(false), started, failed(false));
    expect(slot(done)).toMatchObject({ state: 'failed', result: { failedStep: 'write-credentials' } });
    expect(done.recentUnits[0]).toMatchObject({
      unitId: 'u-1',
      outcome: 'failed',
      errorCode: 'SERIAL_BOARD_ERROR_STORAGE',
    });
    expect(
      slot(
        play(added, plugged, batch(false), started, failed(false), {
          kind: 'port.removed',
          at,
          slot: 'slot-1',
          port: '/dev/a',
        }),
      ),
    ).toMatchObject({ state: 'empty', result: null });
  });

  it('waits for its label when the batch needs one, and is ready once scanned', () => {
    const waiting = play(added, plugged, batch(true));
    expect(slot(waiting).state).toBe('waiting-for-scan');
    const scanned = play(added, plugged, batch(true), {
      kind: 'scan.accepted',
      at,
      slot: 'slot-1',
      text: 'SN:1',
      format: 'f',
      fields: { serialNumber: '1' },
    });
    expect(slot(scanned)).toMatchObject({ state: 'board-present', scan: { fields: { serialNumber: '1' } } });
    expect(scanned.lastScan).toMatchObject({ accepted: true, slot: 'slot-1' });
    // Closing the batch: nothing to scan for any more.
    expect(
      slot(
        play(added, plugged, batch(true), {
          kind: 'batch.closed',
          at,
          auditSeq: 5,
          batchId: 'b',
          reason: 'r',
          closedBy: 'ann',
        }),
      ).state,
    ).toBe('board-present');
  });

  it('a board pulled mid-unit keeps its result on the tile until the next board', () => {
    const pulled = play(added, plugged, batch(false), started, {
      kind: 'port.removed',
      at,
      slot: 'slot-1',
      port: '/dev/a',
    });
    expect(slot(pulled)).toMatchObject({ state: 'running', present: false });
    const ended = play(
      added,
      plugged,
      batch(false),
      started,
      { kind: 'port.removed', at, slot: 'slot-1', port: '/dev/a' },
      failed(true),
    );
    expect(slot(ended)).toMatchObject({ state: 'failed', present: false });
    expect(
      slot(
        play(
          added,
          plugged,
          batch(false),
          started,
          { kind: 'port.removed', at, slot: 'slot-1', port: '/dev/a' },
          failed(true),
          plugged,
        ),
      ).state,
    ).toBe('board-present');
  });
});

describe('what a person may do with a slot', () => {
  it('offers Retry for a retry-safe failure, Call supervisor otherwise, Retry with a reason to a supervisor', () => {
    const safe = slot(play(added, plugged, batch(false), started, failed(true)));
    const unsafe = slot(play(added, plugged, batch(false), started, failed(false)));
    expect(slotActions(safe, person(['operator']))).toEqual([
      { kind: 'retry', needsReason: false },
      { kind: 'skip' },
    ]);
    expect(slotActions(unsafe, person(['operator']))).toEqual([
      { kind: 'call-supervisor' },
      { kind: 'skip' },
    ]);
    expect(slotActions(unsafe, person(['operator', 'supervisor']))).toEqual([
      { kind: 'retry', needsReason: true },
      { kind: 'skip' },
    ]);
    expect(slotActions(unsafe, person(['qa']))).toEqual([]);
    expect(slotActions(unsafe, null)).toEqual([]);
  });

  it('offers Cancel while running', () => {
    expect(slotActions(slot(play(added, plugged, batch(false), started)), person(['operator']))).toEqual([
      { kind: 'cancel' },
    ]);
  });
});

describe('the central database status', () => {
  it('is what the last central.changed said, and null for a station that ships nowhere', () => {
    expect(play(added).central).toBeNull();
    const down = {
      url: 'postgres://station@db/infuse',
      state: 'down' as const,
      centralSeq: 120,
      localSeq: 180,
      behind: 60,
      lastContactAt: at,
      problem: 'connect ECONNREFUSED 127.0.0.1:5432',
    };
    const snapshot = play(
      {
        kind: 'central.changed',
        at,
        central: { ...down, state: 'caught-up', behind: 0, localSeq: 120, problem: null },
      },
      { kind: 'central.changed', at, central: down },
    );
    expect(snapshot.central).toEqual(down);
  });
});
