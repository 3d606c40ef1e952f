/** A unit's state as a badge: word + icon + colour (never colour alone), the same words on every screen. */
import { STRINGS } from '../strings';
import { StatusIcon } from './icons';

export function UnitStateBadge({ state }: { state: string }) {
  const word = STRINGS.review.stateWord[state] ?? state.toUpperCase();
  const icon =
    state === 'passed'
      ? 'passed'
      : state === 'failed'
        ? 'failed'
        : state === 'voided' || state === 'cancelled'
          ? 'cancelled'
          : null;
  return (
    <span className={`badge badge-${state}`}>
      {icon && <StatusIcon state={icon} />}
      {word}
    </span>
  );
}
