/**
 * The station as this page knows it: the contract's reducer over the stream (snapshot, then events), nothing
 * stored by hand. When the connection drops the page says so and reconnects by itself, resuming after the last
 * event it holds (or taking a fresh snapshot when the station restarted).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import {
  reduce,
  type CommandFailure,
  type CommandInput,
  type CommandName,
  type CommandResult,
  type Snapshot,
  type StationBridge,
  type StationEvent,
  type StreamMessage,
} from '../../../electron/station-api';

export type Connection = 'connecting' | 'live' | 'lost';

export interface StationState {
  snapshot: Snapshot | null;
  connection: Connection;
  /** Set when the connection came back after a loss (the banner says so for a moment). */
  reconnectedAt: number | null;
  /** The last event received, for effects (sound, flash, scan messages) that react to one event. */
  lastEvent: StationEvent | null;
  execute<N extends CommandName>(
    command: N,
    input: CommandInput<N>,
  ): Promise<CommandResult<N> | CommandFailure>;
}

export interface StationStoreOptions {
  /** First retry after this long, doubling to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  now?: () => number;
}

export type StationStore = StoreApi<StationState> & { stop(): void };

export function createStationStore(bridge: StationBridge, options: StationStoreOptions = {}): StationStore {
  const retryMs = options.retryMs ?? 500;
  const maxRetryMs = options.maxRetryMs ?? 4000;
  const now = options.now ?? (() => Date.now());
  let stopStream: (() => void) | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;
  let delay = retryMs;
  let stopped = false;
  let wasLost = false;

  const store = createStore<StationState>()(() => ({
    snapshot: null,
    connection: 'connecting',
    reconnectedAt: null,
    lastEvent: null,
    execute: (command, input) =>
      bridge.execute(command, input) as Promise<CommandResult<typeof command> | CommandFailure>,
  }));

  const onMessage = (message: StreamMessage) => {
    const state = store.getState();
    if (message.type === 'snapshot') {
      store.setState({ snapshot: message.snapshot, ...live() });
      return;
    }
    if (message.type === 'resume') {
      store.setState(live());
      return;
    }
    if (!state.snapshot || message.event.seq <= state.snapshot.seq) return;
    store.setState({ snapshot: reduce(state.snapshot, message.event), lastEvent: message.event });
  };

  const live = (): Partial<StationState> => {
    delay = retryMs;
    const back = wasLost;
    wasLost = false;
    return { connection: 'live', ...(back && { reconnectedAt: now() }) };
  };

  const connect = () => {
    if (stopped) return;
    const snapshot = store.getState().snapshot;
    stopStream = bridge.subscribe(
      snapshot ? { runId: snapshot.runId, seq: snapshot.seq } : null,
      onMessage,
      () => {
        stopStream = null;
        if (stopped) return;
        wasLost = true;
        store.setState({ connection: 'lost' });
        retry = setTimeout(connect, delay);
        delay = Math.min(delay * 2, maxRetryMs);
      },
    );
  };

  connect();
  return Object.assign(store, {
    stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      stopStream?.();
    },
  });
}
