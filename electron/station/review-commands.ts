/**
 * QA review and e-signature commands. Reads go through the station's read-only review connection (electron/review);
 * every signature re-authenticates the person logged in with their PIN (a wrong one counts towards their lockout
 * and is recorded), and is an audit event bound to the hash of the record as it stands (audit/record-hash.ts). A
 * client passes the record hash it showed the signer; if the record changed in between, nothing is signed.
 */
import {
  checkSignature,
  currentRecordHash,
  type AuditStore,
  type SignatureMeaning,
  type SignatureSubject,
} from '../audit';
import type { AccountStore } from '../people';
import { queryUnits, unitDetail, unitFacets, UnitQueryError, type ReviewDb } from '../review';
import type { ChainStatus, CommandFailure, Session, SignatureView } from '../station-api';

export interface ReviewContext {
  store: AuditStore;
  /** Who this station is: a query for another station, site or line finds nothing in its record. */
  self: { id: string; site: string | null; line: string | null };
  accounts: AccountStore;
  /** The read-only connection QA reads through (opened on first use). */
  reviewDb: () => ReviewDb;
}

type Signed = { ok: true; signature: SignatureView; seq: number } | CommandFailure;

const notFound = (unitId: string): CommandFailure => ({
  ok: false,
  code: 'UNIT_NOT_FOUND',
  message: `There is no unit ${unitId} in this station's record: check the id (search by mcuId or serial finds it).`,
});

/**
 * Re-authenticates the signer and appends the signature. `then` appends what the signature authorises (a void,
 * a release) right after it; both are in the trail or the signer is told why not.
 */
export async function sign(
  c: ReviewContext,
  session: Session | null,
  request: {
    subject: SignatureSubject;
    meaning: SignatureMeaning;
    pin: string;
    reason?: string | undefined;
    /** The record hash the signer was shown; omitted, the record as it stands now is signed. */
    recordHash?: string | undefined;
    /** Someone else signing (an approver on the operator's screen), already authenticated. */
    signer?: { operatorId: string } | undefined;
  },
): Promise<Signed> {
  const signerId = request.signer?.operatorId ?? session?.operatorId;
  if (!signerId) return { ok: false, code: 'NOT_LOGGED_IN', message: 'Log in to sign.' };
  let signerName: string;
  if (request.signer) {
    signerName = c.accounts.list().find((a) => a.operatorId === signerId)?.name ?? signerId;
  } else {
    const auth = await c.accounts.authenticate(signerId, request.pin);
    if (!auth.ok) {
      return {
        ok: false,
        code: auth.code,
        message:
          auth.code === 'LOGIN_FAILED'
            ? 'That PIN is not yours: nothing was signed. Enter your own PIN to sign.'
            : `${auth.message} Nothing was signed.`,
      };
    }
    signerName = auth.account.name;
  }
  const db = c.reviewDb();
  const current = currentRecordHash(db, request.subject);
  if (request.recordHash !== undefined && request.recordHash !== current.recordHash) {
    return {
      ok: false,
      code: 'RECORD_CHANGED',
      message: `The ${request.subject.type} record changed since it was shown to you (new events): look at it again, then sign.`,
    };
  }
  const event = c.store.append({
    kind: 'signature',
    operator: signerId,
    ...(request.subject.type === 'unit'
      ? { unitId: request.subject.id }
      : { batchId: request.subject.id, unitId: null }),
    details: {
      meaning: request.meaning,
      signerName,
      subject: request.subject,
      recordHash: current.recordHash,
      coversSeq: current.coversSeq,
      ...(request.reason !== undefined && { reason: request.reason }),
    },
  });
  const signature = checkSignature(db, {
    seq: event.seq,
    at: event.at,
    operator: event.operator,
    details: JSON.stringify(event.details),
  });
  return { ok: true, signature, seq: event.seq };
}

export function queryUnitsCommand(c: ReviewContext, input: Parameters<typeof queryUnits>[1]) {
  try {
    const { stationId, site, line, ...filter } = input.filter ?? {};
    const elsewhere =
      (stationId !== undefined && stationId !== c.self.id) ||
      (site !== undefined && site !== c.self.site) ||
      (line !== undefined && line !== c.self.line);
    if (elsewhere) return { ok: true as const, units: [], next: null, total: 0, totalCapped: false };
    return { ok: true as const, ...queryUnits(c.reviewDb(), { ...input, filter }) };
  } catch (error) {
    if (error instanceof UnitQueryError)
      return { ok: false as const, code: 'BAD_INPUT', message: error.message };
    throw error;
  }
}

