/**
 * The tabs for people with more than the operator's screen (QA, supervisors): Station, Review, Dashboard, as their
 * roles allow. On the review and dashboard screens it is also the header: the station, who is logged in, Log out
 * (the station screen has its own banner for those).
 */
import { CentralStatusChip } from './central-status';
import { STRINGS } from '../strings';
import { useStation } from '../store/hooks';
import { routeHash, type View } from '../store/route';

export function AppNav({ views, view }: { views: readonly View[]; view: View }) {
  const station = useStation((s) => s.snapshot!.station);
  const session = useStation((s) => s.snapshot!.session);
  const execute = useStation((s) => s.execute);
  const central = useStation((s) => s.snapshot!.centralRecord);
  const own = view !== 'station';
  return (
    <header className="app-nav">
      {own && station.environment === 'sandbox' && (
        <span className="sandbox-tag" title={STRINGS.sandboxNote}>
          {STRINGS.sandbox}
        </span>
      )}
      {own && central && (
        <span className="central-record-tag" title={STRINGS.centralRecord.note(central.database)}>
          {STRINGS.centralRecord.tag}
        </span>
      )}
      {own && (
        <span className="banner-station">
          {central ? STRINGS.centralRecord.title : [station.line, station.name].filter(Boolean).join(' / ')}
        </span>
      )}
      <nav aria-label={STRINGS.nav.label}>
        <ul className="tabs">
          {views.map((item) => (
            <li key={item}>
              <a
                className={`tab${item === view ? ' tab-current' : ''}`}
                href={routeHash(item)}
                aria-current={item === view ? 'page' : undefined}
              >
                {STRINGS.nav[item]}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {own && <CentralStatusChip />}
      <span className="banner-spacer" />
      {own && session && (
        <>
          <span className="banner-user" data-testid="logged-in">
            {STRINGS.banner.loggedInAs(session.name, session.roles)}
          </span>
          <button type="button" className="button" onClick={() => void execute('session.logout', {})}>
            {STRINGS.banner.logout}
          </button>
        </>
      )}
    </header>
  );
}
