/**
 * CHALLENGE and VERIFY checked the way the cloud would check them (PROTOCOL.md 5.3, 5.7, 6.2-6.4), with the
 * published development cloud key pair standing in for the cloud, plus the retransmission rules of section 4,
 * which CHALLENGE shows best: a board that acts again on a resent line seals with a new random nonce.
 */
import { randomBytes } from 'node:crypto';
import {
  AEAD_NONCE_BYTES,
  CHALLENGE_BYTES,
  UNPROVISIONED_DEVICE_ID,
  VERIFY_NONCE_BYTES,
  decodeBase64Exact,
  deriveInterfaceKey,
  deriveSignKey,
  deviceKeyId,
  gpsDayNumber,
  hardwareIdFromMcuId,
  openChallengeResponse,
  proofsEqual,
  verifyProof,
  x25519SharedSecret,
  type FrameFields,
} from '../../firmware-protocol';
import { developmentCloudPrivateKey } from '../../firmware-protocol/virtual-board';
import type { CheckId } from './catalogue';
import { DEVELOPMENT_KEY_NOT_IN_FORCE, developmentKeyInForce, type RunContext } from './context';
import { fail, requireError, requireOk, runCheck, skip } from './results';
import type { Exchange } from './wire';

const SEALED_RESPONSE_BYTES = AEAD_NONCE_BYTES + 40 + 16;

interface ChallengeSent {
  exchange: Exchange;
  challenge: Buffer;
}

async function sendChallenge(ctx: RunContext, challenge: Buffer, id?: number): Promise<ChallengeSent> {
  const exchange = await ctx.wire.request(
    'CHALLENGE',
    { challenge: challenge.toString('base64') },
    id === undefined ? {} : { id },
  );
  return { exchange, challenge };
}

