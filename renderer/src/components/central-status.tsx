/**
 * How far this station's record has reached the central database (the operator screen's status bar, the QA and
 * supervisor screens' header): quiet when up to date, amber while offline with how many events wait, red when the
 * central database refused the station (QA must look). Nothing when the station ships nowhere.
 */
import { STRINGS } from '../strings';
import { useStation } from '../store/hooks';

export function CentralStatusChip() {
  const central = useStation((s) => s.snapshot!.central);
  if (!central) return null;
  const label =
    central.state === 'caught-up'
      ? STRINGS.central.caughtUp
      : central.state === 'catching-up'
        ? STRINGS.central.catchingUp(central.behind)
        : central.state === 'down'
          ? STRINGS.central.down(central.behind)
          : central.state === 'refused'
            ? STRINGS.central.refused
            : STRINGS.central.starting;
  return (
    <span
      className={`central-chip central-${central.state}`}
      data-testid="central-status"
      role="status"
      title={STRINGS.central.title(central.url, central.problem, central.lastContactAt)}
    >
      {label}
    </span>
  );
}
