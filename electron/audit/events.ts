/**
 * The events the provisioning engine records, as zod schemas: the engine gets its types from here and the store
 * validates every append against them. Each event is an envelope (who, when, which batch/unit/slot/step) plus a
 * `details` object whose shape depends on `kind`. Details objects are loose on purpose: a step may add its own
 * measurements without a schema change, and the store still checks them for secret-like keys.
 */
import { z } from 'zod';
import { SIGNATURE_MEANINGS, type SignatureMeaning } from '../station-api';

/** What a person's electronic signature means (21 CFR 11.50: the meaning is part of the signature); one list, in the contract. */
export { SIGNATURE_MEANINGS, type SignatureMeaning };

export const AUDIT_EVENT_KINDS = [
  'operator.login',
  'operator.logout',
  'operator.login-failed',
  'account.created',
  'account.changed',
  'access.denied',
  'scan.accepted',
  'scan.refused',
  'slot.skipped',
  'retry.authorized',
  'station.identity',
  'checkpoint',
  'config.recorded',
  'batch.opened',
  'batch.closed',
  'unit.started',
  'unit.identified',
  'step.started',
  'step.intent',
  'step.finished',
  'step.log',
  'unit.attention',
  'unit.finished',
  'unit.voided',
  'unit.note',
  'signature',
  'correction',
] as const;
export type AuditEventKind = (typeof AUDIT_EVENT_KINDS)[number];

export const UNIT_STATES = ['in-progress', 'passed', 'failed', 'cancelled', 'attention', 'voided'] as const;
export type UnitState = (typeof UNIT_STATES)[number];
/** States a unit does not leave without a new attempt: everything else is unfinished work for the journal. */
export const FINAL_UNIT_STATES: readonly UnitState[] = ['passed', 'failed', 'cancelled', 'voided'];

/** How a unit attempt ended. */
export const UNIT_OUTCOMES = ['passed', 'failed', 'cancelled'] as const;
export type UnitOutcome = (typeof UNIT_OUTCOMES)[number];

export const BATCH_STATES = ['open', 'closed'] as const;
export type BatchState = (typeof BATCH_STATES)[number];

/** UTC with milliseconds and an explicit offset, e.g. 2026-11-25T19:00:00.123+00:00. */
export const AUDIT_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/;

export function auditTimestamp(date: Date): string {
  return date.toISOString().replace(/Z$/, '+00:00');
}

const text = z.string().min(1).max(1000);
const ident = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');
const errorCode = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Z][A-Z0-9_]*$/, 'must be an UPPER_SNAKE error code');

// --- details, one schema per kind ------------------------------------------------------------------------------

export const operatorLoginDetails = z.looseObject({ role: z.string().max(64).optional() });
export const operatorLogoutDetails = z.looseObject({ reason: z.string().max(200).optional() });
/** A refused login: who tried (as typed) and why; never what they typed as the PIN. */
export const operatorLoginFailedDetails = z.looseObject({
  reason: z.string().min(1).max(200),
  failedAttempts: z.int().min(0).optional(),
  lockedUntil: z.string().max(64).optional(),
});
const roleList = z.array(z.enum(['operator', 'qa', 'supervisor', 'admin'])).max(4);
export const accountCreatedDetails = z.looseObject({
  accountId: ident,
  name: text,
  roles: roleList,
  credentialKind: z.enum(['pin', 'password']),
  /** The hashing parameters (algorithm, cost), never the salt or the hash. */
  kdf: z.string().max(200),
});
export const accountChangedDetails = z.looseObject({
  accountId: ident,
  change: z.enum(['roles', 'disabled', 'enabled', 'pin-reset', 'locked']),
  roles: roleList.optional(),
  reason: z.string().max(1000).optional(),
});
/** A command the caller's roles do not allow (or that needs someone logged in). */
export const accessDeniedDetails = z.looseObject({
  command: z.string().min(1).max(64),
  reason: z.string().min(1).max(500),
  roles: z.array(z.string().max(32)).max(8).optional(),
});
export const scanAcceptedDetails = z.looseObject({
  text: z.string().max(500),
  format: z.string().max(64),
  fields: z.record(z.string(), z.string().max(500)),
  slotName: z.string().max(128),
});
export const scanRefusedDetails = z.looseObject({
  text: z.string().max(500),
  reason: z.string().min(1).max(1000),
  slotName: z.string().max(128).optional(),
});
export const slotSkippedDetails = z.looseObject({ slotName: z.string().max(128), reason: text });
export const retryAuthorizedDetails = z.looseObject({
  slotName: z.string().max(128),
  reason: text,
  authorizedBy: z.string().min(1).max(128),
  errorCode: errorCode.optional(),
});
const base64 = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')
    .refine((value) => Buffer.from(value, 'base64').length === bytes, `must be base64 of ${bytes} bytes`);
export const CHECKPOINT_REASONS = ['opened', 'interval', 'batch-closed', 'shutdown'] as const;
export type CheckpointReason = (typeof CHECKPOINT_REASONS)[number];
/** The station's public key, recorded once (and again if the station's key ever changes). */
export const stationIdentityDetails = z.looseObject({
  algorithm: z.literal('ed25519'),
  stationPublicKey: base64(32),
  publicKeyFp: z.string().max(64),
});
/**
 * The station's signature over everything before this event: (station id, seq - 1, prev_hash) as
 * signing.ts `checkpointMessage` writes it.
 */
