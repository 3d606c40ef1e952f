/**
 * --destructive: the checks that write flash (PROTOCOL.md 3.1, 5.4-5.6, 5.10, 6.3-6.5). From a blank board (a
 * provisioned one is erased first) the run commits a test set written with the development cloud key, reads it
 * back by fingerprint, proves the crypto on it, reboots, and erases it again: the board ends blank.
 */
import { randomBytes } from 'node:crypto';
import { secretFingerprint, type FrameFields } from '../../firmware-protocol';
import { DEVELOPMENT_CLOUD_PUBLIC_KEY } from '../../firmware-protocol/virtual-board';
import {
  NEEDS_DESTRUCTIVE,
  OTHER_TEST_DEVICE_ID,
  TEST_DEVICE_ID,
  TEST_NETWORK_ID,
  TEST_TOKEN_EXPIRY,
  type CheckId,
} from './catalogue';
import { hasCap, identityProblems, parseIdentity, type RunContext } from './context';
import { provisionedChallengeCheck, verifyChecks } from './checks-crypto';
import { rebootMidRun } from './checks-reboot';
import { consistencyCheck } from './checks-session';
import { committedDifferences, stagedList, testToken } from './checks-write';
import { describeOutcome, fail, requireError, requireOk, runCheck, skip } from './results';
import type { Exchange } from './wire';

export const DESTRUCTIVE_CHECKS = [
  'commit.incomplete',
  'commit.keeps-staged',
  'write.append',
  'commit.stores',
  'dedup.commit',
  'commit.nothing-staged',
  'readback.fingerprints',
  'challenge.provisioned',
  'write.already-provisioned',
  'reboot.keeps-committed',
  'reset.guard',
  'reset.erases',
  'reset.blank',
] as const satisfies readonly CheckId[];

/** What the destructive run writes. Fresh secrets every run; only their fingerprints are compared. */
export interface TestSet {
  deviceId: string;
  networkId: number;
  networkKey: Buffer;
  derivedKey: Buffer;
  mqttToken: string;
}

export function newTestSet(): TestSet {
  return {
    deviceId: TEST_DEVICE_ID,
    networkId: TEST_NETWORK_ID,
    networkKey: randomBytes(32),
    derivedKey: randomBytes(32),
    mqttToken: `conformance_${testToken(588)}`,
  };
}

/** A mcuId with its last digit changed: the guard of FACTORY-RESET must refuse it. */
export function otherMcuId(mcuId: string): string {
  const last = mcuId.slice(-1);
  return mcuId.slice(0, -1) + (last === '0' ? '1' : '0');
}

/** IDENTIFY again, so later checks compare with what the board holds now. */
export async function refreshIdentity(ctx: RunContext): Promise<Exchange> {
  const identify = await ctx.wire.request('IDENTIFY');
  if (identify.outcome.kind === 'ok') {
    ctx.identity = parseIdentity(identify.outcome.fields);
    const problems = identityProblems(identify.outcome.fields);
    if (problems.length > 0) ctx.book.fail('identify.reply', `IDENTIFY: ${problems.join('; ')}`, identify);
  }
  return identify;
}

/** Why the destructive checks cannot run on this board, or undefined when they can. */
export function destructiveBlocker(ctx: RunContext): string | undefined {
  if (!ctx.destructive) return NEEDS_DESTRUCTIVE;
  const missing = ['WRITE', 'COMMIT', 'READBACK', 'FACTORY-RESET'].filter((command) => !hasCap(ctx, command));
  if (missing.length > 0)
    return `needs ${missing.join(', ')} in caps to write and erase a test set (caps=${ctx.hello?.caps.join(',') ?? ''})`;
  if (ctx.identity?.state === 'locked')
    return 'the board is locked: it cannot be checked destructively (LOCK is permanent, FACTORY-RESET refused)';
  if (!ctx.identity?.mcuId) return 'IDENTIFY gave no usable mcuId for the FACTORY-RESET guard';
  return undefined;
}

/**
 * The destructive checks. Returns true when the board was left blank (the lock checks start from there).
 */
