/**
 * One unit, start to finish: the steps of ARCHITECTURE.md "Data flow for one unit", in order, each journaled
 * before and after it runs, each with a timeout, a duration, and on failure an error code, an operator text and
 * whether Retry is safe. Where a step of the flow lives:
 *   connect, identify, recipe-checks          steps/board-identity.ts
 *   device-record, cloud-key                  steps/cloud-device.ts
 *   key-agreement, mqtt-token                 steps/keys.ts
 *   write-credentials, verify                 steps/write-and-verify.ts
 *   finish (lock/reboot), communication-check steps/finish.ts
 */
import { randomUUID } from 'node:crypto';
import type { BoardLogLine, BoardSession } from '../serial';
import type { BatchContext } from './batch-context';
import { fail, isAuditFailure, ProvisioningError, toProvisioningError } from './errors';
import type { StepName, StepOutcome, UnitJournal, UnitOutcome } from './journal';
import { connect, identify, recipeChecks } from './steps/board-identity';
import { cloudKey, deviceRecord } from './steps/cloud-device';
import { communicationCheck, finish } from './steps/finish';
import { keyAgreement, mqttToken } from './steps/keys';
import { verify, writeCredentials } from './steps/write-and-verify';
import type { StepDefinition, UnitContext } from './unit-context';

const seconds = (n: number) => () => n * 1000;

export const UNIT_STEPS: readonly StepDefinition[] = [
  { name: 'connect', run: connect, timeoutMs: seconds(10) },
  { name: 'identify', run: identify, timeoutMs: seconds(10) },
  { name: 'recipe-checks', run: recipeChecks, timeoutMs: seconds(5) },
  { name: 'device-record', run: deviceRecord, timeoutMs: seconds(60) },
  { name: 'cloud-key', run: cloudKey, timeoutMs: seconds(30) },
  { name: 'key-agreement', run: keyAgreement, timeoutMs: seconds(60) },
  { name: 'mqtt-token', run: mqttToken, timeoutMs: seconds(30) },
  { name: 'write-credentials', run: writeCredentials, timeoutMs: seconds(60) },
  { name: 'verify', run: verify, timeoutMs: seconds(60) },
  { name: 'finish', run: finish, timeoutMs: seconds(60) },
  {
    name: 'communication-check',
    run: communicationCheck,
    timeoutMs: (unit) => {
      const check = unit.batch.recipe.communicationCheck;
      return (check.mode === 'off' ? 5 : check.withinSeconds + 30) * 1000;
    },
  },
];

export interface StepProgress {
  unitId: string;
  slot: string;
  step: StepName;
  status: 'started' | StepOutcome;
  durationMs?: number;
  error?: { code: string; operatorMessage: string; retrySafe: boolean };
}

export interface ProvisionUnitInput {
  batch: BatchContext;
  session: BoardSession;
  journal: UnitJournal;
  slot: string;
  scan?: Record<string, string>;
  signal?: AbortSignal;
  now?: () => Date;
  onProgress?: (progress: StepProgress) => void;
}

export interface UnitResult {
  unitId: string;
  outcome: UnitOutcome;
  soc: string | null;
  mcuId: string | null;
  deviceId: string | null;
  durationMs: number;
  failedStep?: StepName;
  error?: ProvisioningError;
}

