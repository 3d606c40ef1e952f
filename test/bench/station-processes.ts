/**
 * `station` commands as long-running child processes for a benchmark (the sandbox backend, virtual boards, the
 * serve host), each reading its JSON lines as they come, and a cleanup stack that stops whatever was started and
 * removes the temp folders: on success, on failure, on Ctrl-C of the benchmark, and (as a last resort, SIGKILL and
 * synchronous removal) when the benchmark's process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { STATION_BIN } from '../support/cli';

/** Most stderr kept per process, for error messages (virtual boards print a line per board event). */
const STDERR_KEEP = 20_000;

/** The parent's environment without any STATION_* variable (a developer's config, secrets or hooks), plus `extra`. */
export function stationEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('STATION_')) env[key] = value;
  return { ...env, ...extra };
}

export class StationProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private partial = '';
  private stderrTail = '';
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    nodeArgs: string[] = [],
  ) {
    this.child = spawn(process.execPath, [...nodeArgs, STATION_BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (this.partial + chunk.toString()).split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts.filter((line) => line.trim() !== ''));
      this.wake();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_KEEP);
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        resolve(code);
        this.wake();
      }),
    );
    this.child.once('error', () => this.wake());
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} did not start`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  stderr(): string {
    return this.stderrTail;
  }

  /** The first `count` stdout lines, parsed as JSON; rejects when the process exits first or time runs out. */
  waitForJsonLines<T>(count: number, timeoutMs: number): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.lines.length >= count) {
          done();
          try {
            resolve(this.lines.slice(0, count).map((line) => JSON.parse(line) as T));
          } catch (error) {
            reject(new Error(`${this.name} printed a line that is not JSON: ${String(error)}`));
          }
        } else if (!this.running) {
          done();
          reject(new Error(`${this.name} exited (${this.child.exitCode}); stderr:\n${this.stderrTail}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `${this.name}: ${this.lines.length} of ${count} lines after ${timeoutMs} ms; stderr:\n${this.stderrTail}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** SIGTERM (the command stops cleanly), SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort (the benchmark's process is exiting). */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** What one measurement started, stopped in reverse order. */
export class Cleanup {
  private readonly steps: Array<{ run: () => Promise<void> | void; emergency?: () => void }> = [];

  constructor() {
    active.add(this);
    installHandlers();
  }

  /** `emergency` runs synchronously when the process exits before `run` could (kill a child, remove a folder). */
  add(run: () => Promise<void> | void, emergency?: () => void): void {
    this.steps.push({ run, ...(emergency && { emergency }) });
  }

  process(station: StationProcess): StationProcess {
    this.add(
      () => station.stop(),
      () => station.kill(),
    );
    return station;
  }

  folder(dir: string): string {
    const remove = () => rmSync(dir, { recursive: true, force: true });
    this.add(remove, remove);
    return dir;
  }

  /** Every step, newest first; a failing step does not stop the others. The first failure is rethrown. */
  async run(): Promise<void> {
    active.delete(this);
    let failure: unknown;
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (error) {
        failure ??= error;
      }
    }
    uninstallHandlers();
    if (failure !== undefined) throw failure;
  }

  emergency(): void {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        step.emergency?.();
      } catch {
        // Exiting anyway: do what can be done.
      }
    }
  }
}

const active = new Set<Cleanup>();
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`bench: ${signal}: stopping what it started\n`);
  void Promise.allSettled([...active].map((cleanup) => cleanup.run())).then(() =>
    process.exit(signal === 'SIGINT' ? 130 : 143),
  );
}

function onExit(): void {
  for (const cleanup of active) cleanup.emergency();
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
}

function uninstallHandlers(): void {
  if (!installed || active.size > 0) return;
  installed = false;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('exit', onExit);
}
