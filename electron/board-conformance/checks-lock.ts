/**
 * LOCK (PROTOCOL.md 3.1, 5.8, 7.1). With --lock the run commits a test set again and locks the board for good:
 * on real hardware nothing undoes it. A board found locked is checked without --lock as far as that is safe:
 * WRITE (RAM only) must be refused, and the reading commands must still answer.
 */
import { randomBytes } from 'node:crypto';
import { CHALLENGE_BYTES, VERIFY_NONCE_BYTES } from '../../firmware-protocol';
import { DEVELOPMENT_CLOUD_PUBLIC_KEY } from '../../firmware-protocol/virtual-board';
import { NEEDS_LOCK, TEST_TOKEN_EXPIRY, type CheckId } from './catalogue';
import { hasCap, type RunContext } from './context';
import { newTestSet, otherMcuId, refreshIdentity } from './checks-destructive';
import { rebootMidRun } from './checks-reboot';
import { fail, requireError, requireOk, runCheck, skip } from './results';

const LOCK_CHECKS = [
  'lock.not-provisioned',
  'lock.guard',
  'lock.locks',
  'lock.idempotent',
  'order.locked',
  'lock.refuses',
  'lock.still-works',
  'lock.survives-reboot',
] as const satisfies readonly CheckId[];

/** A device id that is not the committed one, for the LOCK guard. */
const WRONG_LOCK_DEVICE_ID = '0000c0ffee000009';

function skipUnrecorded(ctx: RunContext, why: string): void {
  for (const id of LOCK_CHECKS) if (!ctx.book.has(id)) ctx.book.skip(id, why);
}

/** A locked board's reading commands (5.8): IDENTIFY, READBACK, CHALLENGE and VERIFY still answer. */
async function stillWorks(ctx: RunContext, deviceId: string): Promise<void> {
  const { book, wire } = ctx;
  await runCheck(book, 'lock.still-works', async () => {
    const identify = await refreshIdentity(ctx);
    const id = requireOk(identify, 'IDENTIFY on a locked board');
    if (id.state !== 'locked' || id.deviceId !== deviceId)
      fail(`IDENTIFY: state=${id.state} deviceId=${id.deviceId}; expected locked ${deviceId}`, identify);
    const readback = await wire.request('READBACK');
    const rb = requireOk(readback, 'READBACK on a locked board');
    if (rb.state !== 'locked') fail(`READBACK: state=${rb.state}, not locked`, readback);
    const challenge = await wire.request('CHALLENGE', {
      challenge: randomBytes(CHALLENGE_BYTES).toString('base64'),
    });
    requireOk(challenge, 'CHALLENGE on a locked board');
    const verify = await wire.request('VERIFY', {
      nonce: randomBytes(VERIFY_NONCE_BYTES).toString('base64'),
      key: 'sign',
    });
    const fields = requireOk(verify, 'VERIFY on a locked board');
    if (fields.deviceId !== deviceId)
      fail(`VERIFY: deviceId=${fields.deviceId}, expected ${deviceId}`, verify);
    return 'IDENTIFY, READBACK, CHALLENGE and VERIFY answer OK';
  });
}

/** A board found locked, in any mode: only what cannot change it. */
export async function foundLockedChecks(ctx: RunContext): Promise<void> {
  const deviceId = ctx.identity?.deviceId;
  if (ctx.identity?.state !== 'locked' || !deviceId) return;
  await runCheck(ctx.book, 'lock.refuses', async () => {
    // Only WRITE: staged fields are RAM (the REBOOT later drops them); COMMIT or FACTORY-RESET on a board that
    // wrongly took them would change its flash.
    const write = await ctx.wire.request('WRITE', { networkId: '1' });
    requireError(write, 'LOCKED', {}, 'WRITE on a locked board');
    return 'WRITE refused LOCKED (COMMIT and FACTORY-RESET are left alone on a board found locked)';
  });
  await stillWorks(ctx, deviceId);
  skipUnrecorded(
    ctx,
    'the board was found locked: LOCK itself is checked with --lock on a board that is not',
  );
}

