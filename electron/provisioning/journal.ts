/**
 * What the workflow records, and when: one entry per boundary, as data. The station fans each entry out to the
 * audit trail (audit-journal.ts turns it into hash-chained events) and to its event stream; nothing else reports
 * progress. An entry that cannot be recorded (the audit trail cannot be written) stops the unit: `record` throws
 * (for it, or for an earlier boundary whose commit failed), `recordDurably` rejects, and nothing with a side
 * effect proceeds unrecorded.
 */
import { STEP_NAMES, type StepName, type StepOutcome, type UnitOutcome } from '../station-api';
import type { BackendCall } from './backend-calls';

export { STEP_NAMES };
export type { StepName, StepOutcome, UnitOutcome };

/** Plain, secret-free values only: ids, fingerprints, states, counts. */
export type StepDetails = Record<string, string | number | boolean | null | string[]>;

export interface ErrorSummary {
  code: string;
  operatorMessage: string;
  retrySafe: boolean;
}

export interface UnitIdentity {
  soc: string;
  mcuId: string;
  /** The mcuId as sent to the cloud (after the recipe's byte order). */
  cloudMcuId: string;
  firmwareVersion: string;
  boardDeviceId: string | null;
}

export type JournalEntry =
  | {
      kind: 'unit.started';
      unitId: string;
      attempt: number;
      port: string;
      at: Date;
      scan: Record<string, string>;
      stepCount: number;
    }
  | { kind: 'unit.identified'; unitId: string; at: Date; identity: UnitIdentity }
  | { kind: 'step.started'; unitId: string; step: StepName; at: Date; index: number; count: number }
  /** Written before a side effect (create a device, write/commit/lock a board), naming what is about to happen. */
  | { kind: 'step.intent'; unitId: string; step: StepName; at: Date; action: string; details: StepDetails }
  | {
      kind: 'step.finished';
      unitId: string;
      step: StepName;
      outcome: StepOutcome;
      startedAt: Date;
      /** When the step ended: the event's time, whenever its commit happens (group commit). */
      at: Date;
      durationMs: number;
      details: StepDetails;
      error?: ErrorSummary;
      /** The board's own log lines seen during the step. */
      boardLog: string[];
      /** The backend requests the step made (path templates, status, timing). */
      backend?: BackendCall[];
    }
  | {
      kind: 'unit.finished';
      unitId: string;
      outcome: UnitOutcome;
      deviceId: string | null;
      mcuId: string | null;
      at: Date;
      durationMs: number;
      failedStep: StepName | null;
      error?: ErrorSummary;
    };

export type JournalKind = JournalEntry['kind'];

export interface UnitJournal {
  /**
   * Records a boundary (a unit's start, a step's start and end, the board identified). A unit's start is on disk
   * when this returns; the others commit by the end of this turn of the event loop, with whatever else the station
   * recorded in it. Throws when the entry, or one recorded before it, could not be recorded.
   */
  record(entry: JournalEntry): void;
  /**
   * Records an entry the workflow must not go past until it is on disk (an intent before its side effect, the
   * unit's end): resolves once it is, rejects when it cannot be recorded.
   */
  recordDurably(entry: JournalEntry): Promise<void>;
}
