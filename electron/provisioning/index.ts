/** The provisioning engine: one unit's workflow, gang runs over many slots, and what they record. */
export { openBatchContext } from './batch-context';
export type { BatchContext, BatchNetwork, OpenBatchOptions } from './batch-context';
export { runBatch } from './batch-runner';
export type { BatchRunResult, RunBatchOptions, SlotSpec } from './batch-runner';
export { provisionUnit, UNIT_STEPS } from './unit-workflow';
export type { ProvisionUnitInput, StepProgress, UnitResult } from './unit-workflow';
export { ProvisioningError, PROVISIONING_ERROR_CODES, toProvisioningError } from './errors';
export type { ProvisioningErrorCode } from './errors';
export { STEP_NAMES } from './journal';
export type {
  StepName,
  StepRecord,
  UnitJournal,
  UnitStart,
  UnitIdentity,
  UnitFinish,
  UnitOutcome,
} from './journal';
export { auditJournal } from './audit-journal';
export type { AuditJournalOptions } from './audit-journal';
export { reconcileUnfinishedUnits } from './reconcile';
export type { Reconciliation, ReconcileOptions } from './reconcile';
