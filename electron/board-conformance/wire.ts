/**
 * The checker's side of the conversation: one line out, the board's answer to it back, stop-and-wait like the
 * station. Unlike SerialLink it never hides anything: every reply with a stranger's id, every bad frame, every
 * BUSY and every silence is noted for the whole-run checks, and each request ends in an Outcome the check judges.
 */
import {
  COMMAND_POLICIES,
  MAX_FRAME_ID,
  crc32Hex,
  decodeLine,
  encodeFrame,
  isBoardErrorCode,
  type CommandName,
  type DecodedLine,
  type FrameFields,
} from '../../firmware-protocol';
import type { RawLine, RawLinePort } from './raw-line-port';

export type Outcome =
  | { kind: 'ok'; id: number; fields: FrameFields; line: string }
  | { kind: 'error'; id: number; code: string; fields: FrameFields; line: string }
  /** A line that started like the board's frame but broke the grammar or its CRC. */
  | { kind: 'bad-frame'; reason: string; line: string }
  | { kind: 'no-reply'; timeoutMs: number }
  /** A boot event came instead of the reply: the board restarted. */
  | { kind: 'restarted'; line: string }
  | { kind: 'gone'; reason: string };

export interface Exchange {
  command: string;
  /** The id the line carries, when it carries a readable one. */
  id: number | undefined;
  /** The line as sent, without its LF. */
  sent: string;
  outcome: Outcome;
  /** BUSY answers waited out before this outcome. */
  busyAnswers: number;
  ms: number;
  /** The number of the line that answered (or of the last line seen, when none did), for "after the reply". */
  replySeq: number;
}

export interface BootSeen {
  seq: number;
  at: number;
  line: string;
  fields: FrameFields;
}

/** What the whole run saw, for the checks judged at its end. */
export interface Observations {
  replies: number;
  boardFrames: number;
  wrongIds: string[];
  lateReplies: string[];
  badFrames: string[];
  wrongMarker: string[];
  busy: Array<{ retryAfterMs: string | undefined; line: string; sent: string }>;
  busyExhausted: Exchange[];
  noReply: Exchange[];
  unknownCodes: Exchange[];
  restarts: string[];
}

/** The run cannot go on (the board is gone or stopped answering). */
export class RunStopped extends Error {
  override name = 'RunStopped';
}

/** PROTOCOL.md 4.3: the station waits out at most this many BUSY answers per request, each at most 5000 ms. */
export const MAX_BUSY_ANSWERS = 5;
export const MAX_RETRY_AFTER_MS = 5000;
/** Silent requests in a row after which the checker asks HELLO whether anyone is still there. */
const SILENCE_BEFORE_PROBE = 3;

type Waiter = (seq: number, decoded: DecodedLine, raw: RawLine) => void;

export class Conversation {
  readonly observed: Observations = {
    replies: 0,
    boardFrames: 0,
    wrongIds: [],
    lateReplies: [],
    badFrames: [],
    wrongMarker: [],
    busy: [],
    busyExhausted: [],
    noReply: [],
    unknownCodes: [],
    restarts: [],
  };
  private nextId = 1;
  private readonly sentIds = new Set<number>();
  /** Ids that got their answer: a second reply to one is a repeat the board sent for a resent line. */
  private readonly answeredIds = new Set<number>();
  private seq = 0;
  private readonly boots: BootSeen[] = [];
  private waiter: Waiter | undefined;
  /** The id of the line in flight, so a reply with another id is told apart from the awaited one. */
  private currentId: number | undefined;
  /** Set while a REBOOT is under way: its boot event is expected, not a restart. */
  expectingBoot = false;
  /** Set once the first HELLO is answered: before it, a boot event is the power-on the checker happened to catch. */
  sessionStarted = false;
  /** The board restarted by itself: HELLO again before the next command. */
  private needsHello = false;
  private silentInARow = 0;
  private probing = false;
  private stopReason: string | undefined;

  constructor(
    private readonly port: RawLinePort,
    private readonly timeoutScale: number,
  ) {
    port.on('line', (line) => this.onLine(line));
  }

  /** Why the run cannot go on, once it cannot. */
  get stopped(): string | undefined {
    return (
      this.stopReason ?? (this.port.gone !== undefined ? `the board is gone: ${this.port.gone}` : undefined)
    );
  }

  get lineSeq(): number {
    return this.seq;
  }

  scaled(ms: number): number {
    return Math.max(1, Math.round(ms * this.timeoutScale));
  }

  timeoutFor(command: string): number {
    const policy = (COMMAND_POLICIES as Record<string, { timeoutMs: number } | undefined>)[command];
    return this.scaled(policy?.timeoutMs ?? COMMAND_POLICIES.HELLO.timeoutMs);
  }

  allocateId(): number {
    const id = this.nextId;
    this.nextId = id >= MAX_FRAME_ID ? 1 : id + 1;
    return id;
  }

