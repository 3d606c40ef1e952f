import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deriveSignKey,
  openChallengeResponse,
  proofsEqual,
  secretFingerprint,
  verifyProof,
  x25519SharedSecret,
  deriveInterfaceKey,
  gpsDayNumber,
} from '../../../firmware-protocol';
import {
  DEVELOPMENT_CLOUD_PUBLIC_KEY,
  developmentCloudPrivateKey,
  type FaultRule,
} from '../../../firmware-protocol/virtual-board';
import { SerialLinkError, type BoardLogLine } from '../../../electron/serial';
import { useVirtualBoards, waitUntil } from '../../support/serial-fixtures';

const boards = useVirtualBoards();
const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function expectSerialError(
  promise: Promise<unknown>,
  code: string,
  boardCode?: string,
): Promise<SerialLinkError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SerialLinkError);
  const serialError = error as SerialLinkError;
  expect(serialError.code).toBe(code);
  if (boardCode) expect(serialError.boardCode).toBe(boardCode);
  return serialError;
}

const DEVICE_ID = 'a1b2c3d4e5f60718';

describe('station <-> virtual board over a real PTY pair', () => {
  it('identifies a blank board and surfaces its log lines', async () => {
    const sim = await boards.start({ soc: 'nRF5340' });
    const board = sim.boards[0]!;
    const { link, session } = await boards.connect(board.path);
    const logs: BoardLogLine[] = [];
    link.on('log', (line) => logs.push(line));
    const report = await session.identifyReport();
    expect(report).toMatchObject({
      soc: 'nRF5340',
      mcuId: board.mcuId,
      deviceId: null,
      protocolVersion: 1,
      firmwareVersion: '2.3.1',
      state: 'blank',
      cloudPublicKey: DEVELOPMENT_CLOUD_PUBLIC_KEY.toString('base64'),
      devicePublicKey: board.board.devicePublicKey.toString('base64'),
    });
    await waitUntil(() => logs.some((l) => l.text.includes('IDENTIFY from station')), 2000, 'a log line');
    expect(logs.every((l) => l.port === board.path)).toBe(true);
  });

  it('runs a full challenge / write / commit / readback / verify / lock exchange', async () => {
    const sim = await boards.start();
    const { session } = await boards.connect(sim.boards[0]!.path);
    await session.hello();
    const identity = await session.identify();

    // The board proves its identity; the cloud side (here: the development cloud key) opens the proof.
    const challenge = randomBytes(16);
    const state = await session.challenge(challenge);
    const opened = openChallengeResponse(state, developmentCloudPrivateKey());
    expect(opened.ok && opened.value.deviceId).toBe('ffffffffffffffff');

    const networkKey = randomBytes(32);
    const token = 'sbx_mqtt_' + randomBytes(400).toString('base64url'); // long enough to need chunks
    await session.write({
      deviceId: DEVICE_ID,
      networkId: '4660',
      networkKey: networkKey.toString('base64'),
      cloudPublicKey: DEVELOPMENT_CLOUD_PUBLIC_KEY.toString('base64'),
    });
    const staged = await session.write({ mqttToken: token, mqttTokenExpiresAt: '2030-01-01T00:00:00Z' });
    expect(staged.staged).toEqual([
      'deviceId',
      'networkId',
      'networkKey',
      'cloudPublicKey',
      'mqttToken',
      'mqttTokenExpiresAt',
    ]);
    expect(await session.commit()).toEqual({ state: 'committed', deviceId: DEVICE_ID, changed: true });

    const readback = await session.readback();
    expect(readback).toMatchObject({
      state: 'committed',
      deviceId: DEVICE_ID,
      networkId: 4660,
      networkKeyFp: secretFingerprint(networkKey),
      mqttTokenFp: secretFingerprint(token),
      mqttTokenExpiresAt: '2030-01-01T00:00:00Z',
    });

    // Cryptographic verify: the board's MAC equals the one computed from the cloud's view of the shared secret.
    const shared = x25519SharedSecret(developmentCloudPrivateKey(), identity.devicePublicKey);
    const nonce = randomBytes(16);
    const proof = await session.verify(nonce, 'sign');
    expect(proofsEqual(proof.mac, verifyProof(deriveSignKey(shared), nonce, DEVICE_ID))).toBe(true);
    const day = gpsDayNumber(new Date());
    const udpProof = await session.verify(nonce, 'udp', day);
    expect(
      proofsEqual(udpProof.mac, verifyProof(deriveInterfaceKey(shared, 'udp', day), nonce, DEVICE_ID)),
    ).toBe(true);
    expect(proofsEqual(udpProof.mac, proof.mac)).toBe(false);

    expect(await session.lock(DEVICE_ID)).toEqual({ state: 'locked' });
    await expectSerialError(session.write({ deviceId: DEVICE_ID }), 'BOARD_ERROR', 'LOCKED');
    await expectSerialError(session.factoryReset(sim.boards[0]!.mcuId), 'BOARD_ERROR', 'LOCKED');
  });

  it('refuses a different device id on a provisioned board, and re-provisions after a guarded reset', async () => {
    const sim = await boards.start();
    const board = sim.boards[0]!;
    const { session } = await boards.connect(board.path);
    await session.hello();
    await session.write({ deviceId: DEVICE_ID });
    await session.commit();
    const refused = await expectSerialError(
      session.write({ deviceId: '0011223344556677' }),
      'BOARD_ERROR',
      'ALREADY_PROVISIONED',
    );
    expect(refused.boardFields.deviceId).toBe(DEVICE_ID);
    expect(refused.operatorMessage).toContain('set it aside');
    expect(refused.retrySafe).toBe(false);
    await expectSerialError(
      session.link.request('FACTORY-RESET', { mcuId: '0000000000000000', confirm: 'ERASE' }),
      'BOARD_ERROR',
      'BAD_ARGUMENT',
    );
    expect(await session.factoryReset(board.mcuId)).toEqual({ state: 'blank' });
    await session.write({ deviceId: '0011223344556677' });
    expect((await session.commit()).deviceId).toBe('0011223344556677');
  });

  it('keeps committed credentials across a power cycle (state file), but not staged ones', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'board-state-'));
    tempDirs.push(stateDir);
    const first = await boards.start({ stateDir });
    const mcuId = first.boards[0]!.mcuId;
    {
      const { session, link } = await boards.connect(first.boards[0]!.path);
      await session.hello();
      await session.write({
        deviceId: DEVICE_ID,
        networkId: '7',
        networkKey: randomBytes(32).toString('base64'),
      });
      await session.commit();
      await session.write({ mqttToken: 'staged-only', mqttTokenExpiresAt: '2030-01-01T00:00:00Z' });
      await link.close();
    }
    await first.stop();
    expect(existsSync(join(stateDir, 'board-0.json'))).toBe(true);

    const second = await boards.start({ stateDir });
    expect(second.boards[0]!.mcuId).toBe(mcuId);
    const { session } = await boards.connect(second.boards[0]!.path);
    await session.hello();
    const readback = await session.readback();
    expect(readback).toMatchObject({ state: 'committed', deviceId: DEVICE_ID, networkId: 7 });
    expect(readback.mqttTokenFp).toBeUndefined();
    expect(readback.staged).toBeUndefined();
  });

  it("reads the board's boot announcement from before the port opened without sending HELLO twice", async () => {
    const sim = await boards.start();
    sim.resetCounters();
    const { session } = await boards.connect(sim.boards[0]!.path);
    await session.hello();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(sim.counters().total.stationToBoardLines).toBe(1);
    expect(session.unexpectedRestarts).toBe(0);
  });

  it('needs HELLO again after REBOOT, and sees the boot event', async () => {
    const sim = await boards.start();
    const { session, link } = await boards.connect(sim.boards[0]!.path);
    await session.hello();
    expect(await session.reboot()).toMatchObject({ replyLost: false, settledBy: 'boot-event', requests: 1 });
    await expectSerialError(link.request('IDENTIFY'), 'BOARD_ERROR', 'HELLO_REQUIRED');
    await session.hello();
    expect((await session.identify()).state).toBe('blank');
  });
});

