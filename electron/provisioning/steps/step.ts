/** What every step returns, and the intent callback steps with side effects journal through. */
import type { StepDetails } from '../journal';

/** A step's value for the steps after it, and the details recorded with it (secret-free). */
export interface StepOutput<T> {
  value: T;
  details: StepDetails;
  /** The recipe does not ask for this step. */
  skipped?: boolean;
}

export const passed = <T>(value: T, details: StepDetails): StepOutput<T> => ({ value, details });
export const skipped = <T>(value: T): StepOutput<T> => ({ value, details: {}, skipped: true });

/**
 * Records what is about to happen before a side effect: resolves once it is on disk, rejects when it cannot be
 * recorded. Await it before the side effect.
 */
export type Intent = (action: string, details: StepDetails) => Promise<void>;
