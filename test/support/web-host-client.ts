/**
 * A small Node client of the loopback web host, for tests: commands over a keep-alive pool, raw requests that
 * go out byte for byte (any Host header, paths with `..` left as they are), and the event socket with every
 * message it received.
 */
import http from 'node:http';
import net from 'node:net';
import { Pool } from 'undici';
import { WebSocket, type ClientOptions } from 'ws';
import type { StationEvent } from '../../electron/station-api';
import type { WebHostMessage } from '../../electron/web-host';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface RawRequest {
  method?: string;
  path: string;
  /** Sent as given; without a `host` entry Node sends `127.0.0.1:PORT`. */
  headers?: Record<string, string>;
  /** false: send no Host header at all. */
  setHost?: boolean;
  body?: string | Buffer;
}

/** One request on its own connection, with the path exactly as given. */
export function rawRequest(port: number, request: RawRequest): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: '127.0.0.1',
        port,
        method: request.method ?? 'GET',
        path: request.path,
        headers: request.headers ?? {},
        setHost: request.setHost ?? true,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

export interface CommandAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export type EventAuth = 'query' | 'header' | 'cookie' | 'none';

export interface EventSocketOptions {
  /** A string goes out as it is (to try malformed values). */
  after?: number | string;
  run?: string;
  /** How the token travels (default `query`, as a browser's socket does). */
  auth?: EventAuth;
  /** Another token than the client's (a wrong one, say). */
  token?: string;
  headers?: Record<string, string>;
  /** false: never answer the host's pings (a dead peer). */
  autoPong?: boolean;
}

export class WebHostClient {
  /** Keep-alive connections, so thousands of requests (the fuzz) take seconds, not minutes. */
  private readonly pool: Pool;

  constructor(
    readonly origin: string,
    readonly token: string,
  ) {
    this.pool = new Pool(origin, { connections: 4 });
  }

  /** POST /api/command as a local non-browser client would (bearer token, no Origin). */
  async command(
    command: string,
    input?: unknown,
    headers: Record<string, string> = {},
  ): Promise<CommandAnswer> {
    const answer = await this.post(
      JSON.stringify(input === undefined ? { command } : { command, input }),
      headers,
    );
    return { status: answer.status, headers: answer.headers, body: JSON.parse(answer.text) as unknown };
  }

  /** POST a body as it is to /api/command; `content-type` defaults to JSON, `authorization` to the bearer token. */
  async post(body: string | Uint8Array, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    const response = await this.pool.request({
      method: 'POST',
      path: '/api/command',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}`, ...headers },
      body,
    });
    return {
      status: response.statusCode,
      headers: response.headers as http.IncomingHttpHeaders,
      text: await response.body.text(),
    };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  events(options: EventSocketOptions = {}): EventSocket {
    const token = options.token ?? this.token;
    const auth = options.auth ?? 'query';
    const query = new URLSearchParams();
    if (options.after !== undefined) query.set('after', String(options.after));
    if (options.run !== undefined) query.set('run', options.run);
    if (auth === 'query') query.set('token', token);
    const headers: Record<string, string> = { ...options.headers };
    if (auth === 'header') headers.authorization = `Bearer ${token}`;
    if (auth === 'cookie') headers.cookie = `station_token=${token}`;
    const search = query.size > 0 ? `?${query}` : '';
    return new EventSocket(`${this.origin.replace(/^http/, 'ws')}/api/events${search}`, {
      headers,
      autoPong: options.autoPong ?? true,
    });
  }
}

/** The host refused the upgrade with an HTTP answer. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly headers: http.IncomingHttpHeaders,
    readonly body: string,
  ) {
    super(`upgrade refused with HTTP ${status}: ${body}`);
  }
}

export interface CloseInfo {
  code: number;
  reason: string;
}

export class EventSocket {
  readonly messages: WebHostMessage[] = [];
  /** Frames that were not JSON text (the host must never send one). */
  readonly unreadable: string[] = [];
  /** Resolves once open; rejects with UpgradeRefused (or the connection error). */
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseInfo>;
  private readonly socket: WebSocket;
  private tcp: net.Socket | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(url: string, options: ClientOptions) {
    this.socket = new WebSocket(url, {
      ...options,
      // Keeps hold of the TCP socket, so a test can stop reading from it (a slow browser).
      createConnection: ((connectOptions: net.NetConnectOpts) => {
        this.tcp = net.connect(connectOptions);
        return this.tcp;
      }) as ClientOptions['createConnection'],
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('unexpected-response', (_request, response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          reject(
            new UpgradeRefused(response.statusCode ?? 0, response.headers, Buffer.concat(chunks).toString()),
          ),
        );
      });
      this.socket.on('error', reject);
    });
    // A test that only awaits `closed` must not see an unhandled rejection of `opened`.
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.socket.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
    this.socket.on('message', (data, isBinary) => {
      const text = data.toString();
      try {
        if (isBinary) throw new Error('binary frame');
        this.messages.push(JSON.parse(text) as WebHostMessage);
      } catch {
        this.unreadable.push(text.slice(0, 200));
      }
      this.wake();
    });
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  events(): StationEvent[] {
    return this.messages.flatMap((message) => (message.type === 'event' ? [message.event] : []));
  }

  /** The seq of the state this client holds: the last event's, else the snapshot's or the resume point. */
  heldSeq(): number {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const message = this.messages[i]!;
      if (message.type === 'event') return message.event.seq;
      if (message.type === 'snapshot') return message.snapshot.seq;
      return message.after;
    }
    return 0;
  }

  /** Resolves once `predicate` holds over the messages received so far; rejects after `timeoutMs`. */
  waitFor(predicate: (messages: readonly WebHostMessage[]) => boolean, timeoutMs = 5_000): Promise<void> {
    if (predicate(this.messages)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this.messages)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms with ${this.messages.length} messages`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  send(text: string): void {
    this.socket.send(text);
  }

  pauseReading(): void {
    this.tcp?.pause();
  }

  resumeReading(): void {
    this.tcp?.resume();
  }

  /** A clean close; resolves when the host has answered it. */
  async close(): Promise<CloseInfo> {
    if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
    else this.socket.close(1000);
    return this.closed;
  }

  /** Drops the connection with no close frame (a pulled cable). */
  terminate(): void {
    this.socket.terminate();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
