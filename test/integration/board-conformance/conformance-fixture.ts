/**
 * Conformance runs against virtual boards on real PTY pairs (socat), torn down after each test. Waits are halved
 * (timeout scale 0.5) so knobs that make the checker wait out a timeout stay quick.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFault, type FaultRule } from '../../../firmware-protocol/virtual-board';
import {
  runConformance,
  type CheckOutcome,
  type ConformanceReport,
} from '../../../electron/board-conformance';
import { useVirtualBoards } from '../../support/serial-fixtures';

export const TIMEOUT_SCALE = 0.5;

export type Mode = 'non-destructive' | 'destructive' | 'lock';

export function faultRules(specs: string[]): FaultRule[] {
  return specs.map((spec) => {
    const parsed = parseFault(spec);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.rule;
  });
}

export function useConformance() {
  const boards = useVirtualBoards();
  return {
    boards,
    /** One virtual board (flash kept in `stateDir` when given) with `faults` armed. */
    async start(options: { faults?: string[]; stateDir?: string; cloudPublicKey?: Buffer } = {}) {
      const sim = await boards.start({
        faults: faultRules(options.faults ?? []),
        ...(options.stateDir !== undefined && { stateDir: options.stateDir }),
        ...(options.cloudPublicKey !== undefined && { cloudPublicKey: options.cloudPublicKey }),
      });
      return sim.boards[0]!;
    },
    run(port: string, mode: Mode): Promise<ConformanceReport> {
      return runConformance({
        port,
        destructive: mode !== 'non-destructive',
        lock: mode === 'lock',
        timeoutScale: TIMEOUT_SCALE,
      });
    },
  };
}

export function failures(report: ConformanceReport): CheckOutcome[] {
  return report.checks.filter((check) => check.result === 'FAIL');
}

/** The failures in one line each, for assertion messages. */
export function failureText(report: ConformanceReport): string {
  return failures(report)
    .map((check) => `${check.section} ${check.id}: ${check.reason} | ${check.received ?? ''}`)
    .join('\n');
}

export function flashText(stateDir: string): string {
  return readFileSync(join(stateDir, 'board-0.json'), 'utf8');
}
