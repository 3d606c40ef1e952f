import type { JournalEntry, StepName, UnitJournal } from '../../electron/provisioning';

/** A journal that keeps entries in memory, for engine tests that look at what was recorded and in what order. */
export class MemoryJournal implements UnitJournal {
  readonly entries: JournalEntry[] = [];
  record(entry: JournalEntry): void {
    this.entries.push(entry);
  }
  recordDurably(entry: JournalEntry): Promise<void> {
    this.entries.push(entry);
    return Promise.resolve();
  }
  steps(): Array<[StepName, string]> {
    return this.entries.flatMap((e) =>
      e.kind === 'step.finished' ? [[e.step, e.outcome] as [StepName, string]] : [],
    );
  }
  kinds(): string[] {
    return this.entries.map((e) => (e.kind === 'step.intent' ? `intent:${e.action}` : e.kind));
  }
}
