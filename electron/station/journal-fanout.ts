/**
 * One journal, two readers: each entry the unit workflow records goes to the audit trail first (hash-chained, on
 * disk) and then, as the stored event, onto the station's event stream. A failure to record throws before
 * anything is published, so no client ever sees a step the trail does not hold.
 */
import type { AuditStore } from '../audit';
import {
  recordInAudit,
  type AuditJournalContext,
  type ErrorSummary,
  type JournalEntry,
  type UnitJournal,
} from '../provisioning';
import type { OperatorError, UnsequencedEvent } from '../station-api';
import type { EventBus } from './event-bus';

const operatorError = (error: ErrorSummary | undefined): OperatorError | null =>
  error ? { code: error.code, message: error.operatorMessage, retrySafe: error.retrySafe } : null;

export function fanOutJournal(store: AuditStore, bus: EventBus, context: AuditJournalContext): UnitJournal {
  const slot = context.slot.name;
  return {
    record(entry: JournalEntry) {
      const stored = recordInAudit(store, entry, context);
      const common = { at: stored.at, slot, unitId: entry.unitId, auditSeq: stored.seq };
      bus.publish(stationEventFor(entry, common, context));
    },
  };
}

function stationEventFor(
  entry: JournalEntry,
  common: { at: string; slot: string; unitId: string; auditSeq: number },
  context: AuditJournalContext,
): UnsequencedEvent {
  switch (entry.kind) {
    case 'unit.started':
      return {
        ...common,
        kind: 'unit.started',
        batchId: context.batchId,
        port: entry.port,
        attempt: entry.attempt,
        operator: context.operator,
        stepCount: entry.stepCount,
      };
    case 'unit.identified':
      return {
        ...common,
        kind: 'unit.identified',
        identity: {
          soc: entry.identity.soc,
          mcuId: entry.identity.mcuId,
          boardDeviceId: entry.identity.boardDeviceId,
          firmwareVersion: entry.identity.firmwareVersion,
        },
      };
    case 'step.started':
      return { ...common, kind: 'step.started', step: entry.step, index: entry.index, count: entry.count };
    case 'step.intent':
      return { ...common, kind: 'step.intent', step: entry.step, action: entry.action };
    case 'step.finished':
      return {
        ...common,
        kind: 'step.finished',
        step: entry.step,
        outcome: entry.outcome,
        durationMs: entry.durationMs,
        error: operatorError(entry.error),
      };
    case 'unit.finished':
      return {
        ...common,
        kind: 'unit.finished',
        outcome: entry.outcome,
        deviceId: entry.deviceId,
        mcuId: entry.mcuId,
        durationMs: entry.durationMs,
        failedStep: entry.failedStep,
        error: operatorError(entry.error),
      };
  }
}
