/**
 * One client's stream of the station (a browser's WebSocket, an Electron page): the client holds a state at some
 * seq (a snapshot's, or the position it resumed from); every event past that seq reaches it exactly once and in
 * order, so `reduce` over what it receives is the station. Every host carries its streams through this.
 */
import type { StationEvent, StreamMessage, StreamPosition } from '../station-api';
import type { StationHandle } from './station-handle';

export interface StreamSink {
  send(message: StreamMessage): void;
  /** Asked before each event: a reason to end the stream instead (the client reads too slowly), or null. */
  refuse?(held: number): string | null;
  /** The stream ended from this side (refused, or sending threw): the reason, for the host to pass on. */
  ended(reason: string, error?: unknown): void;
}

export class StationStream {
  /** The seq of the state the client holds; nothing at or below it is ever sent. */
  private held = -1;
  /** Events published while the opening messages are chosen; null once those went out. */
  private queued: StationEvent[] | null = [];
  private unsubscribe: (() => void) | null = null;
  private done = false;

  /** Opens the stream: a resume marker and the missed events when `from` is still held, else a snapshot. */
  constructor(
    station: StationHandle,
    from: StreamPosition | null,
    private readonly sink: StreamSink,
  ) {
    try {
      // Subscribing before the snapshot or backlog is read means no event can fall between the two; the seq
      // check in deliver() drops whatever both of them carry.
      this.unsubscribe = station.subscribe((event) => this.offer(event));
      // A seq beyond the station's is from a state this run never had: such a client gets a snapshot.
      const backlog =
        from !== null && from.runId === station.runId && from.seq <= station.snapshot().seq
          ? station.eventsAfter(from.seq)
          : null;
      if (from !== null && backlog !== null) {
        sink.send({ type: 'resume', after: from.seq });
        this.held = from.seq;
        for (const event of backlog) this.deliver(event);
      } else {
        const snapshot = station.snapshot();
        sink.send({ type: 'snapshot', snapshot });
        this.held = snapshot.seq;
      }
      const queued = this.queued ?? [];
      this.queued = null;
      for (const event of queued) this.deliver(event);
    } catch (error) {
      this.end('the stream could not be opened', error);
    }
  }

  get active(): boolean {
    return !this.done;
  }

  get heldSeq(): number {
    return this.held;
  }

  private offer(event: StationEvent): void {
    if (this.queued !== null) {
      this.queued.push(event);
      return;
    }
    try {
      this.deliver(event);
    } catch (error) {
      // Thrown inside the station's publish: this stream goes, the station and the other streams carry on.
      this.end('an event could not be sent', error);
    }
  }

  private deliver(event: StationEvent): void {
    if (this.done || event.seq <= this.held) return;
    // Checked before sending, so every stream makes progress (at least its first message) and a client that
    // reconnects picks up where the delivered part ended.
    const refused = this.sink.refuse?.(this.held);
    if (refused) {
      this.end(refused);
      return;
    }
    this.sink.send({ type: 'event', event });
    this.held = event.seq;
  }

  /** Stops the stream quietly (the client left or asked). */
  stop(): void {
    this.done = true;
    this.queued = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private end(reason: string, error?: unknown): void {
    if (this.done) return;
    this.stop();
    this.sink.ended(reason, error);
  }
}