export const checkpointDetails = z.looseObject({
  reason: z.enum(CHECKPOINT_REASONS),
  publicKeyFp: z.string().max(64),
  signature: base64(64),
});
export const configRecordedDetails = z.looseObject({
  configSha256: sha256Hex,
  environment: z.string().max(64).optional(),
  recipeIds: z.array(ident).optional(),
  /** Fingerprints of the secrets the config references (name + fingerprint), never the secrets. */
  secretFingerprints: z.array(z.object({ name: ident, fingerprint: z.string().nullable() })).optional(),
});
export const batchOpenedDetails = z.looseObject({
  name: text,
  recipeId: ident,
  configSha256: sha256Hex,
  plannedUnits: z.int().min(0).optional(),
});
export const batchClosedDetails = z.looseObject({ reason: z.string().max(1000).optional() });
export const unitStartedDetails = z.looseObject({
  soc: ident.optional(),
  mcuId: ident.optional(),
  label: z.string().max(256).optional(),
});
export const unitIdentifiedDetails = z.looseObject({
  soc: ident,
  mcuId: ident,
  deviceId: ident.optional(),
  firmwareVersion: z.string().max(64).optional(),
  protocolVersion: z.string().max(64).optional(),
});
export const stepStartedDetails = z.looseObject({});
/** What the step is about to do, journaled before it does it, so a crash can be reconciled rather than repeated. */
export const stepIntentDetails = z.looseObject({ action: text });
export const stepFinishedDetails = z.looseObject({
  durationMs: z.number().min(0),
  errorCode: errorCode.optional(),
  message: z.string().max(2000).optional(),
  measurements: z.record(z.string(), z.unknown()).optional(),
  /** The backend requests the step made: path templates, never concrete paths, headers or bodies. */
  backend: z
    .array(
      z.object({
        method: z.string().max(10),
        endpoint: z.string().max(200),
        attempt: z.number().int().min(1),
        outcome: z.string().max(40),
        status: z.number().int().optional(),
        durationMs: z.number().min(0),
        startMs: z.number().min(0).optional(),
        code: z.string().max(80).optional(),
      }),
    )
    .max(32)
    .optional(),
});
export const stepLogDetails = z.looseObject({
  source: z.enum(['board', 'backend', 'station']),
  lines: z.array(z.string().max(4000)).max(10_000),
});
export const unitAttentionDetails = z.looseObject({ reason: text, errorCode: errorCode.optional() });
export const unitFinishedDetails = z.looseObject({
  durationMs: z.number().min(0).optional(),
  errorCode: errorCode.optional(),
  message: z.string().max(2000).optional(),
  deviceId: ident.optional(),
});
export const unitVoidedDetails = z.looseObject({ reason: text, signatureSeq: z.int().positive().optional() });
/** A note QA or a supervisor adds to a unit's record: a new event, nothing edited in place. */
export const unitNoteDetails = z.looseObject({ text: z.string().min(1).max(2000) });

/** What a person's electronic signature means (21 CFR 11.50: the meaning is part of the signature). */
export const SIGNATURE_SUBJECTS = ['unit', 'batch'] as const;
export type SignatureSubjectType = (typeof SIGNATURE_SUBJECTS)[number];
/**
 * An electronic signature: who (the envelope's operator, re-authenticated with their PIN), their name as printed,
 * when (the envelope's time), what it means, and the hash of the record signed (review/signatures.ts says how it is
 * computed), so a signature cannot be moved to another record or survive a change to the one it signed.
 */
export const signatureDetails = z.looseObject({
  meaning: z.enum(SIGNATURE_MEANINGS),
  signerName: text,
  subject: z.strictObject({ type: z.enum(SIGNATURE_SUBJECTS), id: ident }),
  recordHash: sha256Hex,
  /** The record as it stood at this seq: the subject's events up to it. */
  coversSeq: z.int().min(0),
  reason: text.optional(),
});
/** Fields of the unit projection a correction may set; the corrected event itself stays as it was. */
export const correctionDetails = z.looseObject({
  reason: text,
  set: z
    .object({
      state: z.enum(UNIT_STATES).optional(),
      outcome: z.enum(UNIT_OUTCOMES).nullable().optional(),
      errorCode: errorCode.nullable().optional(),
      deviceId: ident.nullable().optional(),
      soc: ident.nullable().optional(),
      mcuId: ident.nullable().optional(),
    })
    .strict()
    .optional(),
});

// --- envelopes ---------------------------------------------------------------------------------------------------

const envelope = {
  /** Defaults to a fresh UUID. */
  eventId: z.uuid().optional(),
  /** Defaults to now. A Date, or a string in AUDIT_TIMESTAMP form. */
  at: z
    .union([z.date(), z.string().regex(AUDIT_TIMESTAMP, 'must be UTC like 2026-11-25T19:00:00.123+00:00')])
    .optional(),
  operator: z.string().min(1).max(128).nullish(),
  batchId: ident.nullish(),
  unitId: ident.nullish(),
  slot: z.int().min(0).max(10_000).nullish(),
  step: ident.nullish(),
  outcome: z.null().optional(),
  supersedes: z.int().positive().nullish(),
};