export async function destructiveChecks(ctx: RunContext): Promise<boolean> {
  const { book, wire } = ctx;
  const blocker = destructiveBlocker(ctx);
  const mcuId = ctx.identity?.mcuId;
  if (blocker !== undefined || mcuId === undefined) {
    for (const id of DESTRUCTIVE_CHECKS) book.skip(id, blocker ?? 'not run');
    return false;
  }
  const skipRest = (from: CheckId, why: string) => {
    for (const id of DESTRUCTIVE_CHECKS.slice(
      DESTRUCTIVE_CHECKS.indexOf(from as (typeof DESTRUCTIVE_CHECKS)[number]),
    ))
      if (!book.has(id)) book.skip(id, why);
  };

  // A provisioned board is erased first, as the header said it would be.
  if (ctx.identity?.state !== 'blank') {
    const erase = await wire.request('FACTORY-RESET', { mcuId, confirm: 'ERASE' });
    if (erase.outcome.kind !== 'ok' || erase.outcome.fields.state !== 'blank') {
      book.fail(
        'reset.erases',
        `FACTORY-RESET before the destructive checks: ${describeOutcome(erase.outcome)}`,
        erase,
      );
      skipRest('commit.incomplete', 'the board could not be erased first (see reset.erases)');
      return false;
    }
    await refreshIdentity(ctx);
  }

  const set = newTestSet();
  const writeOk = async (fields: FrameFields, what: string, mustList: string[]) => {
    const exchange = await wire.request('WRITE', fields);
    const reply = requireOk(exchange, what);
    const listed = stagedList(reply);
    const missing = mustList.filter((name) => !listed.includes(name));
    if (missing.length > 0)
      fail(`${what}: the reply's staged=${reply.staged ?? ''} lacks ${missing.join(', ')}`, exchange);
    if (reply.state !== 'staged') fail(`${what}: state=${reply.state ?? '(missing)'}, not staged`, exchange);
    return exchange;
  };

  let ready = false;
  await runCheck(book, 'commit.incomplete', async () => {
    const empty = await wire.request('COMMIT');
    requireError(
      empty,
      'INCOMPLETE',
      { fields: { field: 'deviceId' } },
      'COMMIT with nothing staged on a blank board',
    );
    await writeOk({ deviceId: set.deviceId, networkId: String(set.networkId) }, 'WRITE deviceId networkId', [
      'deviceId',
      'networkId',
    ]);
    const noKey = await wire.request('COMMIT');
    requireError(
      noKey,
      'INCOMPLETE',
      { fields: { field: 'networkKey' } },
      'COMMIT of a networkId without networkKey',
    );
    ready = true;
    return 'nothing staged: INCOMPLETE field=deviceId; networkId alone: INCOMPLETE field=networkKey';
  });

  await runCheck(book, 'commit.keeps-staged', async () => {
    if (!ready) skip('the incomplete COMMIT before it did not happen');
    const readback = await wire.request('READBACK');
    const fields = requireOk(readback, 'READBACK after the refused COMMIT');
    const listed = stagedList(fields);
    if (!listed.includes('deviceId') || !listed.includes('networkId') || fields.state !== 'staged')
      fail(
        `READBACK after the refused COMMIT: state=${fields.state} staged=${fields.staged ?? '(none)'}`,
        readback,
      );
    if (fields.deviceId !== 'none') fail(`deviceId=${fields.deviceId} before any COMMIT succeeded`, readback);
    return 'state=staged staged=deviceId,networkId, nothing committed';
  });

  const allFields = [
    'deviceId',
    'networkId',
    'networkKey',
    'cloudPublicKey',
    'derivedKey',
    'derivedKeyInterface',
    'mqttToken',
  ];
  await runCheck(book, 'write.append', async () => {
    if (!ready) skip('the WRITE before it was refused');
    await writeOk(
      {
        networkKey: set.networkKey.toString('base64'),
        cloudPublicKey: DEVELOPMENT_CLOUD_PUBLIC_KEY.toString('base64'),
        derivedKey: set.derivedKey.toString('base64'),
        derivedKeyInterface: 'udp',
      },
      'WRITE networkKey cloudPublicKey derivedKey derivedKeyInterface',
      allFields.slice(0, 6),
    );
    await writeOk(
      { mqttToken: set.mqttToken.slice(0, 300) },
      'WRITE mqttToken (first 300 characters)',
      allFields,
    );
    await writeOk(
      { mqttToken: set.mqttToken.slice(300), append: '1' },
      'WRITE mqttToken append=1 (the rest)',
      allFields,
    );
    return `a ${set.mqttToken.length}-character token in two frames staged (its fingerprint is checked after COMMIT)`;
  });
  if (book.get('write.append')?.result !== 'PASS') ready = false;

  let commit: Exchange | undefined;
  await runCheck(book, 'commit.incomplete', async () => {
    if (!ready) skip('the WRITE before it was refused');
    const noExpiry = await wire.request('COMMIT');
    requireError(
      noExpiry,
      'INCOMPLETE',
      { fields: { field: 'mqttTokenExpiresAt' } },
      'COMMIT of a token without expiry',
    );
    return 'nothing staged: deviceId; networkId alone: networkKey; token alone: mqttTokenExpiresAt';
  });
  await runCheck(book, 'commit.stores', async () => {
    if (!ready) skip('the WRITE before it was refused');
    await writeOk({ mqttTokenExpiresAt: TEST_TOKEN_EXPIRY }, 'WRITE mqttTokenExpiresAt', [
      ...allFields,
      'mqttTokenExpiresAt',
    ]);
    commit = await wire.request('COMMIT');
    const fields = requireOk(commit, 'COMMIT of the complete set');
    const wrong: string[] = [];
    if (fields.changed !== '1') wrong.push(`changed=${fields.changed ?? '(missing)'}`);
    if (fields.state !== 'committed') wrong.push(`state=${fields.state ?? '(missing)'}`);
    if (fields.deviceId !== set.deviceId) wrong.push(`deviceId=${fields.deviceId ?? '(missing)'}`);
    if (wrong.length > 0)
      fail(
        `COMMIT answered ${wrong.join(' ')}; expected changed=1 state=committed deviceId=${set.deviceId}`,
        commit,
      );
    return `changed=1 state=committed deviceId=${set.deviceId}`;
  });
  const committed = commit?.outcome.kind === 'ok' && book.get('commit.stores')?.result === 'PASS';
  if (!committed) {
    skipRest('dedup.commit', 'the test set was not committed (see the checks above)');
    return eraseAtEnd(ctx, mcuId);
  }

  await runCheck(book, 'dedup.commit', async () => {
    if (!commit) skip('no COMMIT to repeat');
    const again = await wire.send(commit.sent, { command: 'COMMIT', id: commit.id });
    requireOk(again, 'the same COMMIT line again');
    if (
      again.outcome.kind === 'ok' &&
      commit.outcome.kind === 'ok' &&
      again.outcome.line !== commit.outcome.line
    )
      fail(`the same COMMIT line again got ${describeOutcome(again.outcome)}: the board acted again`, again);
    return 'the remembered reply, changed=1, byte for byte';
  });

  await runCheck(book, 'commit.nothing-staged', async () => {
    const exchange = await wire.request('COMMIT');
    const fields = requireOk(exchange, 'COMMIT with nothing staged');
    if (fields.changed !== '0' || fields.state !== 'committed' || fields.deviceId !== set.deviceId)
      fail(
        `expected changed=0 state=committed deviceId=${set.deviceId}, got ${describeOutcome(exchange.outcome)}`,
        exchange,
      );
    return 'changed=0 state=committed';
  });

  const expected = expectedReadback(set);
  let committedReadback: FrameFields | undefined;
  const readback = await wire.request('READBACK');
  await runCheck(book, 'readback.fingerprints', async () => {
    const fields = requireOk(readback, 'READBACK after COMMIT');
    committedReadback = fields;
    const wrong = Object.entries(expected)
      .filter(([key, value]) => fields[key] !== value)
      .map(([key, value]) => `${key}=${fields[key] ?? '(missing)'} (wrote ${value})`);
    if (fields.staged) wrong.push(`staged=${fields.staged} after COMMIT`);
    if (wrong.length > 0) fail(`READBACK after COMMIT: ${wrong.join('; ')}`, readback);
    return 'networkKeyFp, mqttTokenFp, derivedKeyFp and the plain fields are what was written';
  });

  const identify = await refreshIdentity(ctx);
  await runCheck(book, 'identify.consistent', async () =>
    consistencyCheck(identify, readback, 'after COMMIT'),
  );
  await provisionedChallengeCheck(ctx, set.deviceId, set.networkId);
  await verifyChecks(ctx);

  await runCheck(book, 'write.already-provisioned', async () => {
    const exchange = await wire.request('WRITE', { deviceId: OTHER_TEST_DEVICE_ID });
    requireError(
      exchange,
      'ALREADY_PROVISIONED',
      { fields: { deviceId: set.deviceId } },
      `WRITE deviceId=${OTHER_TEST_DEVICE_ID} on a board holding ${set.deviceId}`,
    );
    const after = await wire.request('READBACK');
    const fields = requireOk(after, 'READBACK after the refused WRITE');
    if (fields.staged) fail(`the refused WRITE staged ${fields.staged}`, after);
    return `ERR ALREADY_PROVISIONED deviceId=${set.deviceId}, nothing staged`;
  });

  await runCheck(book, 'reboot.keeps-committed', async () => {
    if (!hasCap(ctx, 'REBOOT')) skip('the board does not list REBOOT in caps');
    await rebootMidRun(ctx, 'REBOOT with the test set committed');
    const after = await wire.request('READBACK');
    const fields = requireOk(after, 'READBACK after REBOOT');
    const before = committedReadback ?? expected;
    const wrong = Object.keys(expected)
      .filter((key) => fields[key] !== before[key])
      .map((key) => `${key}=${fields[key] ?? '(missing)'} (before ${before[key] ?? '(none)'})`);
    if (wrong.length > 0) fail(`after REBOOT: ${wrong.join('; ')}`, after);
    return 'READBACK after REBOOT equals READBACK after COMMIT';
  });

  return eraseAtEnd(ctx, mcuId);
}

