/**
 * WRITE without COMMIT (PROTOCOL.md 3.1, 4, 5.4): staged fields live in RAM until COMMIT, and the REBOOT that follows
 * these checks discards them, so they change nothing a board keeps. Staging an MQTT token in frames of 400
 * characters also shows de-duplication: an append the board acted on twice would push the token past 2048.
 */
import { randomBytes } from 'node:crypto';
import { MAX_MQTT_TOKEN_CHARS, type FrameFields } from '../../firmware-protocol';
import { TEST_TOKEN_EXPIRY, type CheckId } from './catalogue';
import { hasCap, type RunContext } from './context';
import { fail, requireError, requireOk, runCheck, skip } from './results';

const TOKEN_FRAME_CHARS = 400;

/** Free text for a test MQTT token: letters, digits, "-" and "_", so it needs no escapes. */
export function testToken(length: number): string {
  let token = '';
  while (token.length < length) token += randomBytes(256).toString('base64url');
  return token.slice(0, length);
}

export function stagedList(fields: FrameFields): string[] {
  return fields.staged ? fields.staged.split(',') : [];
}

const STAGING_CHECKS = [
  'write.bad-value',
  'write.append-without-token',
  'write.staging',
  'dedup.write',
  'write.token-limit',
] as const satisfies readonly CheckId[];

/** Committed values a READBACK shows; staging must leave every one of them as it was (3.1). */
const COMMITTED_KEYS = [
  'deviceId',
  'networkId',
  'networkKeyFp',
  'cloudPublicKey',
  'mqttTokenFp',
  'mqttTokenExpiresAt',
  'derivedKeyFp',
  'derivedKeyInterface',
];

export function committedDifferences(before: FrameFields, after: FrameFields): string[] {
  return COMMITTED_KEYS.filter((key) => before[key] !== after[key]).map(
    (key) => `${key} ${before[key] ?? '(none)'} -> ${after[key] ?? '(none)'}`,
  );
}

