/**
 * What QA review and the supervisor's screens exchange with the station: the units query (filters, keyset pages),
 * a unit's full record, signatures, the chain status and the batch dashboard. The station computes all of it
 * (electron/review, electron/reports); these schemas are the contract every host and the renderer share.
 */
import { z } from 'zod';

export const UNIT_STATE_FILTERS = [
  'in-progress',
  'passed',
  'failed',
  'cancelled',
  'attention',
  'voided',
] as const;
export const SIGNATURE_MEANINGS = [
  'reviewed',
  'approved',
  'released',
  'voided',
  'closed-short',
  'reprovision-approved',
] as const;
export type SignatureMeaning = (typeof SIGNATURE_MEANINGS)[number];

const isoTime = z.iso.datetime({ offset: true, message: 'a time like 2026-12-01T06:00:00Z' });

export const unitQuerySchema = z.strictObject({
  /** Started at or after. */
  from: isoTime.optional(),
  /** Started before. */
  to: isoTime.optional(),
  batchId: z.string().min(1).max(128).optional(),
  state: z.enum(UNIT_STATE_FILTERS).optional(),
  errorCode: z.string().min(1).max(80).optional(),
  operator: z.string().min(1).max(128).optional(),
  slot: z.int().min(0).max(10_000).optional(),
  recipeId: z.string().min(1).max(64).optional(),
  /** true: signed reviewed; false: not yet. */
  reviewed: z.boolean().optional(),
  /** An mcuId, device id, scanned serial or unit id, or the start of one (3 characters or more). */
  search: z.string().trim().min(1).max(128).optional(),
  /** The central record only (a station's own record is one station): which station, site or line made it. */
  stationId: z.string().min(1).max(128).optional(),
  site: z.string().min(1).max(100).optional(),
  line: z.string().min(1).max(100).optional(),
});
export type UnitQuery = z.infer<typeof unitQuerySchema>;

export const unitPageRequestSchema = z.strictObject({
  filter: unitQuerySchema.default({}),
  limit: z.int().min(1).max(500).default(50),
  /** The `next` of the previous page. */
  cursor: z.string().max(400).optional(),
});
export type UnitPageRequest = z.input<typeof unitPageRequestSchema>;

/** A unit as the `units` view holds it (the audit trail's projection), for `unit.history` and QA review. */
export const unitRecordSchema = z.object({
  id: z.string(),
  batchId: z.string(),
  slot: z.number().nullable(),
  soc: z.string().nullable(),
  mcuId: z.string().nullable(),
  deviceId: z.string().nullable(),
  serialNumber: z.string().nullable(),
  state: z.string(),
  lastStep: z.string().nullable(),
  outcome: z.string().nullable(),
  errorCode: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  attempt: z.number().int(),
});

/** A row of the QA units table: the unit record with its batch's name and recipe, who ran it, when it was reviewed. */
export const unitRowSchema = unitRecordSchema.extend({
  batchName: z.string(),
  recipeId: z.string(),
  operator: z.string().nullable(),
  reviewedAt: z.string().nullable(),
  /** The central record only: the station that made the unit, and its name. */
  stationId: z.string().optional(),
  stationName: z.string().nullable().optional(),
});
export type UnitRow = z.infer<typeof unitRowSchema>;

export const unitPageSchema = z.object({
  units: z.array(unitRowSchema),
  /** Pass as `cursor` for the next page; null on the last page. */
  next: z.string().nullable(),
  /** Matches, counted on the first page only, up to a cap (then `totalCapped`). */
  total: z.number().int().nullable(),
  totalCapped: z.boolean(),
});
export type UnitPage = z.infer<typeof unitPageSchema>;

export const unitFacetsSchema = z.object({
  batches: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      recipeId: z.string(),
      state: z.string(),
      openedAt: z.string(),
      releasedAt: z.string().nullable(),
      /** The central record only: the station the batch ran on. */
      stationId: z.string().optional(),
      stationName: z.string().nullable().optional(),
    }),
  ),
  recipes: z.array(z.string()),
  operators: z.array(z.string()),
  slots: z.array(z.number()),
  errorCodes: z.array(z.string()),
  firstStartedAt: z.string().nullable(),
  lastStartedAt: z.string().nullable(),
  /** The central record only: every station that ships to it, with its site and line. */
  stations: z
    .array(
      z.object({
        id: z.string(),
        name: z.string().nullable(),
        site: z.string().nullable(),
        line: z.string().nullable(),
        headSeq: z.number().int().min(0),
        refused: z.boolean(),
      }),
    )
    .optional(),
});
export type UnitFacets = z.infer<typeof unitFacetsSchema>;

