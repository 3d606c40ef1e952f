/**
 * Journal entries as audit events: one entry, one event (a step's board log goes just before its step.finished),
 * appended and hash-chained before the workflow moves on. An append that fails throws, which stops the unit.
 */
import type { AuditEvent, AuditEventInput, AuditStore } from '../audit';
import type { JournalEntry, StepDetails } from './journal';
import type { ProvisioningRecords } from './ports';

export interface AuditJournalContext {
  batchId: string;
  operator: string | null;
  slot: { name: string; number: number };
}

/** Appends what `entry` says to the trail; returns the event that stands for the entry (the last appended). */
export function recordInAudit(
  store: AuditStore,
  entry: JournalEntry,
  context: AuditJournalContext,
): AuditEvent {
  const envelope = {
    operator: context.operator,
    batchId: context.batchId,
    unitId: entry.unitId,
    slot: context.slot.number,
  };
  switch (entry.kind) {
    case 'unit.started':
      return store.append({
        ...envelope,
        kind: 'unit.started',
        at: entry.at,
        details: { port: entry.port, slotName: context.slot.name, scan: entry.scan, attempt: entry.attempt },
      });
    case 'unit.identified': {
      // A board seen before (a re-plug, a re-run after a crash) links to its previous unit, so QA reads one story.
      const { identity } = entry;
      const previous = store.findUnitByMcuId(identity.soc, identity.mcuId);
      return store.append({
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
      });
    }
    case 'step.started':
      return store.append({
        ...envelope,
        kind: 'step.started',
        step: entry.step,
        at: entry.at,
        details: { index: entry.index, of: entry.count },
      });
    case 'step.intent':
      return store.append({
        ...envelope,
        kind: 'step.intent',
        step: entry.step,
        details: { action: entry.action, ...entry.details },
      });
    case 'step.finished': {
      // The board log and the step's end are one fact: one transaction, one commit (durability costs an fsync
      // per commit, and a unit makes dozens).
      const log: AuditEventInput[] =
        entry.boardLog.length > 0
          ? [
              {
                ...envelope,
                kind: 'step.log',
                step: entry.step,
                details: { source: 'board', lines: entry.boardLog },
              },
            ]
          : [];
      const appended = store.appendAll([
        ...log,
        {
          ...envelope,
          kind: 'step.finished',
          step: entry.step,
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
      ]);
      return appended.at(-1)!;
    }
    case 'unit.finished':
      return store.append({
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
      });
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
