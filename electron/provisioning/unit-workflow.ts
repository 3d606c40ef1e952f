/**
 * One unit, start to finish: the steps of ARCHITECTURE.md "Data flow for one unit", in order, each journaled
 * before and after it runs, each with a timeout, a duration, and on failure an error code, an operator text and
 * whether Retry is safe. Each step gets what it needs from the steps before it as explicit inputs. Where a step
 * of the flow lives:
 *   connect, identify, recipe-checks          steps/board-identity.ts
 *   device-record, cloud-key                  steps/cloud-device.ts
 *   key-agreement, mqtt-token                 steps/keys.ts
 *   write-credentials, verify                 steps/write-and-verify.ts
 *   finish (lock/reboot), communication-check steps/finish.ts
 */
import type { BoardLogLine } from '../serial';
import type { BatchContext } from './batch-context';
import { fail, isAuditFailure, ProvisioningError, toProvisioningError } from './errors';
import type { ErrorSummary, StepDetails, StepName, UnitJournal, UnitOutcome } from './journal';
import type { BoardPort } from './ports';
import { connect, identify, recipeChecks } from './steps/board-identity';
import { collectBackendCalls, type BackendCall } from './backend-calls';
import { cloudKey, deviceRecord } from './steps/cloud-device';
import { communicationCheck, finish } from './steps/finish';
import { challengeBoard, keyAgreement, mqttToken, type DerivedKey } from './steps/keys';
import { skipped, type Intent, type StepOutput } from './steps/step';
import { verify, writeCredentials } from './steps/write-and-verify';
import type { MqttToken, SecretBytes } from '../backend';

export interface StepDefinition {
  name: StepName;
  /** Longest the step may take before the unit fails with STEP_TIMEOUT. */
  timeoutMs: (batch: BatchContext) => number;
}

const seconds = (n: number) => () => n * 1000;

/** The steps in the order they run, with their time limits. */
export const UNIT_STEPS: readonly StepDefinition[] = [
  { name: 'connect', timeoutMs: seconds(10) },
  { name: 'identify', timeoutMs: seconds(10) },
  { name: 'recipe-checks', timeoutMs: seconds(5) },
  { name: 'device-record', timeoutMs: seconds(60) },
  { name: 'cloud-key', timeoutMs: seconds(30) },
  { name: 'key-agreement', timeoutMs: seconds(60) },
  { name: 'mqtt-token', timeoutMs: seconds(30) },
  { name: 'write-credentials', timeoutMs: seconds(60) },
  { name: 'verify', timeoutMs: seconds(60) },
  { name: 'finish', timeoutMs: seconds(60) },
  {
    name: 'communication-check',
    timeoutMs: (batch) => {
      const check = batch.recipe.communicationCheck;
      return (check.mode === 'off' ? 5 : check.withinSeconds + 30) * 1000;
    },
  },
];

export interface RunUnitInput {
  unitId: string;
  /** 1 for a new unit; Retry on the same board runs the same unit id again with the next attempt. */
  attempt: number;
  batch: BatchContext;
  /** The board, not yet opened: the connect step opens it, and the workflow closes it when the unit ends. */
  board: BoardPort;
  journal: UnitJournal;
  scan?: Record<string, string>;
  /** Aborting ends the unit as cancelled at the next step boundary (a step that waits stops waiting). */
  signal?: AbortSignal;
  now?: () => Date;
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

/** Thrown past the remaining steps when one has failed (already journaled). */
class UnitStopped extends Error {
  constructor(
    readonly error: ProvisioningError,
    readonly step: StepName | null,
    readonly outcome: UnitOutcome,
  ) {
    super(error.operatorMessage);
  }
}

const STEP_COUNT = UNIT_STEPS.length;
const BOARD_LOG_LINES_PER_STEP = 200;

function withTimeout<T>(work: Promise<T>, ms: number, step: StepName): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          fail(
            'STEP_TIMEOUT',
            `Step ${step} took longer than ${Math.round(ms / 1000)} s: check the board and the network, then retry.`,
            true,
          ),
        ),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const summary = (error: ProvisioningError): ErrorSummary => ({
  code: error.code,
  operatorMessage: error.operatorMessage,
  retrySafe: error.retrySafe,
});

