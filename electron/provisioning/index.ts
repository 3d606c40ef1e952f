/** The provisioning engine: one unit's workflow, the plugs it talks through, and what it records. */
export { openBatchContext } from './batch-context';
export type { BatchContext, BatchNetwork, OpenBatchOptions } from './batch-context';
export { backendCloudPort, type BackendCloudPortOptions } from './cloud-port';
export { recordBackendCall, type BackendCall } from './backend-calls';
export type { BoardPort, CloudPort, ProvisionedRecord, ProvisioningRecords } from './ports';
export { runUnit, UNIT_STEPS } from './unit-workflow';
export type { RunUnitInput, StepDefinition, UnitResult } from './unit-workflow';
export { ProvisioningError, PROVISIONING_ERROR_CODES, isAuditFailure, toProvisioningError } from './errors';
export type { ProvisioningErrorCode } from './errors';
export { STEP_NAMES } from './journal';
export type {
  ErrorSummary,
  JournalEntry,
  JournalKind,
  StepDetails,
  StepName,
  StepOutcome,
  UnitIdentity,
  UnitJournal,
  UnitOutcome,
} from './journal';
export { recordInAudit, auditProvisioningRecords, type AuditJournalContext } from './audit-journal';
export { reconcileUnfinishedUnits } from './reconcile';
export type { Reconciliation, ReconcileOptions } from './reconcile';