/** READBACK as it must be after committing `set` with the development key. */
export function expectedReadback(set: TestSet): Record<string, string> {
  return {
    state: 'committed',
    deviceId: set.deviceId,
    networkId: String(set.networkId),
    networkKeyFp: secretFingerprint(set.networkKey),
    cloudPublicKey: DEVELOPMENT_CLOUD_PUBLIC_KEY.toString('base64'),
    mqttTokenFp: secretFingerprint(set.mqttToken),
    mqttTokenExpiresAt: TEST_TOKEN_EXPIRY,
    derivedKeyFp: secretFingerprint(set.derivedKey),
    derivedKeyInterface: 'udp',
  };
}

/** The guarded erase at the end of the destructive run: the board is left blank. */
async function eraseAtEnd(ctx: RunContext, mcuId: string): Promise<boolean> {
  const { book, wire } = ctx;
  await runCheck(book, 'reset.guard', async () => {
    const before = await wire.request('READBACK');
    const held = requireOk(before, 'READBACK before FACTORY-RESET');
    const wrongMcu = await wire.request('FACTORY-RESET', { mcuId: otherMcuId(mcuId), confirm: 'ERASE' });
    requireError(
      wrongMcu,
      'BAD_ARGUMENT',
      { fields: { field: 'mcuId' } },
      'FACTORY-RESET with another mcuId',
    );
    const wrongWord = await wire.request('FACTORY-RESET', { mcuId, confirm: 'YES' });
    requireError(wrongWord, 'BAD_ARGUMENT', { fields: { field: 'confirm' } }, 'FACTORY-RESET confirm=YES');
    const readback = await wire.request('READBACK');
    const fields = requireOk(readback, 'READBACK after the refused FACTORY-RESETs');
    const erased = committedDifferences(held, fields);
    if (erased.length > 0)
      fail(`a refused FACTORY-RESET changed the credentials: ${erased.join('; ')}`, readback);
    return 'wrong mcuId: BAD_ARGUMENT field=mcuId; confirm=YES: BAD_ARGUMENT field=confirm; nothing erased';
  });

  let blank = false;
  await runCheck(book, 'reset.erases', async () => {
    // Something staged, so READBACK shows whether FACTORY-RESET discarded it too (5.10).
    requireOk(
      await wire.request('WRITE', { mqttTokenExpiresAt: TEST_TOKEN_EXPIRY }),
      'WRITE before FACTORY-RESET',
    );
    const reset = await wire.request('FACTORY-RESET', { mcuId, confirm: 'ERASE' });
    const fields = requireOk(reset, 'FACTORY-RESET');
    if (fields.state !== 'blank') fail(`FACTORY-RESET answered state=${fields.state ?? '(missing)'}`, reset);
    const readback = await wire.request('READBACK');
    const rb = requireOk(readback, 'READBACK after FACTORY-RESET');
    const left = [
      'networkId',
      'networkKeyFp',
      'mqttTokenFp',
      'mqttTokenExpiresAt',
      'derivedKeyFp',
      'derivedKeyInterface',
      'staged',
    ]
      .filter((key) => rb[key] !== undefined)
      .map((key) => `${key}=${rb[key]}`);
    if (rb.state !== 'blank' || rb.deviceId !== 'none' || left.length > 0)
      fail(
        `READBACK after FACTORY-RESET: state=${rb.state} deviceId=${rb.deviceId}${left.length > 0 ? ` ${left.join(' ')}` : ''}`,
        readback,
      );
    blank = true;
    return 'state=blank; READBACK deviceId=none, no credentials and nothing staged left';
  });
  await refreshIdentity(ctx);

  await runCheck(book, 'reset.blank', async () => {
    if (!blank) skip('the board was not erased');
    const guard = await wire.request('FACTORY-RESET', { mcuId: otherMcuId(mcuId), confirm: 'ERASE' });
    requireError(
      guard,
      'BAD_ARGUMENT',
      { fields: { field: 'mcuId' } },
      'FACTORY-RESET with another mcuId, blank',
    );
    const again = await wire.request('FACTORY-RESET', { mcuId, confirm: 'ERASE' });
    const fields = requireOk(again, 'FACTORY-RESET on a blank board');
    if (fields.state !== 'blank') fail(`answered state=${fields.state ?? '(missing)'}`, again);
    return 'wrong mcuId: BAD_ARGUMENT field=mcuId; right one: OK state=blank';
  });
  // A board found provisioned had its NOT_PROVISIONED checks skipped; blank now, they can run.
  if (blank) await verifyChecks(ctx);
  return blank;
}
