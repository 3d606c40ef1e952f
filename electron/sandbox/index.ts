/** The sandbox capability's public surface: a local Infuse-compatible backend with faults and uplinks. */
export { ACCEPTED_CREDENTIALS, MISSING_KEY_MESSAGE, type AcceptedCredential } from './auth';
export { SANDBOX_CLOUD_KEY_SEED, SANDBOX_CLOUD_PUBLIC_KEY } from './cloud-key';
export {
  FaultController,
  parseFaultFlag,
  parseFaultFlags,
  type FaultAction,
  type FaultConfig,
  type FaultConfigInput,
  type FaultRule,
  type FaultRuleInput,
} from './faults';
export {
  KNOWN_SOCS,
  startSandbox,
  type ContractViolation,
  type SandboxHandle,
  type SandboxLatencyOptions,
  type SandboxOptions,
  type SandboxRouteStats,
  type SandboxSeed,
  type SandboxStats,
} from './server';
export {
  openUplink,
  sealUplink,
  sendUplink,
  type OpenedUplink,
  type UplinkBody,
  type UplinkOutcome,
} from './uplink';
