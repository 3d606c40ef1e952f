import { describe, expect, it } from 'vitest';
import { conformanceExitCode } from '../../../electron/board-conformance';
import { failureText, failures, useConformance, type Mode } from './conformance-fixture';

const conformance = useConformance();

/** Spec breaches only a destructive (or --lock) run reaches, with the check that must FAIL and its section. */
const BREAKING: Array<[spec: string, mode: Mode, section: string, check: string]> = [
  ['storage-fail@COMMIT', 'destructive', '5.5', 'commit.stores'],
  ['commit-unchanged', 'destructive', '5.5', 'commit.stores'],
  ['no-dedup@COMMIT', 'destructive', '4', 'dedup.commit'],
  ['bad-mac@VERIFY', 'destructive', '6.4', 'verify.sign'],
  ['forget-on-reboot', 'destructive', '3.1', 'reboot.keeps-committed'],
  ['reset-keeps', 'destructive', '5.10', 'reset.erases'],
  ['lock-ignored', 'lock', '5.8', 'lock.locks'],
];

/** Knobs a conforming board may show (noise, unknown events, long log lines, slow but timely replies, short BUSY). */
const HARMLESS = [
  'garbage',
  'stray-event',
  'long-log',
  'delay-reply@IDENTIFY=150',
  'busy=20x3',
  'slow-boot=600',
];

describe('station board conformance: provisioning knobs', () => {
  it.each(BREAKING)('%s (%s) -> section %s (%s)', async (spec, mode, section, check) => {
    const board = await conformance.start({ faults: [spec] });
    const report = await conformance.run(board.path, mode);
    expect(conformanceExitCode(report)).toBe(1);
    expect(
      failures(report).some((outcome) => outcome.id === check && outcome.section === section),
      `expected ${check} (${section}) among the failures:\n${failureText(report)}`,
    ).toBe(true);
  });

  it.each(HARMLESS)('%s does not break the spec: nothing FAILs, even with --lock', async (spec) => {
    const board = await conformance.start({ faults: [spec] });
    const report = await conformance.run(board.path, 'lock');
    expect(failureText(report)).toBe('');
    expect(conformanceExitCode(report)).toBe(0);
  });

  it('a board that answered BUSY gets busy.retry-after PASS, not SKIPPED', async () => {
    const board = await conformance.start({ faults: ['busy=20x3'] });
    const report = await conformance.run(board.path, 'non-destructive');
    expect(report.checks.find((check) => check.id === 'busy.retry-after')).toMatchObject({
      result: 'PASS',
      section: '4.3',
    });
  });
});
