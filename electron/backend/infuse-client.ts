/**
 * Typed client of the Infuse IoT REST API (or a proxy or the sandbox speaking it).
 *
 * Every method resolves to a BackendResult and never rejects for anything the network or the server does: the
 * station's workflow switches on `error.code`, and an AxiosError (which embeds request headers, so the API key)
 * never leaves this file. Success bodies are checked against the in-repo OpenAPI file before they are trusted.
 */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import {
  securityStateToJson,
  type KeyInterface,
  type SecurityStateBytes,
  type SecurityStateJson,
} from '../../firmware-protocol';
import { BackendError, fail, ok, operatorText, type BackendErrorCode, type BackendResult } from './errors';
import {
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  decideRetry,
  parseRetryAfterMs,
  type AttemptOutcome,
  type RetryPolicy,
} from './http-policy';
import { OpenApiContract, type HttpMethod } from './openapi/contract';
import type { components } from './openapi/infuse-api.generated';
import { SecretBytes } from '../secrets';

type Schemas = components['schemas'];
export type Organisation = Schemas['Organisation'];
export type NewOrganisation = Schemas['NewOrganisation'];
export type Board = Schemas['Board'];
export type NewBoard = Schemas['NewBoard'];
export type Network = Schemas['Network'];
export type Device = Schemas['Device'];
export type NewDevice = Schemas['NewDevice'];
export type DeviceState = Schemas['DeviceState'];
export type UplinkRoute = Schemas['UplinkRoute'];
export type HealthCheck = Schemas['HealthCheck'];

/** A network as the client hands it out: the key wrapped so it cannot be printed by accident. */
export type NetworkRecord = {
  // Omit<> over a schema with an index signature would erase the known fields, so list them through a mapped type.
  [K in keyof Network as string extends K ? never : K extends 'key' ? never : K]: Network[K];
} & { key: SecretBytes };

export interface NewNetworkInput {
  name: string;
  description: string;
  organisationId: string;
  networkId: number;
  key: SecretBytes;
  public?: boolean;
}

export interface MqttToken {
  token: SecretBytes;
  issuedAt: Date;
  expiresAt: Date;
}

// The config's list, one definition: what the config accepts is exactly what the client can send.
export { AUTH_MODES, type AuthMode } from '../../station-config';
import type { AuthMode } from '../../station-config';

export interface Page {
  limit?: number;
  offset?: number;
}

/** One line per HTTP attempt. Deliberately has no field that could hold a header, a body or a concrete path. */
export interface BackendLogEntry {
  event: 'backend.request';
  method: HttpMethod;
  endpoint: string;
  attempt: number;
  outcome: 'ok' | 'http-error' | 'timeout' | 'network-error' | 'bad-response';
  status?: number;
  durationMs: number;
  code?: BackendErrorCode;
}

/** A plain function, or anything pino-shaped (`logger.info(obj, msg)`). */
export type BackendLogger = ((entry: BackendLogEntry) => void) | { info(obj: object, msg?: string): void };

/**
 * The raw material of one attempt, for contract tests that validate traffic against the OpenAPI file. It holds
 * request and response bodies as sent (a network key in POST /network, secrets in /key replies), never headers:
 * hook it up in tests only.
 */
export interface HttpExchange {
  method: HttpMethod;
  template: string;
  path: string;
  requestBody: unknown;
  status: number;
  /** Parsed JSON, undefined for an empty body, or the raw text when it did not parse. */
  responseBody: unknown;
  responseIsJson: boolean;
}

export interface InfuseClientOptions {
  baseUrl: string;
  apiKey: string | SecretBytes;
  authMode: AuthMode;
  /** Per attempt, covering connect, headers and body. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  logger?: BackendLogger;
  onExchange?: (exchange: HttpExchange) => void;
  /** Test seams: backoff sleeps and jitter. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

interface RequestSpec {
  method: HttpMethod;
  template: string;
  params?: Record<string, string>;
  query?: Record<string, string | number | boolean>;
  body?: unknown;
  /** Turn a 404 into `ok(null)`: lookups whose "absent" is an answer, not a failure. */
  notFoundAsNull?: boolean;
}

