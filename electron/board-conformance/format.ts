/** The report as a terminal table and as the one JSON object `--json` prints (PROTOCOL.md 9.1 shows both). */
import type { CheckOutcome } from './results';
import type { ConformanceReport } from './runner';

export interface ConformanceJson {
  port: string;
  protocolVersion: number | null;
  board: string | null;
  firmware: string | null;
  destructive: boolean;
  checks: Array<Pick<CheckOutcome, 'id' | 'section' | 'title' | 'result' | 'reason' | 'sent' | 'received'>>;
  summary: { passed: number; failed: number; skipped: number };
}

export function toConformanceJson(report: ConformanceReport): ConformanceJson {
  return {
    port: report.port,
    protocolVersion: report.protocolVersion,
    board: report.board,
    firmware: report.firmware,
    destructive: report.destructive,
    checks: report.checks.map(({ id, section, title, result, reason, sent, received }) => ({
      id,
      section,
      title,
      result,
      reason,
      ...(sent !== undefined && { sent }),
      ...(received !== undefined && { received }),
    })),
    summary: report.summary,
  };
}

/** Exit code of `station board conformance`: 0 when nothing FAILed, 1 otherwise. */
export function conformanceExitCode(report: ConformanceReport): number {
  return report.summary.failed === 0 ? 0 : 1;
}

export function formatConformanceTable(report: ConformanceReport): string {
  const lines: string[] = [];
  lines.push(`Station protocol conformance of ${report.port}`);
  lines.push(
    `board ${report.board ?? '?'}, firmware ${report.firmware ?? '?'}, protocol ${report.protocolVersion ?? '?'}; ` +
      `soc ${report.soc ?? '?'}, mcuId ${report.mcuId ?? '?'}; found ${report.foundState ?? '?'}`,
  );
  for (const note of report.notes) lines.push(note);
  if (report.stopped !== null) lines.push(`stopped early: ${report.stopped}`);
  lines.push('');
  const idWidth = Math.max(...report.checks.map((check) => check.id.length));
  lines.push(`${'RESULT'.padEnd(8)} ${'SECTION'.padEnd(7)} ${'CHECK'.padEnd(idWidth)}  REASON`);
  const indent = ' '.repeat(8 + 1 + 7 + 1 + idWidth + 2);
  for (const check of report.checks) {
    lines.push(
      `${check.result.padEnd(8)} ${check.section.padEnd(7)} ${check.id.padEnd(idWidth)}  ${check.reason}`,
    );
    if (check.result !== 'FAIL') continue;
    lines.push(`${indent}expects:    ${check.title}`);
    if (check.sent !== undefined) lines.push(`${indent}sent:       ${check.sent}`);
    lines.push(`${indent}board sent: ${check.received ?? '(nothing)'}`);
  }
  const { passed, failed, skipped } = report.summary;
  lines.push('');
  lines.push(`${report.checks.length} checks: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  lines.push(
    failed === 0 ? 'result: PASS (exit code 0)' : `result: FAIL (exit code 1): ${failed} check(s) failed`,
  );
  return lines.join('\n') + '\n';
}
