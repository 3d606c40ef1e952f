/**
 * One small handler per command of the contract's catalogue (a table, not a switch). The station has already
 * parsed the input and checked the caller's roles when a handler runs; handlers check what only they can know
 * (closing short needs a supervisor, a not-retry-safe failure needs an approval) and return results, never throw
 * for an expected refusal.
 */
import type { VerifyResult } from '../audit';
import type { AccountStore } from '../people';
import type {
  CommandFailure,
  CommandName,
  CommandSuccess,
  ParsedCommandInput,
  Session,
} from '../station-api';
import { hasRole } from '../station-api';
import type { BatchRuntime } from './batch-runtime';
import type { Sessions } from './sessions';
import type { Slots } from './slots';
import type { AuditStore } from '../audit';
import type { ReviewDb } from '../review';
import type { ReportCommands } from './report-commands';
import type { CentralRecordContext } from './central-record-commands';
import {
  detailCommand,
  facetsCommand,
  noteCommand,
  queryUnitsCommand,
  releaseBatchCommand,
  sign,
  signRecordCommand,
  voidUnitCommand,
  type LastVerification,
} from './review-commands';

export interface HandlerContext {
  store: AuditStore;
  accounts: AccountStore;
  sessions: Sessions;
  batch: BatchRuntime;
  slots: Slots;
  /** The snapshot with its seq, for station.status. */
  snapshot: () => CommandSuccess<'station.status'>['snapshot'];
  /** Tells clients whether the first administrator still has to be created. */
  accountsChanged: () => void;
  /** The config's firstAdmin name (default "admin"): who `accounts.init` creates. */
  firstAdminName: string;
  /** Verifies the whole trail: every hash, every signature against the station's key, its anchor, the views. */
  verifyTrail: () => VerifyResult;
  /** The read-only connection QA review reads through. */
  reviewDb: () => ReviewDb;
  /** Who this station is (QA's station, site and line filters). */
  self: { id: string; site: string | null; line: string | null };
  /** The last verification of the trail (when the station opened it, or the last Verify now). */
  verification: { last: LastVerification | null };
  stationKeyFingerprint: string;
  lastCheckpoint: () => { seq: number; hash: string } | null;
  now: () => Date;
  reports: ReportCommands;
  /** The central QA host only: its review, reports and verification read the central record. */
  central: CentralRecordContext | null;
}

type Handler<N extends CommandName> = (
  context: HandlerContext,
  input: ParsedCommandInput<N>,
  session: Session | null,
) => Promise<CommandSuccess<N> | CommandFailure> | CommandSuccess<N> | CommandFailure;

export type HandlerTable = { [N in CommandName]: Handler<N> };

const ok = <T extends object>(payload: T) => ({ ok: true as const, ...payload });
const who = (session: Session | null) => session?.operatorId ?? null;

