/**
 * One conformance run: open the port raw, walk the checks in an order where each leaves the board as the next
 * needs it, and report every check of the catalogue. The checker needs no backend: it acts as the cloud with the
 * published development key pair (PROTOCOL.md section 10), which is why it says so in every report.
 */
import { DEFAULT_BAUD_RATE } from '../../firmware-protocol';
import { TEST_DEVICE_ID } from './catalogue';
import { hasCap, type RunContext } from './context';
import { challengeChecks, verifyChecks } from './checks-crypto';
import { destructiveBlocker, destructiveChecks } from './checks-destructive';
import { framingChecks } from './checks-framing';
import { foundLockedChecks, lockChecks } from './checks-lock';
import { freshBootChecks } from './checks-reboot';
import { identifyBoard, openSession } from './checks-session';
import { stagingChecks } from './checks-write';
import { wholeRunChecks } from './checks-whole-run';
import { RawLinePort } from './raw-line-port';
import { ResultBook, type CheckOutcome } from './results';
import { Conversation, RunStopped } from './wire';

export interface ConformanceOptions {
  /** Serial port path, e.g. /dev/ttyACM0. */
  port: string;
  baudRate?: number;
  /** Also run the checks that write, commit and erase credentials (the board ends blank). */
  destructive?: boolean;
  /** Also LOCK the board (implies destructive). Irreversible on real hardware. */
  lock?: boolean;
  /** Multiplies every wait (per-command timeouts, the boot time); for slow links, or fast tests. */
  timeoutScale?: number;
}

export interface ConformanceReport {
  port: string;
  protocolVersion: number | null;
  board: string | null;
  firmware: string | null;
  destructive: boolean;
  lock: boolean;
  soc: string | null;
  mcuId: string | null;
  /** The state the board was found in. */
  foundState: string | null;
  /** What the run did or will do to this board, for the header. */
  notes: string[];
  /** Why the run ended early, when it did. */
  stopped: string | null;
  checks: CheckOutcome[];
  summary: { passed: number; failed: number; skipped: number };
}

export const DEVELOPMENT_KEY_NOTE =
  'acting as the cloud with the published development cloud key pair (PROTOCOL.md section 10); ' +
  'no backend is used, and the development key must never protect real devices';

export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const lock = options.lock === true;
  const destructive = lock || options.destructive === true;
  const port = await RawLinePort.open(options.port, options.baudRate ?? DEFAULT_BAUD_RATE);
  const wire = new Conversation(port, options.timeoutScale ?? 1);
  const ctx: RunContext = {
    wire,
    book: new ResultBook(),
    destructive,
    lock,
    notes: [DEVELOPMENT_KEY_NOTE, modeNote(destructive, lock)],
    hello: undefined,
    identity: undefined,
    foundReadback: undefined,
  };
  let stopped: string | undefined;
  try {
    await walk(ctx);
  } catch (error) {
    if (!(error instanceof RunStopped)) throw error;
    stopped = error.message;
  } finally {
    await port.close();
  }
  stopped ??= wire.stopped;
  wholeRunChecks(ctx, stopped);
  const checks = ctx.book.list(
    stopped === undefined ? 'not reached' : `not run: the run stopped (${stopped})`,
  );
  const count = (result: string) => checks.filter((check) => check.result === result).length;
  const proto = ctx.hello ? Number(ctx.hello.proto) : NaN;
  return {
    port: options.port,
    protocolVersion: Number.isInteger(proto) ? proto : null,
    board: ctx.hello?.board || null,
    firmware: ctx.hello?.fw || null,
    destructive,
    lock,
    soc: ctx.identity?.soc ?? null,
    mcuId: ctx.identity?.mcuId ?? null,
    foundState: ctx.foundReadback?.state ?? null,
    notes: ctx.notes,
    stopped: stopped ?? null,
    checks,
    summary: { passed: count('PASS'), failed: count('FAIL'), skipped: count('SKIPPED') },
  };
}

function modeNote(destructive: boolean, lock: boolean): string {
  if (lock)
    return (
      `mode --lock: commits a test set (device id ${TEST_DEVICE_ID}), erases it, commits it again and LOCKS the ` +
      'board for good (irreversible on real hardware)'
    );
  if (destructive)
    return (
      `mode --destructive: commits a test set (device id ${TEST_DEVICE_ID}) and erases it with FACTORY-RESET; ` +
      'the board ends blank'
    );
  return 'mode non-destructive: flash is not changed (staged fields are RAM, discarded by a REBOOT)';
}

async function walk(ctx: RunContext): Promise<void> {
  await openSession(ctx);
  await identifyBoard(ctx);
  noteFoundState(ctx);
  await framingChecks(ctx);
  await challengeChecks(ctx);
  await verifyChecks(ctx);
  await stagingChecks(ctx);
  await foundLockedChecks(ctx);
  await freshBootChecks(ctx);
  const blank = await destructiveChecks(ctx);
  await lockChecks(ctx, blank);
}

/** Say in the header what the board was found as and what the run will therefore do to it. */
function noteFoundState(ctx: RunContext): void {
  const state = ctx.identity?.state;
  const deviceId = ctx.identity?.deviceId;
  if (state === 'locked') {
    ctx.notes.push(
      `the board is locked (device id ${deviceId ?? '?'}): only checks that cannot change it run` +
        (ctx.destructive
          ? '; the destructive and lock checks are SKIPPED (a locked board cannot be erased)'
          : ''),
    );
    return;
  }
  if (state === 'staged')
    ctx.notes.push(
      `the board holds staged fields (${ctx.foundReadback?.staged ?? '?'})` +
        (hasCap(ctx, 'REBOOT') ? ': the REBOOT discards them (RAM only)' : ''),
    );
  if (ctx.destructive && deviceId && destructiveBlocker(ctx) === undefined)
    ctx.notes.push(
      `the board holds device id ${deviceId}: the destructive checks erase it with FACTORY-RESET first, and it ` +
        (ctx.lock ? `ends LOCKED with the test device id ${TEST_DEVICE_ID}` : 'ends blank'),
    );
}
