/**
 * The station's state as a late joiner receives it: who and where the station is, who is logged in, the batch with
 * its counts, every slot, the last units. It is exactly what `reduce` folds out of the events (reduce.ts), so a
 * client that holds a snapshot with seq N and applies the events after N holds the station's state.
 */
import { z } from 'zod';
import {
  roleSchema,
  SLOT_STATES,
  START_MODES,
  stepNameSchema,
  unitOutcomeSchema,
  type Role,
} from './vocabulary';

/** Why a unit or a command failed, in words for the person at the station. Never holds a secret. */
export const operatorErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  /** Whether Retry on the same board can do no harm; otherwise Retry needs a supervisor and a reason. */
  retrySafe: z.boolean(),
});
export type OperatorError = z.infer<typeof operatorErrorSchema>;

export const sessionSchema = z.object({
  operatorId: z.string(),
  name: z.string(),
  roles: z.array(roleSchema),
  /** `pin`: logged in at the station; `host`: named by the host that started it (headless CLI runs). */
  method: z.enum(['pin', 'password', 'host']),
  since: z.string(),
  /** The session ends after this long without a command (0: never, for host sessions). */
  idleLogoutMs: z.number().int().min(0),
});
export type Session = z.infer<typeof sessionSchema>;

export const boardIdentitySchema = z.object({
  soc: z.string(),
  mcuId: z.string(),
  /** The device id the board already held when it was identified, if any. */
  boardDeviceId: z.string().nullable(),
  firmwareVersion: z.string().nullable(),
});
export type BoardIdentitySummary = z.infer<typeof boardIdentitySchema>;

export const slotUnitSchema = z.object({
  unitId: z.string(),
  attempt: z.number().int().min(1),
  startedAt: z.string(),
  operator: z.string().nullable(),
  /** The step running now, or null before the first one starts. */
  step: stepNameSchema.nullable(),
  /** 1-based position of `step` among `stepCount` steps. */
  stepIndex: z.number().int().min(0),
  stepCount: z.number().int().min(0),
  identity: boardIdentitySchema.nullable(),
});
export type SlotUnit = z.infer<typeof slotUnitSchema>;

export const slotResultSchema = z.object({
  outcome: z.enum(['passed', 'failed', 'cancelled', 'skipped']),
  unitId: z.string().nullable(),
  deviceId: z.string().nullable(),
  durationMs: z.number().nullable(),
  failedStep: stepNameSchema.nullable(),
  error: operatorErrorSchema.nullable(),
  /** For a skipped board: why, and who set it aside. */
  reason: z.string().nullable(),
  by: z.string().nullable(),
  at: z.string(),
});
export type SlotResult = z.infer<typeof slotResultSchema>;

export const slotSchema = z.object({
  name: z.string(),
  /** 1-based number, as recorded with each unit. */
  number: z.number().int().min(1),
  source: z.enum(['configured', 'usb', 'virtual']),
  /** The port path while a board is attached (or last attached). */
  port: z.string().nullable(),
  present: z.boolean(),
  state: z.enum(SLOT_STATES),
  /** When the slot entered its state (waiting longest for a scan = smallest `since`). */
  since: z.string(),
  scan: z
    .object({ text: z.string(), format: z.string(), fields: z.record(z.string(), z.string()) })
    .nullable(),
  unit: slotUnitSchema.nullable(),
  result: slotResultSchema.nullable(),
});
export type Slot = z.infer<typeof slotSchema>;

export const batchCountsSchema = z.object({
  passed: z.number().int().min(0),
  failed: z.number().int().min(0),
  cancelled: z.number().int().min(0),
  inProgress: z.number().int().min(0),
  /** Units that passed on their first attempt. */
  firstPass: z.number().int().min(0),
});
export type BatchCounts = z.infer<typeof batchCountsSchema>;

