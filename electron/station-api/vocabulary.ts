/**
 * The words every host and the renderer share: roles, the steps of a unit, slot states and outcomes. Defined here
 * once; the provisioning engine and the audit trail use the same lists.
 */
import { z } from 'zod';

export const ROLES = ['operator', 'qa', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);

/** The steps of one unit, in the order they run (ARCHITECTURE.md "Data flow for one unit"). */
export const STEP_NAMES = [
  'connect',
  'identify',
  'recipe-checks',
  'device-record',
  'cloud-key',
  'key-agreement',
  'mqtt-token',
  'write-credentials',
  'verify',
  'finish',
  'communication-check',
] as const;
export type StepName = (typeof STEP_NAMES)[number];
export const stepNameSchema = z.enum(STEP_NAMES);

export const STEP_OUTCOMES = ['passed', 'failed', 'skipped'] as const;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];

export const UNIT_OUTCOMES = ['passed', 'failed', 'cancelled'] as const;
export type UnitOutcome = (typeof UNIT_OUTCOMES)[number];
export const unitOutcomeSchema = z.enum(UNIT_OUTCOMES);

/**
 * What a slot is doing, as the operator screen shows it (ARCHITECTURE.md "The station as a service"). `queued` waits for a free channel when the station runs
 * fewer units at once than it has slots; `board-present` is a board that may start now (or as soon as someone is
 * logged in and a batch is open).
 */
export const SLOT_STATES = [
  'empty',
  'board-present',
  'waiting-for-scan',
  'queued',
  'running',
  'passed',
  'failed',
  'cancelled',
  'skipped',
] as const;
export type SlotState = (typeof SLOT_STATES)[number];

/** How the station starts a unit on a slot (station-config `slots.start`). */
export const START_MODES = ['on-plug', 'on-scan'] as const;
export type StartMode = (typeof START_MODES)[number];

/** Identifiers people type (operator ids) and slot names: printable, no spaces, bounded. */
export const operatorIdSchema = z
  .string()
  .trim()
  .min(1, 'an operator id is 1 to 64 characters')
  .max(64, 'an operator id is 1 to 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, 'an operator id is letters, digits, ".", "_", "@" or "-"');
export const slotNameSchema = z.string().min(1).max(128);
/** A PIN (4 to 12 digits) or a password (8 to 128 characters); never echoed, logged or recorded. */
export const credentialSchema = z.string().min(4).max(128);
/** A reason a person gives for a privileged action: recorded in the audit trail. */
export const reasonSchema = z
  .string()
  .trim()
  .min(3, 'give a reason of at least 3 characters')
  .max(500, 'a reason is at most 500 characters');
