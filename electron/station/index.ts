/**
 * The station core, Electron-free: openStation gives a long-lived Station that every host (CLI, web host,
 * Electron) drives through the station API contract.
 */
export { openStation, StationOpenError, type OpenStationOptions } from './open-station';
export { Station } from './station';
export type { StationHandle } from './station-handle';
export { EventBus } from './event-bus';
export { StationStream, type StreamSink } from './event-stream';
export { SOFTWARE_VERSION } from './version';
export { StationSetupError, type ConfiguredPort, type StationEnvironment } from './environment';
export {
  auditMaxPageCountFromEnv,
  crashingJournals,
  crashPointFromEnv,
  loopStatsFileFromEnv,
  parseCrashPoint,
  TestHookError,
  type CrashKind,
  type CrashPoint,
} from './test-hooks';
export {
  startLoopStats,
  LOOP_STATS_RESOLUTION_MS,
  type LoopStatsFile,
  type LoopStatsSampler,
  type LoopStatsSecond,
  type LoopStatsWindow,
} from './loop-stats';