export async function runUnit(input: RunUnitInput): Promise<UnitResult> {
  const { batch, board, journal, unitId } = input;
  const now = input.now ?? (() => new Date());
  const startedAt = now();
  const boardLog: string[] = [];
  const stopLog = board.onLog((line: BoardLogLine) => {
    // A chatty board must not grow the record without bound: keep the first lines of each step.
    // A line the link cut at its limit says so: QA must not read a cut line as the whole message.
    if (boardLog.length < BOARD_LOG_LINES_PER_STEP)
      boardLog.push(line.truncated ? `${line.text} [cut: longer than the line limit]` : line.text);
  });
  let identity: { soc: string; mcuId: string } | null = null;
  let deviceId: string | null = null;
  // Secrets held between the step that fetches them and the step that uses them; wiped whatever happens.
  let derivedKey: DerivedKey | null = null;
  let token: MqttToken | null = null;
  let sharedSecret: SecretBytes | null = null;

  const result = (outcome: UnitOutcome, error?: ProvisioningError, failedStep?: StepName | null) => ({
    unitId,
    outcome,
    soc: identity?.soc ?? null,
    mcuId: identity?.mcuId ?? null,
    deviceId,
    durationMs: now().getTime() - startedAt.getTime(),
    ...(failedStep && { failedStep }),
    ...(error && { error }),
  });

  /** Runs one step: journals its start and end, applies its timeout, turns any failure into a UnitStopped. */
  const step = async <T>(name: StepName, work: (intent: Intent) => Promise<StepOutput<T>>): Promise<T> => {
    if (input.signal?.aborted) {
      throw new UnitStopped(
        new ProvisioningError(
          'CANCELLED',
          'Provisioning of this slot was cancelled: retry to run it again.',
          true,
          name,
        ),
        null,
        'cancelled',
      );
    }
    const index = UNIT_STEPS.findIndex((s) => s.name === name);
    const definition = UNIT_STEPS[index]!;
    const stepStart = now();
    boardLog.length = 0;
    const intent: Intent = (action, details) =>
      journal.recordDurably({ kind: 'step.intent', unitId, step: name, at: now(), action, details });
    let output: StepOutput<T>;
    const backend: BackendCall[] = [];
    // Restarts the board made by itself during the step (the session said HELLO again and carried on).
    const restartsBefore = board.restartCount;
    const restarts = () => board.restartCount - restartsBefore;
    try {
      journal.record({
        kind: 'step.started',
        unitId,
        step: name,
        at: stepStart,
        index: index + 1,
        count: STEP_COUNT,
      });
      output = await withTimeout(
        collectBackendCalls(() => work(intent), backend),
        definition.timeoutMs(batch),
        name,
      );
    } catch (thrown) {
      const error = toProvisioningError(thrown, name);
      const cancelled = error.code === 'CANCELLED';
      // If even this cannot be recorded, the journal throws and the unit stops right here.
      if (!isAuditFailure(error)) {
        const endedAt = now();
        journal.record({
          kind: 'step.finished',
          unitId,
          step: name,
          outcome: 'failed',
          startedAt: stepStart,
          at: endedAt,
          durationMs: endedAt.getTime() - stepStart.getTime(),
          details: restarts() > 0 ? { boardRestarts: restarts() } : {},
          error: summary(error),
          boardLog: [...boardLog],
          backend: [...backend],
        });
      }
      throw new UnitStopped(error, cancelled ? null : name, cancelled ? 'cancelled' : 'failed');
    }
    const endedAt = now();
    journal.record({
      kind: 'step.finished',
      unitId,
      step: name,
      outcome: output.skipped ? 'skipped' : 'passed',
      startedAt: stepStart,
      at: endedAt,
      durationMs: endedAt.getTime() - stepStart.getTime(),
      details: {
        ...(output.details as StepDetails),
        ...(restarts() > 0 && { boardRestarts: restarts() }),
      },
      boardLog: [...boardLog],
      backend: [...backend],
    });
    return output.value;
  };

  try {
    journal.record({
      kind: 'unit.started',
      unitId,
      attempt: input.attempt,
      port: board.path,
      at: startedAt,
      scan: input.scan ?? {},
      stepCount: STEP_COUNT,
    });
  } catch (thrown) {
    stopLog();
    await board.close().catch(() => undefined);
    return result('failed', toProvisioningError(thrown, 'connect'), 'connect');
  }

  let outcome: UnitOutcome = 'passed';
  let stopped: UnitStopped | undefined;
  try {
    const { recipe, station } = batch;
    const hello = await step('connect', () => connect(board, recipe.finish));
    const identified = await step('identify', () => identify({ board, hello, recipe }));
    identity = identified.identity;
    journal.record({ kind: 'unit.identified', unitId, at: now(), identity: identified.summary });
    const boardIdentity = identified.identity;
    // A locked board is the device it holds, whatever happens next (the summary and the record name it).
    if (boardIdentity.state === 'locked') deviceId = boardIdentity.deviceId;
    const { metadata, alreadyProvisioned } = await step('recipe-checks', () =>
      recipeChecks({
        board,
        hello,
        identity: boardIdentity,
        recipe,
        station,
        scan: input.scan ?? {},
        records: batch.records,
      }),
    );
    if (alreadyProvisioned) {
      // A re-plugged board this station provisioned and locked: nothing to create or write. The record shows
      // every later step skipped, and the unit is the device it already is.
      deviceId = alreadyProvisioned.deviceId;
      for (const later of UNIT_STEPS.slice(UNIT_STEPS.findIndex((s) => s.name === 'recipe-checks') + 1)) {
        await step(later.name, async () => skipped(null));
      }
    } else {
      // The board answers its challenge while the backend creates the record (steps/keys.ts).
      const challenged = challengeBoard(board);
      const device = await step('device-record', (intent) =>
        deviceRecord({
          batch,
          identity: boardIdentity,
          cloudMcuId: identified.summary.cloudMcuId,
          metadata,
          intent,
        }),
      );
      deviceId = device.deviceId;
      const cloudPublicKey = await step('cloud-key', () => cloudKey({ batch, identity: boardIdentity }));
      const agreed = await step('key-agreement', () =>
        keyAgreement({ batch, challenged, identity: boardIdentity, device, now }),
      );
      derivedKey = agreed.derivedKey;
      sharedSecret = agreed.sharedSecret;
      token = await step('mqtt-token', () => mqttToken({ token: agreed.mqttToken }));
      const { committedAt } = await step('write-credentials', (intent) =>
        writeCredentials({ batch, board, device, cloudPublicKey, mqttToken: token, derivedKey, intent, now }),
      );
      await step('verify', () =>
        verify({
          batch,
          board,
          device,
          identity: boardIdentity,
          sharedSecret: agreed.sharedSecret,
          cloudPublicKey,
          derivedKey,
        }),
      );
      await step('finish', (intent) => finish({ batch, board, device, intent }));
      await step('communication-check', () =>
        communicationCheck({
          batch,
          device,
          committedAt,
          now,
          ...(input.signal && { signal: input.signal }),
        }),
      );
    }
  } catch (thrown) {
    // Anything but a stopped step is a journal failure outside a step (unit.identified could not be recorded).
    stopped =
      thrown instanceof UnitStopped
        ? thrown
        : new UnitStopped(toProvisioningError(thrown, 'identify'), 'identify', 'failed');
    outcome = stopped.outcome;
  } finally {
    stopLog();
    derivedKey?.key.wipe();
    token?.token.wipe();
    sharedSecret?.wipe();
    await board.close().catch(() => undefined);
  }

  const error = stopped?.error;
  const failedStep = stopped?.step ?? null;
  if (!(error && isAuditFailure(error))) {
    const endedAt = now();
    try {
      await journal.recordDurably({
        kind: 'unit.finished',
        unitId,
        outcome,
        deviceId,
        mcuId: identity?.mcuId ?? null,
        at: endedAt,
        durationMs: endedAt.getTime() - startedAt.getTime(),
        failedStep,
        ...(error && { error: summary(error) }),
      });
    } catch (thrown) {
      return result('failed', toProvisioningError(thrown, 'finish'), failedStep);
    }
  }
  return result(outcome, error, failedStep);
}
