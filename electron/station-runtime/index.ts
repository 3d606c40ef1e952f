/** How a station is put together outside Electron (CLI today, the web host next). */
export { startHeadlessStation, StationSetupError } from './headless-station';
export type { HeadlessStation, HeadlessStationOptions } from './headless-station';
export {
  auditMaxPageCountFromEnv,
  crashingJournals,
  crashPointFromEnv,
  parseCrashPoint,
  TestHookError,
} from './test-hooks';
export type { CrashPoint, CrashKind } from './test-hooks';