type AttemptResult =
  | { kind: 'ok'; body: unknown; status: number }
  | { kind: 'fail'; error: BackendError; outcome: AttemptOutcome };

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed',
  ERR_BAD_RESPONSE: 'malformed HTTP response',
  ERR_FR_TOO_MANY_REDIRECTS: 'too many redirects',
};

const MAX_PAGES = 10_000;
const DEFAULT_PAGE_SIZE = 100;

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function fillTemplate(template: string, params: Record<string, string> = {}): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(value);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class InfuseClient {
  readonly #http: AxiosInstance;
  readonly #apiKey: SecretBytes;
  readonly #authMode: AuthMode;
  readonly #timeoutMs: number;
  readonly #policy: RetryPolicy;
  readonly #logger: BackendLogger | undefined;
  readonly #onExchange: ((exchange: HttpExchange) => void) | undefined;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #contract = OpenApiContract.load();

  constructor(options: InfuseClientOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      // URL's own error carries the input, which may hold credentials (https://user:pass@host).
      throw new TypeError('backend baseUrl is not a valid URL');
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError('backend baseUrl must be an http or https URL');
    }
    this.#apiKey =
      typeof options.apiKey === 'string' ? SecretBytes.fromText(options.apiKey, 'api-key') : options.apiKey;
    this.#authMode = options.authMode;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#logger = options.logger;
    this.#onExchange = options.onExchange;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    // No default headers: the key is added per request, so the instance holds nothing secret to print.
    // proxy:false because the station's config names the backend URL explicitly; an ambient HTTP_PROXY silently
    // rerouting factory traffic (and the API key) is worse than a clear "cannot reach".
    this.#http = axios.create({
      baseURL: base.toString().replace(/\/+$/, ''),
      maxRedirects: 0,
      proxy: false,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxContentLength: 16 * 1024 * 1024,
    });
  }

  toString(): string {
    return '[InfuseClient]';
  }

  toJSON(): { client: string } {
    return { client: 'InfuseClient' };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---- health -------------------------------------------------------------------------------------------------

  health(): Promise<BackendResult<HealthCheck>> {
    return this.#request({ method: 'GET', template: '/health' });
  }

  // ---- organisations ------------------------------------------------------------------------------------------

  listOrganisations(page: Page = {}): Promise<BackendResult<Organisation[]>> {
    return this.#request({ method: 'GET', template: '/organisation', query: pageQuery(page) });
  }

  listAllOrganisations(pageSize = DEFAULT_PAGE_SIZE): Promise<BackendResult<Organisation[]>> {
    return this.#listAll((page) => this.listOrganisations(page), pageSize, 'GET /organisation');
  }

  createOrganisation(body: NewOrganisation): Promise<BackendResult<Organisation>> {
    return this.#request({ method: 'POST', template: '/organisation', body });
  }

  getOrganisationById(id: string): Promise<BackendResult<Organisation>> {
    return this.#request({ method: 'GET', template: '/organisation/id/{id}', params: { id } });
  }

  /** null when no organisation has that name: resolve-or-create treats absence as an answer. */
  getOrganisationByName(name: string): Promise<BackendResult<Organisation | null>> {
    return this.#request({
      method: 'GET',
      template: '/organisation/name/{name}',
      params: { name },
      notFoundAsNull: true,
    });
  }

  // ---- boards -------------------------------------------------------------------------------------------------

  listBoards(organisationId: string, page: Page = {}): Promise<BackendResult<Board[]>> {
    return this.#request({
      method: 'GET',
      template: '/board',
      query: { organisationId, ...pageQuery(page) },
    });
  }

  listAllBoards(organisationId: string, pageSize = DEFAULT_PAGE_SIZE): Promise<BackendResult<Board[]>> {
    return this.#listAll((page) => this.listBoards(organisationId, page), pageSize, 'GET /board');
  }

  createBoard(body: NewBoard): Promise<BackendResult<Board>> {
    return this.#request({ method: 'POST', template: '/board', body });
  }

  getBoardById(id: string): Promise<BackendResult<Board>> {
    return this.#request({ method: 'GET', template: '/board/id/{id}', params: { id } });
  }

  // ---- networks -----------------------------------------------------------------------------------------------

  async listNetworks(
    organisationId: string,
    page: Page = {},
    includePublic = false,
  ): Promise<BackendResult<NetworkRecord[]>> {
    const result = await this.#request<Network[]>({
      method: 'GET',
      template: '/network',
      query: { organisationId, includePublic, ...pageQuery(page) },
    });
    return result.ok ? ok(result.value.map(wrapNetwork)) : result;
  }

  listAllNetworks(
    organisationId: string,
    pageSize = DEFAULT_PAGE_SIZE,
  ): Promise<BackendResult<NetworkRecord[]>> {
    return this.#listAll((page) => this.listNetworks(organisationId, page), pageSize, 'GET /network');
  }

  async createNetwork(input: NewNetworkInput): Promise<BackendResult<NetworkRecord>> {
    const result = await this.#request<Network>({
      method: 'POST',
      template: '/network',
      body: {
        name: input.name,
        description: input.description,
        organisationId: input.organisationId,
        networkId: input.networkId,
        key: input.key.revealBase64(),
        public: input.public ?? false,
      },
    });
    return result.ok ? ok(wrapNetwork(result.value)) : result;
  }

  // ---- devices ------------------------------------------------------------------------------------------------

  createDevice(body: NewDevice): Promise<BackendResult<Device>> {
    return this.#request({ method: 'POST', template: '/device', body });
  }

  listDevices(organisationId: string, page: Page = {}): Promise<BackendResult<Device[]>> {
    return this.#request({
      method: 'GET',
      template: '/device',
      query: { organisationId, ...pageQuery(page) },
    });
  }

  listAllDevices(organisationId: string, pageSize = DEFAULT_PAGE_SIZE): Promise<BackendResult<Device[]>> {
    return this.#listAll((page) => this.listDevices(organisationId, page), pageSize, 'GET /device');
  }

  getDeviceByDeviceId(deviceId: string): Promise<BackendResult<Device>> {
    return this.#request({ method: 'GET', template: '/device/deviceId/{deviceId}', params: { deviceId } });
  }

  getDeviceById(id: string): Promise<BackendResult<Device>> {
    return this.#request({ method: 'GET', template: '/device/id/{id}', params: { id } });
  }

  /** The idempotency lookup before POST /device: null means "no device for this chip yet". */
  getDeviceBySocAndMcuId(soc: string, mcuId: string): Promise<BackendResult<Device | null>> {
    return this.#request({
      method: 'GET',
      template: '/device/soc/{soc}/mcuId/{mcuId}',
      params: { soc, mcuId },
      notFoundAsNull: true,
    });
  }

  /** null until the device's first packet reaches the cloud ("not yet seen"). */
  getDeviceState(deviceId: string): Promise<BackendResult<DeviceState | null>> {
    return this.#request({
      method: 'GET',
      template: '/device/deviceId/{deviceId}/state',
      params: { deviceId },
      notFoundAsNull: true,
    });
  }

  /** null until the device's first packet reaches the cloud ("not yet seen"). */
  getDeviceLastRoute(deviceId: string): Promise<BackendResult<UplinkRoute | null>> {
    return this.#request({
      method: 'GET',
      template: '/device/deviceId/{deviceId}/lastRoute',
      params: { deviceId },
      notFoundAsNull: true,
    });
  }

  // ---- keys ---------------------------------------------------------------------------------------------------

  /** The cloud's public key: not a secret (it is built into firmware), so a plain 32-byte buffer. */
  async getCloudPublicKey(): Promise<BackendResult<Buffer>> {
    const result = await this.#request<{ key: string }>({ method: 'GET', template: '/key/publicKey' });
    if (!result.ok) return result;
    const key = decodeKey(result.value.key);
    return key ? ok(key) : fail(this.#badKey('GET /key/publicKey'));
  }

  sharedSecret(devicePublicKey: Uint8Array): Promise<BackendResult<SecretBytes>> {
    return this.#secretKey(
      '/key/sharedSecret',
      { key: Buffer.from(devicePublicKey).toString('base64') },
      'shared-secret',
    );
  }

  deviceSharedSecret(
    deviceId: string,
    securityState?: SecurityStateJson | SecurityStateBytes,
  ): Promise<BackendResult<SecretBytes>> {
    return this.#secretKey(
      '/key/sharedSecret/device',
      { deviceId, ...(securityState ? { securityState: stateJson(securityState) } : {}) },
      'shared-secret',
    );
  }

  deriveDeviceKey(
    deviceId: string,
    keyInterface: KeyInterface,
    securityState?: SecurityStateJson | SecurityStateBytes,
  ): Promise<BackendResult<SecretBytes>> {
    return this.#secretKey(
      '/key/derived/device',
      {
        deviceId,
        interface: keyInterface,
        ...(securityState ? { securityState: stateJson(securityState) } : {}),
      },
      `derived-key-${keyInterface}`,
    );
  }

  // ---- MQTT ---------------------------------------------------------------------------------------------------

  async mqttToken(organisationId: string, ttlSeconds: number): Promise<BackendResult<MqttToken>> {
    const endpoint = 'POST /mqtt/token';
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 86_400) {
      return fail(
        new BackendError({
          code: 'BACKEND_INVALID_ARGUMENT',
          endpoint,
          operatorMessage: operatorText.invalidArgument(
            `MQTT token lifetime must be a whole number of seconds from 60 to 86400, got ${ttlSeconds}`,
          ),
        }),
      );
    }
    const result = await this.#request<{ token: string; issuedAt: string; expiresAt: string }>({
      method: 'POST',
      template: '/mqtt/token',
      body: { organisationId, ttlSeconds },
    });
    if (!result.ok) return result;
    return ok({
      token: SecretBytes.fromText(result.value.token, 'mqtt-token'),
      issuedAt: new Date(result.value.issuedAt),
      expiresAt: new Date(result.value.expiresAt),
    });
  }

  // ---- machinery ----------------------------------------------------------------------------------------------

  async #secretKey(template: string, body: object, label: string): Promise<BackendResult<SecretBytes>> {
    const result = await this.#request<{ key: string }>({ method: 'POST', template, body });
    if (!result.ok) return result;
    const key = decodeKey(result.value.key);
    if (!key) return fail(this.#badKey(`POST ${template}`));
    const secret = SecretBytes.fromBytes(key, label);
    key.fill(0);
    return ok(secret);
  }

  #badKey(endpoint: string): BackendError {
    return new BackendError({
      code: 'BACKEND_BAD_RESPONSE',
      endpoint,
      operatorMessage: operatorText.badResponse('the key is not 32 bytes of base64'),
    });
  }

  /**
   * Pages until a short page (the API returns bare arrays with no total). A server that ignores `offset` would
   * return the same full page forever; that is caught and reported instead of looping.
   */
  async #listAll<T>(
    fetchPage: (page: Page) => Promise<BackendResult<T[]>>,
    pageSize: number,
    endpoint: string,
  ): Promise<BackendResult<T[]>> {
    const all: T[] = [];
    let previousFirst: string | undefined;
    for (let pageIndex = 0; pageIndex < MAX_PAGES; pageIndex++) {
      const result = await fetchPage({ limit: pageSize, offset: pageIndex * pageSize });
      if (!result.ok) return result;
      const page = result.value;
      const first = page.length > 0 ? JSON.stringify(page[0]) : undefined;
      if (pageIndex > 0 && first !== undefined && first === previousFirst) {
        return fail(
          new BackendError({
            code: 'BACKEND_BAD_RESPONSE',
            endpoint,
            operatorMessage: operatorText.badResponse('the backend ignored the paging offset'),
          }),
        );
      }
      previousFirst = first;
      all.push(...page);
      if (page.length < pageSize) return ok(all);
    }
    return fail(
      new BackendError({
        code: 'BACKEND_BAD_RESPONSE',
        endpoint,
        operatorMessage: operatorText.badResponse(`more than ${MAX_PAGES} pages`),
      }),
    );
  }

  async #request<T>(spec: RequestSpec): Promise<BackendResult<T>> {
    const endpoint = `${spec.method} ${spec.template}`;
    const path = fillTemplate(spec.template, spec.params);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const result = await this.#attempt(spec, path, attempt);
      if (result.kind === 'ok') {
        if (result.status === 404 && spec.notFoundAsNull) return ok(null as T);
        return ok(result.body as T);
      }
      const decision = decideRetry({
        method: spec.method,
        template: spec.template,
        attempt,
        elapsedMs: Date.now() - started,
        outcome: result.outcome,
        policy: this.#policy,
        random: this.#random,
      });
      if (!decision.retry) return fail(withAttempts(result.error, attempt, this.#timeoutMs, endpoint));
      await this.#sleep(decision.delayMs);
    }
  }

  async #attempt(spec: RequestSpec, path: string, attempt: number): Promise<AttemptResult> {
    const endpoint = `${spec.method} ${spec.template}`;
    const started = performance.now();
    const log = (entry: Omit<BackendLogEntry, 'event' | 'method' | 'endpoint' | 'attempt' | 'durationMs'>) =>
      this.#log({
        event: 'backend.request',
        method: spec.method,
        endpoint: spec.template,
        attempt,
        durationMs: Math.round(performance.now() - started),
        ...entry,
      });

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    let response: AxiosResponse<unknown>;
    try {
      response = await this.#http.request<unknown>({
        method: spec.method,
        url: path,
        params: spec.query,
        data: spec.body,
        headers: { Accept: 'application/json', ...this.#authHeader() },
        signal: controller.signal,
      });
    } catch (error) {
      // Only the error's code is read: its message and config carry the URL and headers.
      if (controller.signal.aborted) {
        log({ outcome: 'timeout', code: 'BACKEND_TIMEOUT' });
        return {
          kind: 'fail',
          outcome: { kind: 'timeout' },
          error: new BackendError({ code: 'BACKEND_TIMEOUT', endpoint, operatorMessage: '' }),
        };
      }
      const code = isRecord(error) && typeof error.code === 'string' ? error.code : '';
      const reason = NETWORK_REASONS[code] ?? 'network error';
      log({ outcome: 'network-error', code: 'BACKEND_UNREACHABLE' });
      return {
        kind: 'fail',
        outcome: { kind: 'network' },
        error: new BackendError({ code: 'BACKEND_UNREACHABLE', endpoint, operatorMessage: reason }),
      };
    } finally {
      clearTimeout(timer);
    }

    const status = response.status;
    const text = typeof response.data === 'string' ? response.data : '';
    let parsed: unknown;
    let isJson = true;
    try {
      parsed = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
      isJson = false;
    }
    try {
      this.#onExchange?.({
        method: spec.method,
        template: spec.template,
        path,
        requestBody: spec.body,
        status,
        responseBody: parsed,
        responseIsJson: isJson,
      });
    } catch {
      // An observer's failure is the observer's problem; the call itself still resolves to a result.
    }

    if (status >= 200 && status < 300) {
      const reason = !isJson
        ? 'the body is not valid JSON'
        : this.#schemaProblem(spec.method, spec.template, parsed);
      if (reason) {
        log({ outcome: 'bad-response', status, code: 'BACKEND_BAD_RESPONSE' });
        return {
          kind: 'fail',
          outcome: { kind: 'response', status },
          error: new BackendError({
            code: 'BACKEND_BAD_RESPONSE',
            endpoint,
            httpStatus: status,
            operatorMessage: operatorText.badResponse(reason),
          }),
        };
      }
      log({ outcome: 'ok', status });
      return { kind: 'ok', body: parsed, status };
    }

    if (status === 404 && spec.notFoundAsNull) {
      log({ outcome: 'ok', status });
      return { kind: 'ok', body: null, status };
    }

    const apiBody = isRecord(parsed) ? parsed : {};
    const apiCode = typeof apiBody.code === 'number' ? apiBody.code : undefined;
    const apiMessage = typeof apiBody.message === 'string' ? this.#scrub(apiBody.message) : undefined;
    const code = codeForStatus(status);
    log({ outcome: code === 'BACKEND_BAD_RESPONSE' ? 'bad-response' : 'http-error', status, code });
    const retryAfter = response.headers['retry-after'];
    return {
      kind: 'fail',
      outcome: {
        kind: 'response',
        status,
        retryAfterMs: parseRetryAfterMs(typeof retryAfter === 'string' ? retryAfter : undefined),
      },
      error: new BackendError({
        code,
        endpoint,
        httpStatus: status,
        apiCode,
        apiMessage,
        operatorMessage:
          code === 'BACKEND_BAD_RESPONSE' ? operatorText.badResponse(`unexpected HTTP status ${status}`) : '',
      }),
    };
  }

  #schemaProblem(method: HttpMethod, template: string, body: unknown): string | undefined {
    const outcome = this.#contract.validateSuccessBody(method, template, body);
    if (outcome.ok) return undefined;
    return `the body does not match the API: ${outcome.errors.slice(0, 3).join('; ')}`;
  }

  #authHeader(): Record<string, string> {
    const key = this.#apiKey.revealText();
    switch (this.#authMode) {
      case 'x-api-key-bearer':
        return { 'x-api-key': `Bearer ${key}` };
      case 'authorization-bearer':
        return { Authorization: `Bearer ${key}` };
      case 'authorization-apikey':
        return { Authorization: `ApiKey ${key}` };
    }
  }

  /** A server may echo what it got; keep its words but never our key, and keep them short and printable. */
  #scrub(message: string): string {
    const key = this.#apiKey.revealText();
    const cleaned = key.length > 0 ? message.split(key).join('[redacted]') : message;
    // eslint-disable-next-line no-control-regex
    return cleaned.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 300);
  }

  #log(entry: BackendLogEntry): void {
    if (!this.#logger) return;
    try {
      if (typeof this.#logger === 'function') this.#logger(entry);
      else
        this.#logger.info(
          entry,
          `backend ${entry.method} ${entry.endpoint} ${entry.status ?? entry.outcome}`,
        );
    } catch {
      // A broken logger must not turn a successful call into a failure.
    }
  }
}