function withTimeout<T>(work: Promise<T>, ms: number, step: StepName): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          fail(
            'STEP_TIMEOUT',
            `Step ${step} took longer than ${Math.round(ms / 1000)} s: check the board and the network, then press Retry.`,
            true,
          ),
        ),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export async function provisionUnit(input: ProvisionUnitInput): Promise<UnitResult> {
  const now = input.now ?? (() => new Date());
  const startedAt = now();
  const unit: UnitContext = {
    unitId: randomUUID(),
    batch: input.batch,
    session: input.session,
    journal: input.journal,
    scan: input.scan ?? {},
    startedAt,
    now,
  };
  const boardLog: string[] = [];
  const onLog = (line: BoardLogLine) => {
    // A chatty board must not grow the record without bound: keep the first lines of each step.
    if (boardLog.length < 200) boardLog.push(line.text);
  };
  input.session.link.on('log', onLog);
  const result = (
    outcome: UnitOutcome,
    failure?: { error: ProvisioningError; step?: StepName },
  ): UnitResult => ({
    unitId: unit.unitId,
    outcome,
    soc: unit.identity?.soc ?? null,
    mcuId: unit.identity?.mcuId ?? null,
    deviceId: unit.device?.deviceId ?? null,
    durationMs: now().getTime() - startedAt.getTime(),
    ...(failure?.step && { failedStep: failure.step }),
    ...(failure && { error: failure.error }),
  });
  try {
    input.journal.unitStarted({
      unitId: unit.unitId,
      slot: input.slot,
      port: input.session.link.path,
      startedAt,
      scan: unit.scan,
    });
  } catch (thrown) {
    input.session.link.off('log', onLog);
    return result('failed', { error: toProvisioningError(thrown, 'connect') });
  }

  let error: ProvisioningError | undefined;
  let failedStep: StepName | undefined;
  let outcome: UnitOutcome = 'passed';
  try {
    for (const step of UNIT_STEPS) {
      if (input.signal?.aborted) {
        outcome = 'cancelled';
        error = new ProvisioningError(
          'CANCELLED',
          'Provisioning of this slot was cancelled; press Retry to run it again.',
          true,
          step.name,
        );
        break;
      }
      const stepStart = now();
      boardLog.length = 0;
      try {
        input.journal.stepStarted(step.name, stepStart);
        input.onProgress?.({ unitId: unit.unitId, slot: input.slot, step: step.name, status: 'started' });
        const result = await withTimeout(step.run(unit), step.timeoutMs(unit), step.name);
        const durationMs = now().getTime() - stepStart.getTime();
        const stepOutcome: StepOutcome = result.skipped ? 'skipped' : 'passed';
        input.journal.stepFinished({
          step: step.name,
          outcome: stepOutcome,
          startedAt: stepStart,
          durationMs,
          details: result.details,
          boardLog: [...boardLog],
        });
        input.onProgress?.({
          unitId: unit.unitId,
          slot: input.slot,
          step: step.name,
          status: stepOutcome,
          durationMs,
        });
      } catch (thrown) {
        const stepError = toProvisioningError(thrown, step.name);
        const durationMs = now().getTime() - stepStart.getTime();
        const errorSummary = {
          code: stepError.code,
          operatorMessage: stepError.operatorMessage,
          retrySafe: stepError.retrySafe,
        };
        // If even this cannot be recorded, the audit adapter throws and the unit stops right here.
        if (!isAuditFailure(stepError)) {
          input.journal.stepFinished({
            step: step.name,
            outcome: 'failed',
            startedAt: stepStart,
            durationMs,
            details: {},
            error: errorSummary,
            boardLog: [...boardLog],
          });
        }
        input.onProgress?.({
          unitId: unit.unitId,
          slot: input.slot,
          step: step.name,
          status: 'failed',
          durationMs,
          error: errorSummary,
        });
        error = stepError;
        failedStep = step.name;
        outcome = 'failed';
        break;
      }
    }
  } finally {
    input.session.link.off('log', onLog);
    unit.derivedKey?.wipe();
    unit.mqttToken?.token.wipe();
  }

  const endedAt = now();
  const durationMs = endedAt.getTime() - startedAt.getTime();
  const deviceId = unit.device?.deviceId ?? null;
  if (!(error && isAuditFailure(error))) {
    try {
      input.journal.unitFinished({ outcome, deviceId, endedAt, durationMs, ...(error && { error }) });
    } catch (thrown) {
      return result('failed', { error: toProvisioningError(thrown, 'finish') });
    }
  }
  return result(outcome, error && { error, ...(failedStep && { step: failedStep }) });
}
