/** Which way this page reaches the station: Electron's preload bridge when there is one, else the web host. */
import { BRIDGE_GLOBAL, type StationBridge } from '../../../electron/station-api';
import { webBridge } from './web-bridge';

export function stationBridge(): StationBridge {
  const preloaded = (window as unknown as Record<string, StationBridge | undefined>)[BRIDGE_GLOBAL];
  return preloaded ?? webBridge();
}