export const batchSchema = z.object({
  id: z.string(),
  name: z.string(),
  workOrder: z.string().nullable(),
  recipeId: z.string(),
  targetQuantity: z.number().int().min(1).nullable(),
  openedAt: z.string(),
  openedBy: z.string().nullable(),
  /** Units on a slot wait for their label before they start. */
  requiresScan: z.boolean(),
  counts: batchCountsSchema,
  /** First-pass yield: units passed on their first attempt / units finished; null before any finished. */
  firstPassYield: z.number().min(0).max(1).nullable(),
  unitsPerHour: z.number().min(0).nullable(),
  targetReached: z.boolean(),
  /** Set while the batch is open in the trail but cannot run units (e.g. the backend was unreachable). */
  problem: z.string().nullable(),
});
export type Batch = z.infer<typeof batchSchema>;

export const unitSummarySchema = z.object({
  unitId: z.string(),
  slot: z.string(),
  mcuId: z.string().nullable(),
  deviceId: z.string().nullable(),
  outcome: unitOutcomeSchema,
  errorCode: z.string().nullable(),
  durationMs: z.number().nullable(),
  endedAt: z.string(),
});
export type UnitSummary = z.infer<typeof unitSummarySchema>;

export const RECENT_UNITS = 20;

/** How far the station's trail has reached the central database (`central` in the config, or `--central`). */
export const centralStatusSchema = z.object({
  /** The database as it may be shown (no password). */
  url: z.string(),
  state: z.enum(['starting', 'catching-up', 'caught-up', 'down', 'refused']),
  /** The last seq the central database holds of this station; null until it has answered. */
  centralSeq: z.number().int().min(0).nullable(),
  localSeq: z.number().int().min(0),
  /** Events not shipped yet; null until the database has answered. */
  behind: z.number().int().min(0).nullable(),
  lastContactAt: z.string().nullable(),
  /** Why it is down or refused, for the person who can fix it. */
  problem: z.string().nullable(),
});
export type CentralStatus = z.infer<typeof centralStatusSchema>;

export const snapshotSchema = z.object({
  /** The seq of the last event folded into this snapshot (0: none yet). */
  seq: z.number().int().min(0),
  /** Changes whenever the station (re)starts: a seq means nothing across runs. */
  runId: z.string(),
  station: z.object({
    id: z.string(),
    name: z.string(),
    line: z.string().nullable(),
    site: z.string().nullable(),
    environment: z.enum(['production', 'sandbox']),
    startMode: z.enum(START_MODES),
    softwareVersion: z.string(),
    /** Sandbox stations only: demo accounts and their PINs, so a new user can log in. */
    demoAccounts: z
      .array(z.object({ operatorId: z.string(), pin: z.string(), roles: z.array(roleSchema) }))
      .nullable(),
    /** No account exists yet: the first administrator must be created (accounts.init). */
    needsFirstAdmin: z.boolean(),
  }),
  recipes: z.array(
    z.object({ id: z.string(), name: z.string(), product: z.string(), requiresScan: z.boolean() }),
  ),
  session: sessionSchema.nullable(),
  batch: batchSchema.nullable(),
  slots: z.array(slotSchema),
  recentUnits: z.array(unitSummarySchema),
  lastScan: z
    .object({
      text: z.string(),
      accepted: z.boolean(),
      slot: z.string().nullable(),
      message: z.string().nullable(),
      at: z.string(),
    })
    .nullable(),
  /** Set once the station has stopped (shut down, or the audit trail could not be written). */
  stopped: z.object({ reason: z.string(), at: z.string() }).nullable(),
  /** Shipping to the central database; null when the station ships nowhere. */
  central: centralStatusSchema.nullable(),
  /**
   * Set when this host is the central QA/supervisor host (`station serve --central`): the screens read every
   * station's record from the central database, read-only; null on a station.
   */
  centralRecord: z
    .object({
      database: z.string(),
      /** The host's database user may add events: it should be a user that can only read. */
      userCanWrite: z.boolean(),
    })
    .nullable(),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export function hasRole(session: Session | null, roles: readonly Role[]): boolean {
  return session !== null && session.roles.some((role) => roles.includes(role));
}