export const signatureSubjectSchema = z.strictObject({
  type: z.enum(['unit', 'batch']),
  id: z.string().min(1).max(128),
});
export type SignatureSubject = z.infer<typeof signatureSubjectSchema>;

export const signatureViewSchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  signerId: z.string().nullable(),
  signerName: z.string(),
  meaning: z.enum(SIGNATURE_MEANINGS),
  subject: signatureSubjectSchema,
  reason: z.string().nullable(),
  recordHash: z.string(),
  coversSeq: z.number().int(),
  valid: z.boolean(),
  problem: z.string().nullable(),
  laterEvents: z.number().int(),
});
export type SignatureView = z.infer<typeof signatureViewSchema>;

const jsonRecord = z.record(z.string(), z.unknown());

export const stepViewSchema = z.object({
  step: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  outcome: z.string().nullable(),
  errorCode: z.string().nullable(),
  message: z.string().nullable(),
  retrySafe: z.boolean().nullable(),
  backend: z.array(
    z.object({
      method: z.string(),
      endpoint: z.string(),
      attempt: z.number(),
      outcome: z.string(),
      status: z.number().nullable(),
      durationMs: z.number(),
    }),
  ),
  boardLog: z.array(z.string()),
  intents: z.array(z.object({ seq: z.number().int(), at: z.string(), action: z.string() })),
  measurements: jsonRecord,
  seqs: z.array(z.number().int()),
});
export type StepView = z.infer<typeof stepViewSchema>;

export const attemptViewSchema = z.object({
  attempt: z.number().int(),
  startedAt: z.string(),
  operator: z.string().nullable(),
  slotName: z.string().nullable(),
  port: z.string().nullable(),
  scan: jsonRecord.nullable(),
  identity: z.object({
    soc: z.string().nullable(),
    mcuId: z.string().nullable(),
    firmwareVersion: z.string().nullable(),
    deviceId: z.string().nullable(),
  }),
  previousUnitId: z.string().nullable(),
  outcome: z.string().nullable(),
  errorCode: z.string().nullable(),
  message: z.string().nullable(),
  failedStep: z.string().nullable(),
  durationMs: z.number().nullable(),
  endedAt: z.string().nullable(),
  steps: z.array(stepViewSchema),
});
export type AttemptView = z.infer<typeof attemptViewSchema>;

/** What every view of a batch says about it. */
const batchShape = {
  id: z.string(),
  name: z.string(),
  recipeId: z.string(),
  state: z.string(),
  openedAt: z.string(),
  closedAt: z.string().nullable(),
  releasedAt: z.string().nullable(),
};

export const unitDetailSchema = z.object({
  unit: unitRowSchema,
  batch: z.object({
    ...batchShape,
    workOrder: z.string().nullable(),
    targetQuantity: z.number().nullable(),
    configSha256: z.string(),
  }),
  attempts: z.array(attemptViewSchema),
  fingerprints: z.array(z.object({ step: z.string(), name: z.string(), value: z.string() })),
  notes: z.array(
    z.object({ seq: z.number().int(), at: z.string(), operator: z.string().nullable(), text: z.string() }),
  ),
  corrections: z.array(
    z.object({
      seq: z.number().int(),
      at: z.string(),
      operator: z.string().nullable(),
      supersedes: z.number().int().nullable(),
      reason: z.string(),
      set: jsonRecord,
    }),
  ),
  voids: z.array(
    z.object({ seq: z.number().int(), at: z.string(), operator: z.string().nullable(), reason: z.string() }),
  ),
  signatures: z.array(signatureViewSchema),
  /** What a signature made now is bound to: pass its recordHash back when signing. */
  record: z.object({ recordHash: z.string(), coversSeq: z.number().int(), events: z.number().int() }),
  chain: z.object({
    firstSeq: z.number().int(),
    lastSeq: z.number().int(),
    events: z.array(
      z.object({
        seq: z.number().int(),
        at: z.string(),
        kind: z.string(),
        step: z.string().nullable(),
        outcome: z.string().nullable(),
        operator: z.string().nullable(),
        hash: z.string(),
        prevHash: z.string(),
        supersedes: z.number().int().nullable(),
        details: jsonRecord,
      }),
    ),
    checkpointAfter: z.object({ seq: z.number().int(), at: z.string(), hash: z.string() }).nullable(),
  }),
});
export type UnitDetail = z.infer<typeof unitDetailSchema>;

