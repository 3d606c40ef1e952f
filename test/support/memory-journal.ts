import type {
  StepName,
  StepRecord,
  UnitFinish,
  UnitIdentity,
  UnitJournal,
  UnitStart,
} from '../../electron/provisioning';

export type JournalEntry =
  | { kind: 'unit.started'; start: UnitStart }
  | { kind: 'unit.identified'; identity: UnitIdentity }
  | { kind: 'step.started'; step: StepName }
  | { kind: 'step.intent'; step: StepName; action: string; details: Record<string, unknown> }
  | { kind: 'step.finished'; record: StepRecord }
  | { kind: 'unit.finished'; finish: UnitFinish };

/** A journal that keeps entries in memory, for engine tests that look at what was recorded and in what order. */
export class MemoryJournal implements UnitJournal {
  readonly entries: JournalEntry[] = [];
  unitStarted(start: UnitStart): void {
    this.entries.push({ kind: 'unit.started', start });
  }
  unitIdentified(identity: UnitIdentity): void {
    this.entries.push({ kind: 'unit.identified', identity });
  }
  stepStarted(step: StepName): void {
    this.entries.push({ kind: 'step.started', step });
  }
  intent(step: StepName, action: string, details: Record<string, unknown>): void {
    this.entries.push({ kind: 'step.intent', step, action, details });
  }
  stepFinished(record: StepRecord): void {
    this.entries.push({ kind: 'step.finished', record });
  }
  unitFinished(finish: UnitFinish): void {
    this.entries.push({ kind: 'unit.finished', finish });
  }
  steps(): Array<[StepName, string]> {
    return this.entries.flatMap((e) =>
      e.kind === 'step.finished' ? [[e.record.step, e.record.outcome] as [StepName, string]] : [],
    );
  }
}
