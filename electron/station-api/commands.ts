/**
 * The command catalogue: every command a host can send, declared once (name, input schema, result schema, who may
 * call it). Hosts derive their routes, handlers and clients from this table, so a command cannot exist on one side
 * only; the station core checks the roles, never only a host.
 *
 * A result is `{ ok: true, ...payload }` or `{ ok: false, code, message }` (results, not thrown errors, cross
 * process boundaries).
 */
import { z } from 'zod';
import { snapshotSchema, sessionSchema } from './snapshot';
import {
  batchStatsSchema,
  chainStatusSchema,
  REPORT_FORMATS,
  reportExportSchema,
  signatureSubjectSchema,
  signatureViewSchema,
  unitDetailSchema,
  unitFacetsSchema,
  unitPageRequestSchema,
  unitPageSchema,
  unitRecordSchema,
} from './review';
import {
  credentialSchema,
  operatorIdSchema,
  reasonSchema,
  roleSchema,
  slotNameSchema,
  type Role,
} from './vocabulary';

/** `anyone`: no login needed; `signed-in`: any logged-in person; otherwise one of the listed roles. */
export type Access = 'anyone' | 'signed-in' | readonly Role[];

export interface CommandSpec<I extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  input: I;
  /** The payload of a successful result (without `ok`). */
  result: R;
  access: Access;
  /** Only a sandbox station accepts it (virtual-board controls). */
  sandboxOnly?: boolean;
  description: string;
}

const define = <I extends z.ZodType, R extends z.ZodType>(spec: CommandSpec<I, R>) => spec;
const nothing = z.strictObject({});
/** A result with nothing to say beyond `ok`. */
const done = z.looseObject({});

const OPERATING: readonly Role[] = ['operator', 'supervisor'];
const REVIEWING: readonly Role[] = ['operator', 'qa', 'supervisor'];
const ADMIN: readonly Role[] = ['admin'];
/** QA review and the supervisor's screens: operators provision, they do not review their own work. */
const QA: readonly Role[] = ['qa', 'supervisor'];

/** The hash of the record the signer was shown (unit.detail's `record.recordHash`): a changed record is refused. */
const recordHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'the 64-hex record hash the signer was shown');
/** Signing re-enters the PIN of the person logged in (21 CFR 11.200: each signing, not only the login). */
const signingPinSchema = credentialSchema;
const unitIdSchema = z.string().min(1).max(128);
/**
 * On the central record, which station's unit or batch is meant (ids are the stations' own). Left out, the id must
 * name one station's; a station's own host takes only its own id.
 */
const stationIdSchema = z.string().min(1).max(128);

const approvalSchema = z.strictObject({ operatorId: operatorIdSchema, pin: credentialSchema });

export const accountSchema = z.object({
  operatorId: z.string(),
  name: z.string(),
  roles: z.array(roleSchema),
  credentialKind: z.enum(['pin', 'password']),
  disabled: z.boolean(),
  lockedUntil: z.string().nullable(),
  createdAt: z.string(),
});
export type Account = z.infer<typeof accountSchema>;

export const portInfoSchema = z.object({
  path: z.string(),
  key: z.string(),
  source: z.enum(['usb', 'configured', 'virtual']),
  slot: z.string().nullable(),
  serialNumber: z.string().nullable(),
  vendorId: z.string().nullable(),
  productId: z.string().nullable(),
  manufacturer: z.string().nullable(),
});

export const historyEventSchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  kind: z.string(),
  step: z.string().nullable(),
  outcome: z.string().nullable(),
  operator: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  hash: z.string(),
});

export const verifyReportSchema = z.object({
  intact: z.boolean(),
  events: z.number().int().nullable(),
  lastHash: z.string().nullable(),
  firstBadSeq: z.number().int().nullable(),
  message: z.string(),
});

const newCredential = credentialSchema.refine(
  (value) => /^\d{4,12}$/.test(value) || (value.length >= 8 && !/^\d+$/.test(value)),
  'a PIN is 4 to 12 digits; a password is at least 8 characters and not only digits',
);

