/**
 * Every event a station publishes, as one discriminated union. `seq` is station-wide and monotonic within a run
 * (`runId` in the snapshot); `at` is UTC ISO 8601. The first group mirrors what the unit workflow journals into the
 * audit trail (each boundary recorded once, then fanned out here); the second group is live state no audit event
 * carries (ports, scans, counts, the session). No event holds a secret: ids, fingerprints and operator texts only.
 */
import { z } from 'zod';
import {
  batchCountsSchema,
  boardIdentitySchema,
  centralStatusSchema,
  operatorErrorSchema,
  sessionSchema,
  slotSchema,
} from './snapshot';
import { stepNameSchema, unitOutcomeSchema } from './vocabulary';

const base = { seq: z.number().int().min(1), at: z.string() };
const onSlot = { ...base, slot: z.string() };
const unitBase = { ...onSlot, unitId: z.string() };

export const stationEventSchema = z.discriminatedUnion('kind', [
  // --- journaled (also in the audit trail; auditSeq is the event's place in the hash chain) -----------------
  z.object({
    ...base,
    kind: z.literal('batch.opened'),
    auditSeq: z.number().int(),
    batchId: z.string(),
    name: z.string(),
    workOrder: z.string().nullable(),
    recipeId: z.string(),
    targetQuantity: z.number().int().nullable(),
    requiresScan: z.boolean(),
    openedBy: z.string().nullable(),
    /** Counts when an open batch is taken up again after a restart (zero for a new batch). */
    counts: batchCountsSchema,
  }),
  z.object({
    ...base,
    kind: z.literal('batch.closed'),
    auditSeq: z.number().int(),
    batchId: z.string(),
    reason: z.string(),
    closedBy: z.string().nullable(),
  }),
  z.object({
    ...unitBase,
    kind: z.literal('unit.started'),
    auditSeq: z.number().int(),
    batchId: z.string(),
    port: z.string(),
    attempt: z.number().int().min(1),
    operator: z.string().nullable(),
    stepCount: z.number().int().min(0),
  }),
  z.object({
    ...unitBase,
    kind: z.literal('unit.identified'),
    auditSeq: z.number().int(),
    identity: boardIdentitySchema,
  }),
  z.object({
    ...unitBase,
    kind: z.literal('step.started'),
    auditSeq: z.number().int(),
    step: stepNameSchema,
    index: z.number().int().min(1),
    count: z.number().int().min(1),
  }),
  z.object({
    ...unitBase,
    kind: z.literal('step.intent'),
    auditSeq: z.number().int(),
    step: stepNameSchema,
    action: z.string(),
  }),
  z.object({
    ...unitBase,
    kind: z.literal('step.finished'),
    auditSeq: z.number().int(),
    step: stepNameSchema,
    outcome: z.enum(['passed', 'failed', 'skipped']),
    durationMs: z.number(),
    error: operatorErrorSchema.nullable(),
  }),
  z.object({
    ...unitBase,
    kind: z.literal('unit.finished'),
    auditSeq: z.number().int(),
    outcome: unitOutcomeSchema,
    deviceId: z.string().nullable(),
    mcuId: z.string().nullable(),
    durationMs: z.number(),
    failedStep: stepNameSchema.nullable(),
    error: operatorErrorSchema.nullable(),
  }),
  z.object({
    ...base,
    kind: z.literal('unit.reconciled'),
    unitId: z.string(),
    resolution: z.enum(['interrupted', 'attention']),
    reason: z.string(),
  }),
  z.object({
    ...onSlot,
    kind: z.literal('slot.skipped'),
    auditSeq: z.number().int(),
    reason: z.string(),
    by: z.string().nullable(),
  }),
  // --- live ----------------------------------------------------------------------------------------------
  /**
   * A slot's whole state, for the changes no other event carries: a slot comes into being (configured, or a
   * matching USB adapter seen for the first time), or a board waits for a free channel.
   */
  z.object({
    ...base,
    kind: z.literal('slot.changed'),
    change: z.enum(['added', 'queued']),
    slotState: slotSchema,
  }),
  z.object({
    ...onSlot,
    kind: z.literal('port.added'),
    port: z.string(),
    serialNumber: z.string().nullable(),
  }),
  z.object({ ...onSlot, kind: z.literal('port.removed'), port: z.string() }),
  z.object({
    ...onSlot,
    kind: z.literal('board.log'),
    unitId: z.string().nullable(),
    lines: z.array(z.string()),
    /** Lines not sent because the board talked faster than the stream's rate limit (they stay in the record). */
    dropped: z.number().int().min(0),
  }),
  z.object({
    ...base,
    kind: z.literal('scan.accepted'),
    slot: z.string(),
    text: z.string(),
    format: z.string(),
    fields: z.record(z.string(), z.string()),
  }),
  z.object({
    ...base,
    kind: z.literal('scan.refused'),
    slot: z.string().nullable(),
    text: z.string(),
    message: z.string(),
  }),
  z.object({
    ...base,
    kind: z.literal('batch.changed'),
    batchId: z.string(),
    counts: batchCountsSchema,
    firstPassYield: z.number().nullable(),
    unitsPerHour: z.number().nullable(),
    targetReached: z.boolean(),
    problem: z.string().nullable(),
  }),
  z.object({
    ...base,
    kind: z.literal('session.changed'),
    session: sessionSchema.nullable(),
    reason: z.enum(['login', 'logout', 'idle', 'replaced', 'host', 'account-disabled']),
  }),
  z.object({ ...base, kind: z.literal('accounts.changed'), needsFirstAdmin: z.boolean() }),
  z.object({ ...base, kind: z.literal('station.stopped'), reason: z.string() }),
  z.object({ ...base, kind: z.literal('central.changed'), central: centralStatusSchema }),
]);

export type StationEvent = z.infer<typeof stationEventSchema>;
export type StationEventKind = StationEvent['kind'];
export type StationEventOf<K extends StationEventKind> = Extract<StationEvent, { kind: K }>;
/** An event as the station builds it, before the bus gives it its seq. */
export type UnsequencedEvent = StationEvent extends infer E
  ? E extends { seq: number }
    ? Omit<E, 'seq'>
    : never
  : never;
