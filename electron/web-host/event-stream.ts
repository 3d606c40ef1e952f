/**
 * One browser's event socket: the station's stream (station/event-stream.ts: every event past the client's seq,
 * once, in order) over a WebSocket, with what only a socket needs: heartbeats and closing a client that reads too
 * slowly.
 */
import type { WebSocket } from 'ws';
import type { StreamMessage } from '../station-api';
import { StationStream, type StationHandle } from '../station';

/** What the event socket sends, as JSON text frames: the contract's stream messages. */
export type WebHostMessage = StreamMessage;

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
  private readonly stream: StationStream;
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
    const position = from.after !== null && from.run !== null ? { runId: from.run, seq: from.after } : null;
    this.stream = new StationStream(station, position, {
      send: (message) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
      },
      refuse: (held) => {
        if (socket.bufferedAmount <= MAX_BUFFERED_BYTES) return null;
        this.log(`web host: event client too slow (over ${MAX_BUFFERED_BYTES} bytes queued); closing it`);
        socket.close(CLOSE_TOO_SLOW, `too slow: reconnect with after=${held}`);
        return 'too slow';
      },
      ended: (reason) => {
        if (reason !== 'too slow') {
          this.log(`web host: ${reason}; closing that event socket`);
          socket.close(CLOSE_INTERNAL, 'station error');
        }
        this.end();
      },
    });
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
    return !this.ended && this.stream.active;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stream?.stop();
    this.onEnd(this);
  }
}