/** --lock: lock a freshly committed test set; the board stays locked. `blank` says the destructive run left it so. */
export async function lockChecks(ctx: RunContext, blank: boolean): Promise<void> {
  const { book, wire } = ctx;
  if (ctx.identity?.state === 'locked' && !ctx.lock) return;
  if (!ctx.lock) return skipUnrecorded(ctx, NEEDS_LOCK);
  if (!hasCap(ctx, 'LOCK')) return skipUnrecorded(ctx, 'the board does not list LOCK in caps');
  if (!blank) return skipUnrecorded(ctx, 'needs the destructive checks to leave the board blank first');
  const mcuId = ctx.identity?.mcuId;
  if (!mcuId) return skipUnrecorded(ctx, 'IDENTIFY gave no usable mcuId');
  const set = newTestSet();

  await runCheck(book, 'lock.not-provisioned', async () => {
    const exchange = await wire.request('LOCK', { deviceId: set.deviceId });
    requireError(exchange, 'NOT_PROVISIONED', {}, 'LOCK on a blank board');
    return 'ERR NOT_PROVISIONED';
  });

  const write = await wire.request('WRITE', {
    deviceId: set.deviceId,
    networkId: String(set.networkId),
    networkKey: set.networkKey.toString('base64'),
    cloudPublicKey: DEVELOPMENT_CLOUD_PUBLIC_KEY.toString('base64'),
  });
  const commit = write.outcome.kind === 'ok' ? await wire.request('COMMIT') : undefined;
  if (commit?.outcome.kind !== 'ok' || commit.outcome.fields.state !== 'committed') {
    book.fail(
      'lock.locks',
      'could not commit a test set to lock (WRITE or COMMIT refused; see the destructive checks)',
      commit ?? write,
    );
    return skipUnrecorded(ctx, 'no test set committed to lock');
  }

  await runCheck(book, 'lock.guard', async () => {
    const exchange = await wire.request('LOCK', { deviceId: WRONG_LOCK_DEVICE_ID });
    requireError(
      exchange,
      'BAD_ARGUMENT',
      { fields: { field: 'deviceId' } },
      `LOCK deviceId=${WRONG_LOCK_DEVICE_ID}`,
    );
    const readback = await wire.request('READBACK');
    const fields = requireOk(readback, 'READBACK after the refused LOCK');
    if (fields.state !== 'committed') fail(`the refused LOCK left state=${fields.state}`, readback);
    return 'ERR BAD_ARGUMENT field=deviceId, still committed';
  });

  let locked = false;
  await runCheck(book, 'lock.locks', async () => {
    // Something staged, so READBACK shows whether LOCK discarded it (5.8).
    requireOk(await wire.request('WRITE', { mqttTokenExpiresAt: TEST_TOKEN_EXPIRY }), 'WRITE before LOCK');
    const exchange = await wire.request('LOCK', { deviceId: set.deviceId });
    const fields = requireOk(exchange, 'LOCK');
    if (fields.state !== 'locked') fail(`LOCK answered state=${fields.state ?? '(missing)'}`, exchange);
    const readback = await wire.request('READBACK');
    const rb = requireOk(readback, 'READBACK after LOCK');
    if (rb.state !== 'locked' || rb.deviceId !== set.deviceId)
      fail(`READBACK after LOCK: state=${rb.state} deviceId=${rb.deviceId}`, readback);
    locked = true;
    if (rb.staged) fail(`LOCK kept the staged fields: staged=${rb.staged}`, readback);
    return `state=locked, READBACK state=locked deviceId=${set.deviceId}, staged fields discarded`;
  });
  if (!locked) return skipUnrecorded(ctx, 'the board did not lock (see lock.locks)');

  await runCheck(book, 'lock.idempotent', async () => {
    const exchange = await wire.request('LOCK', { deviceId: set.deviceId });
    const fields = requireOk(exchange, 'LOCK again');
    if (fields.state !== 'locked') fail(`LOCK again answered state=${fields.state ?? '(missing)'}`, exchange);
    return 'OK state=locked';
  });

  // Before lock.refuses: a board that wrongly takes FACTORY-RESET there is erased, and these need it locked.
  await runCheck(book, 'order.locked', async () => {
    for (const command of ['WRITE', 'COMMIT'] as const) {
      const unknown = await wire.request(command, { bogus: '1' });
      requireError(
        unknown,
        'BAD_ARGUMENT',
        { fields: { field: 'bogus' } },
        `${command} bogus=1 on a locked board`,
      );
    }
    const guard = await wire.request('FACTORY-RESET', { mcuId: otherMcuId(mcuId), confirm: 'ERASE' });
    requireError(guard, 'LOCKED', {}, 'FACTORY-RESET with another mcuId on a locked board');
    return 'WRITE/COMMIT bogus=1: BAD_ARGUMENT field=bogus; FACTORY-RESET with a wrong mcuId: LOCKED';
  });

  await runCheck(book, 'lock.refuses', async () => {
    const write2 = await wire.request('WRITE', { networkId: '1' });
    requireError(write2, 'LOCKED', {}, 'WRITE on a locked board');
    const commit2 = await wire.request('COMMIT');
    requireError(commit2, 'LOCKED', {}, 'COMMIT on a locked board');
    const reset = await wire.request('FACTORY-RESET', { mcuId, confirm: 'ERASE' });
    requireError(reset, 'LOCKED', {}, 'FACTORY-RESET on a locked board');
    const readback = await wire.request('READBACK');
    const fields = requireOk(readback, 'READBACK after the refusals');
    if (fields.state !== 'locked' || fields.deviceId !== set.deviceId)
      fail(`after the refusals: state=${fields.state} deviceId=${fields.deviceId}`, readback);
    return 'WRITE, COMMIT and FACTORY-RESET: ERR LOCKED; still locked';
  });

  await stillWorks(ctx, set.deviceId);

  await runCheck(book, 'lock.survives-reboot', async () => {
    if (!hasCap(ctx, 'REBOOT')) skip('the board does not list REBOOT in caps');
    await rebootMidRun(ctx, 'REBOOT of the locked board');
    const readback = await wire.request('READBACK');
    const fields = requireOk(readback, 'READBACK after REBOOT');
    if (fields.state !== 'locked' || fields.deviceId !== set.deviceId)
      fail(`after REBOOT: state=${fields.state} deviceId=${fields.deviceId}`, readback);
    return `still locked with deviceId=${set.deviceId}`;
  });
}
