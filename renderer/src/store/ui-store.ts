/**
 * What only this screen knows: which slot the next scan goes to, the operator's settings (kept in this browser),
 * a short-lived notice, a clock for elapsed times. Everything about the station itself is in the station store.
 */
import { createStore } from 'zustand/vanilla';

export interface Settings {
  sound: boolean;
  flash: boolean;
}

export interface Notice {
  id: number;
  text: string;
  tone: 'error' | 'info';
}

export interface UiState {
  boundSlot: string | null;
  settings: Settings;
  notice: Notice | null;
  flash: 'pass' | 'fail' | null;
  now: number;
  /** Where a scan goes instead of slot.scan while a screen wants it (the review screen's search). */
  scanHandler: ((text: string) => void) | null;
}

const SETTINGS_KEY = 'station.settings';
let notices = 0;

function loadSettings(): Settings {
  try {
    const saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? 'null') as Partial<Settings> | null;
    return { sound: saved?.sound === true, flash: saved?.flash === true };
  } catch {
    return { sound: false, flash: false };
  }
}

export const uiStore = createStore<UiState>()(() => ({
  boundSlot: null,
  settings: loadSettings(),
  notice: null,
  flash: null,
  now: Date.now(),
  scanHandler: null,
}));

export function bindSlot(slot: string | null): void {
  uiStore.setState({ boundSlot: slot });
}

export function saveSettings(settings: Settings): void {
  uiStore.setState({ settings });
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // A browser without storage keeps the settings for this session only.
  }
}

/** Shows a notice for a few seconds (a bad scan, a refused command). */
export function notify(text: string, tone: Notice['tone'] = 'error', ms = 5000): void {
  const id = ++notices;
  uiStore.setState({ notice: { id, text, tone } });
  setTimeout(() => {
    if (uiStore.getState().notice?.id === id) uiStore.setState({ notice: null });
  }, ms);
}

setInterval(() => uiStore.setState({ now: Date.now() }), 1000);
