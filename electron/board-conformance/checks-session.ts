/** HELLO, the version handshake, IDENTIFY and READBACK as the board is found (PROTOCOL.md 3.4, 5.1, 5.2, 5.6). */
import {
  MAX_LINE_BYTES,
  SECRET_FIELDS,
  WRITABLE_FIELDS,
  decodeBase64Exact,
  type FrameFields,
} from '../../firmware-protocol';
import { REQUIRED_CAPS, identityProblems, parseIdentity, type RunContext } from './context';
import { describeOutcome, fail, requireError, requireOk, runCheck } from './results';
import { RunStopped, type Exchange } from './wire';

/** Tries of the first HELLO: a board that is still booting loses what it is sent (PROTOCOL.md 3.2). */
const FIRST_HELLO_TRIES = 3;
/** How long buffered output gets to arrive after the port opens. */
const SETTLE_MS = 200;

/**
 * The first HELLO, sent up to three times as a station does while a board may still be booting. Without an
 * answer nothing else can be checked, so the run stops.
 */
export async function openSession(ctx: RunContext): Promise<void> {
  // What the board wrote while nobody had the port open (a boot event, say) may still be on its way: let it land
  // first, so it is not taken for a restart during the first HELLO.
  await ctx.wire.pause(ctx.wire.scaled(SETTLE_MS));
  const id = ctx.wire.allocateId();
  let exchange: Exchange | undefined;
  for (let attempt = 1; attempt <= FIRST_HELLO_TRIES; attempt += 1) {
    // Resending the very same line is a retransmission the board de-duplicates.
    exchange = await ctx.wire.request(
      'HELLO',
      { proto: '1' },
      { id, excuseSilence: attempt < FIRST_HELLO_TRIES },
    );
    if (exchange.outcome.kind !== 'no-reply' && exchange.outcome.kind !== 'restarted') break;
  }
  if (!exchange) throw new RunStopped('HELLO was never sent');
  const { outcome } = exchange;
  if (outcome.kind !== 'ok') {
    ctx.book.fail('hello.reply', `HELLO proto=1: expected OK, got ${describeOutcome(outcome)}`, exchange);
    throw new RunStopped(
      `the board did not take HELLO (${describeOutcome(outcome)}): nothing else can be checked`,
    );
  }
  await runCheck(ctx.book, 'hello.reply', async () => helloReplyCheck(ctx, outcome.fields, exchange));
  await runCheck(ctx.book, 'hello.caps', async () => {
    const missing = REQUIRED_CAPS.filter((command) => !ctx.hello?.caps.includes(command));
    if (missing.length > 0) fail(`caps=${outcome.fields.caps ?? ''} lacks ${missing.join(', ')}`, exchange);
    return `caps=${outcome.fields.caps}`;
  });
  await runCheck(ctx.book, 'hello.max-line', async () => {
    const maxLine = Number(outcome.fields.maxLine);
    if (!/^\d+$/.test(outcome.fields.maxLine ?? '') || maxLine < MAX_LINE_BYTES)
      fail(
        `maxLine=${outcome.fields.maxLine ?? '(missing)'}: the limit is at least ${MAX_LINE_BYTES}`,
        exchange,
      );
    return `maxLine=${maxLine}`;
  });
  await runCheck(ctx.book, 'hello.version', async () => {
    if (outcome.fields.proto !== '1')
      fail(
        `HELLO proto=1 was answered proto=${outcome.fields.proto ?? '(missing)'}, a version not offered`,
        exchange,
      );
    const both = await ctx.wire.request('HELLO', { proto: '1,2' });
    const fields = requireOk(both, 'HELLO proto=1,2');
    if (fields.proto !== '1')
      fail(
        `HELLO proto=1,2 was answered proto=${fields.proto ?? '(missing)'}; the version shared is 1`,
        both,
      );
    return 'proto=1 both times';
  });
  await runCheck(ctx.book, 'errors.unsupported-version', async () => {
    const seven = await ctx.wire.request('HELLO', { proto: '7' });
    const fields = requireError(seven, 'UNSUPPORTED_VERSION', {}, 'HELLO proto=7');
    const supported = (fields.supported ?? '').split(',');
    if (!supported.includes('1'))
      fail(`UNSUPPORTED_VERSION supported=${fields.supported ?? '(missing)'} does not list 1`, seven);
    return `ERR UNSUPPORTED_VERSION supported=${fields.supported}`;
  });
  // Whatever the refused HELLO did to the session, the checks go on from a good one.
  const again = await ctx.wire.request('HELLO', { proto: '1' });
  if (again.outcome.kind !== 'ok') {
    ctx.book.fail('hello.reply', `HELLO proto=1 again: ${describeOutcome(again.outcome)}`, again);
  }
}

