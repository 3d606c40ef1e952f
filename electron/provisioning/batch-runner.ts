/**
 * Gang provisioning: every slot runs its own unit at the same time; one slot's failure never stalls the others,
 * backend calls share the batch's limit, and a failure to write the audit trail stops every slot at once.
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { BoardSession, SerialLink, type SerialLinkOptions } from '../serial';
import type { BatchContext } from './batch-context';
import { isAuditFailure, toProvisioningError } from './errors';
import type { UnitJournal } from './journal';
import { provisionUnit, type StepProgress, type UnitResult } from './unit-workflow';

export interface SlotSpec {
  /** Stable slot name shown to the operator and recorded with each unit. */
  slot: string;
  port: string;
  scan?: Record<string, string>;
}

export interface RunBatchOptions {
  batch: BatchContext;
  slots: SlotSpec[];
  /** Slots provisioning at the same time. */
  maxConcurrent: number;
  /** Stop after this many units have started (default: one per slot). */
  count?: number;
  journalFor: (slot: SlotSpec) => UnitJournal;
  link?: Omit<SerialLinkOptions, 'path'>;
  signal?: AbortSignal;
  onProgress?: (progress: StepProgress) => void;
  now?: () => Date;
}

export interface BatchRunResult {
  units: UnitResult[];
  /** Set when the audit trail failed and the batch was stopped. */
  stoppedBy?: string;
}

export async function runBatch(options: RunBatchOptions): Promise<BatchRunResult> {
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onOuterAbort);
  const limit = pLimit(Math.max(1, options.maxConcurrent));
  const slots = options.slots.slice(0, options.count ?? options.slots.length);
  let stoppedBy: string | undefined;

  const runSlot = async (spec: SlotSpec): Promise<UnitResult | undefined> => {
    if (stop.signal.aborted) return undefined;
    const journal = options.journalFor(spec);
    let link: SerialLink | undefined;
    try {
      link = await SerialLink.open({ path: spec.port, ...options.link });
    } catch (thrown) {
      return recordUnopenedPort(spec, journal, thrown, options.now ?? (() => new Date()));
    }
    try {
      const result = await provisionUnit({
        batch: options.batch,
        session: new BoardSession(link),
        journal,
        slot: spec.slot,
        signal: stop.signal,
        ...(spec.scan && { scan: spec.scan }),
        ...(options.onProgress && { onProgress: options.onProgress }),
        ...(options.now && { now: options.now }),
      });
      if (result.error && isAuditFailure(result.error)) {
        stoppedBy = result.error.operatorMessage;
        stop.abort();
      }
      return result;
    } catch (thrown) {
      // provisionUnit turns every failure it knows into a result; anything else is a station bug whose effect on
      // the record is unknown, so no other slot may go on.
      const error = toProvisioningError(thrown, 'journal');
      stoppedBy = error.operatorMessage;
      stop.abort();
      throw error;
    } finally {
      await link.close();
    }
  };

  try {
    const settled = await Promise.allSettled(slots.map((spec) => limit(() => runSlot(spec))));
    const units = settled.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
    return { units, ...(stoppedBy !== undefined && { stoppedBy }) };
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** A slot whose port cannot be opened still gets a unit record saying why. */
function recordUnopenedPort(
  spec: SlotSpec,
  journal: UnitJournal,
  thrown: unknown,
  now: () => Date,
): UnitResult {
  const error = toProvisioningError(thrown, 'connect');
  const startedAt = now();
  const unitId = randomUUID();
  journal.unitStarted({ unitId, slot: spec.slot, port: spec.port, startedAt, scan: spec.scan ?? {} });
  journal.stepStarted('connect', startedAt);
  const errorSummary = {
    code: error.code,
    operatorMessage: error.operatorMessage,
    retrySafe: error.retrySafe,
  };
  journal.stepFinished({
    step: 'connect',
    outcome: 'failed',
    startedAt,
    durationMs: 0,
    details: { port: spec.port },
    error: errorSummary,
    boardLog: [],
  });
  journal.unitFinished({ outcome: 'failed', deviceId: null, endedAt: now(), durationMs: 0, error });
  return {
    unitId,
    outcome: 'failed',
    soc: null,
    mcuId: null,
    deviceId: null,
    durationMs: 0,
    failedStep: 'connect',
    error,
  };
}
