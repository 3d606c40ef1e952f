/**
 * Journal entries as audit events: one entry, one event (a step's board log goes just before its step.finished),
 * hash-chained in the order the workflow recorded them. A unit's start is on disk at once; the rest commit at the
 * end of the turn of the event loop,
 * together with whatever else the station's slots recorded in it (group commit: one fsync for a gang, not one an
 * event); the workflow waits for an intent and the unit's end to be on disk before it goes on. A crash before that
 * commit looks like a crash just before the entry: every side effect has its intent on disk before it happens,
 * and the trail reconciles the rest. An append that fails throws, which stops the unit.
 */
import type { AuditEvent, AuditEventInput, AuditStore, QueuedAppendOutcome } from '../audit';
import type { JournalEntry, StepDetails } from './journal';
import type { ProvisioningRecords } from './ports';

export interface AuditJournalContext {
  batchId: string;
  operator: string | null;
  slot: { name: string; number: number };
}

/**
 * Appends what `entry` says to the trail: `now` (a unit's start: the command that starts a unit reports it at
 * once) or at the end of this turn, in the turn's group commit (see the top of this file). `recorded` gets the
 * event that stands for the entry (the last appended) once it is on disk. Throws when the entry cannot be
 * recorded now; a deferred entry that fails reaches `recorded` as the error.
 */
export function recordInAudit(
  store: AuditStore,
  entry: JournalEntry,
  context: AuditJournalContext,
  when: 'now' | 'end-of-turn',
  recorded: (outcome: { event: AuditEvent } | { error: unknown }) => void,
): void {
  const inputs = auditEventsFor(store, entry, context);
  if (when === 'now') {
    recorded({ event: store.appendAll(inputs).at(-1)! });
    return;
  }
  store.appendSoon(inputs, (outcome: QueuedAppendOutcome) =>
    recorded(outcome.events ? { event: outcome.events.at(-1)! } : { error: outcome.error }),
  );
}

/** The audit events that stand for `entry`, in order. */
function auditEventsFor(
  store: AuditStore,
  entry: JournalEntry,
  context: AuditJournalContext,
): AuditEventInput[] {
  const envelope = {
    operator: context.operator,
    batchId: context.batchId,
    unitId: entry.unitId,
    slot: context.slot.number,
  };
  switch (entry.kind) {
    case 'unit.started':
      return [
        {
          ...envelope,
          kind: 'unit.started',
          at: entry.at,
          details: {
            port: entry.port,
            slotName: context.slot.name,
            scan: entry.scan,
            attempt: entry.attempt,
          },
        },
      ];
    case 'unit.identified': {
      // A board seen before (a re-plug, a re-run after a crash) links to its previous unit, so QA reads one story.
      const { identity } = entry;
      const previous = store.findUnitByMcuId(identity.soc, identity.mcuId);
      return [
        {
          ...envelope,
          kind: 'unit.identified',
          details: {
            soc: identity.soc,
            mcuId: identity.mcuId,
            cloudMcuId: identity.cloudMcuId,
            firmwareVersion: identity.firmwareVersion,
            ...(identity.boardDeviceId !== null && { deviceId: identity.boardDeviceId }),
            ...(previous &&
              previous.id !== entry.unitId && { previousUnitId: previous.id, previousState: previous.state }),
          },
        },
      ];
    }
    case 'step.started':
      return [
        {
          ...envelope,
          kind: 'step.started',
          step: entry.step,
          at: entry.at,
          details: { index: entry.index, of: entry.count },
        },
      ];
    case 'step.intent':
      return [
        {
          ...envelope,
          kind: 'step.intent',
          step: entry.step,
          details: { action: entry.action, ...entry.details },
        },
      ];
    case 'step.finished': {
      // The board log and the step's end are one fact: they commit together.
      const log: AuditEventInput[] =
        entry.boardLog.length > 0
          ? [
              {
                ...envelope,
                kind: 'step.log',
                step: entry.step,
                at: entry.at,
                details: { source: 'board', lines: entry.boardLog },
              },
            ]
          : [];
      return [
        ...log,
        {
          ...envelope,
          kind: 'step.finished',
          step: entry.step,
          at: entry.at,
          outcome: entry.outcome,
          details: {
            durationMs: entry.durationMs,
            measurements: entry.details,
            ...(entry.backend && entry.backend.length > 0 && { backend: entry.backend }),
            ...(entry.error && {
              errorCode: entry.error.code,
              message: entry.error.operatorMessage,
              retrySafe: entry.error.retrySafe,
            }),
          },
        },
      ];
    }
    case 'unit.finished':
      return [
        {
          ...envelope,
          kind: 'unit.finished',
          at: entry.at,
          outcome: entry.outcome,
          details: {
            durationMs: entry.durationMs,
            ...(entry.deviceId !== null && { deviceId: entry.deviceId }),
            ...(entry.failedStep !== null && { failedStep: entry.failedStep }),
            ...(entry.error && {
              errorCode: entry.error.code,
              message: entry.error.operatorMessage,
              retrySafe: entry.error.retrySafe,
            }),
          },
        },
      ];
  }
}

/**
 * The station's record of earlier units as the workflow reads it: the last passed unit of a chip, with what its
 * write-credentials step recorded (ids and fingerprints, never secrets) and the board's public key.
 */
export function auditProvisioningRecords(store: AuditStore): ProvisioningRecords {
  return {
    lastPassed(soc, mcuId) {
      const unit = store.passedUnitByMcuId(soc, mcuId);
      if (!unit?.deviceId) return null;
      const events = store.unitHistory(unit.id).events;
      // A step's own values are its event's `measurements` (see step.finished above).
      const measured = (step: string): Record<string, unknown> | undefined => {
        const event = events.findLast(
          (e) => e.kind === 'step.finished' && e.step === step && e.outcome === 'passed',
        );
        const measurements = event?.details.measurements;
        return measurements && typeof measurements === 'object'
          ? (measurements as Record<string, unknown>)
          : undefined;
      };
      const written = measured('write-credentials');
      if (!written || written.deviceId !== unit.deviceId) return null;
      const publicKey = measured('identify')?.devicePublicKey;
      return {
        unitId: unit.id,
        deviceId: unit.deviceId,
        passedAt: unit.endedAt,
        devicePublicKey: typeof publicKey === 'string' ? publicKey : null,
        written: written as StepDetails,
      };
    },
  };
}
