/**
 * Checks judged from everything the run saw rather than from one exchange (PROTOCOL.md 1, 2, 3.2, 4, 4.3, 7):
 * they are recorded last, so a breach anywhere in the run lands in them, with the first offending line.
 */
import type { RunContext } from './context';
import { cut, type ResultBook } from './results';
import { MAX_BUSY_ANSWERS, MAX_RETRY_AFTER_MS } from './wire';

function more(count: number): string {
  return count > 1 ? ` (and ${count - 1} more)` : '';
}

export function wholeRunChecks(ctx: RunContext, stopped: string | undefined): void {
  const { book } = ctx;
  const seen = ctx.wire.observed;
  judgeConnection(ctx, book, stopped);

  if (seen.restarts.length > 0)
    book.fail(
      'session.no-restart',
      `the board restarted without being told to (a boot event, or HELLO_REQUIRED after HELLO)${more(seen.restarts.length)}`,
      undefined,
      seen.restarts[0],
    );
  else book.pass('session.no-restart', 'no boot event except after REBOOT');

  if (seen.wrongIds.length > 0)
    book.fail(
      'framing.reply-id',
      `a reply carried an id the checker never sent${more(seen.wrongIds.length)}`,
      undefined,
      seen.wrongIds[0],
    );
  else book.pass('framing.reply-id', `all ${seen.replies} replies carried their request's id`);

  if (seen.badFrames.length > 0)
    book.fail(
      'framing.reply-crc',
      `the board sent a line starting "~< " that is not a valid frame${more(seen.badFrames.length)}`,
      undefined,
      seen.badFrames[0],
    );
  else book.pass('framing.reply-crc', `all ${seen.boardFrames} board frames well-formed with a valid CRC`);

  if (seen.wrongMarker.length > 0)
    book.fail(
      'framing.marker',
      `a reply or event started with the station's marker "~>"${more(seen.wrongMarker.length)}`,
      undefined,
      seen.wrongMarker[0],
    );
  else book.pass('framing.marker', 'every board frame started with "~<"');

  const silent = seen.noReply[0];
  if (silent && silent.outcome.kind === 'no-reply')
    book.fail(
      'timing.reply-timeout',
      `no reply to ${silent.command} within ${silent.outcome.timeoutMs} ms${more(seen.noReply.length)}` +
        (seen.lateReplies.length > 0 ? `; ${seen.lateReplies.length} reply(ies) came late` : ''),
      silent,
    );
  else book.pass('timing.reply-timeout', 'every request answered within its timeout');

  const unknown = seen.unknownCodes[0];
  if (unknown && unknown.outcome.kind === 'error')
    book.fail(
      'errors.codes',
      `ERR ${cut(unknown.outcome.code, 40)} (${unknown.outcome.code.length} characters) is not a code of ` +
        `section 7${more(seen.unknownCodes.length)}`,
      unknown,
    );
  else book.pass('errors.codes', 'every ERR code is one of section 7');

  judgeBusy(ctx);
}

function judgeConnection(ctx: RunContext, book: ResultBook, stopped: string | undefined): void {
  // The conversation knows when the board went away or fell silent, even if nothing was sent after that.
  const lost = ctx.wire.stopped;
  if (lost !== undefined) book.fail('transport.connected', lost);
  else book.pass('transport.connected', stopped === undefined ? 'connected to the end' : 'connected');
}

function judgeBusy(ctx: RunContext): void {
  const { book } = ctx;
  const { busy, busyExhausted } = ctx.wire.observed;
  if (busy.length === 0) return book.skip('busy.retry-after', 'the board never answered BUSY');
  const noValue = busy.find((answer) => !/^(?:0|[1-9][0-9]*)$/.test(answer.retryAfterMs ?? ''));
  const tooLong = busy.find((answer) => Number(answer.retryAfterMs) > MAX_RETRY_AFTER_MS);
  const offender = noValue ?? tooLong;
  if (offender) {
    const reason = noValue
      ? `BUSY without a retryAfterMs number (retryAfterMs=${noValue.retryAfterMs ?? '(missing)'})`
      : `BUSY retryAfterMs=${tooLong?.retryAfterMs} is over ${MAX_RETRY_AFTER_MS}`;
    return book.failLines('busy.retry-after', reason, offender.sent, offender.line);
  }
  const exhausted = busyExhausted[0];
  if (exhausted)
    return book.fail(
      'busy.retry-after',
      `${exhausted.command} was still BUSY after ${MAX_BUSY_ANSWERS} waits${more(busyExhausted.length)}`,
      exhausted,
    );
  book.pass(
    'busy.retry-after',
    `${busy.length} BUSY answer(s), each with retryAfterMs <= ${MAX_RETRY_AFTER_MS}, all cleared`,
  );
}
