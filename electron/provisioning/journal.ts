/**
 * What the workflow records, and when. The workflow calls these synchronously at each boundary; the audit
 * adapter (audit-journal.ts) turns them into hash-chained events. If a call throws (the audit trail cannot be
 * written) the unit stops there: nothing proceeds unrecorded.
 */
import type { ProvisioningError } from './errors';

export const STEP_NAMES = [
  'connect',
  'identify',
  'recipe-checks',
  'device-record',
  'cloud-key',
  'key-agreement',
  'mqtt-token',
  'write-credentials',
  'verify',
  'finish',
  'communication-check',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export type StepOutcome = 'passed' | 'failed' | 'skipped';
export type UnitOutcome = 'passed' | 'failed' | 'cancelled';

/** Plain, secret-free values only: ids, fingerprints, states, counts. */
export type StepDetails = Record<string, string | number | boolean | null | string[]>;

export interface StepRecord {
  step: StepName;
  outcome: StepOutcome;
  startedAt: Date;
  durationMs: number;
  details: StepDetails;
  error?: { code: string; operatorMessage: string; retrySafe: boolean };
  /** The board's own log lines seen during the step. */
  boardLog: string[];
}

export interface UnitStart {
  unitId: string;
  slot: string;
  port: string;
  startedAt: Date;
  scan: Record<string, string>;
}

export interface UnitIdentity {
  soc: string;
  mcuId: string;
  /** The mcuId as sent to the cloud (after the recipe's byte order). */
  cloudMcuId: string;
  firmwareVersion: string;
  boardDeviceId: string | null;
}

export interface UnitFinish {
  outcome: UnitOutcome;
  deviceId: string | null;
  endedAt: Date;
  durationMs: number;
  error?: ProvisioningError;
}

export interface UnitJournal {
  unitStarted(start: UnitStart): void;
  unitIdentified(identity: UnitIdentity): void;
  stepStarted(step: StepName, at: Date): void;
  /** Written before a side effect (create a device, write/commit/lock a board), naming what is about to happen. */
  intent(step: StepName, action: string, details: StepDetails): void;
  stepFinished(record: StepRecord): void;
  unitFinished(finish: UnitFinish): void;
}