export function facetsCommand(c: ReviewContext) {
  return { ok: true as const, facets: unitFacets(c.reviewDb()) };
}

export function detailCommand(c: ReviewContext, unitId: string, stationId?: string) {
  if (stationId !== undefined && stationId !== c.self.id) return notFound(unitId);
  const detail = unitDetail(c.reviewDb(), unitId);
  return detail ? { ok: true as const, detail } : notFound(unitId);
}

export function noteCommand(c: ReviewContext, session: Session | null, unitId: string, text: string) {
  if (!c.store.unit(unitId)) return notFound(unitId);
  if (!session) return { ok: false as const, code: 'NOT_LOGGED_IN', message: 'Log in to add a note.' };
  const event = c.store.append({
    kind: 'unit.note',
    operator: session.operatorId,
    unitId,
    details: { text },
  });
  return { ok: true as const, seq: event.seq };
}

export async function signRecordCommand(
  c: ReviewContext,
  session: Session | null,
  input: {
    subject: SignatureSubject;
    meaning: 'reviewed' | 'approved';
    pin: string;
    recordHash: string;
    reason?: string | undefined;
  },
) {
  const missing = subjectMissing(c, input.subject);
  if (missing) return missing;
  const signed = await sign(c, session, input);
  return signed.ok ? { ok: true as const, signature: signed.signature } : signed;
}

export async function voidUnitCommand(
  c: ReviewContext,
  session: Session | null,
  input: { unitId: string; reason: string; pin: string; recordHash: string },
  afterwards: () => void,
) {
  const unit = c.store.unit(input.unitId);
  if (!unit) return notFound(input.unitId);
  if (unit.state === 'voided') {
    return { ok: false as const, code: 'ALREADY_SIGNED', message: `Unit ${input.unitId} is already voided.` };
  }
  if (unit.state === 'in-progress') {
    return {
      ok: false as const,
      code: 'SLOT_NOT_READY',
      message: `Unit ${input.unitId} is still running: cancel it on its slot first, then void it.`,
    };
  }
  const signed = await sign(c, session, {
    subject: { type: 'unit', id: input.unitId },
    meaning: 'voided',
    pin: input.pin,
    reason: input.reason,
    recordHash: input.recordHash,
  });
  if (!signed.ok) return signed;
  c.store.append({
    kind: 'unit.voided',
    operator: session?.operatorId ?? null,
    unitId: input.unitId,
    details: { reason: input.reason, signatureSeq: signed.seq },
  });
  afterwards();
  return { ok: true as const, signature: signed.signature };
}

export async function releaseBatchCommand(
  c: ReviewContext,
  session: Session | null,
  input: { batchId: string; pin: string; reason?: string | undefined },
) {
  const batch = c.store.batch(input.batchId);
  if (!batch) {
    return {
      ok: false as const,
      code: 'BATCH_NOT_FOUND',
      message: `There is no batch ${input.batchId} in this station's record.`,
    };
  }
  if (batch.state !== 'closed') {
    return {
      ok: false as const,
      code: 'BATCH_OPEN',
      message: `Batch "${batch.name}" is still open: close it before releasing it.`,
    };
  }
  if (batch.releasedAt) {
    return {
      ok: false as const,
      code: 'ALREADY_SIGNED',
      message: `Batch "${batch.name}" was released at ${batch.releasedAt}.`,
    };
  }
  const signed = await sign(c, session, {
    subject: { type: 'batch', id: input.batchId },
    meaning: 'released',
    pin: input.pin,
    reason: input.reason,
  });
  return signed.ok ? { ok: true as const, signature: signed.signature } : signed;
}

function subjectMissing(c: ReviewContext, subject: SignatureSubject): CommandFailure | null {
  if (subject.type === 'unit') return c.store.unit(subject.id) ? null : notFound(subject.id);
  return c.store.batch(subject.id)
    ? null
    : {
        ok: false,
        code: 'BATCH_NOT_FOUND',
        message: `There is no batch ${subject.id} in this station's record.`,
      };
}

/** The last verification the station ran, kept for audit.status. */
export type LastVerification = NonNullable<ChainStatus['lastVerified']>;
