/**
 * The verdicts of one run, and the small vocabulary checks use to reach them: a check body returns its PASS
 * reason, or throws CheckFailed / CheckSkipped. A check may run at several points of a run (IDENTIFY before and
 * after COMMIT); a FAIL anywhere stands, a PASS replaces a SKIPPED.
 */
import type { FrameFields } from '../../firmware-protocol';
import { CHECKS, checkDefinition, type CheckId } from './catalogue';
import type { Exchange, Outcome } from './wire';

export type CheckResult = 'PASS' | 'FAIL' | 'SKIPPED';

export interface CheckOutcome {
  id: CheckId;
  section: string;
  title: string;
  result: CheckResult;
  reason: string;
  /** FAIL only: the line the checker sent, cut to about 160 characters. */
  sent?: string;
  /** FAIL only: what the board sent back, cut to about 160 characters. */
  received?: string;
}

export const LINE_CUT = 160;

export function cut(text: string, max = LINE_CUT): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

export class CheckFailed extends Error {
  override name = 'CheckFailed';
  constructor(
    readonly reason: string,
    readonly exchange?: Exchange,
    /** What the board sent, when it is not the exchange's reply (a boot event, a stray line). */
    readonly receivedLine?: string,
  ) {
    super(reason);
  }
}

export class CheckSkipped extends Error {
  override name = 'CheckSkipped';
  constructor(readonly reason: string) {
    super(reason);
  }
}

export function fail(reason: string, exchange?: Exchange, receivedLine?: string): never {
  throw new CheckFailed(reason, exchange, receivedLine);
}

export function skip(reason: string): never {
  throw new CheckSkipped(reason);
}

export class ResultBook {
  private readonly results = new Map<CheckId, CheckOutcome>();

  has(id: CheckId): boolean {
    return this.results.has(id);
  }

  get(id: CheckId): CheckOutcome | undefined {
    return this.results.get(id);
  }

  pass(id: CheckId, reason: string): void {
    this.record({ ...this.base(id), result: 'PASS', reason });
  }

  skip(id: CheckId, reason: string): void {
    this.record({ ...this.base(id), result: 'SKIPPED', reason });
  }

  fail(id: CheckId, reason: string, exchange?: Exchange, receivedLine?: string): void {
    this.failLines(
      id,
      reason,
      exchange?.sent,
      receivedLine ?? (exchange ? replyLine(exchange.outcome) : undefined),
    );
  }

  failLines(id: CheckId, reason: string, sent: string | undefined, received: string | undefined): void {
    const outcome: CheckOutcome = { ...this.base(id), result: 'FAIL', reason };
    if (sent !== undefined) outcome.sent = cut(sent);
    if (received !== undefined) outcome.received = cut(received);
    this.record(outcome);
  }

  /** Every check of the catalogue in its order; one never reached is SKIPPED with `notRun`. */
  list(notRun: string): CheckOutcome[] {
    return CHECKS.map(
      (check) => this.results.get(check.id) ?? { ...this.base(check.id), result: 'SKIPPED', reason: notRun },
    );
  }

  private base(id: CheckId) {
    const { section, title } = checkDefinition(id);
    return { id, section, title };
  }

  private record(outcome: CheckOutcome): void {
    const existing = this.results.get(outcome.id);
    if (existing?.result === 'FAIL') return;
    if (existing?.result === 'PASS' && outcome.result === 'SKIPPED') return;
    this.results.set(outcome.id, outcome);
  }
}

/** Run one check body and record its verdict. RunStopped (and any bug) passes through. */
export async function runCheck(book: ResultBook, id: CheckId, body: () => Promise<string>): Promise<void> {
  try {
    book.pass(id, await body());
  } catch (error) {
    if (error instanceof CheckFailed) book.fail(id, error.reason, error.exchange, error.receivedLine);
    else if (error instanceof CheckSkipped) book.skip(id, error.reason);
    else throw error;
  }
}

export function replyLine(outcome: Outcome): string | undefined {
  return outcome.kind === 'ok' ||
    outcome.kind === 'error' ||
    outcome.kind === 'bad-frame' ||
    outcome.kind === 'restarted'
    ? outcome.line
    : undefined;
}

/** The outcome in a few words, for reasons: "OK state=blank", "ERR BUSY", "no reply within 1000 ms". */
export function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'ok':
      return `OK${fieldText(outcome.fields)}`;
    case 'error':
      return `ERR ${cut(outcome.code, 40)}${fieldText(outcome.fields)}`;
    case 'bad-frame':
      return `a bad frame (${outcome.reason})`;
    case 'no-reply':
      return `no reply within ${outcome.timeoutMs} ms`;
    case 'restarted':
      return 'a boot event: the board restarted instead of answering';
    case 'gone':
      return `nothing: ${outcome.reason}`;
  }
}

function fieldText(fields: FrameFields): string {
  const text = Object.entries(fields)
    .map(([key, value]) => ` ${key}=${cut(value, 24)}`)
    .join('');
  return cut(text, 100);
}

/** The OK reply's fields, or a FAIL naming what came instead. */
export function requireOk(exchange: Exchange, what = exchange.command): FrameFields {
  const { outcome } = exchange;
  if (outcome.kind === 'ok') return outcome.fields;
  return fail(`${what}: expected OK, got ${describeOutcome(outcome)}`, exchange);
}

export interface ExpectedError {
  /** Fields the error must carry with these values. */
  fields?: Record<string, string>;
  /** Accept id 0000 as well as the request's id (a line whose id the board may not have kept). */
  allowZeroId?: boolean;
}

/** The ERR reply's fields when it is `code` with the request's id (and the fields asked for), else a FAIL. */
export function requireError(
  exchange: Exchange,
  code: string,
  expected: ExpectedError = {},
  what = exchange.command,
): FrameFields {
  const { outcome } = exchange;
  const wanted = `ERR ${code}${Object.entries(expected.fields ?? {})
    .map(([key, value]) => ` ${key}=${value}`)
    .join('')}`;
  if (outcome.kind !== 'error' || outcome.code !== code) {
    return fail(`${what}: expected ${wanted}, got ${describeOutcome(outcome)}`, exchange);
  }
  if (
    exchange.id !== undefined &&
    outcome.id !== exchange.id &&
    !(expected.allowZeroId && outcome.id === 0)
  ) {
    return fail(
      `${what}: ERR ${code} carried id ${hexId(outcome.id)}, not the request's ${hexId(exchange.id)} ` +
        '(the id was readable, so the reply carries it)',
      exchange,
    );
  }
  for (const [key, value] of Object.entries(expected.fields ?? {})) {
    if (outcome.fields[key] !== value) {
      return fail(`${what}: expected ${wanted}, got ${key}=${outcome.fields[key] ?? '(missing)'}`, exchange);
    }
  }
  return outcome.fields;
}

export function hexId(id: number): string {
  return id.toString(16).padStart(4, '0');
}
