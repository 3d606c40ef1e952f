/**
 * What a person may do with a slot right now, derived from the slot and who is logged in: the same rules the core
 * enforces (station/slot-commands.ts), stated once here so a host never offers a button the station would refuse.
 */
import { hasRole, type Session, type Slot, type Snapshot } from './snapshot';

export type SlotAction =
  | { kind: 'start' }
  | { kind: 'cancel' }
  | { kind: 'skip' }
  /** Retry on the same board; `needsReason` when the failure was not retry-safe (a supervisor is logged in). */
  | { kind: 'retry'; needsReason: boolean }
  /** A not-retry-safe failure with no supervisor logged in: Retry needs a supervisor's PIN and a reason. */
  | { kind: 'call-supervisor' };

const OPERATING = ['operator', 'supervisor'] as const;

export function slotActions(
  slot: Slot,
  session: Session | null,
  snapshot?: Pick<Snapshot, 'batch'>,
): SlotAction[] {
  if (!hasRole(session, OPERATING)) return [];
  const supervisor = hasRole(session, ['supervisor']);
  switch (slot.state) {
    case 'running':
      return [{ kind: 'cancel' }];
    case 'queued':
      return [{ kind: 'skip' }];
    case 'failed': {
      const safe = slot.result?.error?.retrySafe ?? true;
      if (!slot.present) return [{ kind: 'skip' }];
      if (safe) return [{ kind: 'retry', needsReason: false }, { kind: 'skip' }];
      return supervisor
        ? [{ kind: 'retry', needsReason: true }, { kind: 'skip' }]
        : [{ kind: 'call-supervisor' }, { kind: 'skip' }];
    }
    case 'cancelled':
      return slot.present ? [{ kind: 'retry', needsReason: false }, { kind: 'skip' }] : [];
    case 'skipped':
      return slot.present ? [{ kind: 'retry', needsReason: false }] : [];
    case 'board-present':
      return snapshot?.batch && !snapshot.batch.targetReached ? [{ kind: 'start' }, { kind: 'skip' }] : [];
    case 'waiting-for-scan':
      return [{ kind: 'skip' }];
    default:
      return [];
  }
}
