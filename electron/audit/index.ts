/** The audit trail: what other folders may import. */
export {
  AuditStore,
  assertDurablePragmas,
  EVENT_COLUMNS,
  type EventRow,
  type AuditStoreOptions,
  type SideTableTransaction,
  type CheckpointAnchor,
  type BatchSummary,
  type QueuedAppendOutcome,
  type DurabilityPragmas,
  type StoredEvent,
  type UnitHistory,
} from './store';
export type { BatchRecord, UnitRecord } from './projections';
export * from './events';
export * from './errors';
export { eventChainVerifier, verifyAuditChain, type TamperReason, type VerifyResult } from './verify';
export { eventHash, canonicalJson, GENESIS_HASH, type EventRowFields } from './hash-chain';
export { isSecretLikeKey, findSecretLikeKey, secretKeyRefusal } from './secret-keys';
export {
  checkpointMessage,
  generateStationKey,
  keyFingerprint,
  signerFromSeed,
  verifyCheckpoint,
  type TrailSigner,
} from './signing';
export { loadStationSigner } from './station-identity';
export { openTrailInMemory } from './schema';
export {
  checkSignature,
  computeRecordHash,
  currentRecordHash,
  signaturesOf,
  verifyAllSignatures,
  type RecordHash,
  type SignatureSubject,
  type SignatureView,
} from './record-hash';
