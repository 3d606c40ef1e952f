import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PtyPair } from '../../../firmware-protocol/virtual-board';
import { runStation } from '../../support/cli';
import { tempDir } from '../../support/temp-dirs';
import { useConformance } from './conformance-fixture';

const conformance = useConformance();
const pairs: PtyPair[] = [];
afterEach(async () => {
  await Promise.all(pairs.splice(0).map((pair) => pair.close()));
});

const conformanceCli = (port: string, ...flags: string[]) =>
  runStation(['board', 'conformance', '--port', port, '--timeout-scale', '0.5', ...flags], {
    timeoutMs: 60_000,
  });

describe('station board conformance (the CLI)', () => {
  it('prints the header and a table of checks with their sections, exit 0 on a conforming board', async () => {
    const board = await conformance.start();
    const result = await conformanceCli(board.path);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`Station protocol conformance of ${board.path}`);
    expect(result.stdout).toContain('acting as the cloud with the published development cloud key pair');
    expect(result.stdout).toMatch(/^RESULT +SECTION +CHECK +REASON$/m);
    expect(result.stdout).toMatch(/^PASS +2 +errors\.bad-crc +ERR BAD_FRAME with id [0-9a-f]{4}$/m);
    expect(result.stdout).toMatch(/^SKIPPED +5\.5 +commit\.stores +needs --destructive: writes and erases/m);
    expect(result.stdout).toContain('result: PASS (exit code 0)');
  });

  it('--json prints one object; a failed check exits 1 and names its section and what the board sent', async () => {
    const board = await conformance.start({ faults: ['no-dedup'] });
    const result = await conformanceCli(board.path, '--json');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^station: conformance: \d+ checks? failed\n$/);
    const report = JSON.parse(result.stdout) as {
      checks: Array<{
        id: string;
        section: string;
        result: string;
        reason: string;
        sent?: string;
        received?: string;
      }>;
      summary: { passed: number; failed: number; skipped: number };
    } & Record<string, unknown>;
    expect(Object.keys(report)).toEqual([
      'port',
      'protocolVersion',
      'board',
      'firmware',
      'destructive',
      'checks',
      'summary',
    ]);
    expect(report).toMatchObject({
      port: board.path,
      protocolVersion: 1,
      board: 'infuse-virtual',
      firmware: '2.3.1',
      destructive: false,
    });
    const dedup = report.checks.find((check) => check.id === 'dedup.repeat');
    expect(dedup).toMatchObject({ section: '4', result: 'FAIL' });
    expect(dedup?.sent).toMatch(/^~> [0-9a-f]{4} CHALLENGE challenge=/);
    expect(dedup?.received).toMatch(/^~< [0-9a-f]{4} OK type=0 /);
    expect(report.summary.failed).toBe(report.checks.filter((check) => check.result === 'FAIL').length);
    for (const check of report.checks)
      expect(Object.keys(check)).toEqual(
        expect.arrayContaining(['id', 'section', 'title', 'result', 'reason']),
      );
  });

  it('a port where nothing answers: the run stops with the reason, exit 1', async () => {
    const dir = tempDir('conformance-cli-');
    const pair = await PtyPair.create(join(dir, 'station'), join(dir, 'board'));
    pairs.push(pair);
    const result = await runStation([
      'board',
      'conformance',
      '--port',
      pair.stationPath,
      '--timeout-scale',
      '0.2',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('stopped early: the board did not take HELLO (no reply within 200 ms)');
    expect(result.stdout).toMatch(
      /^FAIL +5\.1 +hello\.reply +HELLO proto=1: expected OK, got no reply within 200 ms$/m,
    );
    expect(result.stdout).toMatch(/^SKIPPED +5\.2 +identify\.reply +not run: the run stopped/m);
  });

  it('a port that does not exist: one line and exit 1', async () => {
    const result = await runStation(['board', 'conformance', '--port', '/dev/nonexistent-station-port']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe(
      'station: SERIAL_PORT_NOT_FOUND: No serial port at /dev/nonexistent-station-port: check the cable and the path.',
    );
  });

  it('--help says what --destructive and --lock do to a real board', async () => {
    const result = await runStation(['board', 'conformance', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/--destructive[\s\S]*ERASES the board's credentials/);
    expect(result.stdout).toMatch(/--lock[\s\S]*IRREVERSIBLE on real hardware/);
  });
});
