/**
 * One journal, two readers: each entry the unit workflow records goes to the audit trail first (hash-chained, on
 * disk) and then, once committed, as the stored event onto the station's event stream, so no client ever sees a
 * step the trail does not hold. Step boundaries commit at the end of the event loop's turn (audit-journal.ts);
 * one that could not be recorded makes the unit's next entry throw, and the unit stops there.
 */
import type { AuditEvent, AuditStore } from '../audit';
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
  // A boundary whose commit failed: the unit's next entry throws it, so the unit stops there.
  let lostEntry: unknown = null;
  const publish = (entry: JournalEntry, event: AuditEvent) =>
    bus.publish(
      stationEventFor(entry, { at: event.at, slot, unitId: entry.unitId, auditSeq: event.seq }, context),
    );
  return {
    record(entry: JournalEntry) {
      if (lostEntry !== null) throw lostEntry;
      // A unit's start is on disk (and on the stream) when the command that started the unit returns.
      recordInAudit(
        store,
        entry,
        context,
        entry.kind === 'unit.started' ? 'now' : 'end-of-turn',
        (outcome) => {
          if ('error' in outcome) lostEntry = outcome.error;
          else publish(entry, outcome.event);
        },
      );
    },
    recordDurably(entry: JournalEntry) {
      if (lostEntry !== null) return Promise.reject(lostEntry);
      return new Promise<void>((resolve, reject) => {
        recordInAudit(store, entry, context, 'end-of-turn', (outcome) => {
          if ('error' in outcome) return reject(outcome.error as Error);
          publish(entry, outcome.event);
          resolve();
        });
      });
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
