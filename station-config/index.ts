/** Station config: schema, checker, loader and the effective config the audit trail records. */
export * from './schema';
export {
  checkStationConfig,
  formatProblem,
  jsonPath,
  isLoopbackHost,
  looksLikeSecretValue,
  type CheckResult,
  type ConfigProblem,
} from './check';
export * from './load';
export * from './effective';
export * from './recipes';
export * from './scanning';
export { findShippedFile } from './shipped-files';
