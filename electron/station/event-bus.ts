/**
 * The station's event stream: gives each event its station-wide seq, folds it into the state (the contract's
 * reducer), keeps the recent events so a client that reconnects with `after=SEQ` misses nothing, and fans events
 * out to subscribers. Publishing is synchronous: when `publish` returns, the state includes the event and every
 * subscriber has seen it, in seq order.
 */
import { reduce, type Snapshot, type StationEvent, type UnsequencedEvent } from '../station-api';

export type EventListener = (event: StationEvent) => void;

export interface EventBusOptions {
  initial: Snapshot;
  /** How many past events are kept for resuming clients (older ones need a fresh snapshot). */
  retain?: number;
}

export class EventBus {
  private state: Snapshot;
  private readonly retained: StationEvent[] = [];
  private readonly retain: number;
  private readonly listeners = new Set<EventListener>();

  constructor(options: EventBusOptions) {
    this.state = options.initial;
    this.retain = options.retain ?? 20_000;
  }

  get snapshot(): Snapshot {
    return this.state;
  }

  get seq(): number {
    return this.state.seq;
  }

  publish(event: UnsequencedEvent): StationEvent {
    const sequenced = { seq: this.state.seq + 1, ...event } as StationEvent;
    this.state = reduce(this.state, sequenced);
    this.retained.push(sequenced);
    if (this.retained.length > this.retain) this.retained.splice(0, this.retained.length - this.retain);
    for (const listener of [...this.listeners]) {
      try {
        listener(sequenced);
      } catch {
        // A subscriber's bug (a host's socket, a test) must not stop the station or the other subscribers.
      }
    }
    return sequenced;
  }

  /**
   * Events with seq > `after`, oldest first, or null when some of them are no longer kept (the caller then starts
   * again from a snapshot).
   */
  eventsAfter(after: number): StationEvent[] | null {
    if (after >= this.state.seq) return [];
    const oldest = this.retained[0]?.seq ?? this.state.seq + 1;
    if (after + 1 < oldest) return null;
    return this.retained.slice(after + 1 - oldest);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
