/**
 * REBOOT and what a fresh boot must look like (PROTOCOL.md 3.1-3.3, 4.2, 5.9, 7.1): the reply first, then the boot
 * event within 5000 ms, then nothing but HELLO is served, and the first error checks still come before
 * HELLO_REQUIRED. A REBOOT is the only way to a fresh boot the checker has, so these need REBOOT in caps.
 */
import { STATION_MARKER } from '../../firmware-protocol';
import type { CheckId } from './catalogue';
import { hasCap, type RunContext } from './context';
import { describeOutcome, fail, requireError, requireOk, runCheck, skip } from './results';
import { committedDifferences } from './checks-write';
import { RunStopped, formatId, wrongCrcLine, type BootSeen, type Exchange } from './wire';

/** The longest a board may take from its REBOOT reply to its boot event (PROTOCOL.md 3.2). */
export const MAX_BOOT_MS = 5000;

export interface RebootResult {
  exchange: Exchange;
  boot: BootSeen | undefined;
  /** From the REBOOT reply (or request, when the reply was lost) to the boot event. */
  bootMs: number | undefined;
}

/**
 * Send REBOOT and wait for its boot event: one after the request counts, reply or not (3.2, 4.2). The caller
 * HELLOs, and until then the checker treats the board's refusals as the fresh boot they are.
 */
export async function reboot(ctx: RunContext): Promise<RebootResult> {
  const { wire } = ctx;
  wire.expectingBoot = true;
  const before = wire.lineSeq;
  const exchange = await wire.request('REBOOT');
  const from = Date.now();
  const boot = await wire.waitForBoot(before, wire.scaled(MAX_BOOT_MS));
  return { exchange, boot, bootMs: boot ? Math.max(0, boot.at - from) : undefined };
}

/** HELLO after a boot, up to three times (the board may still be booting); the run stops without one. */
export async function helloAfterBoot(ctx: RunContext, what: string): Promise<void> {
  const id = ctx.wire.allocateId();
  let last: Exchange | undefined;
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    last = await ctx.wire.request('HELLO', { proto: '1' }, { id, excuseSilence: attempt < 3 });
    if (last.outcome.kind === 'ok') {
      ctx.wire.expectingBoot = false;
      return;
    }
    if (last.outcome.kind !== 'no-reply') break;
  }
  ctx.wire.expectingBoot = false;
  throw new RunStopped(
    `the board did not take HELLO after ${what} (${last ? describeOutcome(last.outcome) : 'nothing sent'})`,
  );
}

/** reboot.reply and reboot.boot-event from one REBOOT. */
export async function judgeReboot(ctx: RunContext, result: RebootResult): Promise<void> {
  const { exchange, boot } = result;
  await runCheck(ctx.book, 'reboot.reply', async () => {
    if (exchange.outcome.kind === 'restarted')
      fail('the board restarted without answering REBOOT (the boot event came first)', exchange);
    requireOk(exchange, 'REBOOT');
    return `OK within ${exchange.ms} ms`;
  });
  await runCheck(ctx.book, 'reboot.boot-event', async () => {
    if (!boot) fail(`no EVT boot within ${ctx.wire.scaled(MAX_BOOT_MS)} ms after the REBOOT reply`, exchange);
    const problems: string[] = [];
    if (boot.fields.proto !== '1') problems.push(`proto=${boot.fields.proto ?? '(missing)'}, not 1`);
    if (!boot.fields.fw) problems.push('no fw');
    else if (ctx.hello && boot.fields.fw !== ctx.hello.fw)
      problems.push(`fw=${boot.fields.fw}, HELLO said ${ctx.hello.fw}`);
    if (problems.length > 0) fail(`EVT boot: ${problems.join('; ')}`, exchange, boot.line);
    return `EVT boot proto=1 fw=${boot.fields.fw} ${result.bootMs ?? 0} ms after the reply`;
  });
}

const FRESH_BOOT_CHECKS = [
  'reboot.reply',
  'reboot.boot-event',
  'order.before-hello',
  'reboot.hello-required',
  'reboot.discards-staged',
] as const satisfies readonly CheckId[];

/**
 * The non-destructive REBOOT: it ends the staging checks (the staged fields must be gone afterwards, the
 * committed set as found) and is the run's fresh boot for HELLO_REQUIRED.
 */
export async function freshBootChecks(ctx: RunContext): Promise<void> {
  const { book, wire } = ctx;
  if (!hasCap(ctx, 'REBOOT')) {
    for (const id of FRESH_BOOT_CHECKS)
      book.skip(
        id,
        'needs a fresh boot, and the board does not list REBOOT in caps (power-cycle it to check 3.3 by hand)',
      );
    return;
  }
  const result = await reboot(ctx);
  await judgeReboot(ctx, result);
  if (result.exchange.outcome.kind !== 'ok' && !result.boot) {
    // Neither a reply nor a boot event: there is no sign the board restarted, so what follows is no fresh boot.
    await helloAfterBoot(ctx, 'a REBOOT that went unanswered');
    for (const id of ['order.before-hello', 'reboot.hello-required', 'reboot.discards-staged'] as const)
      book.skip(id, 'the board did not answer REBOOT nor send a boot event: no fresh boot to check');
    return;
  }

  await runCheck(book, 'order.before-hello', async () => {
    const id = wire.allocateId();
    const badCrc = await wire.send(wrongCrcLine(`${STATION_MARKER} ${formatId(id)} IDENTIFY`), {
      command: 'IDENTIFY',
      id,
    });
    requireError(badCrc, 'BAD_FRAME', {}, 'IDENTIFY with a wrong CRC before HELLO');
    const unknown = await wire.request('FLASH');
    requireError(unknown, 'UNKNOWN_COMMAND', {}, 'FLASH before HELLO');
    return 'before HELLO: a wrong CRC is BAD_FRAME, FLASH is UNKNOWN_COMMAND';
  });

  await runCheck(book, 'reboot.hello-required', async () => {
    for (const command of ['IDENTIFY', 'READBACK'] as const) {
      const exchange = await wire.request(command);
      requireError(exchange, 'HELLO_REQUIRED', {}, `${command} before HELLO`);
    }
    return 'IDENTIFY and READBACK before HELLO: ERR HELLO_REQUIRED';
  });

  await helloAfterBoot(ctx, 'REBOOT');

  await runCheck(book, 'reboot.discards-staged', async () => {
    const found = ctx.foundReadback;
    if (!found) skip('READBACK gave nothing to compare with');
    const readback = await wire.request('READBACK');
    const fields = requireOk(readback, 'READBACK after REBOOT');
    if (fields.staged) fail(`staged=${fields.staged} survived the REBOOT`, readback);
    const expectedState =
      found.state === 'locked'
        ? 'locked'
        : found.deviceId === 'none' || found.deviceId === undefined
          ? 'blank'
          : 'committed';
    if (fields.state !== expectedState)
      fail(`state=${fields.state ?? '(missing)'} after REBOOT, expected ${expectedState}`, readback);
    const changed = committedDifferences(found, fields);
    if (changed.length > 0) fail(`the committed set changed across REBOOT: ${changed.join('; ')}`, readback);
    return `state=${expectedState}, nothing staged, committed set as found`;
  });
}

/** REBOOT and HELLO in the middle of the destructive run, judging the reply and boot event again. */
export async function rebootMidRun(ctx: RunContext, what: string): Promise<void> {
  const result = await reboot(ctx);
  await judgeReboot(ctx, result);
  await helloAfterBoot(ctx, what);
}
