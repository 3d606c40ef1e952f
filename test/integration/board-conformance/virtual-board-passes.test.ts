import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CHECKS, NEEDS_DESTRUCTIVE, NEEDS_LOCK, TEST_DEVICE_ID } from '../../../electron/board-conformance';
import { generateX25519KeyPair } from '../../../firmware-protocol';
import { DEVELOPMENT_CLOUD_PUBLIC_KEY } from '../../../firmware-protocol/virtual-board';
import { tempDir } from '../../support/temp-dirs';
import { failureText, flashText, useConformance, type Mode } from './conformance-fixture';

const conformance = useConformance();

/** Why a check may be SKIPPED on a good board in each mode; anything else skipped is a checker bug. */
const GOOD_SKIPS: Record<Mode, RegExp[]> = {
  'non-destructive': [
    new RegExp(`^${NEEDS_DESTRUCTIVE}$`),
    new RegExp(`^${NEEDS_LOCK.replace(/[()]/g, '\\$&')}$`),
    /^needs committed credentials: the board holds no device id/,
    /^the board never answered BUSY$/,
  ],
  destructive: [new RegExp(`^${NEEDS_LOCK.replace(/[()]/g, '\\$&')}$`), /^the board never answered BUSY$/],
  lock: [/^the board never answered BUSY$/],
};

/** Commit a test set with the development key through the station's own serial session, optionally LOCK it. */
async function provision(path: string, lock: boolean): Promise<void> {
  const { link, session } = await conformance.boards.connect(path);
  await session.hello();
  await session.write({
    deviceId: 'a1b2c3d4e5f60718',
    networkId: '1193046',
    networkKey: randomBytes(32).toString('base64'),
    cloudPublicKey: DEVELOPMENT_CLOUD_PUBLIC_KEY.toString('base64'),
  });
  await session.commit();
  if (lock) await session.lock('a1b2c3d4e5f60718');
  await link.close();
}

describe('station board conformance: the virtual board conforms', () => {
  it.each(['non-destructive', 'destructive', 'lock'] as const)(
    '%s: nothing fails, nothing skipped without cause',
    async (mode) => {
      const board = await conformance.start();
      const report = await conformance.run(board.path, mode);
      expect(failureText(report)).toBe('');
      expect(report.summary.failed).toBe(0);
      expect(report.stopped).toBeNull();
      expect(report.checks.map((check) => check.id)).toEqual(CHECKS.map((check) => check.id));
      for (const check of report.checks.filter((c) => c.result === 'SKIPPED')) {
        expect(
          GOOD_SKIPS[mode].some((reason) => reason.test(check.reason)),
          `${check.id}: ${check.reason}`,
        ).toBe(true);
      }
      expect(report).toMatchObject({
        protocolVersion: 1,
        board: 'infuse-virtual',
        firmware: '2.3.1',
        destructive: mode !== 'non-destructive',
        foundState: 'blank',
      });
      expect(report.notes.join('\n')).toContain('development cloud key pair');
      if (mode === 'lock') {
        expect(board.board.flash).toMatchObject({ locked: true, credentials: { deviceId: TEST_DEVICE_ID } });
      } else {
        // A destructive run erases what it wrote: the board ends blank, as the header says.
        expect(board.board.flash).toMatchObject({ locked: false, credentials: null });
      }
    },
  );

  it("non-destructive leaves a blank board's flash byte for byte as it was", async () => {
    const stateDir = tempDir('conformance-flash-');
    const board = await conformance.start({ stateDir });
    const before = flashText(stateDir);
    const report = await conformance.run(board.path, 'non-destructive');
    expect(failureText(report)).toBe('');
    expect(flashText(stateDir)).toBe(before);
  });

  it('non-destructive on a committed board: checks its crypto, and its flash stays as it was', async () => {
    const stateDir = tempDir('conformance-flash-');
    const board = await conformance.start({ stateDir });
    await provision(board.path, false);
    const before = flashText(stateDir);
    const report = await conformance.run(board.path, 'non-destructive');
    expect(failureText(report)).toBe('');
    expect(flashText(stateDir)).toBe(before);
    expect(report.foundState).toBe('committed');
    const result = (id: string) => report.checks.find((check) => check.id === id)?.result;
    for (const id of [
      'verify.sign',
      'verify.key-id',
      'verify.interface',
      'verify.bad-argument',
      'challenge.response',
    ])
      expect(result(id), id).toBe('PASS');
    expect(result('verify.not-provisioned')).toBe('SKIPPED');
    expect(result('commit.stores')).toBe('SKIPPED');
  });

  it('--destructive on a committed board says it erases it first, and leaves it blank', async () => {
    const board = await conformance.start();
    await provision(board.path, false);
    const report = await conformance.run(board.path, 'destructive');
    expect(failureText(report)).toBe('');
    expect(report.notes.join('\n')).toMatch(
      /holds device id a1b2c3d4e5f60718: .*erase it with FACTORY-RESET first/,
    );
    expect(board.board.flash.credentials).toBeNull();
  });

  it('a board built with another cloud key: its crypto is SKIPPED saying why, and --destructive checks it', async () => {
    const otherCloudKey = generateX25519KeyPair().publicKey;
    const first = await conformance.start({ cloudPublicKey: otherCloudKey });
    const plain = await conformance.run(first.path, 'non-destructive');
    expect(failureText(plain)).toBe('');
    expect(plain.checks.find((check) => check.id === 'challenge.response')).toMatchObject({
      result: 'SKIPPED',
      reason: expect.stringContaining("the board's cloud key in force is not the development key"),
    });
    const second = await conformance.start({ cloudPublicKey: otherCloudKey });
    const destructive = await conformance.run(second.path, 'destructive');
    expect(failureText(destructive)).toBe('');
    for (const id of ['challenge.response', 'challenge.provisioned', 'verify.sign', 'verify.interface'])
      expect(destructive.checks.find((check) => check.id === id)?.result, id).toBe('PASS');
  });

  it('a locked board: only what cannot change it runs, even with --destructive', async () => {
    const stateDir = tempDir('conformance-flash-');
    const board = await conformance.start({ stateDir });
    await provision(board.path, true);
    const before = flashText(stateDir);
    const report = await conformance.run(board.path, 'destructive');
    expect(failureText(report)).toBe('');
    expect(flashText(stateDir)).toBe(before);
    expect(report.notes.join('\n')).toContain('the board is locked');
    const byId = new Map(report.checks.map((check) => [check.id, check]));
    expect(byId.get('lock.refuses')?.result).toBe('PASS');
    expect(byId.get('lock.still-works')?.result).toBe('PASS');
    expect(byId.get('commit.stores')?.reason).toMatch(/locked: it cannot be checked destructively/);
  });
});