export const COMMANDS = {
  'station.status': define({
    input: nothing,
    result: z.object({ snapshot: snapshotSchema }),
    access: 'anyone',
    description: 'the station as a snapshot (with its seq)',
  }),
  'session.login': define({
    input: z.strictObject({ operatorId: operatorIdSchema, pin: credentialSchema }),
    result: z.object({ session: sessionSchema }),
    access: 'anyone',
    description: 'log in with operator id and PIN (or password); replaces whoever was logged in',
  }),
  'session.logout': define({
    input: nothing,
    result: done,
    access: 'signed-in',
    description: 'log out',
  }),
  'batch.open': define({
    input: z.strictObject({
      name: z
        .string()
        .trim()
        .min(1, 'a batch name is 1 to 200 characters')
        .max(200, 'a batch name is 1 to 200 characters'),
      workOrder: z.string().trim().min(1).max(100).optional(),
      recipeId: z.string().min(1).max(64).optional(),
      targetQuantity: z.number().int().min(1).max(1_000_000).optional(),
    }),
    result: z.object({ batchId: z.string(), continued: z.boolean() }),
    access: OPERATING,
    description: 'open a batch (or continue the open one of that name)',
  }),
  'batch.close': define({
    input: z.strictObject({ reason: reasonSchema.optional(), pin: signingPinSchema.optional() }),
    result: z.object({ batchId: z.string() }),
    access: OPERATING,
    description:
      "close the batch; closing short of its target needs a supervisor's reason and signature (PIN)",
  }),
  'slot.scan': define({
    input: z.strictObject({ text: z.string().min(1).max(500), slot: slotNameSchema.optional() }),
    result: z.object({ slot: z.string(), format: z.string(), fields: z.record(z.string(), z.string()) }),
    access: OPERATING,
    description: 'a scanned label, bound to the named slot or the one waiting longest',
  }),
  'slot.start': define({
    input: z.strictObject({ slot: slotNameSchema }),
    result: z.object({ unitId: z.string() }),
    access: OPERATING,
    description: 'start a unit on a slot whose board is ready',
  }),
  'slot.retry': define({
    input: z.strictObject({
      slot: slotNameSchema,
      reason: reasonSchema.optional(),
      /** A supervisor approving on the spot, when the operator logged in is not one. */
      approvedBy: approvalSchema.optional(),
      /** The supervisor logged in signs the approval with their PIN. */
      pin: signingPinSchema.optional(),
    }),
    result: z.object({ unitId: z.string() }),
    access: OPERATING,
    description:
      "run the unit again on the same board; a not-retry-safe failure needs a supervisor's reason and signature",
  }),
  'slot.cancel': define({
    input: z.strictObject({ slot: slotNameSchema }),
    result: z.object({ unitId: z.string() }),
    access: OPERATING,
    description: 'end the running unit as cancelled after its current step',
  }),
  'slot.skip': define({
    input: z.strictObject({ slot: slotNameSchema, reason: reasonSchema }),
    result: done,
    access: OPERATING,
    description: 'set the board on a slot aside, with a reason',
  }),
  'ports.list': define({
    input: nothing,
    result: z.object({ ports: z.array(portInfoSchema) }),
    access: ['operator', 'supervisor', 'admin'],
    description: 'serial ports the station sees, and the slot each belongs to',
  }),
  'unit.history': define({
    input: z.strictObject({ unitId: z.string().min(1).max(128) }),
    result: z.object({ unit: unitRecordSchema, events: z.array(historyEventSchema) }),
    access: REVIEWING,
    description: "a unit's record and every event about it",
  }),
  'audit.verify': define({
    input: nothing,
    result: z.object({ report: verifyReportSchema }),
    access: ['qa', 'supervisor', 'admin'],
    description: "re-walk the audit trail's hash chain",
  }),
  'audit.status': define({
    input: nothing,
    result: z.object({ status: chainStatusSchema }),
    access: QA,
    description: 'the chain head, and when it was last verified and how that went',
  }),
  'units.query': define({
    input: unitPageRequestSchema,
    result: unitPageSchema,
    access: QA,
    description: "a page of the station's units, newest first, filtered and searched (keyset paging)",
  }),
  'units.facets': define({
    input: nothing,
    result: z.object({ facets: unitFacetsSchema }),
    access: QA,
    description: 'the values the units filters offer (batches, recipes, operators, slots, error codes)',
  }),
  'unit.detail': define({
    input: z.strictObject({ unitId: unitIdSchema, stationId: stationIdSchema.optional() }),
    result: z.object({ detail: unitDetailSchema }),
    access: QA,
    description:
      "a unit's whole record: attempts, steps, backend calls, board log, signatures, chain position",
  }),
  'unit.note': define({
    input: z.strictObject({
      unitId: unitIdSchema,
      text: z.string().trim().min(1, 'a note needs some text').max(2000, 'a note is at most 2000 characters'),
    }),
    result: z.object({ seq: z.number().int() }),
    access: QA,
    description: "add a note to a unit's record (a new event; nothing is edited)",
  }),
  'record.sign': define({
    input: z.strictObject({
      subject: signatureSubjectSchema,
      meaning: z.enum(['reviewed', 'approved']),
      pin: signingPinSchema,
      recordHash: recordHashSchema,
      reason: reasonSchema.optional(),
    }),
    result: z.object({ signature: signatureViewSchema }),
    access: QA,
    description:
      'sign a unit or batch record "reviewed" or "approved" (PIN re-entered, bound to the record hash)',
  }),
  'unit.void': define({
    input: z.strictObject({
      unitId: unitIdSchema,
      reason: reasonSchema,
      pin: signingPinSchema,
      recordHash: recordHashSchema,
    }),
    result: z.object({ signature: signatureViewSchema }),
    access: QA,
    description: 'void a unit (it no longer counts as made): a reason and a signature',
  }),
  'batch.release': define({
    input: z.strictObject({
      batchId: z.string().min(1).max(128),
      pin: signingPinSchema,
      reason: reasonSchema.optional(),
    }),
    result: z.object({ signature: signatureViewSchema }),
    access: QA,
    description: 'release a closed batch (to the customer): a signature over the whole batch record',
  }),
  'batch.dashboard': define({
    input: z.strictObject({
      batchId: z.string().min(1).max(128),
      stationId: stationIdSchema.optional(),
      /** UTC shift start times, e.g. ["06:00","14:00","22:00"] (the default). */
      shifts: z
        .array(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a shift start is HH:MM (UTC)'))
        .min(1)
        .max(6)
        .optional(),
    }),
    result: z.object({ stats: batchStatsSchema }),
    access: QA,
    description: "a batch's numbers: counts, first-pass yield, pace, failure Pareto, per operator/slot/shift",
  }),
  'batch.report': define({
    input: z.strictObject({ batchId: z.string().min(1).max(128), stationId: stationIdSchema.optional() }),
    result: z.object({ html: z.string() }),
    access: QA,
    description: "the batch report as HTML (what the PDF prints), for the supervisor's preview",
  }),
  'batch.export': define({
    input: z.strictObject({
      batchId: z.string().min(1).max(128),
      stationId: stationIdSchema.optional(),
      formats: z.array(z.enum(REPORT_FORMATS)).min(1).max(4),
    }),
    result: z.object({ export: reportExportSchema }),
    access: QA,
    description: 'write a signed export of the batch (csv, json, cfx, pdf) with its manifest on the station',
  }),
  'accounts.list': define({
    input: nothing,
    result: z.object({ accounts: z.array(accountSchema) }),
    access: ADMIN,
    description: 'every account (never a PIN or its hash)',
  }),
  'accounts.init': define({
    input: z.strictObject({ pin: newCredential }),
    result: z.object({ account: accountSchema }),
    access: 'anyone',
    description: "create the config's firstAdmin; only while no account exists",
  }),
  'accounts.create': define({
    input: z.strictObject({
      operatorId: operatorIdSchema,
      name: z.string().trim().min(1).max(100),
      roles: z.array(roleSchema).min(1).max(4),
      pin: newCredential,
    }),
    result: z.object({ account: accountSchema }),
    access: ADMIN,
    description: 'create an account',
  }),
  'accounts.disable': define({
    input: z.strictObject({ operatorId: operatorIdSchema, reason: reasonSchema }),
    result: z.object({ account: accountSchema }),
    access: ADMIN,
    description: 'disable an account (it can no longer log in)',
  }),
  'accounts.enable': define({
    input: z.strictObject({ operatorId: operatorIdSchema }),
    result: z.object({ account: accountSchema }),
    access: ADMIN,
    description: 'enable a disabled account again',
  }),
  'accounts.resetPin': define({
    input: z.strictObject({ operatorId: operatorIdSchema, pin: newCredential }),
    result: z.object({ account: accountSchema }),
    access: ADMIN,
    description: 'set a new PIN (or password); also lifts a lockout',
  }),
  'accounts.setRoles': define({
    input: z.strictObject({ operatorId: operatorIdSchema, roles: z.array(roleSchema).min(1).max(4) }),
    result: z.object({ account: accountSchema }),
    access: ADMIN,
    description: "set an account's roles",
  }),
  'sim.unplug': define({
    input: z.strictObject({ slot: slotNameSchema }),
    result: done,
    access: OPERATING,
    sandboxOnly: true,
    description: 'pull the virtual board out of a slot (sandbox only)',
  }),
  'sim.replug': define({
    input: z.strictObject({
      slot: slotNameSchema,
      /** Put the same board back (default: the next, blank board goes in, as on a line). */
      sameBoard: z.boolean().optional(),
      /** Fault knobs the board arrives with (PROTOCOL.md appendix B grammar), for demos and tests. */
      faults: z.array(z.string().min(1).max(100)).max(8).optional(),
    }),
    result: done,
    access: OPERATING,
    sandboxOnly: true,
    description: 'plug the virtual board of a slot back in, as the next board (sandbox only)',
  }),
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];
export type CommandInput<N extends CommandName> = z.input<(typeof COMMANDS)[N]['input']>;
export type ParsedCommandInput<N extends CommandName> = z.output<(typeof COMMANDS)[N]['input']>;
export type CommandPayload<N extends CommandName> = z.output<(typeof COMMANDS)[N]['result']>;

/** Stable codes of a refused command; hosts and tests switch on them. */
export const COMMAND_ERROR_CODES = [
  'BAD_INPUT',
  'UNKNOWN_COMMAND',
  'NOT_LOGGED_IN',
  'FORBIDDEN',
  'SANDBOX_ONLY',
  'LOGIN_FAILED',
  'ACCOUNT_LOCKED',
  'ACCOUNT_DISABLED',
  'ACCOUNT_EXISTS',
  'ACCOUNT_NOT_FOUND',
  'LAST_ADMIN',
  'ALREADY_INITIALISED',
  'NO_BATCH',
  'BATCH_OPEN',
  'BATCH_CLOSED',
  'BATCH_NOT_READY',
  'TARGET_REACHED',
  'RECIPE_NOT_FOUND',
  'SLOT_NOT_FOUND',
  'SLOT_NOT_READY',
  'NOTHING_TO_RETRY',
  'APPROVAL_REQUIRED',
  'SCAN_REFUSED',
  'DUPLICATE_SERIAL',
  'NO_SLOT_WAITING',
  'UNIT_NOT_FOUND',
  'BATCH_NOT_FOUND',
  'RECORD_CHANGED',
  'ALREADY_SIGNED',
  'STATION_STOPPED',
  /** The central QA host: the central record is read, never written. */
  'READ_ONLY',
  'INTERNAL_ERROR',
] as const;
export type CommandErrorCode = (typeof COMMAND_ERROR_CODES)[number] | (string & {});

export interface CommandFailure {
  ok: false;
  code: CommandErrorCode;
  message: string;
}
export type CommandSuccess<N extends CommandName> = { ok: true } & CommandPayload<N>;
export type CommandResult<N extends CommandName> = CommandSuccess<N> | CommandFailure;

export const commandFailureSchema = z.object({
  ok: z.literal(false),
  code: z.string(),
  message: z.string(),
});

/** The schema of a whole result of command `name`, for hosts and clients that check what crossed the wire. */
export function resultSchema<N extends CommandName>(name: N) {
  const payload = COMMANDS[name].result as z.ZodObject;
  return z.union([payload.extend({ ok: z.literal(true) }), commandFailureSchema]);
}

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.hasOwn(COMMANDS, name);
}

/** Parse a command's input; a failure says which field is wrong and how, in one line. */
export function parseCommandInput<N extends CommandName>(
  name: N,
  input: unknown,
): { ok: true; input: ParsedCommandInput<N> } | CommandFailure {
  const parsed = COMMANDS[name].input.safeParse(input ?? {});
  if (parsed.success) return { ok: true, input: parsed.data as ParsedCommandInput<N> };
  const problems = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'input'}: ${issue.message}`);
  return { ok: false, code: 'BAD_INPUT', message: `${name}: ${problems.join('; ')}` };
}
