/**
 * How busy the station is, for the window's chrome: the taskbar progress, keeping the machine awake, asking
 * before closing. Read from the station's snapshot (its own state, never recomputed here), whenever an event may
 * have changed a slot. No Electron import.
 */
import type { Snapshot } from '../station-api';
import type { StationHandle } from '../station';

export interface Activity {
  /** Slots with a unit running (a queued unit has not touched its board yet). */
  running: number;
  /** Every slot the station has. */
  total: number;
}

export function activityOf(snapshot: Snapshot): Activity {
  return {
    running: snapshot.slots.filter((slot) => slot.state === 'running').length,
    total: snapshot.slots.length,
  };
}

/** Calls `onChange` with the activity now and on every change of it; returns the function that stops watching. */
export function watchActivity(
  station: Pick<StationHandle, 'snapshot' | 'subscribe'>,
  onChange: (activity: Activity) => void,
): () => void {
  let last = activityOf(station.snapshot());
  onChange(last);
  return station.subscribe(() => {
    // The station applies an event to its snapshot before it publishes it, so the snapshot is current here.
    const now = activityOf(station.snapshot());
    if (now.running === last.running && now.total === last.total) return;
    last = now;
    onChange(now);
  });
}
