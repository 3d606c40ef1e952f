/** The backend capability's public surface: the Infuse API client, its errors and the resolve helpers. */
export {
  AUTH_MODES,
  InfuseClient,
  type AuthMode,
  type BackendLogEntry,
  type BackendLogger,
  type Board,
  type Device,
  type DeviceState,
  type HealthCheck,
  type HttpExchange,
  type InfuseClientOptions,
  type MqttToken,
  type Network,
  type NetworkRecord,
  type NewBoard,
  type NewDevice,
  type NewNetworkInput,
  type NewOrganisation,
  type Organisation,
  type Page,
  type UplinkRoute,
} from './infuse-client';
export {
  BACKEND_ERROR_CODES,
  BackendError,
  fail,
  ok,
  operatorText,
  unwrap,
  type BackendErrorCode,
  type BackendErrorDetails,
  type BackendResult,
} from './errors';
export {
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  decideRetry,
  isRepeatable,
  parseRetryAfterMs,
  type RetryPolicy,
} from './http-policy';
export { OpenApiContract, OPENAPI_FILE, type ValidationOutcome } from './openapi/contract';
export {
  resolveBoard,
  resolveNetwork,
  resolveOrganisation,
  type BoardRef,
  type NetworkRef,
  type OrganisationRef,
  type Resolved,
} from './resolve';
// The secret wrapper lives with the secret store; re-exported because every backend caller handles one.
export { SecretBytes } from '../secrets';
/** Every schema of the in-repo OpenAPI description, as TypeScript types (generated; `npm run gen:api-types`). */
export type { components as ApiComponents } from './openapi/infuse-api.generated';