const stepOutcome = z.enum(['passed', 'failed', 'skipped']);
const unitOutcome = z.enum(UNIT_OUTCOMES);

export const auditEventInputSchema = z.discriminatedUnion('kind', [
  z.object({
    ...envelope,
    kind: z.literal('operator.login'),
    operator: z.string().min(1).max(128),
    details: operatorLoginDetails,
  }),
  z.object({
    ...envelope,
    kind: z.literal('operator.logout'),
    operator: z.string().min(1).max(128),
    details: operatorLogoutDetails,
  }),
  z.object({
    ...envelope,
    kind: z.literal('operator.login-failed'),
    operator: z.string().min(1).max(128),
    details: operatorLoginFailedDetails,
  }),
  z.object({ ...envelope, kind: z.literal('account.created'), details: accountCreatedDetails }),
  z.object({ ...envelope, kind: z.literal('account.changed'), details: accountChangedDetails }),
  z.object({ ...envelope, kind: z.literal('access.denied'), details: accessDeniedDetails }),
  z.object({ ...envelope, kind: z.literal('scan.accepted'), details: scanAcceptedDetails }),
  z.object({ ...envelope, kind: z.literal('scan.refused'), details: scanRefusedDetails }),
  z.object({ ...envelope, kind: z.literal('slot.skipped'), details: slotSkippedDetails }),
  z.object({ ...envelope, kind: z.literal('retry.authorized'), details: retryAuthorizedDetails }),
  z.object({ ...envelope, kind: z.literal('station.identity'), details: stationIdentityDetails }),
  z.object({ ...envelope, kind: z.literal('checkpoint'), details: checkpointDetails }),
  z.object({ ...envelope, kind: z.literal('config.recorded'), details: configRecordedDetails }),
  z.object({ ...envelope, kind: z.literal('batch.opened'), batchId: ident, details: batchOpenedDetails }),
  z.object({ ...envelope, kind: z.literal('batch.closed'), batchId: ident, details: batchClosedDetails }),
  z.object({
    ...envelope,
    kind: z.literal('unit.started'),
    batchId: ident,
    unitId: ident,
    details: unitStartedDetails,
  }),
  z.object({
    ...envelope,
    kind: z.literal('unit.identified'),
    unitId: ident,
    details: unitIdentifiedDetails,
  }),
  z.object({
    ...envelope,
    kind: z.literal('step.started'),
    unitId: ident,
    step: ident,
    details: stepStartedDetails,
  }),
  z.object({
    ...envelope,
    kind: z.literal('step.intent'),
    unitId: ident,
    step: ident,
    details: stepIntentDetails,
  }),
  z.object({
    ...envelope,
    kind: z.literal('step.finished'),
    unitId: ident,
    step: ident,
    outcome: stepOutcome,
    details: stepFinishedDetails,
  }),
  z.object({ ...envelope, kind: z.literal('step.log'), unitId: ident, details: stepLogDetails }),
  z.object({ ...envelope, kind: z.literal('unit.attention'), unitId: ident, details: unitAttentionDetails }),
  z.object({
    ...envelope,
    kind: z.literal('unit.finished'),
    unitId: ident,
    outcome: unitOutcome,
    details: unitFinishedDetails,
  }),
  z.object({ ...envelope, kind: z.literal('unit.voided'), unitId: ident, details: unitVoidedDetails }),
  z.object({
    ...envelope,
    kind: z.literal('unit.note'),
    unitId: ident,
    operator: z.string().min(1).max(128),
    details: unitNoteDetails,
  }),
  z.object({
    ...envelope,
    kind: z.literal('signature'),
    operator: z.string().min(1).max(128),
    details: signatureDetails,
  }),
  z.object({
    ...envelope,
    kind: z.literal('correction'),
    supersedes: z.int().positive(),
    details: correctionDetails,
  }),
]);

/** What the engine passes to `AuditStore.append`. */
export type AuditEventInput = z.input<typeof auditEventInputSchema>;
export type ParsedAuditEventInput = z.output<typeof auditEventInputSchema>;
/** The input for one kind, e.g. `AuditEventInputOf<'step.finished'>`. */
export type AuditEventInputOf<K extends AuditEventKind> = Extract<AuditEventInput, { kind: K }>;

/** An event as stored: the envelope with every field present (null when unused), its place in the chain and hash. */
export interface AuditEvent {
  seq: number;
  eventId: string;
  at: string;
  stationId: string;
  operator: string | null;
  batchId: string | null;
  unitId: string | null;
  slot: number | null;
  step: string | null;
  kind: string;
  outcome: string | null;
  details: Record<string, unknown>;
  supersedes: number | null;
  prevHash: string;
  /** SHA-256 of the event; stable, so it doubles as the idempotency key when the trail is shipped elsewhere. */
  hash: string;
}