  /** A well-formed request with a fresh id (or the given one). */
  request(
    command: CommandName | string,
    fields: FrameFields = {},
    options: { id?: number; timeoutMs?: number; excuseSilence?: boolean } = {},
  ): Promise<Exchange> {
    const id = options.id ?? this.allocateId();
    const line = encodeFrame({ kind: 'request', id, command, fields }).slice(0, -1);
    return this.send(line, { command, id, ...options });
  }

  /**
   * Send one line (no LF) and wait for the answer to it: a reply with `id`, an error with id 0000 (a line the
   * board could not read), a bad frame about it, a restart, silence or the port vanishing. BUSY is waited out and
   * the same line sent again, as the station does.
   */
  async send(
    line: string,
    options: { command: string; id: number | undefined; timeoutMs?: number; excuseSilence?: boolean },
  ): Promise<Exchange> {
    const stopped = this.stopped;
    if (stopped !== undefined) throw new RunStopped(stopped);
    if (this.needsHello && options.command !== 'HELLO') {
      this.needsHello = false;
      await this.request('HELLO', { proto: '1' });
    }
    const timeoutMs = options.timeoutMs ?? this.timeoutFor(options.command);
    if (options.id !== undefined) this.sentIds.add(options.id);
    const startedAt = Date.now();
    let busyAnswers = 0;
    for (;;) {
      this.port.write(line + '\n');
      const { outcome, seq } = await this.awaitAnswer(options.id, options.command, timeoutMs);
      if (outcome.kind === 'error' && outcome.code === 'BUSY') {
        this.observed.busy.push({
          retryAfterMs: outcome.fields.retryAfterMs,
          line: outcome.line,
          sent: line,
        });
        if (busyAnswers < MAX_BUSY_ANSWERS) {
          busyAnswers += 1;
          const asked = Number(outcome.fields.retryAfterMs);
          await sleep(Number.isFinite(asked) && asked > 0 ? Math.min(asked, MAX_RETRY_AFTER_MS) : 50);
          continue;
        }
      }
      const exchange: Exchange = {
        command: options.command,
        id: options.id,
        sent: line,
        outcome,
        busyAnswers,
        ms: Date.now() - startedAt,
        replySeq: seq,
      };
      this.note(exchange, options.excuseSilence === true);
      if (outcome.kind === 'no-reply') await this.probeAfterSilence();
      return exchange;
    }
  }

  /** Write bytes that are not a request (console input, noise); nothing is awaited. */
  writeRaw(data: string | Buffer): void {
    this.port.write(data);
  }

