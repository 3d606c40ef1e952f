/** The operator app: who is at the station decides the screen; the connection and the station's health are always shown. */
import { useEffect, useLayoutEffect, useRef } from 'react';
import { AppNav } from './components/app-nav';
import { DashboardScreen } from './screens/dashboard-screen';
import { FirstAdminScreen, LoginScreen } from './screens/login-screen';
import { ReviewScreen } from './screens/review-screen';
import { StationScreen } from './screens/station-screen';
import { useScanner } from './scanning/use-scanner';
import { STRINGS } from './strings';
import { useStation, useUi } from './store/hooks';
import type { StationStore } from './store/station-store';
import { resetReview, searchScan } from './store/review-store';
import { clearRoute, navigate, useRoute, viewsFor } from './store/route';
import { notify, uiStore } from './store/ui-store';

function ConnectionBanner() {
  const connection = useStation((s) => s.connection);
  const reconnectedAt = useStation((s) => s.reconnectedAt);
  const now = useUi((s) => s.now);
  if (connection === 'lost') {
    return (
      <div className="connection-banner lost" role="alert">
        {STRINGS.connection.lost}
      </div>
    );
  }
  if (reconnectedAt !== null && now - reconnectedAt < 5000) {
    return (
      <div className="connection-banner back" role="status">
        {STRINGS.connection.back}
      </div>
    );
  }
  return null;
}

function Notice() {
  const notice = useUi((s) => s.notice);
  return (
    <div className="notice-area" role="status" aria-live="assertive">
      {notice && <p className={`notice notice-${notice.tone}`}>{notice.text}</p>}
    </div>
  );
}

/** PASS/FAIL feedback the operator chose in the settings: a beep and/or a screen flash. */
function useResultFeedback(store: StationStore): void {
  const audio = useRef<AudioContext | null>(null);
  useEffect(
    () =>
      store.subscribe((state, previous) => {
        const event = state.lastEvent;
        if (!event || event === previous.lastEvent) return;
        if (event.kind === 'scan.refused') {
          notify(event.message);
          return;
        }
        if (event.kind !== 'unit.finished' || event.outcome === 'cancelled') return;
        const { settings } = uiStore.getState();
        const pass = event.outcome === 'passed';
        if (settings.flash) {
          uiStore.setState({ flash: pass ? 'pass' : 'fail' });
          setTimeout(() => uiStore.setState({ flash: null }), 600);
        }
        if (settings.sound) {
          audio.current ??= new AudioContext();
          const context = audio.current;
          const tone = context.createOscillator();
          const gain = context.createGain();
          tone.frequency.value = pass ? 880 : 220;
          gain.gain.value = 0.2;
          tone.connect(gain).connect(context.destination);
          tone.start();
          tone.stop(context.currentTime + (pass ? 0.15 : 0.5));
        }
      }),
    [store],
  );
}

/**
 * When the person at the station changes (log out, another login), their review list and the screen they were
 * on go: the next person starts on their own first screen. The first snapshot (a reload) keeps the screen.
 */
function usePersonChange(): void {
  const operatorId = useStation((s) => (s.snapshot ? (s.snapshot.session?.operatorId ?? null) : undefined));
  const previous = useRef<string | null | undefined>(undefined);
  // Before the screens' own effects run, so a new person's list loads after the old one is gone.
  useLayoutEffect(() => {
    const before = previous.current;
    previous.current = operatorId;
    if (operatorId === undefined || before === undefined || before === operatorId) return;
    resetReview();
    clearRoute();
  }, [operatorId]);
}

/** Someone with no QA or supervisor role on the central QA host: there is nothing to run here. */
function NothingHere() {
  const execute = useStation((s) => s.execute);
  return (
    <main className="connecting">
      <h1>{STRINGS.centralRecord.title}</h1>
      <p>{STRINGS.centralRecord.nothingHere}</p>
      <button type="button" className="button" onClick={() => void execute('session.logout', {})}>
        {STRINGS.banner.logout}
      </button>
    </main>
  );
}

/**
 * A logged-in person's screens. An operator has one, the station screen, exactly as before; QA and supervisors
 * get tabs (Station when they may run the line, Review, Dashboard). A different person logging in lands on their
 * own first screen with nothing of the previous person's review left on it.
 */
function SignedIn() {
  const session = useStation((s) => s.snapshot!.session!);
  const execute = useStation((s) => s.execute);
  const route = useRoute();
  const central = useStation((s) => (s.snapshot?.centralRecord ?? null) !== null);
  const views = viewsFor(session, central);
  const view = route.view && views.includes(route.view) ? route.view : (views[0] ?? 'station');
  // Scans search the review list on the review screen, and anywhere for someone who runs nothing on the line.
  const scansSearch = view === 'review' || (views.includes('review') && !views.includes('station'));
  useEffect(() => {
    if (!scansSearch) return;
    uiStore.setState({
      scanHandler: (text) => {
        searchScan(execute, text);
        navigate('review');
      },
    });
    return () => uiStore.setState({ scanHandler: null });
  }, [scansSearch, execute]);
  if (central && views.length === 0) return <NothingHere />;
  if (views.length <= 1 && !central) return <StationScreen />;
  return (
    <div className="signed-in">
      <AppNav views={views} view={view} />
      {view === 'station' ? (
        <StationScreen />
      ) : view === 'review' ? (
        <ReviewScreen
          unitId={route.view === 'review' ? route.unitId : null}
          stationId={route.view === 'review' ? route.stationId : null}
        />
      ) : (
        <DashboardScreen
          batchId={route.view === 'dashboard' ? route.batchId : null}
          stationId={route.view === 'dashboard' ? route.stationId : null}
        />
      )}
    </div>
  );
}

export function App({ store }: { store: StationStore }) {
  const snapshot = useStation((s) => s.snapshot);
  const connection = useStation((s) => s.connection);
  const flash = useUi((s) => s.flash);
  useScanner(store);
  useResultFeedback(store);
  usePersonChange();
  if (!snapshot) {
    return (
      <main className="connecting" aria-busy="true">
        <h1>{STRINGS.appTitle}</h1>
        <p>{connection === 'lost' ? STRINGS.connection.lost : STRINGS.connection.connecting}</p>
      </main>
    );
  }
  return (
    <div className={`app${connection === 'lost' ? ' app-stale' : ''}`}>
      <ConnectionBanner />
      {snapshot.stopped && (
        <div className="connection-banner lost" role="alert">
          {STRINGS.connection.stopped(snapshot.stopped.reason)}
        </div>
      )}
      {snapshot.session ? (
        <SignedIn />
      ) : snapshot.station.needsFirstAdmin ? (
        <FirstAdminScreen />
      ) : (
        <LoginScreen />
      )}
      <Notice />
      {flash && <div className={`flash flash-${flash}`} aria-hidden="true" />}
    </div>
  );
}
