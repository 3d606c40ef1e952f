/** The operator app: who is at the station decides the screen; the connection and the station's health are always shown. */
import { useEffect, useRef } from 'react';
import { FirstAdminScreen, LoginScreen } from './screens/login-screen';
import { StationScreen } from './screens/station-screen';
import { useScanner } from './scanning/use-scanner';
import { STRINGS } from './strings';
import { useStation, useUi } from './store/hooks';
import type { StationStore } from './store/station-store';
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

export function App({ store }: { store: StationStore }) {
  const snapshot = useStation((s) => s.snapshot);
  const connection = useStation((s) => s.connection);
  const flash = useUi((s) => s.flash);
  useScanner(store);
  useResultFeedback(store);
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
        <StationScreen />
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
