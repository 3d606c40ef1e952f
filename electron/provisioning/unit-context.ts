import type { Device, MqttToken, SecretBytes } from '../backend';
import type { BoardHello, BoardIdentity, BoardSession } from '../serial';
import type { SecurityStateBytes } from '../../firmware-protocol';
import type { BatchContext } from './batch-context';
import type { StepDetails, StepName, UnitJournal } from './journal';

/**
 * One unit's working state as the steps fill it in. Secrets (derived key, MQTT token) live here only between the
 * step that fetches them and the step that uses them, and are wiped when the unit ends whatever happened.
 */
export interface UnitContext {
  unitId: string;
  batch: BatchContext;
  session: BoardSession;
  journal: UnitJournal;
  scan: Record<string, string>;
  /** The recipe's metadata for POST /device, resolved once by the recipe checks. */
  metadata?: Record<string, string>;
  startedAt: Date;
  now: () => Date;
  hello?: BoardHello;
  identity?: BoardIdentity;
  /** The mcuId as the cloud knows it (recipe byte order applied). */
  cloudMcuId?: string;
  device?: Device;
  securityState?: SecurityStateBytes;
  derivedKey?: SecretBytes;
  derivedKeyGpsDay?: number;
  mqttToken?: MqttToken;
  /** When the board committed its credentials: the communication check wants news newer than this. */
  committedAt?: Date;
}

/** What a step returns: details for the record, or `skipped` when the recipe does not ask for it. */
export type StepResult = { skipped?: boolean; details: StepDetails };

export type Step = (unit: UnitContext) => Promise<StepResult>;

export interface StepDefinition {
  name: StepName;
  run: Step;
  /** Longest the step may take before the unit fails with STEP_TIMEOUT. */
  timeoutMs: (unit: UnitContext) => number;
}

export function require<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`workflow bug: ${what} is not known yet`);
  return value;
}