describe('fault knobs produce the documented outcome', () => {
  async function withFault(fault: FaultRule) {
    const sim = await boards.start({ faults: [fault] });
    const { session, link } = await boards.connect(sim.boards[0]!.path);
    return { sim, session, link, board: sim.boards[0]! };
  }

  it('drop-reply once: the retransmission is answered from the board memory, nothing acted twice', async () => {
    const { session } = await withFault({ kind: 'drop-reply', command: 'COMMIT', remaining: 1 });
    await session.hello();
    await session.write({ deviceId: DEVICE_ID });
    expect(await session.commit()).toMatchObject({ deviceId: DEVICE_ID, changed: true });
  });

  it('drop-reply always: TIMEOUT after the retransmissions', async () => {
    const { session } = await withFault({ kind: 'drop-reply', command: 'IDENTIFY' });
    await session.hello();
    const error = await expectSerialError(session.identify(), 'TIMEOUT');
    expect(error.operatorMessage).toMatch(
      /did not answer IDENTIFY within 500 ms \(3 tries\): reseat the cable/,
    );
  });

  it('never retransmits REBOOT: a lost reply ends at the boot event (REBOOTED), and the board rebooted once', async () => {
    const { session, link } = await withFault({ kind: 'drop-reply', command: 'REBOOT', remaining: 1 });
    await session.hello();
    const boots: string[] = [];
    link.on('event', (event) => boots.push(event.name));
    await expectSerialError(link.request('REBOOT'), 'REBOOTED');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(boots).toEqual(['boot']);
  });

  it('REBOOT whose reply is lost: the boot event inside the window settles it, no TIMEOUT', async () => {
    const { session, link } = await withFault({ kind: 'drop-reply', command: 'REBOOT', remaining: 1 });
    await session.hello();
    const sent: string[] = [];
    link.on('event', (event) => sent.push(event.name));
    expect(await session.reboot()).toMatchObject({ replyLost: true, settledBy: 'boot-event', requests: 1 });
    await session.hello();
    expect((await session.readback()).state).toBe('blank');
    expect(sent).toEqual(['boot']);
  });

  it('REBOOT whose reply is lost and whose boot takes longer than the reply timeout: waited for, not a TIMEOUT', async () => {
    const sim = await boards.start({
      faults: [
        { kind: 'drop-reply', command: 'REBOOT', remaining: 1 },
        { kind: 'slow-boot', value: '1500', remaining: 1 },
      ],
    });
    const { session } = await boards.connect(sim.boards[0]!.path);
    await session.hello();
    const report = await session.reboot();
    expect(report).toMatchObject({ replyLost: true, settledBy: 'boot-event', requests: 1 });
    expect(report.bootMs).toBeGreaterThanOrEqual(1500);
  });

  it('REBOOT that never reached the board (no reply, no restart): asked with READBACK, then sent once more', async () => {
    const { session } = await withFault({ kind: 'lose-request', command: 'REBOOT', remaining: 1 });
    await session.hello();
    expect(await session.reboot()).toMatchObject({ replyLost: true, settledBy: 'boot-event', requests: 2 });
  });

  it('a board that restarts by itself before acting: the session says HELLO again and sends the command again', async () => {
    const { session } = await withFault({
      kind: 'reboot',
      command: 'IDENTIFY',
      value: 'before',
      remaining: 1,
    });
    await session.hello();
    expect((await session.identify()).state).toBe('blank');
    expect(session.unexpectedRestarts).toBe(1);
  });

  it('a watchdog restart right after WRITE: COMMIT is not sent into the rebooted board; REBOOTED says the staged fields are lost', async () => {
    const { session, board } = await withFault({
      kind: 'reboot',
      command: 'WRITE',
      value: 'replied',
      remaining: 1,
    });
    await session.hello();
    await session.write({ deviceId: DEVICE_ID });
    await waitUntil(() => board.board.isPowered && board.board.state === 'blank', 2000, 'the restart');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const error = await expectSerialError(session.commit(), 'REBOOTED');
    expect(error.operatorMessage).toContain('lost the fields staged');
    expect(board.board.flash.credentials).toBeNull();
    // Staging starts afresh: write again, commit.
    await session.write({ deviceId: DEVICE_ID });
    expect(await session.commit()).toMatchObject({ deviceId: DEVICE_ID, changed: true });
  });

  it('a restart after COMMIT stored, before its reply: REBOOTED at the boot event, not a TIMEOUT; READBACK shows it committed', async () => {
    const { session } = await withFault({ kind: 'reboot', command: 'COMMIT', value: 'after', remaining: 1 });
    await session.hello();
    await session.write({ deviceId: DEVICE_ID });
    await expectSerialError(session.commit(), 'REBOOTED');
    expect(await session.readback()).toMatchObject({ state: 'committed', deviceId: DEVICE_ID });
    expect(session.unexpectedRestarts).toBe(1);
  });

  it('delay-reply longer than the timeout: TIMEOUT', async () => {
    const { session } = await withFault({ kind: 'delay-reply', command: 'HELLO', value: '4000' });
    await expectSerialError(session.hello(), 'TIMEOUT');
  });

  it('corrupt-crc once: retransmitted at once and recovered', async () => {
    const { session, link } = await withFault({ kind: 'corrupt-crc', command: 'HELLO', remaining: 1 });
    const bad: string[] = [];
    link.on('bad-frame', (notice) => bad.push(notice.reason));
    expect((await session.hello()).proto).toBe(1);
    expect(bad).toEqual(['crc-mismatch']);
  });

  it('corrupt-crc always: GARBLED', async () => {
    const { session } = await withFault({ kind: 'corrupt-crc', command: 'HELLO' });
    const error = await expectSerialError(session.hello(), 'GARBLED');
    expect(error.operatorMessage).toContain('garbled');
  });

  it('LINE_TOO_LONG from the board: a station bug reported at once, not resent as line noise', async () => {
    const { session } = await withFault({ kind: 'line-too-long', command: 'HELLO' });
    const error = await expectSerialError(session.hello(), 'BOARD_ERROR', 'LINE_TOO_LONG');
    expect(error.retrySafe).toBe(true);
    expect(error.operatorMessage).toContain('report this to engineering');
    expect(error.operatorMessage).not.toMatch(/cable|baud/);
  });

  it('IDENTIFY saying committed with no device id: refused as a malformed reply, not believed', async () => {
    const { session } = await withFault({ kind: 'wrong-state', command: 'IDENTIFY', value: 'committed' });
    await session.hello();
    const error = await expectSerialError(session.identify(), 'BAD_REPLY');
    expect(error.operatorMessage).toContain('bad deviceId');
  });

  it('a 200-character error code from the board is not copied into the record: UNRECOGNISED, said in words', async () => {
    const { session } = await withFault({ kind: 'long-error', command: 'HELLO', value: '200' });
    const error = await expectSerialError(session.hello(), 'BOARD_ERROR', 'UNRECOGNISED');
    expect(error.operatorMessage).toContain('200 characters');
    expect(error.operatorMessage.length).toBeLessThan(250);
  });

  it('garbage before the reply: kept as a log line, the reply still taken', async () => {
    const { session, link } = await withFault({ kind: 'garbage', command: 'HELLO' });
    const logs: string[] = [];
    link.on('log', (line) => logs.push(line.text));
    expect((await session.hello()).proto).toBe(1);
    expect(logs.length).toBeGreaterThan(0);
  });

  it('wrong-version: PROTOCOL_MISMATCH', async () => {
    const { session } = await withFault({ kind: 'wrong-version' });
    const error = await expectSerialError(session.hello(), 'PROTOCOL_MISMATCH');
    expect(error.operatorMessage).toContain('speaks station protocol version 99, but this station speaks 1');
  });

  it('storage-fail on COMMIT: STORAGE, old credentials intact, staged kept', async () => {
    const { session, board } = await withFault({ kind: 'storage-fail', command: 'COMMIT', remaining: 1 });
    await session.hello();
    await session.write({ deviceId: DEVICE_ID });
    const error = await expectSerialError(session.commit(), 'BOARD_ERROR', 'STORAGE');
    expect(error.retrySafe).toBe(false);
    expect(board.board.flash.credentials).toBeNull();
    expect((await session.readback()).staged).toEqual(['deviceId']);
    expect((await session.commit()).changed).toBe(true);
  });

  it('busy: waited out and sent again', async () => {
    const { session } = await withFault({ kind: 'busy', command: 'IDENTIFY', value: '30', remaining: 2 });
    await session.hello();
    expect((await session.identify()).state).toBe('blank');
  });

  it('unplug during WRITE: DISCONNECTED at once; after the replug nothing was staged or committed', async () => {
    const { session, link, board } = await withFault({ kind: 'unplug', command: 'WRITE', remaining: 1 });
    await session.hello();
    const disconnected: string[] = [];
    link.on('disconnected', (e) => disconnected.push(e.code));
    const started = Date.now();
    const error = await expectSerialError(session.write({ deviceId: DEVICE_ID }), 'DISCONNECTED');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.operatorMessage).toContain('disconnected during WRITE');
    expect(disconnected).toEqual(['DISCONNECTED']);
    await expectSerialError(link.request('HELLO', { proto: '1' }), 'DISCONNECTED');
    await waitUntil(() => board.host.plugged, 3000, 'the board to come back');
    const again = await boards.connect(board.path);
    await again.session.hello();
    expect(await again.session.readback()).toMatchObject({ state: 'blank', deviceId: null });
  });

  it('unplug during COMMIT (after the flash write): DISCONNECTED; the board comes back committed', async () => {
    const { session, board } = await withFault({
      kind: 'unplug',
      command: 'COMMIT',
      value: 'after',
      remaining: 1,
    });
    await session.hello();
    await session.write({ deviceId: DEVICE_ID });
    await expectSerialError(session.commit(), 'DISCONNECTED');
    await waitUntil(() => board.host.plugged, 3000, 'the board to come back');
    const again = await boards.connect(board.path);
    await again.session.hello();
    expect(await again.session.readback()).toMatchObject({ state: 'committed', deviceId: DEVICE_ID });
  });

  it('unplug during COMMIT (before the flash write): the board comes back with the old credentials', async () => {
    const { session, board } = await withFault({ kind: 'unplug', command: 'COMMIT', remaining: 1 });
    await session.hello();
    await session.write({ deviceId: DEVICE_ID });
    await expectSerialError(session.commit(), 'DISCONNECTED');
    await waitUntil(() => board.host.plugged, 3000, 'the board to come back');
    const again = await boards.connect(board.path);
    await again.session.hello();
    expect(await again.session.readback()).toMatchObject({ state: 'blank', deviceId: null });
  });
});

describe('opening ports', () => {
  it('says clearly when there is no such port', async () => {
    const error = await expectSerialError(boards.connect('/dev/does-not-exist-station'), 'PORT_NOT_FOUND');
    expect(error.message).toBe(
      'No serial port at /dev/does-not-exist-station: check the cable and the port path in the station config.',
    );
  });

  it('refuses a second owner of the same port', async () => {
    const sim = await boards.start();
    await boards.connect(sim.boards[0]!.path);
    await expectSerialError(boards.connect(sim.boards[0]!.path), 'PORT_BUSY');
  });
});
