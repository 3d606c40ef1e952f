/**
 * The journal the workflow writes, as audit events: one event per boundary, appended (and hash-chained) before the
 * workflow moves on. An append that fails throws, which stops the unit: nothing proceeds unrecorded.
 */
import type { AuditStore } from '../audit';
import type { StepName, StepRecord, UnitFinish, UnitIdentity, UnitJournal, UnitStart } from './journal';

export interface AuditJournalOptions {
  store: AuditStore;
  batchId: string;
  operator: string;
  /** The slot's number as the station shows it (1-based). */
  slotNumber: number;
}

export function auditJournal(options: AuditJournalOptions): UnitJournal {
  const { store, batchId, operator, slotNumber } = options;
  let unitId = '';
  const envelope = () => ({ operator, batchId, unitId, slot: slotNumber });
  return {
    unitStarted(start: UnitStart) {
      unitId = start.unitId;
      store.append({
        ...envelope(),
        kind: 'unit.started',
        at: start.startedAt,
        details: { port: start.port, slotName: start.slot, scan: start.scan },
      });
    },
    unitIdentified(identity: UnitIdentity) {
      // A board seen before (a retry, a re-run after a crash) links to its previous unit, so QA reads one story.
      const previous = store.findUnitByMcuId(identity.soc, identity.mcuId);
      store.append({
        ...envelope(),
        kind: 'unit.identified',
        details: {
          soc: identity.soc,
          mcuId: identity.mcuId,
          cloudMcuId: identity.cloudMcuId,
          firmwareVersion: identity.firmwareVersion,
          ...(identity.boardDeviceId !== null && { deviceId: identity.boardDeviceId }),
          ...(previous &&
            previous.id !== unitId && { previousUnitId: previous.id, previousState: previous.state }),
        },
      });
    },
    stepStarted(step: StepName, at: Date) {
      store.append({ ...envelope(), kind: 'step.started', step, at, details: {} });
    },
    intent(step: StepName, action: string, details) {
      store.append({ ...envelope(), kind: 'step.intent', step, details: { action, ...details } });
    },
    stepFinished(record: StepRecord) {
      if (record.boardLog.length > 0) {
        store.append({
          ...envelope(),
          kind: 'step.log',
          step: record.step,
          details: { source: 'board', lines: record.boardLog },
        });
      }
      store.append({
        ...envelope(),
        kind: 'step.finished',
        step: record.step,
        outcome: record.outcome,
        details: {
          durationMs: record.durationMs,
          measurements: record.details,
          ...(record.error && {
            errorCode: record.error.code,
            message: record.error.operatorMessage,
            retrySafe: record.error.retrySafe,
          }),
        },
      });
    },
    unitFinished(finish: UnitFinish) {
      store.append({
        ...envelope(),
        kind: 'unit.finished',
        at: finish.endedAt,
        outcome: finish.outcome === 'passed' ? 'passed' : 'failed',
        details: {
          durationMs: finish.durationMs,
          ...(finish.deviceId !== null && { deviceId: finish.deviceId }),
          ...(finish.error && { errorCode: finish.error.code, message: finish.error.operatorMessage }),
        },
      });
    },
  };
}