function pageQuery(page: Page): Record<string, number> {
  const query: Record<string, number> = {};
  if (page.limit !== undefined) query.limit = page.limit;
  if (page.offset !== undefined) query.offset = page.offset;
  return query;
}

function codeForStatus(status: number): BackendErrorCode {
  if (status === 400 || status === 422) return 'BACKEND_BAD_REQUEST';
  if (status === 401) return 'BACKEND_UNAUTHORIZED';
  if (status === 403) return 'BACKEND_FORBIDDEN';
  if (status === 404) return 'BACKEND_NOT_FOUND';
  if (status === 409) return 'BACKEND_CONFLICT';
  if (status === 429) return 'BACKEND_RATE_LIMITED';
  if (status >= 500) return 'BACKEND_UNAVAILABLE';
  if (status >= 400) return 'BACKEND_BAD_REQUEST';
  return 'BACKEND_BAD_RESPONSE';
}

/** Operator texts that depend on how many attempts were made are written once the retry loop has given up. */
function withAttempts(
  error: BackendError,
  attempts: number,
  timeoutMs: number,
  endpoint: string,
): BackendError {
  const text = (() => {
    switch (error.code) {
      case 'BACKEND_TIMEOUT':
        return operatorText.timeout(timeoutMs, attempts);
      case 'BACKEND_UNREACHABLE':
        return operatorText.unreachable(error.operatorMessage, attempts);
      case 'BACKEND_UNAUTHORIZED':
        return operatorText.unauthorized();
      case 'BACKEND_FORBIDDEN':
        return operatorText.forbidden(error.apiMessage);
      case 'BACKEND_NOT_FOUND':
        return operatorText.notFound(error.apiMessage);
      case 'BACKEND_CONFLICT':
        return operatorText.conflict(error.apiMessage);
      case 'BACKEND_BAD_REQUEST':
        return operatorText.badRequest(error.apiMessage);
      case 'BACKEND_RATE_LIMITED':
        return operatorText.rateLimited(attempts);
      case 'BACKEND_UNAVAILABLE':
        return operatorText.unavailable(attempts);
      default:
        return error.operatorMessage;
    }
  })();
  return new BackendError({
    code: error.code,
    endpoint,
    operatorMessage: text,
    httpStatus: error.httpStatus,
    apiCode: error.apiCode,
    apiMessage: error.apiMessage,
    attempts,
  });
}

function decodeKey(base64: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const bytes = Buffer.from(base64, 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

function wrapNetwork(network: Network): NetworkRecord {
  const { key, ...rest } = network;
  return { ...rest, key: SecretBytes.fromBase64(key, 'network-key') };
}

function stateJson(state: SecurityStateJson | SecurityStateBytes): SecurityStateJson {
  return Buffer.isBuffer(state.challenge)
    ? securityStateToJson(state as SecurityStateBytes)
    : (state as SecurityStateJson);
}
