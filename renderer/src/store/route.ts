/**
 * Which screen is showing, kept in the address's hash (`#/review/<unitId>`, `#/dashboard/<batchId>`) so a reload,
 * the browser's Back button and a link all land on the same screen. Who may see which screen comes from the
 * session's roles: the station refuses the commands behind a screen to anyone else anyway.
 */
import { useSyncExternalStore } from 'react';
import { hasRole, type Session } from '../../../electron/station-api';

export type View = 'station' | 'review' | 'dashboard';

export interface Route {
  view: View | null;
  /** The unit open on the review screen. */
  unitId: string | null;
  /** The batch on the dashboard. */
  batchId: string | null;
  /** On the central record: the station the unit or batch is of (ids are each station's own). */
  stationId: string | null;
}

/** The screens a person sees, in tab order; the first is where they land after logging in. */
export function viewsFor(session: Session | null, central = false): View[] {
  const views: View[] = [];
  // A QA-only person runs nothing on the line: the slot grid is not theirs to watch. The central record has no line.
  if (!central && hasRole(session, ['operator', 'supervisor', 'admin'])) views.push('station');
  if (hasRole(session, ['qa', 'supervisor'])) views.push('review', 'dashboard');
  return views;
}

export function parseRoute(hash: string): Route {
  const [view, id, station] = hash.replace(/^#\/?/, '').split('/');
  const decoded = id ? safeDecode(id) : null;
  const stationId = station ? safeDecode(station) : null;
  switch (view) {
    case 'station':
      return { view: 'station', unitId: null, batchId: null, stationId: null };
    case 'review':
      return { view: 'review', unitId: decoded, batchId: null, stationId };
    case 'dashboard':
      return { view: 'dashboard', unitId: null, batchId: decoded, stationId };
    default:
      return { view: null, unitId: null, batchId: null, stationId: null };
  }
}

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

export function routeHash(view: View, id?: string | null, stationId?: string | null): string {
  const station = id && stationId ? `/${encodeURIComponent(stationId)}` : '';
  return `#/${view}${id ? `/${encodeURIComponent(id)}` : ''}${station}`;
}

export function navigate(
  view: View,
  id?: string | null,
  options: { replace?: boolean; stationId?: string | null } = {},
): void {
  const hash = routeHash(view, id, options.stationId);
  if (window.location.hash === hash) return;
  if (options.replace) {
    window.history.replaceState(null, '', hash);
    window.dispatchEvent(new Event('hashchange'));
  } else {
    window.location.hash = hash;
  }
}

/** Back to no screen in particular: the person's first one. */
export function clearRoute(): void {
  if (window.location.hash === '') return;
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  window.dispatchEvent(new Event('hashchange'));
}

const subscribe = (onChange: () => void) => {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}