export const HANDLERS: HandlerTable = {
  'station.status': (c) => ok({ snapshot: c.snapshot() }),

  'session.login': async (c, input) => {
    const result = await c.sessions.login(input.operatorId, input.pin);
    return result.ok ? ok({ session: result.session }) : result;
  },
  'session.logout': (c) => {
    c.sessions.end('logout');
    return ok({});
  },

  'batch.open': async (c, input, session) => {
    const result = await c.batch.open(input, who(session)!);
    if (!result.ok) return result;
    return ok({ batchId: result.batchId, continued: result.continued });
  },
  'batch.close': async (c, input, session) => {
    const batch = c.batch.current;
    if (!batch) return { ok: false, code: 'NO_BATCH', message: 'No batch is open.' };
    if (c.slots.runningCount() > 0) {
      return {
        ok: false,
        code: 'SLOT_NOT_READY',
        message: `${c.slots.runningCount()} unit(s) are still running: wait for them or cancel them, then close the batch.`,
      };
    }
    const short = batch.targetQuantity !== null && batch.counts.passed < batch.targetQuantity;
    if (short) {
      if (!hasRole(session, ['supervisor'])) {
        return c.sessions.deny(
          'batch.close',
          session,
          'FORBIDDEN',
          `Batch "${batch.name}" has ${batch.counts.passed} of ${batch.targetQuantity} passed: closing it short needs a supervisor.`,
        );
      }
      if (!input.reason) {
        return {
          ok: false,
          code: 'BAD_INPUT',
          message: `Batch "${batch.name}" is short of its target (${batch.counts.passed} of ${batch.targetQuantity}): give a reason for closing it.`,
        };
      }
      if (!input.pin) {
        return {
          ok: false,
          code: 'APPROVAL_REQUIRED',
          message: `Closing batch "${batch.name}" short is signed: enter your PIN with the reason.`,
        };
      }
      const signed = await sign(c, session, {
        subject: { type: 'batch', id: batch.id },
        meaning: 'closed-short',
        pin: input.pin,
        reason: input.reason,
      });
      if (!signed.ok) return signed;
    }
    const reason =
      input.reason ??
      `closed with ${batch.counts.passed} passed, ${batch.counts.failed} failed, ${batch.counts.cancelled} cancelled`;
    const closed = c.batch.close(reason, who(session));
    return closed ? ok(closed) : { ok: false, code: 'NO_BATCH', message: 'No batch is open.' };
  },

  'slot.scan': (c, input, session) => c.slots.scan(input.text, input.slot, who(session)),
  'slot.start': (c, input) => c.slots.startNow(input.slot),
  'slot.retry': async (c, input, session) => {
    const last = c.slots.lastError(input.slot);
    const safe = last?.error?.retrySafe ?? true;
    if (!safe && last) {
      // A failure that was not retry-safe may have changed the board or the cloud: a supervisor decides.
      let approver: string | null = hasRole(session, ['supervisor']) ? who(session) : null;
      let approvedHere = false;
      if (!approver && input.approvedBy) {
        const approved = await c.sessions.approve('slot.retry', input.approvedBy, ['supervisor']);
        if (!approved.ok) return approved;
        approver = approved.approver;
        approvedHere = true;
      }
      if (!approver) {
        return c.sessions.deny(
          'slot.retry',
          session,
          'APPROVAL_REQUIRED',
          `Slot ${input.slot} failed with ${last.error?.code}, which is not safe to retry: call a supervisor to approve the retry with a reason.`,
        );
      }
      if (!input.reason) {
        return {
          ok: false,
          code: 'BAD_INPUT',
          message: `Retrying ${last.error?.code} needs a reason: say why the board may be run again.`,
        };
      }
      if (!approvedHere && !input.pin) {
        return {
          ok: false,
          code: 'APPROVAL_REQUIRED',
          message: `Approving a retry of ${last.error?.code} is signed: enter your PIN with the reason.`,
        };
      }
      const refused = c.slots.cannotStart();
      if (refused) return refused;
      // Re-provisioning after a failure that may have changed the board or the cloud: the approver's signature.
      const signed = await sign(c, session, {
        // A failure before the unit had an id is approved on the batch's record.
        subject: last.unitId
          ? { type: 'unit', id: last.unitId }
          : { type: 'batch', id: c.batch.current?.id ?? '' },
        meaning: 'reprovision-approved',
        pin: input.pin ?? '',
        reason: input.reason,
        ...(approvedHere && approver !== null && { signer: { operatorId: approver } }),
      });
      if (!signed.ok) return signed;
      c.store.append({
        kind: 'retry.authorized',
        operator: who(session),
        unitId: last.unitId,
        details: {
          slotName: input.slot,
          reason: input.reason,
          authorizedBy: approver,
          signatureSeq: signed.seq,
          ...(last.error && { errorCode: last.error.code }),
        },
      });
    }
    return c.slots.retry(input.slot);
  },
  'slot.cancel': (c, input) => c.slots.cancel(input.slot),
  'slot.skip': (c, input, session) => c.slots.skip(input.slot, input.reason, who(session)),

  'ports.list': (c) =>
    ok({
      ports: c.slots.ports().map((port) => ({
        path: port.path,
        key: port.key,
        source: port.virtual ? ('virtual' as const) : port.source,
        slot: port.slot,
        serialNumber: port.serialNumber ?? null,
        vendorId: port.vendorId ?? null,
        productId: port.productId ?? null,
        manufacturer: port.manufacturer ?? null,
      })),
    }),

  'unit.history': (c, input) => {
    const history = c.store.unitHistory(input.unitId);
    if (!history.unit)
      return { ok: false, code: 'UNIT_NOT_FOUND', message: `There is no unit ${input.unitId}.` };
    const { lastSeq: _lastSeq, ...unit } = history.unit;
    return ok({
      unit,
      events: history.events.map((event) => ({
        seq: event.seq,
        at: event.at,
        kind: event.kind,
        step: event.step,
        outcome: event.outcome,
        operator: event.operator,
        details: event.details,
        hash: event.hash,
      })),
    });
  },

  'audit.verify': (c, _input, session) => {
    const result = c.verifyTrail();
    c.verification.last = {
      at: c.now().toISOString(),
      scope: 'full',
      intact: result.ok,
      events: result.ok ? result.events : null,
      firstBadSeq: result.ok ? null : result.firstBadSeq,
      message: result.ok
        ? `intact: ${result.events} events, ${result.checkpoints} checkpoints signed by ${result.signedBy ?? 'no key'}`
        : result.message,
      by: who(session),
    };
    return ok({
      report: result.ok
        ? {
            intact: true,
            events: result.events,
            lastHash: result.lastHash,
            firstBadSeq: null,
            message: `intact: ${result.events} events, ${result.checkpoints} checkpoints signed by ${result.signedBy ?? 'no key'}`,
          }
        : {
            intact: false,
            events: null,
            lastHash: null,
            firstBadSeq: result.firstBadSeq,
            message: result.message,
          },
    });
  },

  'audit.status': (c) => {
    const head = c.store.lastEvent();
    return ok({
      status: {
        head: head ? { seq: head.seq, hash: head.hash } : null,
        lastVerified: c.verification.last,
        lastCheckpoint: c.lastCheckpoint(),
        stationKeyFingerprint: c.stationKeyFingerprint,
      },
    });
  },
  'units.query': (c, input) => queryUnitsCommand(c, input),
  'units.facets': (c) => facetsCommand(c),
  'unit.detail': (c, input) => detailCommand(c, input.unitId, input.stationId),
  'unit.note': (c, input, session) => noteCommand(c, session, input.unitId, input.text),
  'record.sign': (c, input, session) => signRecordCommand(c, session, input),
  'unit.void': (c, input, session) =>
    voidUnitCommand(c, session, input, () => {
      if (c.batch.current?.id === c.store.unit(input.unitId)?.batchId) c.batch.refresh();
    }),
  'batch.release': (c, input, session) => releaseBatchCommand(c, session, input),
  'batch.dashboard': (c, input) => c.reports.dashboard(input.batchId, input.stationId, input.shifts),
  'batch.report': (c, input) => c.reports.html(input.batchId, input.stationId),
  'batch.export': (c, input) => c.reports.export(input.batchId, input.formats, input.stationId),

  'accounts.list': (c) => ok({ accounts: c.accounts.list() }),
  'accounts.init': async (c, input) => {
    const result = await c.accounts.initFirstAdmin(c.firstAdminName, input.pin);
    if (result.ok) c.accountsChanged();
    return result.ok ? ok({ account: result.account }) : result;
  },
  'accounts.create': async (c, input, session) => {
    const result = await c.accounts.create(input, who(session));
    return result.ok ? ok({ account: result.account }) : result;
  },
  'accounts.disable': (c, input, session) => {
    const result = c.accounts.disable(input.operatorId, input.reason, who(session));
    if (result.ok && c.sessions.current?.operatorId === input.operatorId) c.sessions.end('account-disabled');
    return result.ok ? ok({ account: result.account }) : result;
  },
  'accounts.enable': (c, input, session) => {
    const result = c.accounts.enable(input.operatorId, who(session));
    return result.ok ? ok({ account: result.account }) : result;
  },
  'accounts.resetPin': async (c, input, session) => {
    const result = await c.accounts.resetPin(input.operatorId, input.pin, who(session));
    return result.ok ? ok({ account: result.account }) : result;
  },
  'accounts.setRoles': (c, input, session) => {
    const result = c.accounts.setRoles(input.operatorId, input.roles, who(session));
    return result.ok ? ok({ account: result.account }) : result;
  },

  'sim.unplug': async (c, input) => c.slots.unplug(input.slot),
  'sim.replug': async (c, input) => c.slots.replug(input.slot, input.sameBoard ?? false, input.faults ?? []),
};
