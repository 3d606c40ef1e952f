/**
 * The reducer: how each event changes the snapshot. The station core keeps its own state with it (so the state is
 * derived from events, never set as flags), and every client does the same with the events it receives, so
 * `reduce(snapshot at seq N, events after N)` is the station's state now. Pure: no clock, no randomness; times
 * come from the events.
 */
import type { StationEvent, StationEventOf } from './events';
import { RECENT_UNITS, type Batch, type Slot, type Snapshot } from './snapshot';

type Handlers = { [K in StationEvent['kind']]: (state: Snapshot, event: StationEventOf<K>) => Snapshot };

function updateSlot(state: Snapshot, name: string, change: (slot: Slot) => Slot): Snapshot {
  const index = state.slots.findIndex((slot) => slot.name === name);
  if (index < 0) return state;
  const slots = state.slots.slice();
  slots[index] = change(slots[index]!);
  return { ...state, slots };
}

/** A board that may start, or one that must wait for its label first. */
function readyState(batch: Batch | null, slot: Slot): Slot['state'] {
  return batch?.requiresScan && slot.scan === null ? 'waiting-for-scan' : 'board-present';
}

/** Slots waiting for a board to start re-derive whether they need a scan when the batch changes. */
function rederiveWaiting(state: Snapshot, at: string): Snapshot {
  const slots = state.slots.map((slot) => {
    if (slot.state !== 'board-present' && slot.state !== 'waiting-for-scan') return slot;
    const next = readyState(state.batch, slot);
    return next === slot.state ? slot : { ...slot, state: next, since: at };
  });
  return { ...state, slots };
}

const handlers: Handlers = {
  'batch.opened': (state, e) =>
    rederiveWaiting(
      {
        ...state,
        batch: {
          id: e.batchId,
          name: e.name,
          workOrder: e.workOrder,
          recipeId: e.recipeId,
          targetQuantity: e.targetQuantity,
          openedAt: e.at,
          openedBy: e.openedBy,
          requiresScan: e.requiresScan,
          counts: e.counts,
          firstPassYield: null,
          unitsPerHour: null,
          targetReached: false,
          problem: null,
        },
      },
      e.at,
    ),
  'batch.closed': (state, e) =>
    state.batch?.id === e.batchId ? rederiveWaiting({ ...state, batch: null }, e.at) : state,
  'batch.changed': (state, e) =>
    state.batch?.id === e.batchId
      ? {
          ...state,
          batch: {
            ...state.batch,
            counts: e.counts,
            firstPassYield: e.firstPassYield,
            unitsPerHour: e.unitsPerHour,
            targetReached: e.targetReached,
            problem: e.problem,
          },
        }
      : state,
  'unit.started': (state, e) =>
    updateSlot(state, e.slot, (slot) => ({
      ...slot,
      state: 'running',
      since: e.at,
      port: e.port,
      unit: {
        unitId: e.unitId,
        attempt: e.attempt,
        startedAt: e.at,
        operator: e.operator,
        step: null,
        stepIndex: 0,
        stepCount: e.stepCount,
        // A retry on the same board keeps what the last attempt learnt until it is identified again.
        identity: slot.unit?.unitId === e.unitId ? slot.unit.identity : null,
      },
      result: null,
    })),
  'unit.identified': (state, e) =>
    updateSlot(state, e.slot, (slot) =>
      slot.unit?.unitId === e.unitId ? { ...slot, unit: { ...slot.unit, identity: e.identity } } : slot,
    ),
  'step.started': (state, e) =>
    updateSlot(state, e.slot, (slot) =>
      slot.unit?.unitId === e.unitId
        ? { ...slot, unit: { ...slot.unit, step: e.step, stepIndex: e.index, stepCount: e.count } }
        : slot,
    ),
  'step.intent': (state) => state,
  'step.finished': (state) => state,
  'unit.finished': (state, e) => {
    const next = updateSlot(state, e.slot, (slot) => ({
      ...slot,
      state: e.outcome,
      since: e.at,
      unit: slot.unit?.unitId === e.unitId ? { ...slot.unit, step: null } : slot.unit,
      result: {
        outcome: e.outcome,
        unitId: e.unitId,
        deviceId: e.deviceId,
        durationMs: e.durationMs,
        failedStep: e.failedStep,
        error: e.error,
        reason: null,
        by: null,
        at: e.at,
      },
    }));
    const summary = {
      unitId: e.unitId,
      slot: e.slot,
      mcuId: e.mcuId,
      deviceId: e.deviceId,
      outcome: e.outcome,
      errorCode: e.error?.code ?? null,
      durationMs: e.durationMs,
      endedAt: e.at,
    };
    return { ...next, recentUnits: [summary, ...next.recentUnits].slice(0, RECENT_UNITS) };
  },
  'unit.reconciled': (state) => state,
  'slot.skipped': (state, e) =>
    updateSlot(state, e.slot, (slot) => ({
      ...slot,
      state: 'skipped',
      since: e.at,
      result: {
        outcome: 'skipped',
        unitId: slot.result?.unitId ?? slot.unit?.unitId ?? null,
        deviceId: slot.result?.deviceId ?? null,
        durationMs: slot.result?.durationMs ?? null,
        failedStep: slot.result?.failedStep ?? null,
        error: slot.result?.error ?? null,
        reason: e.reason,
        by: e.by,
        at: e.at,
      },
    })),
  'slot.changed': (state, e) => {
    const slots = state.slots.filter((slot) => slot.name !== e.slotState.name);
    slots.push(e.slotState);
    slots.sort((a, b) => a.number - b.number);
    return { ...state, slots };
  },
  'port.added': (state, e) =>
    updateSlot(state, e.slot, (slot) => {
      const fresh: Slot = { ...slot, present: true, port: e.port, since: e.at, scan: null, unit: null };
      return { ...fresh, result: null, state: readyState(state.batch, fresh) };
    }),
  'port.removed': (state, e) =>
    updateSlot(state, e.slot, (slot) =>
      // A unit still running ends on its own (its link reports the unplug); its result stays on the tile.
      slot.state === 'running'
        ? { ...slot, present: false }
        : { ...slot, present: false, state: 'empty', since: e.at, scan: null, unit: null, result: null },
    ),
  'board.log': (state) => state,
  'scan.accepted': (state, e) => {
    const next = updateSlot(state, e.slot, (slot) => ({
      ...slot,
      scan: { text: e.text, format: e.format, fields: e.fields },
      ...(slot.state === 'waiting-for-scan' && { state: 'board-present' as const, since: e.at }),
    }));
    return { ...next, lastScan: { text: e.text, accepted: true, slot: e.slot, message: null, at: e.at } };
  },
  'scan.refused': (state, e) => ({
    ...state,
    lastScan: { text: e.text, accepted: false, slot: e.slot, message: e.message, at: e.at },
  }),
  'session.changed': (state, e) => ({ ...state, session: e.session }),
  'accounts.changed': (state, e) => ({
    ...state,
    station: { ...state.station, needsFirstAdmin: e.needsFirstAdmin },
  }),
  'station.stopped': (state, e) => ({ ...state, stopped: { reason: e.reason, at: e.at } }),
  'central.changed': (state, e) => ({ ...state, central: e.central }),
};

export function reduce(state: Snapshot, event: StationEvent): Snapshot {
  const handler = handlers[event.kind] as (state: Snapshot, event: StationEvent) => Snapshot;
  return { ...handler(state, event), seq: event.seq };
}

export function reduceAll(state: Snapshot, events: Iterable<StationEvent>): Snapshot {
  let next = state;
  for (const event of events) next = reduce(next, event);
  return next;
}