function helloReplyCheck(ctx: RunContext, fields: FrameFields, exchange: Exchange): string {
  const problems: string[] = [];
  for (const key of ['proto', 'fw', 'board', 'caps', 'maxLine']) {
    if (fields[key] === undefined || fields[key] === '') problems.push(`no ${key}`);
  }
  if (
    fields.caps !== undefined &&
    fields.caps !== '' &&
    !/^[A-Z][A-Z0-9_-]*(?:,[A-Z][A-Z0-9_-]*)*$/.test(fields.caps)
  )
    problems.push(`caps=${fields.caps} is not a comma-separated list of commands`);
  if (fields.maxLine !== undefined && !/^(?:0|[1-9][0-9]*)$/.test(fields.maxLine))
    problems.push(`maxLine=${fields.maxLine} is not a decimal number`);
  ctx.hello = {
    proto: fields.proto ?? '',
    fw: fields.fw ?? '',
    board: fields.board ?? '',
    caps: fields.caps ? fields.caps.split(',') : [],
    maxLine: Number(fields.maxLine ?? 0),
  };
  if (problems.length > 0) fail(`HELLO reply: ${problems.join('; ')}`, exchange);
  return `fw=${fields.fw} board=${fields.board}`;
}

/** IDENTIFY and READBACK as the board is found; they tell the rest of the run what it is working with. */
export async function identifyBoard(ctx: RunContext): Promise<void> {
  const identify = await ctx.wire.request('IDENTIFY');
  await runCheck(ctx.book, 'identify.reply', async () => {
    const fields = requireOk(identify);
    ctx.identity = parseIdentity(fields);
    const problems = identityProblems(fields);
    if (problems.length > 0) fail(`IDENTIFY: ${problems.join('; ')}`, identify);
    return `soc=${fields.soc} mcuId=${fields.mcuId} state=${fields.state} deviceId=${fields.deviceId}`;
  });
  const readback = await ctx.wire.request('READBACK');
  await runCheck(ctx.book, 'readback.reply', async () => {
    const fields = requireOk(readback);
    ctx.foundReadback = fields;
    const problems = readbackProblems(fields);
    if (problems.length > 0) fail(`READBACK: ${problems.join('; ')}`, readback);
    return `state=${fields.state} deviceId=${fields.deviceId}${fields.staged ? ` staged=${fields.staged}` : ''}`;
  });
  await runCheck(ctx.book, 'identify.consistent', async () =>
    consistencyCheck(identify, readback, 'as found'),
  );
}

/** Everything wrong with a READBACK reply on its own. */
export function readbackProblems(fields: FrameFields): string[] {
  const problems: string[] = [];
  for (const secret of SECRET_FIELDS) {
    if (fields[secret] !== undefined) problems.push(`it sends the secret ${secret}`);
  }
  if (!['blank', 'staged', 'committed', 'locked'].includes(fields.state ?? ''))
    problems.push(`state ${fields.state ?? '(missing)'} is not a board state`);
  const deviceId = fields.deviceId;
  if (deviceId === undefined || (deviceId !== 'none' && !/^[0-9a-f]{16}$/.test(deviceId)))
    problems.push(`deviceId ${deviceId ?? '(missing)'} is neither none nor 16 lowercase hex`);
  if (decodeBase64Exact(fields.cloudPublicKey ?? '', 32) === undefined)
    problems.push('cloudPublicKey is not the base64 of 32 bytes');
  for (const key of ['networkKeyFp', 'mqttTokenFp', 'derivedKeyFp']) {
    const value = fields[key];
    if (value !== undefined && !/^[0-9a-f]{16}$/.test(value)) problems.push(`${key} ${value} is not 16 hex`);
  }
  const staged = fields.staged;
  if (staged !== undefined) {
    const unknown = staged
      .split(',')
      .filter((name) => !(WRITABLE_FIELDS as readonly string[]).includes(name));
    if (unknown.length > 0) problems.push(`staged lists ${unknown.join(', ')}, not writable fields`);
  }
  if (fields.state === 'staged' && !staged) problems.push('state=staged without a staged list');
  if (staged && (fields.state === 'blank' || fields.state === 'committed'))
    problems.push(`state=${fields.state} with staged=${staged}`);
  return problems;
}

/**
 * IDENTIFY against itself and READBACK (PROTOCOL.md 3.1, 5.2): committed or locked means a device id, blank means
 * none, and both replies tell the same state, device id and cloud key.
 */
export function consistencyCheck(identify: Exchange, readback: Exchange, when: string): string {
  const id = requireOk(identify, `IDENTIFY ${when}`);
  const rb = requireOk(readback, `READBACK ${when}`);
  const state = id.state;
  const deviceId = id.deviceId;
  if ((state === 'committed' || state === 'locked') && deviceId === 'none')
    fail(`IDENTIFY ${when}: state=${state} with deviceId=none`, identify);
  if (state === 'blank' && deviceId !== 'none')
    fail(`IDENTIFY ${when}: state=blank with deviceId=${deviceId ?? '(missing)'}`, identify);
  const differences: string[] = [];
  for (const key of ['state', 'deviceId', 'cloudPublicKey']) {
    if (id[key] !== rb[key])
      differences.push(`${key}: IDENTIFY ${id[key] ?? '(missing)'}, READBACK ${rb[key] ?? '(missing)'}`);
  }
  const rbNetwork = rb.networkId ?? '0';
  if (id.networkId !== rbNetwork)
    differences.push(`networkId: IDENTIFY ${id.networkId ?? '(missing)'}, READBACK ${rbNetwork}`);
  if (differences.length > 0)
    fail(`IDENTIFY and READBACK ${when} disagree: ${differences.join('; ')}`, identify);
  return `${when}: state=${state} deviceId=${deviceId} in both`;
}
