/**
 * The scenario client for `station serve`: the real CLI in its own process group, commands over real HTTP, events
 * over a real WebSocket that resumes with `?after=`. A crash is SIGKILL of the whole process group (the host and
 * its socat children), exactly as a power cut would take them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type {
  CommandInput,
  CommandName,
  CommandResult,
  Snapshot,
  StationEvent,
  StepName,
} from '../../electron/station-api';
import { STATION_BIN } from './cli';
import { ClientState, type ScenarioClient } from './station-client';
import { WebHostClient } from './web-host-client';

type Message =
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'resume'; after: number }
  | { type: 'event'; event: StationEvent };

/** A TCP port free right now on 127.0.0.1, so a restarted host comes back on the same address. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export class ServedClient extends ClientState implements ScenarioClient {
  readonly kind = 'served' as const;
  private child: ChildProcess | undefined;
  private stderr = '';
  private http: WebHostClient | undefined;
  private socket: WebSocket | undefined;
  private readonly token = `scenario-token-${Math.random().toString(36).slice(2)}-0123456789`;

  private constructor(
    private readonly configFile: string,
    readonly dataDir: string,
    private readonly port: number,
    private readonly extraEnv: NodeJS.ProcessEnv,
  ) {
    super();
  }

  static async open(configFile: string, dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<ServedClient> {
    const client = new ServedClient(configFile, dataDir, await freePort(), env);
    await client.start();
    return client;
  }

  get databaseFile(): string {
    return join(this.dataDir, 'station.sqlite');
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.stderr;
  }

  /** What `station serve` prints for the operator's browser: the page, with the run's token. */
  get pageUrl(): string {
    return `${this.origin}/?token=${this.token}`;
  }

  private async start(): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, STATION_WEB_TOKEN: this.token, ...this.extraEnv };
    delete env.STATION_CONFIG;
    const child = spawn(
      process.execPath,
      [
        STATION_BIN,
        'serve',
        '--config',
        this.configFile,
        '--data',
        this.dataDir,
        '--port',
        String(this.port),
      ],
      { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`station serve did not start; stderr:\n${this.stderr}`)),
        30_000,
      );
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`station serve exited (${code}); stderr:\n${this.stderr}`));
      });
    });
    this.http = new WebHostClient(this.origin, this.token);
    await this.openSocket();
  }

  /** Opens the event socket (resuming after what this client holds, when it holds a snapshot of this run). */
  private openSocket(): Promise<void> {
    const query = new URLSearchParams({ token: this.token });
    if (this.current) {
      query.set('after', String(this.current.seq));
      query.set('run', this.current.runId);
    }
    const socket = new WebSocket(`ws://127.0.0.1:${this.port}/api/events?${query}`);
    this.socket = socket;
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.on('message', (data) => {
        const message = JSON.parse(data.toString()) as Message;
        if (message.type === 'snapshot') {
          this.takeSnapshot(message.snapshot);
          resolve();
        } else if (message.type === 'resume') {
          resolve();
        } else {
          this.takeEvent(message.event);
        }
      });
    });
  }

  async execute<N extends CommandName>(name: N, input: CommandInput<N>): Promise<CommandResult<N>> {
    const answer = await this.http!.command(name, input);
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body as CommandResult<N>;
  }

  async dropAndResume(pause?: () => Promise<void>): Promise<void> {
    const socket = this.socket!;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.terminate();
    await closed;
    await pause?.();
    await this.openSocket();
  }

  async crashDuring(slot: string, step: StepName): Promise<void> {
    await this.waitFor(`${slot} at ${step}`, (s) =>
      s.slots.some((x) => x.name === slot && x.unit?.step === step),
    );
    await this.kill();
  }

  private async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
    this.socket?.terminate();
    await this.http?.close();
  }

  async restart(): Promise<void> {
    await this.start();
  }

  async close(): Promise<void> {
    this.socket?.terminate();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    try {
      process.kill(-child!.pid!, 'SIGKILL');
    } catch {
      // The group is gone.
    }
    await this.http?.close();
  }
}