  /** The first boot event after line `afterSeq`, waiting up to `timeoutMs`; undefined when none came. */
  async waitForBoot(afterSeq: number, timeoutMs: number): Promise<BootSeen | undefined> {
    const seen = () => this.boots.find((boot) => boot.seq > afterSeq);
    const already = seen();
    if (already || this.port.gone !== undefined) return already;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const onGone = () => finish(undefined);
      const finish = (boot: BootSeen | undefined) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.port.off('gone', onGone);
        resolve(boot);
      };
      // Boot events are recorded by onLine; a short poll keeps this independent of who else is waiting.
      const poll = setInterval(() => {
        const boot = seen();
        if (boot) finish(boot);
      }, 5);
      this.port.on('gone', onGone);
    });
  }

  /** Waits `ms` while still noting every line (late replies, events). */
  pause(ms: number): Promise<void> {
    return sleep(ms);
  }

  private note(exchange: Exchange, excuseSilence: boolean): void {
    const { outcome } = exchange;
    if (outcome.kind === 'ok' || outcome.kind === 'error') {
      this.observed.replies += 1;
      if (exchange.id !== undefined) this.answeredIds.add(exchange.id);
      this.silentInARow = 0;
      if (outcome.kind === 'error' && !isBoardErrorCode(outcome.code))
        this.observed.unknownCodes.push(exchange);
      if (outcome.kind === 'error' && outcome.code === 'BUSY') this.observed.busyExhausted.push(exchange);
      if (outcome.kind === 'ok' && exchange.command === 'HELLO') {
        this.sessionStarted = true;
        this.needsHello = false;
      }
      if (
        outcome.kind === 'error' &&
        outcome.code === 'HELLO_REQUIRED' &&
        this.sessionStarted &&
        !this.expectingBoot
      ) {
        // A board that forgot our HELLO restarted, even if its boot event was lost (3.3).
        this.observed.restarts.push(outcome.line);
        this.needsHello = true;
      }
    } else if (outcome.kind === 'no-reply') {
      this.silentInARow += 1;
      if (!excuseSilence) this.observed.noReply.push(exchange);
    } else if (outcome.kind === 'restarted') {
      // A restart asked for (REBOOT) is followed by the fresh-boot checks, which must reach the board before HELLO.
      if (!this.expectingBoot) this.needsHello = true;
    } else {
      this.silentInARow = 0;
    }
  }

  private async probeAfterSilence(): Promise<void> {
    if (this.probing || this.silentInARow < SILENCE_BEFORE_PROBE) return;
    this.probing = true;
    try {
      const probe = await this.request('HELLO', { proto: '1' }, { excuseSilence: true });
      if (probe.outcome.kind === 'no-reply') {
        this.stopReason =
          `the board stopped answering: ${this.silentInARow} requests in a row got no reply, ` +
          `and HELLO got none within ${probe.outcome.timeoutMs} ms`;
      } else {
        this.silentInARow = 0;
      }
    } finally {
      this.probing = false;
    }
  }

  private awaitAnswer(
    id: number | undefined,
    command: string,
    timeoutMs: number,
  ): Promise<{ outcome: Outcome; seq: number }> {
    return new Promise((resolve) => {
      const gone = this.port.gone;
      if (gone !== undefined) return resolve({ outcome: { kind: 'gone', reason: gone }, seq: this.seq });
      let answeredAt: number | undefined;
      const finish = (outcome: Outcome) => {
        clearTimeout(timer);
        this.port.off('gone', onGone);
        if (this.waiter === waiter) {
          this.waiter = undefined;
          this.currentId = undefined;
        }
        resolve({ outcome, seq: answeredAt ?? this.seq });
      };
      const onGone = (reason: string) => finish({ kind: 'gone', reason });
      const timer = setTimeout(() => finish({ kind: 'no-reply', timeoutMs }), timeoutMs);
      const waiter: Waiter = (seq, decoded, raw) => {
        answeredAt = seq;
        if (decoded.type === 'bad-frame') {
          if (decoded.id === undefined || decoded.id === id)
            finish({ kind: 'bad-frame', reason: decoded.reason, line: raw.text });
          return;
        }
        if (decoded.type !== 'frame') return;
        const frame = decoded.frame;
        if (frame.kind === 'event') {
          // A boot during the wait means this line died with the board's RAM (or never reached it). During a
          // REBOOT it is the restart asked for, and still ends the wait: the reply was lost (4.2).
          const restart = frame.name === 'boot' && (!this.expectingBoot || command === 'REBOOT');
          if (restart) finish({ kind: 'restarted', line: raw.text });
          return;
        }
        if (frame.kind === 'request') return;
        if (frame.id === id || (frame.kind === 'error' && frame.id === 0)) {
          finish(
            frame.kind === 'ok'
              ? { kind: 'ok', id: frame.id, fields: frame.fields, line: raw.text }
              : { kind: 'error', id: frame.id, code: frame.code, fields: frame.fields, line: raw.text },
          );
        }
      };
      this.waiter = waiter;
      this.currentId = id;
      this.port.on('gone', onGone);
    });
  }

  private onLine(raw: RawLine): void {
    this.seq += 1;
    const seq = this.seq;
    const decoded = decodeLine(raw.text, 'station', raw.truncated);
    if (decoded.type === 'bad-frame') {
      this.observed.boardFrames += 1;
      this.observed.badFrames.push(raw.text);
    } else if (decoded.type === 'echo') {
      // A reply or event written with the station's marker: the board swapped the markers.
      if (/^~> [0-9a-f]{4} (?:OK|ERR|EVT)(?: |$)/.test(raw.text)) this.observed.wrongMarker.push(raw.text);
    } else if (decoded.type === 'frame') {
      this.observed.boardFrames += 1;
      const frame = decoded.frame;
      if (frame.kind === 'event' && frame.name === 'boot') {
        this.boots.push({ seq, at: raw.at, line: raw.text, fields: frame.fields });
        if (!this.expectingBoot && this.sessionStarted) {
          this.observed.restarts.push(raw.text);
          this.needsHello = true;
        }
      } else if (frame.kind === 'ok' || frame.kind === 'error') {
        const awaited = this.waiter !== undefined && this.currentId === frame.id;
        if (!awaited && !(frame.kind === 'error' && frame.id === 0)) {
          // An id that timed out earlier is a late reply (already counted as silence), one already answered a
          // repeat for a resent line; any other id is the board's mistake.
          if (!this.sentIds.has(frame.id)) this.observed.wrongIds.push(raw.text);
          else if (!this.answeredIds.has(frame.id)) this.observed.lateReplies.push(raw.text);
        }
      }
    }
    this.waiter?.(seq, decoded, raw);
  }
}

/** A line with a correct CRC over `body` (which starts with the marker). */
export function frameLine(body: string): string {
  return `${body} *${crc32Hex(body)}`;
}

/** The same line with one CRC digit changed, so it is certain to be wrong. */
export function wrongCrcLine(body: string): string {
  const crc = crc32Hex(body);
  const digit = crc[0] === '0' ? '1' : '0';
  return `${body} *${digit}${crc.slice(1)}`;
}

export function formatId(id: number): string {
  return id.toString(16).padStart(4, '0');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