/** The chain as QA sees it: when it was last verified and how that went, and the head now. */
export const chainStatusSchema = z.object({
  head: z.object({ seq: z.number().int(), hash: z.string() }).nullable(),
  lastVerified: z
    .object({
      at: z.string(),
      /** `open`: the check the station runs when it opens its trail (from its last verified checkpoint); `full`: every event. */
      scope: z.enum(['open', 'full']),
      intact: z.boolean(),
      events: z.number().int().nullable(),
      firstBadSeq: z.number().int().nullable(),
      message: z.string(),
      by: z.string().nullable(),
    })
    .nullable(),
  lastCheckpoint: z.object({ seq: z.number().int(), hash: z.string() }).nullable(),
  stationKeyFingerprint: z.string(),
});
export type ChainStatus = z.infer<typeof chainStatusSchema>;

// --- the supervisor's dashboard and batch reports ------------------------------------------------------------------

const countsShape = {
  units: z.number().int(),
  passed: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  inProgress: z.number().int(),
  attention: z.number().int(),
  voided: z.number().int(),
};
const groupShape = { ...countsShape, firstPass: z.number().int(), firstPassYield: z.number().nullable() };
const distributionSchema = z
  .object({
    count: z.number().int(),
    medianMs: z.number(),
    p95Ms: z.number(),
    minMs: z.number(),
    maxMs: z.number(),
    meanMs: z.number(),
  })
  .nullable();

/** A batch's numbers (electron/reports/stats.ts defines each one); every report format uses the same. */
export const batchStatsSchema = z.object({
  batch: z.object({ ...batchShape, releasedBy: z.string().nullable() }),
  counts: z.object(countsShape),
  firstPass: z.number().int(),
  firstPassYield: z.number().nullable(),
  yield: z.number().nullable(),
  unitsPerHour: z.number().nullable(),
  span: z.object({
    firstStartAt: z.string().nullable(),
    lastEndAt: z.string().nullable(),
    hours: z.number(),
  }),
  unitTime: distributionSchema,
  steps: z.array(
    z.object({
      step: z.string(),
      count: z.number().int(),
      passed: z.number().int(),
      failed: z.number().int(),
      skipped: z.number().int(),
      time: distributionSchema,
    }),
  ),
  throughput: z.array(
    z.object({
      hourStart: z.string(),
      passed: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int(),
    }),
  ),
  failedAttempts: z.number().int(),
  failuresByCause: z.array(
    z.object({
      code: z.string(),
      description: z.string().nullable(),
      step: z.string().nullable(),
      count: z.number().int(),
      share: z.number(),
      cumulativeShare: z.number(),
    }),
  ),
  perOperator: z.array(z.object({ ...groupShape, operator: z.string() })),
  perSlot: z.array(z.object({ ...groupShape, slot: z.number().nullable(), slotName: z.string().nullable() })),
  shiftStarts: z.array(z.string()),
  shifts: z.array(
    z.object({
      ...groupShape,
      shift: z.string(),
      date: z.string(),
      start: z.string(),
      end: z.string(),
      unitsPerHour: z.number().nullable(),
    }),
  ),
});
export type BatchStats = z.infer<typeof batchStatsSchema>;

export const REPORT_FORMATS = ['csv', 'json', 'cfx', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const reportExportSchema = z.object({
  /** Where the station wrote the export (with its signed manifest.json). */
  dir: z.string(),
  manifest: z.object({
    batch: z.object({ id: z.string(), name: z.string() }),
    generatedAt: z.string(),
    chainHead: z.object({ seq: z.number().int(), hash: z.string() }).nullable(),
    keyFingerprint: z.string(),
  }),
  files: z.array(
    z.object({
      name: z.string(),
      sha256: z.string(),
      bytes: z.number().int(),
      mediaType: z.string(),
      /** The file itself for a download in the UI, when it is small enough to send (else read it from `dir`). */
      contentBase64: z.string().nullable(),
    }),
  ),
});
export type ReportExport = z.infer<typeof reportExportSchema>;
