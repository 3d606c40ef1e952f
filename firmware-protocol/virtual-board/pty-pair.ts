/**
 * A pair of pseudo-terminals joined by socat: the station opens one end like a USB serial port, a virtual board
 * drives the other. Killing the pair makes the station's port vanish the way an unplugged USB cable does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';

export class SocatMissingError extends Error {
  override name = 'SocatMissingError';
  constructor() {
    super(
      'socat is not installed, and virtual boards need it to create serial port pairs: ' +
        'install it (Debian/Ubuntu: sudo apt-get install socat) and try again',
    );
  }
}

export function socatAvailable(): boolean {
  const probe = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

const READY_TEXT = 'starting data transfer loop';
const START_TIMEOUT_MS = 5000;

/** SIGKILL the guard shell and socat with it: they share the guard's own process group. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export class PtyPair {
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly stationPath: string,
    readonly boardPath: string,
  ) {
    child.once('exit', () => {
      this.exited = true;
    });
  }

  /** Start socat and resolve once both ends exist and data flows. */
  static async create(stationPath: string, boardPath: string): Promise<PtyPair> {
    if (!socatAvailable()) throw new SocatMissingError();
    for (const path of [stationPath, boardPath]) rmSync(path, { force: true });
    // socat runs under a tiny shell that kills it when our end of its stdin closes, which the OS does when this
    // process dies in any way (even SIGKILL): no orphaned socat keeps a phantom port alive after a crash.
    // The shell gets its own process group (detached): a Ctrl-C in a terminal signals the whole foreground group,
    // and socat must outlive that SIGINT until the station has finished its units and closes the pair itself.
    const child = spawn(
      'sh',
      [
        '-c',
        'socat "$@" & pid=$!; read -r _; kill "$pid" 2>/dev/null; wait "$pid"',
        'socat-guard',
        '-d',
        '-d',
        `pty,raw,echo=0,link=${stationPath}`,
        `pty,raw,echo=0,link=${boardPath}`,
      ],
      { stdio: ['pipe', 'ignore', 'pipe'], detached: true },
    );
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.stdin?.end();
        killGroup(child);
        reject(
          new Error(`socat did not create the PTY pair within ${START_TIMEOUT_MS} ms: ${stderr.trim()}`),
        );
      }, START_TIMEOUT_MS);
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes(READY_TEXT) && existsSync(stationPath) && existsSync(boardPath)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`socat exited (${code}) before the PTY pair was ready: ${stderr.trim()}`));
      });
    });
    // socat keeps logging to stderr; keep draining it so it never blocks on a full pipe.
    child.stderr?.removeAllListeners('data');
    child.stderr?.resume();
    return new PtyPair(child, stationPath, boardPath);
  }

  get alive(): boolean {
    return !this.exited;
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.stdin?.end();
      const timer = setTimeout(() => killGroup(this.child), 2000);
      await exited;
      clearTimeout(timer);
    }
    for (const path of [this.stationPath, this.boardPath]) rmSync(path, { force: true });
  }
}
