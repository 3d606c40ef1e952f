import { describe, expect, it } from 'vitest';
import { conformanceExitCode } from '../../../electron/board-conformance';
import { failureText, failures, useConformance } from './conformance-fixture';

const conformance = useConformance();

/**
 * Virtual-board knobs that break the spec in what a non-destructive run sees (PROTOCOL.md appendix B), with the
 * check that must FAIL and the section it must name.
 */
const BREAKING: Array<[spec: string, section: string, check: string]> = [
  ['drop-reply@IDENTIFYx1', '4', 'timing.reply-timeout'],
  ['delay-reply@IDENTIFY=1500x1', '4', 'timing.reply-timeout'],
  ['corrupt-crc@IDENTIFYx1', '2', 'framing.reply-crc'],
  ['wrong-version', '3.4', 'hello.version'],
  ['caps@HELLO=WRITE+COMMIT', '5.1', 'hello.caps'],
  ['max-line@HELLO', '5.1', 'hello.max-line'],
  ['long-error@IDENTIFYx1', '7', 'errors.codes'],
  ['line-too-long@IDENTIFYx1', '5.2', 'identify.reply'],
  ['wrong-state@IDENTIFYx1', '5.2', 'identify.consistent'],
  ['unplug@IDENTIFY', '1', 'transport.connected'],
  ['busy@IDENTIFY', '4.3', 'busy.retry-after'],
  ['busy@IDENTIFY=8000x1', '4.3', 'busy.retry-after'],
  ['reboot@READBACKx1', '3.2', 'session.no-restart'],
  ['drop-reply@REBOOTx1', '5.9', 'reboot.reply'],
  ['no-dedup', '4', 'dedup.repeat'],
  ['no-hello-required', '3.3', 'reboot.hello-required'],
  ['accept-bad-crc', '2', 'errors.bad-crc'],
  ['wrong-id@IDENTIFYx1', '2', 'framing.reply-id'],
  ['no-boot-event', '3.2', 'reboot.boot-event'],
  ['bad-response@CHALLENGE', '6.3', 'challenge.response'],
];

describe('station board conformance: a spec-breaking knob FAILs, naming its clause', () => {
  it.each(BREAKING)('%s -> section %s (%s)', async (spec, section, check) => {
    const board = await conformance.start({ faults: [spec] });
    const report = await conformance.run(board.path, 'non-destructive');
    expect(conformanceExitCode(report)).toBe(1);
    const failed = failures(report);
    expect(
      failed.some((outcome) => outcome.id === check && outcome.section === section),
      `expected ${check} (${section}) among the failures:\n${failureText(report)}`,
    ).toBe(true);
    const named = failed.find((outcome) => outcome.id === check)!;
    expect(named.reason.length).toBeGreaterThan(0);
    // Whatever stopped the run is said, and checks it could not reach are listed as SKIPPED, not dropped.
    expect(report.checks).toHaveLength(
      report.summary.passed + report.summary.failed + report.summary.skipped,
    );
  });

  it('a FAIL shows what the board sent, cut to about 160 characters', async () => {
    const board = await conformance.start({ faults: ['long-error@IDENTIFYx1'] });
    const report = await conformance.run(board.path, 'non-destructive');
    const codes = failures(report).find((outcome) => outcome.id === 'errors.codes')!;
    expect(codes.sent).toMatch(/^~> [0-9a-f]{4} IDENTIFY \*[0-9a-f]{8}$/);
    expect(codes.received).toMatch(/^~< [0-9a-f]{4} ERR E{50}/);
    expect(codes.received!.length).toBeLessThanOrEqual(160);
  });
});
