/**
 * One browser's event socket. The client holds a state at some seq (a snapshot's, or the `after` it resumed from);
 * every event past that seq reaches it exactly once and in order, so `reduce` over what it receives is the station.
 */
import type { WebSocket } from 'ws';
import type { Snapshot, StationEvent } from '../station-api';
import type { StationHandle } from '../station';

/** What the event socket sends, as JSON text frames. */
export type WebHostMessage =
  | { type: 'snapshot'; snapshot: Snapshot }
  /** No snapshot follows: the events after `after` do, then live events. */
  | { type: 'resume'; after: number }
  | { type: 'event'; event: StationEvent };

/** Closed because the client reads too slowly; it should reconnect with `after` = the last seq it received. */
export const CLOSE_TOO_SLOW = 4008;
/** Client messages mean nothing on this socket. */
const CLOSE_UNSUPPORTED = 1003;
const CLOSE_INTERNAL = 1011;
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface ResumePoint {
  after: number | null;
  run: string | null;
}

export function resumePoint(search: URLSearchParams): ResumePoint {
  const after = search.get('after');
  const parsed = after !== null && /^\d{1,15}$/.test(after) ? Number(after) : null;
  return { after: parsed, run: search.get('run') };
}

export class EventClient {
  /** The seq of the state the client holds; nothing at or below it is ever sent. */
  private held = -1;
  /** Events published while the opening messages are chosen; null once they went out. */
  private queued: StationEvent[] | null = [];
  private unsubscribe: (() => void) | null = null;
  private ended = false;
  private alive = true;

  constructor(
    private readonly socket: WebSocket,
    station: StationHandle,
    from: ResumePoint,
    private readonly log: (line: string) => void,
    private readonly onEnd: (client: EventClient) => void,
  ) {
    socket.on('close', () => this.end());
    socket.on('pong', () => (this.alive = true));
    socket.on('message', () => socket.close(CLOSE_UNSUPPORTED, 'this socket only sends'));
    try {
      // Subscribing before the snapshot or backlog is read means no event can fall between the two; the seq check
      // in deliver() drops whatever both of them carry.
      this.unsubscribe = station.subscribe((event) => this.offer(event));
      this.open(station, from);
    } catch {
      this.log('web host: could not open an event stream (the station failed to give its state)');
      socket.close(CLOSE_INTERNAL, 'station error');
      this.end();
    }
  }

  private open(station: StationHandle, from: ResumePoint): void {
    const { after, run } = from;
    // An `after` beyond the station's seq is from a state this run never had: treat it as a stranger.
    const backlog =
      after !== null && run === station.runId && after <= station.snapshot().seq
        ? station.eventsAfter(after)
        : null;
    if (after !== null && backlog !== null) {
      this.send({ type: 'resume', after });
      this.held = after;
      for (const event of backlog) this.deliver(event);
    } else {
      const snapshot = station.snapshot();
      this.send({ type: 'snapshot', snapshot });
      this.held = snapshot.seq;
    }
    const queued = this.queued ?? [];
    this.queued = null;
    for (const event of queued) this.deliver(event);
  }

  private offer(event: StationEvent): void {
    if (this.queued !== null) {
      this.queued.push(event);
      return;
    }
    try {
      this.deliver(event);
    } catch {
      // Thrown inside the station's publish: this socket goes, the station and the other sockets carry on.
      this.log('web host: could not send an event; closing that event socket');
      this.socket.close(CLOSE_INTERNAL, 'event could not be sent');
      this.end();
    }
  }

  private deliver(event: StationEvent): void {
    if (this.ended || event.seq <= this.held) return;
    // Checked before sending, so every connection makes progress (at least its first message) and a client that
    // reconnects after 4008 picks up where the delivered part ended.
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.log(`web host: event client too slow (over ${MAX_BUFFERED_BYTES} bytes queued); closing it`);
      this.socket.close(CLOSE_TOO_SLOW, `too slow: reconnect with after=${this.held}`);
      this.end();
      return;
    }
    this.send({ type: 'event', event });
    this.held = event.seq;
  }

  private send(message: WebHostMessage): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** One heartbeat: a socket that did not answer the previous ping is gone (a sleeping laptop, a pulled cable). */
  heartbeat(): void {
    if (this.ended) return;
    if (!this.alive) {
      this.socket.terminate();
      this.end();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  shutdown(): void {
    this.socket.close(1001, 'station web host closing');
    this.end();
  }

  terminate(): void {
    this.socket.terminate();
    this.end();
  }

  /** False when the stream ended before it could start (the station failed to give its state). */
  get active(): boolean {
    return !this.ended;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queued = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.onEnd(this);
  }
}
