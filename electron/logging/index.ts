/** The station's operational log (JSON lines, a file per day, redacted). */
export { openStationLog, logFileName, REDACTED_PATHS } from './station-log';
export type { StationLog } from './station-log';