export async function stagingChecks(ctx: RunContext): Promise<void> {
  const { book, wire } = ctx;
  const found = ctx.foundReadback;
  const why = !hasCap(ctx, 'WRITE')
    ? 'the board does not list WRITE in caps'
    : !hasCap(ctx, 'REBOOT')
      ? 'needs REBOOT (not in caps) to discard the staged fields afterwards'
      : ctx.identity?.state === 'locked'
        ? 'the board is locked (it refuses WRITE: see lock.refuses)'
        : found === undefined
          ? 'READBACK gave nothing to compare the staged fields with'
          : undefined;
  if (why !== undefined || found === undefined) {
    for (const id of STAGING_CHECKS) book.skip(id, why ?? 'not run');
    return;
  }
  const stagedBefore = found.staged ?? '';
  const readbackStaged = async (what: string) => {
    const readback = await wire.request('READBACK');
    const fields = requireOk(readback, `READBACK after ${what}`);
    if ((fields.staged ?? '') !== stagedBefore)
      fail(`${what} staged something: READBACK staged=${fields.staged ?? '(none)'}`, readback);
  };

  await runCheck(book, 'write.bad-value', async () => {
    const exchange = await wire.request('WRITE', {
      mqttTokenExpiresAt: TEST_TOKEN_EXPIRY,
      deviceId: 'ffff000000000001',
    });
    requireError(
      exchange,
      'BAD_ARGUMENT',
      { fields: { field: 'deviceId' } },
      'WRITE deviceId=ffff000000000001',
    );
    await readbackStaged('the refused WRITE');
    return 'ffff-prefixed deviceId: BAD_ARGUMENT field=deviceId; mqttTokenExpiresAt of the same frame not staged';
  });

  await runCheck(book, 'write.append-without-token', async () => {
    if (stagedList(found).includes('mqttToken')) skip('the board was found with an MQTT token staged');
    const exchange = await wire.request('WRITE', { mqttToken: 'conformance', append: '1' });
    requireError(
      exchange,
      'BAD_ARGUMENT',
      { fields: { field: 'append' } },
      'WRITE append=1 with no token staged',
    );
    await readbackStaged('the refused append');
    return 'BAD_ARGUMENT field=append, nothing staged';
  });

  const token = testToken(MAX_MQTT_TOKEN_CHARS + 1);
  let staged1600 = false;
  await runCheck(book, 'write.staging', async () => {
    const first = await wire.request('WRITE', {
      mqttToken: token.slice(0, TOKEN_FRAME_CHARS),
      mqttTokenExpiresAt: TEST_TOKEN_EXPIRY,
    });
    const fields = requireOk(first, 'WRITE mqttToken mqttTokenExpiresAt');
    const listed = stagedList(fields);
    const missing = ['mqttToken', 'mqttTokenExpiresAt'].filter((name) => !listed.includes(name));
    if (missing.length > 0)
      fail(`the reply's staged=${fields.staged ?? ''} lacks ${missing.join(', ')}`, first);
    if (fields.state !== 'staged')
      fail(`the reply says state=${fields.state ?? '(missing)'}, not staged`, first);
    for (let at = TOKEN_FRAME_CHARS; at < 4 * TOKEN_FRAME_CHARS; at += TOKEN_FRAME_CHARS) {
      const more = await wire.request('WRITE', {
        mqttToken: token.slice(at, at + TOKEN_FRAME_CHARS),
        append: '1',
      });
      requireOk(more, `WRITE append=1 (token characters ${at}..${at + TOKEN_FRAME_CHARS})`);
    }
    staged1600 = true;
    const readback = await wire.request('READBACK');
    const rb = requireOk(readback, 'READBACK after WRITE');
    const rbStaged = stagedList(rb);
    if (!rbStaged.includes('mqttToken') || !rbStaged.includes('mqttTokenExpiresAt') || rb.state !== 'staged')
      fail(`READBACK after WRITE: state=${rb.state} staged=${rb.staged ?? '(none)'}`, readback);
    const changed = committedDifferences(found, rb);
    if (changed.length > 0)
      fail(`staging changed the committed set READBACK reports: ${changed.join('; ')}`, readback);
    return 'staged=...,mqttToken,mqttTokenExpiresAt state=staged; READBACK lists them, committed set unchanged';
  });

  let appendedOnce = false;
  await runCheck(book, 'dedup.write', async () => {
    if (!staged1600) skip('the token frames before it were refused');
    const first = await wire.request('WRITE', { mqttToken: token.slice(1600, 1900), append: '1' });
    requireOk(first, 'WRITE append=1');
    const again = await wire.send(first.sent, { command: 'WRITE', id: first.id });
    requireOk(again, 'the same WRITE append=1 line again');
    if (
      again.outcome.kind === 'ok' &&
      first.outcome.kind === 'ok' &&
      again.outcome.line !== first.outcome.line
    )
      fail('the same line again got another reply: the board acted again', again);
    appendedOnce = true;
    return 'the same append line twice: the identical reply';
  });

  await runCheck(book, 'write.token-limit', async () => {
    if (!appendedOnce) skip('the token frames before it were refused');
    const last = await wire.request('WRITE', {
      mqttToken: token.slice(1900, MAX_MQTT_TOKEN_CHARS),
      append: '1',
    });
    requireOk(
      last,
      `WRITE append=1 reaching ${MAX_MQTT_TOKEN_CHARS} characters (a board that appended the repeated line ` +
        'twice would be past the limit)',
    );
    const over = await wire.request('WRITE', { mqttToken: token.slice(MAX_MQTT_TOKEN_CHARS), append: '1' });
    requireError(
      over,
      'BAD_ARGUMENT',
      { fields: { field: 'mqttToken' } },
      `the ${MAX_MQTT_TOKEN_CHARS + 1}th character`,
    );
    return `${MAX_MQTT_TOKEN_CHARS} characters in 6 frames taken; one more refused BAD_ARGUMENT field=mqttToken`;
  });
}