function responseBytes(fields: FrameFields): Buffer | undefined {
  const text = fields.response ?? '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** The CHALLENGE reply's fields against IDENTIFY (5.3). Returns the sealed response. */
function challengeReplyProblems(ctx: RunContext, fields: FrameFields): string[] {
  const problems: string[] = [];
  const identity = ctx.identity;
  if (fields.type !== '0') problems.push(`type=${fields.type ?? '(missing)'}, not 0`);
  if (identity?.networkId !== undefined && fields.networkId !== String(identity.networkId))
    problems.push(`networkId=${fields.networkId ?? '(missing)'}, IDENTIFY said ${identity.networkId}`);
  for (const key of ['cloudPublicKey', 'devicePublicKey'] as const) {
    const bytes = decodeBase64Exact(fields[key] ?? '', 32);
    if (!bytes) problems.push(`${key} is not the base64 of 32 bytes`);
    else if (identity?.[key] && !bytes.equals(identity[key])) problems.push(`${key} differs from IDENTIFY's`);
  }
  const response = responseBytes(fields);
  if (!response) problems.push('response is not base64');
  else if (response.length !== SEALED_RESPONSE_BYTES)
    problems.push(
      `response is ${response.length} bytes, not ${SEALED_RESPONSE_BYTES} (nonce, 40 sealed, tag)`,
    );
  return problems;
}

/**
 * Open a CHALLENGE reply as the cloud does (6.3): the sign key from X25519(development cloud private key, the
 * board's public key from IDENTIFY), the AAD from the reply's own security state. Fails unless the plaintext is
 * the challenge, the hardware id from the mcuId and `deviceId` (ffff... when the board holds none).
 */
function openResponse(ctx: RunContext, sent: ChallengeSent, deviceId: string | null): string {
  const fields = requireOk(sent.exchange, 'CHALLENGE');
  const devicePublicKey = ctx.identity?.devicePublicKey;
  const mcuId = ctx.identity?.mcuId;
  if (!devicePublicKey || !mcuId) skip('IDENTIFY gave no usable devicePublicKey and mcuId to check against');
  const response = responseBytes(fields);
  const cloudPublicKey = decodeBase64Exact(fields.cloudPublicKey ?? '', 32);
  const networkId = Number(fields.networkId);
  if (!response || !cloudPublicKey || !Number.isInteger(networkId))
    fail('the CHALLENGE reply is too malformed to open (see challenge.reply)', sent.exchange);
  const opened = openChallengeResponse(
    {
      cloudPublicKey,
      devicePublicKey,
      networkId,
      challenge: sent.challenge,
      challengeResponseType: Number(fields.type),
      challengeResponse: response,
    },
    developmentCloudPrivateKey(),
  );
  if (!opened.ok) {
    const why: Record<typeof opened.reason, string> = {
      'unsupported-type': `type ${fields.type} is not 0`,
      malformed: `the response is not ${SEALED_RESPONSE_BYTES} bytes`,
      'authentication-failed':
        'ChaCha20-Poly1305 authentication failed: not sealed under the sign key of X25519(development cloud ' +
        'private key, board public key) with the security state as AAD',
      'challenge-mismatch': 'the plaintext does not start with the challenge sent',
    };
    fail(`the response does not open: ${why[opened.reason]}`, sent.exchange);
  }
  let hardwareId: Buffer;
  try {
    hardwareId = hardwareIdFromMcuId(mcuId);
  } catch {
    return skip(`mcuId ${mcuId} does not fit a 16-byte hardware id`);
  }
  if (!opened.value.hardwareId.equals(hardwareId))
    fail(
      `the hardware id sealed is ${opened.value.hardwareId.toString('hex')}, not the mcuId zero-padded ` +
        `(${hardwareId.toString('hex')})`,
      sent.exchange,
    );
  const expectedId = deviceId ?? UNPROVISIONED_DEVICE_ID;
  if (opened.value.deviceId !== expectedId)
    fail(`the device id sealed is ${opened.value.deviceId}, expected ${expectedId}`, sent.exchange);
  return `opens with the development key; holds the challenge, hardware id ${hardwareId.toString('hex')} and device id ${expectedId}`;
}

/** CHALLENGE as the board is found, and retransmission de-duplication (4, 5.3, 6.3). */
export async function challengeChecks(ctx: RunContext): Promise<void> {
  const { book } = ctx;
  const first = await sendChallenge(ctx, randomBytes(CHALLENGE_BYTES));
  await runCheck(book, 'challenge.reply', async () => {
    const fields = requireOk(first.exchange, 'CHALLENGE');
    const problems = challengeReplyProblems(ctx, fields);
    if (problems.length > 0) fail(`CHALLENGE: ${problems.join('; ')}`, first.exchange);
    return `type=0 networkId=${fields.networkId}, keys as IDENTIFY, ${SEALED_RESPONSE_BYTES}-byte response`;
  });
  const firstFields = first.exchange.outcome.kind === 'ok' ? first.exchange.outcome.fields : undefined;
  const firstNonce = firstFields ? responseBytes(firstFields)?.subarray(0, AEAD_NONCE_BYTES) : undefined;

  await runCheck(book, 'dedup.repeat', async () => {
    if (first.exchange.outcome.kind !== 'ok') skip('CHALLENGE was not answered OK the first time');
    const again = await ctx.wire.send(first.exchange.sent, { command: 'CHALLENGE', id: first.exchange.id });
    requireOk(again, 'the same CHALLENGE line again');
    if (again.outcome.kind === 'ok' && again.outcome.line !== first.exchange.outcome.line)
      fail(
        'the same line again got another reply (a new nonce: the board acted again instead of repeating its reply)',
        again,
      );
    return 'the same CHALLENGE line twice: the identical reply, byte for byte';
  });

  let second: ChallengeSent | undefined;
  await runCheck(book, 'dedup.new-request', async () => {
    if (first.exchange.outcome.kind !== 'ok' || first.exchange.id === undefined)
      skip('CHALLENGE was not answered OK the first time');
    second = await sendChallenge(ctx, randomBytes(CHALLENGE_BYTES), first.exchange.id);
    const fields = requireOk(second.exchange, 'CHALLENGE with the same id and another challenge');
    if (second.exchange.outcome.kind === 'ok' && second.exchange.outcome.line === first.exchange.outcome.line)
      fail('the same id with other bytes got the remembered reply; it is a new request', second.exchange);
    if (developmentKeyInForce(ctx)) openResponse(ctx, second, ctx.identity?.deviceId ?? null);
    return `answered anew (response=${(fields.response ?? '').slice(0, 12)}...)`;
  });

  await runCheck(book, 'challenge.fresh-nonce', async () => {
    if (!firstNonce) skip('CHALLENGE was not answered with a readable response');
    const third = await sendChallenge(ctx, first.challenge);
    const fields = requireOk(third.exchange, 'CHALLENGE with the same challenge and a new id');
    const nonce = responseBytes(fields)?.subarray(0, AEAD_NONCE_BYTES);
    if (!nonce) fail('the response is not base64', third.exchange);
    const secondFields = second?.exchange.outcome.kind === 'ok' ? second.exchange.outcome.fields : undefined;
    const secondNonce = secondFields ? responseBytes(secondFields)?.subarray(0, AEAD_NONCE_BYTES) : undefined;
    if (nonce.equals(firstNonce) || secondNonce?.equals(firstNonce))
      fail(`two CHALLENGEs were sealed with the same nonce ${nonce.toString('hex')}`, third.exchange);
    return 'three CHALLENGEs, three different nonces';
  });

  await runCheck(book, 'challenge.response', async () => {
    if (!developmentKeyInForce(ctx)) skip(DEVELOPMENT_KEY_NOT_IN_FORCE);
    return openResponse(ctx, first, ctx.identity?.deviceId ?? null);
  });
}

/**
 * CHALLENGE once the destructive run has committed `deviceId` and `networkId` with the development key: the
 * plaintext now ends with the committed id and the AAD carries the network id (6.3).
 */
export async function provisionedChallengeCheck(
  ctx: RunContext,
  deviceId: string,
  networkId: number,
): Promise<void> {
  const sent = await sendChallenge(ctx, randomBytes(CHALLENGE_BYTES));
  const check = async (id: CheckId) =>
    runCheck(ctx.book, id, async () => {
      const fields = requireOk(sent.exchange, 'CHALLENGE after COMMIT');
      const problems = challengeReplyProblems(ctx, fields);
      if (fields.networkId !== String(networkId))
        problems.push(`networkId=${fields.networkId}, committed ${networkId}`);
      if (problems.length > 0) fail(`CHALLENGE after COMMIT: ${problems.join('; ')}`, sent.exchange);
      return `${openResponse(ctx, sent, deviceId)}; networkId=${networkId}`;
    });
  await check('challenge.provisioned');
  // A board found with another cloud key had its challenge.response skipped; with the key written, it is checked.
  if (ctx.book.get('challenge.response')?.result === 'SKIPPED') await check('challenge.response');
  await runCheck(ctx.book, 'challenge.reply', async () => {
    const problems = challengeReplyProblems(ctx, requireOk(sent.exchange, 'CHALLENGE after COMMIT'));
    if (problems.length > 0) fail(`CHALLENGE after COMMIT: ${problems.join('; ')}`, sent.exchange);
    return 'after COMMIT too';
  });
}

const NEEDS_DEVICE_ID =
  'needs committed credentials: the board holds no device id (--destructive commits a test set first)';

/**
 * VERIFY as the board is now (5.7, 6.2, 6.4, 7.1): on a board without a device id it must say NOT_PROVISIONED; on
 * a provisioned one its MACs must be the ones the development cloud key gives.
 */
export async function verifyChecks(ctx: RunContext): Promise<void> {
  const { book, wire } = ctx;
  const deviceId = ctx.identity?.deviceId;
  const nonce = () => randomBytes(VERIFY_NONCE_BYTES).toString('base64');
  if (deviceId === undefined) {
    for (const id of [
      'verify.not-provisioned',
      'order.not-provisioned',
      'verify.sign',
      'verify.key-id',
      'verify.interface',
      'verify.bad-argument',
    ] as const)
      book.skip(id, 'IDENTIFY gave no readable deviceId');
    return;
  }
  if (deviceId === null) {
    await runCheck(book, 'verify.not-provisioned', async () => {
      const exchange = await wire.request('VERIFY', { nonce: nonce(), key: 'sign' });
      requireError(exchange, 'NOT_PROVISIONED', {}, 'VERIFY key=sign on a board without a device id');
      return 'ERR NOT_PROVISIONED';
    });
    await runCheck(book, 'order.not-provisioned', async () => {
      const unknown = await wire.request('VERIFY', { nonce: nonce(), key: 'sign', bogus: '1' });
      requireError(
        unknown,
        'BAD_ARGUMENT',
        { fields: { field: 'bogus' } },
        'VERIFY bogus=1 without a device id',
      );
      const badValue = await wire.request('VERIFY', { nonce: nonce(), key: 'bogus' });
      requireError(
        badValue,
        'BAD_ARGUMENT',
        { fields: { field: 'key' } },
        'VERIFY key=bogus without a device id',
      );
      return 'without a device id: unknown field BAD_ARGUMENT field=bogus, malformed key BAD_ARGUMENT field=key';
    });
    for (const id of ['verify.sign', 'verify.key-id', 'verify.interface', 'verify.bad-argument'] as const)
      book.skip(id, NEEDS_DEVICE_ID);
    return;
  }
  book.skip('verify.not-provisioned', `the board holds device id ${deviceId}`);
  book.skip('order.not-provisioned', `the board holds device id ${deviceId}`);

  const signNonce = randomBytes(VERIFY_NONCE_BYTES);
  const sign = await wire.request('VERIFY', { nonce: signNonce.toString('base64'), key: 'sign' });
  await runCheck(book, 'verify.sign', async () => {
    if (!developmentKeyInForce(ctx)) skip(DEVELOPMENT_KEY_NOT_IN_FORCE);
    const fields = requireOk(sign, 'VERIFY key=sign');
    return macCheck(
      ctx,
      sign,
      fields,
      deviceId,
      (shared) => deriveSignKey(shared),
      signNonce,
      'the sign key',
    );
  });
  await runCheck(book, 'verify.key-id', async () => {
    const fields = requireOk(sign, 'VERIFY key=sign');
    const cloud = ctx.identity?.cloudPublicKey;
    const device = ctx.identity?.devicePublicKey;
    if (!cloud || !device) skip('IDENTIFY gave no usable keys to compute the key id from');
    const expected = deviceKeyId(cloud, device).toString(16).padStart(6, '0');
    if (fields.keyId !== expected) fail(`keyId=${fields.keyId ?? '(missing)'}, expected ${expected}`, sign);
    return `keyId=${expected}`;
  });
  await runCheck(book, 'verify.interface', async () => {
    if (!developmentKeyInForce(ctx)) skip(DEVELOPMENT_KEY_NOT_IN_FORCE);
    const gpsDay = gpsDayNumber(new Date());
    const udpNonce = randomBytes(VERIFY_NONCE_BYTES);
    const udp = await wire.request('VERIFY', {
      nonce: udpNonce.toString('base64'),
      key: 'udp',
      gpsDay: String(gpsDay),
    });
    const fields = requireOk(udp, `VERIFY key=udp gpsDay=${gpsDay}`);
    const reason = macCheck(
      ctx,
      udp,
      fields,
      deviceId,
      (shared) => deriveInterfaceKey(shared, 'udp', gpsDay),
      udpNonce,
      `the udp key of GPS day ${gpsDay}`,
    );
    return reason;
  });
  await runCheck(book, 'verify.bad-argument', async () => {
    const badKey = await wire.request('VERIFY', { nonce: nonce(), key: 'bogus' });
    requireError(badKey, 'BAD_ARGUMENT', { fields: { field: 'key' } }, 'VERIFY key=bogus');
    const noDay = await wire.request('VERIFY', { nonce: nonce(), key: 'udp' });
    requireError(noDay, 'BAD_ARGUMENT', { fields: { field: 'gpsDay' } }, 'VERIFY key=udp without gpsDay');
    return 'key=bogus: BAD_ARGUMENT field=key; key=udp without gpsDay: BAD_ARGUMENT field=gpsDay';
  });
}

function macCheck(
  ctx: RunContext,
  exchange: Exchange,
  fields: FrameFields,
  deviceId: string,
  derive: (shared: Buffer) => Buffer,
  nonce: Buffer,
  keyName: string,
): string {
  const devicePublicKey = ctx.identity?.devicePublicKey;
  if (!devicePublicKey) skip('IDENTIFY gave no usable devicePublicKey');
  const mac = decodeBase64Exact(fields.mac ?? '', 32);
  if (!mac) fail(`mac is not the base64 of 32 bytes`, exchange);
  if (fields.deviceId !== deviceId)
    fail(`deviceId=${fields.deviceId ?? '(missing)'}, committed ${deviceId}`, exchange);
  const shared = x25519SharedSecret(developmentCloudPrivateKey(), devicePublicKey);
  const key = derive(shared);
  const expected = verifyProof(key, nonce, deviceId);
  shared.fill(0);
  key.fill(0);
  if (!proofsEqual(mac, expected))
    fail(`the MAC is not HMAC-SHA256 under ${keyName} derived from the development cloud key`, exchange);
  return `the MAC is HMAC-SHA256 under ${keyName}`;
}
