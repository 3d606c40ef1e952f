/**
 * The sandbox: a local HTTP server that speaks the slice of the Infuse API a provisioning station uses, with the
 * cloud's behaviour where the station depends on it (key agreement, security-state checks, 404 before a device is
 * seen, default page size 10) and injectable faults. Real HTTP on 127.0.0.1, real SQLite, no mocks.
 */
import { randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  KNOWN_SOCS,
  KEY_INTERFACES,
  UNPROVISIONED_DEVICE_ID,
  deriveInterfaceKey,
  generateX25519KeyPair,
  gpsDayNumber,
  openChallengeResponse,
  securityStateFromJson,
  x25519KeyPairFromPrivate,
  x25519SharedSecret,
  type SecurityStateJson,
} from '../../firmware-protocol';
import { OpenApiContract, type ApiComponents } from '../backend';
import { presentedCredential } from './auth';
import { SANDBOX_DEV_CLOUD_PRIVATE_KEY } from './cloud-key';
import { FaultController, type FaultConfigInput, faultConfigSchema, faultRuleSchema } from './faults';
import { answerClientError, answerExpectationFailed, errorBodyOf, sendErrorBody } from './http-errors';
import { SandboxStore, type BoardRow, type DeviceRow, type NetworkRow, type OrganisationRow } from './store';
import { openUplink } from './uplink';

/** Request bodies as the OpenAPI file types them; each route checks its body against the file before it casts. */
type Body = ApiComponents['schemas'];

export interface SandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the sandbox is for this machine only. */
  host?: string;
  /** SQLite file to keep state across restarts; omitted = in memory. */
  dataFile?: string;
  /** Only used when the data has no cloud key yet: the published development key (default) or a fresh random one. */
  cloudKey?: 'sandbox-default' | 'random';
  faults?: FaultConfigInput;
  /** Clock for timestamps and the GPS day of derived keys; injectable so tests can pin key vectors. */
  now?: () => Date;
  /** Test mode: check every reply of an OpenAPI route against the in-repo file and record what breaks it. */
  contractCheck?: boolean;
  /**
   * The network between a station and the cloud, which 127.0.0.1 does not have: every request except the
   * `/sandbox/*` routes waits this long before it is answered. Off by default (tests keep their speed); the
   * units-per-hour benchmark uses 40 ms. Not a fault: it stacks with the fault config's `latencyMs`.
   */
  latency?: SandboxLatencyOptions;
}

export interface SandboxLatencyOptions {
  /** Mean added latency per request, in ms. */
  latencyMs: number;
  /** Each request waits a uniformly random time in latencyMs ± jitterMs (never below 0). Default 0. */
  jitterMs?: number;
  /** Uniform in [0, 1); injectable for tests. Default Math.random. */
  random?: () => number;
}

/** Requests of one method and route template, as `GET /sandbox/stats` and `SandboxHandle.stats()` count them. */
export interface SandboxRouteStats {
  method: string;
  /** The OpenAPI path template (`/device/soc/{soc}/mcuId/{mcuId}`), or `(no route)` for a path nothing serves. */
  route: string;
  /** Requests answered. */
  count: number;
  /** Sum of each request's time in the sandbox, from arrival to the last byte of the answer, in ms. */
  totalMs: number;
  /** The part of totalMs the latency model added, in ms. */
  latencyMs: number;
}

export interface SandboxStats {
  /** When counting began: the start, or the last `DELETE /sandbox/stats` / `resetStats()`. */
  since: string;
  /** The latency model in force (0 and 0 when off). */
  latency: { latencyMs: number; jitterMs: number };
  requests: number;
  totalMs: number;
  latencyMs: number;
  /** The smallest and largest latency the model added to one request; null before the first. */
  minLatencyMs: number | null;
  maxLatencyMs: number | null;
  /** One entry per method + route template, in the order first seen. */
  routes: SandboxRouteStats[];
}

export interface ContractViolation {
  method: string;
  route: string;
  status: number;
  errors: string[];
}

export interface SandboxSeed {
  organisationId: string;
  boardId: string;
  /** The seeded network's 24-bit id (what a board stores). */
  networkId: number;
  /** The seeded network's UUID (the API record id). */
  networkUuid: string;
}

export interface SandboxHandle extends SandboxSeed {
  url: string;
  /** The sandbox's API key. Sandbox only, but still: never log it. */
  apiKey: string;
  /** base64 of the cloud public key (GET /key/publicKey). */
  cloudPublicKey: string;
  faults: FaultController;
  contractViolations: ContractViolation[];
  /** Requests answered since start (or the last reset), by method + route; no secrets in it. */
  stats(): SandboxStats;
  resetStats(): void;
  close(): Promise<void>;
}

export { KNOWN_SOCS };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MCU_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{24})$/;
const DEVICE_ID = /^[0-9a-f]{16}$/;
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 1000;
const SANDBOX_ROUTE_PREFIX = '/sandbox/';
/** Reading or resetting the counters must not change them. */
const STATS_ROUTE = '/sandbox/stats';
const NO_ROUTE = '(no route)';
const MAX_LATENCY_MS = 600_000;

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function isValidDeviceId(deviceId: string): boolean {
  return DEVICE_ID.test(deviceId) && !deviceId.startsWith('ffff');
}

function requireUuid(value: string | undefined, what: string): string {
  if (value === undefined || !UUID.test(value)) throw new HttpFailure(400, `${what} must be a UUID`);
  return value;
}

function requireDeviceIdFormat(deviceId: string): void {
  if (!isValidDeviceId(deviceId)) {
    throw new HttpFailure(400, `deviceId must be 16 lowercase hex characters and not start with ffff`);
  }
}

function decode32(base64: string, what: string): Buffer {
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(base64) ? Buffer.from(base64, 'base64') : Buffer.alloc(0);
  if (bytes.length !== 32) throw new HttpFailure(400, `${what} must be 32 bytes of base64`);
  return bytes;
}

function paging(query: Record<string, string | undefined>): { limit: number; offset: number } {
  const read = (name: string, fallback: number, max: number): number => {
    const raw = query[name];
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) > max)
      throw new HttpFailure(400, `${name} must be an integer from 0 to ${max}`);
    return Number(raw);
  };
  return {
    limit: read('limit', DEFAULT_LIMIT, MAX_LIMIT),
    offset: read('offset', 0, Number.MAX_SAFE_INTEGER),
  };
}

const organisationJson = (o: OrganisationRow) => ({
  id: o.id,
  createdAt: o.createdAt,
  updatedAt: o.updatedAt,
  name: o.name,
});

const boardJson = (b: BoardRow) => ({
  id: b.id,
  createdAt: b.createdAt,
  updatedAt: b.updatedAt,
  name: b.name,
  description: b.description,
  soc: b.soc,
  organisationId: b.organisationId,
  metadataFields: b.metadataFields,
  public: b.public,
});

const networkJson = (n: NetworkRow) => ({
  id: n.id,
  createdAt: n.createdAt,
  updatedAt: n.updatedAt,
  name: n.name,
  description: n.description,
  key: n.key,
  organisationId: n.organisationId,
  networkId: n.networkId,
  public: n.public,
});

const deviceJson = (d: DeviceRow) => ({
  id: d.id,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
  mcuId: d.mcuId,
  boardId: d.boardId,
  organisationId: d.organisationId,
  deviceId: d.deviceId,
  metadata: d.metadata,
  ...(d.initialDeviceState === undefined ? {} : { initialDeviceState: d.initialDeviceState }),
});

const uplinkBodySchema = z.object({
  deviceId: z.string(),
  devicePublicKey: z.string(),
  nonce: z.string(),
  payload: z.string(),
});

/** Fastify's `:param` route syntax back to the OpenAPI `{param}` template. */
function templateOf(url: string | undefined): string | undefined {
  return url?.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** The latency model, checked: the delay one request gets is drawn from it. */
function latencyModel(options: SandboxLatencyOptions | undefined): {
  latencyMs: number;
  jitterMs: number;
  draw: () => number;
} {
  const latencyMs = options?.latencyMs ?? 0;
  const jitterMs = options?.jitterMs ?? 0;
  for (const [name, value] of [
    ['latencyMs', latencyMs],
    ['jitterMs', jitterMs],
  ] as const) {
    if (!Number.isFinite(value) || value < 0 || value > MAX_LATENCY_MS)
      throw new RangeError(`sandbox latency: ${name} must be from 0 to ${MAX_LATENCY_MS}, not ${value}`);
  }
  const random = options?.random ?? Math.random;
  return {
    latencyMs,
    jitterMs,
    draw: () => Math.max(0, latencyMs + (2 * random() - 1) * jitterMs),
  };
}

class StatsCounter {
  private since = new Date();
  private routes = new Map<string, SandboxRouteStats>();
  private minLatencyMs: number | null = null;
  private maxLatencyMs: number | null = null;

  constructor(private readonly latency: { latencyMs: number; jitterMs: number }) {}

  /** `latencyMs` undefined: the latency model does not apply to this request (a `/sandbox/*` route, or off). */
  add(method: string, route: string, totalMs: number, latencyMs: number | undefined): void {
    const key = `${method} ${route}`;
    const entry = this.routes.get(key) ?? { method, route, count: 0, totalMs: 0, latencyMs: 0 };
    entry.count += 1;
    entry.totalMs += totalMs;
    entry.latencyMs += latencyMs ?? 0;
    this.routes.set(key, entry);
    if (latencyMs !== undefined) {
      this.minLatencyMs = Math.min(this.minLatencyMs ?? latencyMs, latencyMs);
      this.maxLatencyMs = Math.max(this.maxLatencyMs ?? latencyMs, latencyMs);
    }
  }

  snapshot(): SandboxStats {
    const ms = (value: number) => Math.round(value * 1000) / 1000;
    const routes = [...this.routes.values()].map((r) => ({
      ...r,
      totalMs: ms(r.totalMs),
      latencyMs: ms(r.latencyMs),
    }));
    const sum = (pick: (r: SandboxRouteStats) => number) =>
      ms(routes.reduce((total, r) => total + pick(r), 0));
    return {
      since: this.since.toISOString(),
      latency: { latencyMs: this.latency.latencyMs, jitterMs: this.latency.jitterMs },
      requests: routes.reduce((total, r) => total + r.count, 0),
      totalMs: sum((r) => r.totalMs),
      latencyMs: sum((r) => r.latencyMs),
      minLatencyMs: this.minLatencyMs === null ? null : ms(this.minLatencyMs),
      maxLatencyMs: this.maxLatencyMs === null ? null : ms(this.maxLatencyMs),
      routes,
    };
  }

  reset(): void {
    this.since = new Date();
    this.routes = new Map();
    this.minLatencyMs = null;
    this.maxLatencyMs = null;
  }
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  const store = new SandboxStore(options.dataFile ?? ':memory:');
  try {
    return await listen(store, options);
  } catch (error) {
    store.close();
    throw error;
  }
}

async function listen(store: SandboxStore, options: SandboxOptions): Promise<SandboxHandle> {
  const now = options.now ?? (() => new Date());
  const iso = () => now().toISOString();
  const contract = OpenApiContract.load();
  const faults = new FaultController(options.faults ?? {});
  const contractViolations: ContractViolation[] = [];
  const faulted = new WeakSet<FastifyRequest>();
  const latency = latencyModel(options.latency);
  const stats = new StatsCounter(latency);
  /** When each request arrived and what latency it was given, for the counters. */
  const timing = new WeakMap<FastifyRequest, { arrivedAt: number; latencyMs?: number }>();

  const cloudPrivateKey = Buffer.from(
    store.metaOrInit('cloud_private_key', () =>
      (options.cloudKey === 'random'
        ? generateX25519KeyPair().privateKey
        : SANDBOX_DEV_CLOUD_PRIVATE_KEY
      ).toString('base64'),
    ),
    'base64',
  );
  const cloudPublicKey = x25519KeyPairFromPrivate(cloudPrivateKey).publicKey;
  const apiKey = store.metaOrInit('api_key', () => `sbx_${randomBytes(24).toString('base64url')}`);
  const seed = seedOnce(store, iso);

  const app: FastifyInstance = Fastify({
    logger: false,
    forceCloseConnections: true,
    // Errors fastify and node raise before any route or hook runs get the API's {code, message} body too.
    frameworkErrors: (error, _request, reply) => sendErrorBody(reply.raw, errorBodyOf(error)),
    clientErrorHandler: answerClientError,
    // Fastify's own 503 while closing has another body shape; requests in that window are served as usual (the
    // store closes only after the server has).
    return503OnClosing: false,
  });
  app.server.on('checkExpectation', answerExpectationFailed);

  app.setErrorHandler((error: unknown, _request, reply) => {
    if (error instanceof HttpFailure)
      return reply.code(error.status).send({ code: error.status, message: error.message });
    const body = errorBodyOf(error);
    return reply.code(body.code).send(body);
  });

  // What the routes serve, to tell a wrong method (405, or 501 for one no route serves) from a wrong path (404).
  const served: Array<{ method: string; path: RegExp }> = [];
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(served.filter((r) => r.path.test(path)).map((r) => r.method))];
    if (!served.some((r) => r.method === request.method)) {
      if (allowed.length > 0) reply.header('allow', allowed.join(', '));
      return reply.code(501).send({ code: 501, message: `method ${request.method} is not implemented` });
    }
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({
          code: 405,
          message: `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`,
        });
    }
    return reply.code(404).send({ code: 404, message: `no route ${request.method} ${path}` });
  });

  // First of all hooks: the network's delay comes before anything the cloud does, a 401 included, and the clock
  // for the counters starts when the request arrives.
  app.addHook('onRequest', async (request) => {
    const route = templateOf(request.routeOptions.url);
    const entry: { arrivedAt: number; latencyMs?: number } = { arrivedAt: performance.now() };
    timing.set(request, entry);
    if (route?.startsWith(SANDBOX_ROUTE_PREFIX) || latency.latencyMs + latency.jitterMs === 0) return;
    const delay = latency.draw();
    entry.latencyMs = delay;
    // setTimeout can fire a fraction of a millisecond early (its clock is whole milliseconds); wait out the rest
    // so a request never gets less than it was given.
    const until = entry.arrivedAt + delay;
    while (performance.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(until - performance.now()))));
    }
  });
  app.addHook('onResponse', async (request) => {
    const entry = timing.get(request);
    const route = templateOf(request.routeOptions.url) ?? NO_ROUTE;
    if (!entry || route === STATS_ROUTE) return;
    stats.add(request.method, route, performance.now() - entry.arrivedAt, entry.latencyMs);
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/health' || request.url.startsWith('/health?')) return;
    const presented = presentedCredential(request.headers, request.url);
    if (!presented.ok) return reply.code(401).send({ code: 401, message: presented.message });
    if (!sameSecret(presented.key, apiKey))
      return reply.code(401).send({ code: 401, message: 'invalid API key' });
  });

  app.addHook('onRequest', async (request, reply) => {
    const route = templateOf(request.routeOptions.url);
    if (route === undefined || route.startsWith(SANDBOX_ROUTE_PREFIX)) return;
    const decision = faults.decide(request.method, route);
    if (decision.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.latencyMs));
    const action = decision.action;
    if (!action) return;
    faulted.add(request);
    if (action.kind === 'hang') {
      // Hold the request until the client gives up (or the sandbox closes), then drop it without an answer.
      const socket = request.raw.socket;
      if (!socket.destroyed) await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      reply.hijack();
      return;
    }
    if (action.kind === 'malformed') {
      return reply.code(200).type('application/json').send('{"truncated": ');
    }
    if (action.retryAfterSeconds !== undefined) reply.header('retry-after', String(action.retryAfterSeconds));
    return reply
      .code(action.status)
      .send(action.body ?? { code: action.status, message: `sandbox fault: injected HTTP ${action.status}` });
  });

  if (options.contractCheck) {
    app.addHook('onSend', async (request, reply, payload) => {
      const route = templateOf(request.routeOptions.url);
      if (faulted.has(request) || route === undefined || !contract.hasOperation(request.method, route))
        return payload;
      let body: unknown;
      if (typeof payload === 'string' && payload.length > 0) {
        try {
          body = JSON.parse(payload);
        } catch {
          body = payload;
        }
      }
      const outcome = contract.validateResponse(request.method, route, reply.statusCode, body);
      if (!outcome.ok) {
        contractViolations.push({
          method: request.method,
          route,
          status: reply.statusCode,
          errors: outcome.errors,
        });
      }
      return payload;
    });
  }

  const validBody = (method: string, template: string, body: unknown): void => {
    const outcome = contract.validateRequestBody(method, template, body);
    if (!outcome.ok) throw new HttpFailure(400, `invalid request body: ${outcome.errors.join('; ')}`);
  };
  type Req = FastifyRequest<{
    Params: Record<string, string>;
    Querystring: Record<string, string | undefined>;
  }>;
  const route = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    template: string,
    handler: (request: Req, reply: FastifyReply) => unknown,
  ): void => {
    app.route({
      method,
      url: template.replace(/\{([^}]+)\}/g, ':$1'),
      handler: async (req, rep) => handler(req as Req, rep),
    });
    const path = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    served.push({ method, path });
    // Fastify answers HEAD for every GET route by itself.
    if (method === 'GET') served.push({ method: 'HEAD', path });
  };

  // ---- health ---------------------------------------------------------------------------------------------

  route('GET', '/health', () => ({ health: 'ok' }));

  // ---- organisations --------------------------------------------------------------------------------------

  route('GET', '/organisation', (req) => {
    const { limit, offset } = paging(req.query);
    return store.listOrganisations(limit, offset).map(organisationJson);
  });
  route('POST', '/organisation', (req, reply) => {
    validBody('POST', '/organisation', req.body);
    const { name } = req.body as Body['NewOrganisation'];
    if (name.trim().length === 0) throw new HttpFailure(400, 'name must not be empty');
    if (store.organisationByName(name))
      throw new HttpFailure(409, `an organisation named "${name}" already exists`);
    const at = iso();
    const row = { id: randomUUID(), name, createdAt: at, updatedAt: at };
    store.insertOrganisation(row);
    return reply.code(201).send(organisationJson(row));
  });
  route('GET', '/organisation/id/{id}', (req) => {
    const id = requireUuid(req.params.id, 'organisation id');
    const row = store.organisationById(id);
    if (!row) throw new HttpFailure(404, `organisation ${id} not found`);
    return organisationJson(row);
  });
  route('GET', '/organisation/name/{name}', (req) => {
    const name = req.params.name ?? '';
    const row = store.organisationByName(name);
    if (!row) throw new HttpFailure(404, `no organisation named "${name}"`);
    return organisationJson(row);
  });

  // ---- boards ---------------------------------------------------------------------------------------------

  route('GET', '/board', (req) => {
    const organisationId = requireUuid(req.query.organisationId, 'organisationId');
    const { limit, offset } = paging(req.query);
    return store.listBoards(organisationId, limit, offset).map(boardJson);
  });
  route('POST', '/board', (req, reply) => {
    validBody('POST', '/board', req.body);
    const body = req.body as Body['NewBoard'];
    if (!store.organisationById(body.organisationId)) {
      throw new HttpFailure(400, `organisation ${body.organisationId} does not exist`);
    }
    if (!KNOWN_SOCS.includes(body.soc)) throw new HttpFailure(400, `unknown soc "${body.soc}"`);
    if (store.boardByName(body.organisationId, body.name)) {
      throw new HttpFailure(409, `a board named "${body.name}" already exists in this organisation`);
    }
    const at = iso();
    const row: BoardRow = {
      id: randomUUID(),
      name: body.name,
      description: body.description,
      soc: body.soc,
      organisationId: body.organisationId,
      public: body.public ?? false,
      metadataFields: body.metadataFields ?? [],
      createdAt: at,
      updatedAt: at,
    };
    store.insertBoard(row);
    return reply.code(201).send(boardJson(row));
  });
  route('GET', '/board/id/{id}', (req) => {
    const id = requireUuid(req.params.id, 'board id');
    const row = store.boardById(id);
    if (!row) throw new HttpFailure(404, `board ${id} not found`);
    return boardJson(row);
  });

  // ---- networks -------------------------------------------------------------------------------------------

  route('GET', '/network', (req) => {
    const organisationId = requireUuid(req.query.organisationId, 'organisationId');
    const { limit, offset } = paging(req.query);
    return store
      .listNetworks(organisationId, req.query.includePublic === 'true', limit, offset)
      .map(networkJson);
  });
  route('POST', '/network', (req, reply) => {
    validBody('POST', '/network', req.body);
    const body = req.body as Body['NewNetwork'];
    if (!store.organisationById(body.organisationId)) {
      throw new HttpFailure(400, `organisation ${body.organisationId} does not exist`);
    }
    decode32(body.key, 'key');
    if (body.networkId < 0 || body.networkId > 0xffffff)
      throw new HttpFailure(400, 'networkId must be a 24-bit number');
    if (store.networkConflict(body.name, body.networkId)) {
      throw new HttpFailure(
        409,
        `a network with name "${body.name}" or networkId ${body.networkId} already exists`,
      );
    }
    const at = iso();
    const row: NetworkRow = { id: randomUUID(), ...pick(body), createdAt: at, updatedAt: at };
    store.insertNetwork(row);
    return reply.code(201).send(networkJson(row));
  });
  function pick(body: {
    name: string;
    description: string;
    key: string;
    organisationId: string;
    networkId: number;
    public: boolean;
  }) {
    const { name, description, key, organisationId, networkId } = body;
    return { name, description, key, organisationId, networkId, public: body.public };
  }

  // ---- devices --------------------------------------------------------------------------------------------

  route('GET', '/device', (req) => {
    const organisationId = requireUuid(req.query.organisationId, 'organisationId');
    const { limit, offset } = paging(req.query);
    return store.listDevices(organisationId, limit, offset).map(deviceJson);
  });
  route('POST', '/device', (req, reply) => {
    validBody('POST', '/device', req.body);
    const body = req.body as Body['NewDevice'];
    if (!MCU_ID.test(body.mcuId))
      throw new HttpFailure(400, 'mcuId must be 16 or 24 lowercase hex characters');
    if (!UUID.test(body.organisationId) || !store.organisationById(body.organisationId)) {
      throw new HttpFailure(400, `organisation ${body.organisationId} does not exist`);
    }
    const board = UUID.test(body.boardId) ? store.boardById(body.boardId) : undefined;
    if (!board) throw new HttpFailure(400, `board ${body.boardId} does not exist`);
    if (board.organisationId !== body.organisationId && !board.public) {
      throw new HttpFailure(400, `board ${board.id} belongs to another organisation and is not public`);
    }
    if (body.deviceId !== undefined) requireDeviceIdFormat(body.deviceId);
    const row = store.transaction(() => {
      const existing = store.deviceBySocAndMcuId(board.soc, body.mcuId);
      if (existing) {
        throw new HttpFailure(409, `a device with mcuId ${body.mcuId} on soc ${board.soc} already exists`);
      }
      if (body.deviceId !== undefined && store.deviceByDeviceId(body.deviceId)) {
        throw new HttpFailure(409, `deviceId ${body.deviceId} is already in use`);
      }
      const deviceId = body.deviceId ?? freshDeviceId(store);
      const at = iso();
      const row: DeviceRow = {
        id: randomUUID(),
        deviceId,
        mcuId: body.mcuId,
        soc: board.soc,
        boardId: board.id,
        organisationId: body.organisationId,
        metadata: body.metadata ?? {},
        initialDeviceState: body.initialDeviceState,
        devicePublicKey: null,
        createdAt: at,
        updatedAt: at,
      };
      store.insertDevice(row);
      return row;
    });
    return reply.code(201).send(deviceJson(row));
  });

  const deviceByDeviceId = (deviceId: string | undefined): DeviceRow => {
    requireDeviceIdFormat(deviceId ?? '');
    const row = store.deviceByDeviceId(deviceId ?? '');
    if (!row) throw new HttpFailure(404, `device ${deviceId} not found`);
    return row;
  };

  route('GET', '/device/deviceId/{deviceId}', (req) => deviceJson(deviceByDeviceId(req.params.deviceId)));
  route('GET', '/device/id/{id}', (req) => {
    const id = requireUuid(req.params.id, 'device id');
    const row = store.deviceById(id);
    if (!row) throw new HttpFailure(404, `device ${id} not found`);
    return deviceJson(row);
  });
  route('GET', '/device/soc/{soc}/mcuId/{mcuId}', (req) => {
    const soc = req.params.soc ?? '';
    const mcuId = req.params.mcuId ?? '';
    if (!MCU_ID.test(mcuId)) throw new HttpFailure(400, 'mcuId must be 16 or 24 lowercase hex characters');
    const row = store.deviceBySocAndMcuId(soc, mcuId);
    if (!row) throw new HttpFailure(404, `no device with mcuId ${mcuId} on soc ${soc}`);
    return deviceJson(row);
  });
  route('GET', '/device/deviceId/{deviceId}/state', (req) => {
    const device = deviceByDeviceId(req.params.deviceId);
    const seen = store.seen(device.deviceId);
    if (!seen) throw new HttpFailure(404, `device ${device.deviceId} not yet seen`);
    const initial = (device.initialDeviceState ?? {}) as Record<string, unknown>;
    return {
      ...initial,
      createdAt: seen.firstSeenAt,
      updatedAt: seen.lastSeenAt,
      lastRouteInterface: 'udp',
      lastRouteUdpAddress: seen.address,
      lastRouteUdpTime: seen.lastSeenAt,
      lastRoute: udpRoute(seen.address, seen.lastSeenAt, seen.sequence),
      lastRouteTime: seen.lastSeenAt,
    };
  });
  route('GET', '/device/deviceId/{deviceId}/lastRoute', (req) => {
    const device = deviceByDeviceId(req.params.deviceId);
    const seen = store.seen(device.deviceId);
    if (!seen) throw new HttpFailure(404, `device ${device.deviceId} not yet seen`);
    return udpRoute(seen.address, seen.lastSeenAt, seen.sequence);
  });

  // ---- keys -----------------------------------------------------------------------------------------------

  route('GET', '/key/publicKey', () => ({ key: cloudPublicKey.toString('base64') }));
  route('POST', '/key/sharedSecret', (req) => {
    validBody('POST', '/key/sharedSecret', req.body);
    const devicePublicKey = decode32((req.body as Body['Key']).key, 'key');
    return { key: sharedSecretWith(devicePublicKey).toString('base64') };
  });

  function sharedSecretWith(devicePublicKey: Buffer): Buffer {
    try {
      return x25519SharedSecret(cloudPrivateKey, devicePublicKey);
    } catch {
      // node refuses low-order points (the all-zero result); that is a bad key, not a server fault.
      throw new HttpFailure(400, 'key is not a usable X25519 public key');
    }
  }

  /**
   * The security state a /key/*device call relies on: the one in the request (checked, then stored) or the last
   * one stored. Checks mirror what the cloud must do: the sealed response opens under our key, answers its own
   * challenge, names this device (or the blank id a board has before its id is written), and comes from the same
   * device key as any state accepted before.
   */
  function acceptedDevicePublicKey(device: DeviceRow, provided: SecurityStateJson | undefined): Buffer {
    if (provided === undefined) {
      const stored = store.securityState(device.deviceId);
      if (stored === undefined) {
        throw new HttpFailure(
          400,
          `device ${device.deviceId} has no stored security state; send the board's securityState (challenge response) with this request`,
        );
      }
      return Buffer.from((JSON.parse(stored) as SecurityStateJson).devicePublicKey, 'base64');
    }
    const state = securityStateFromJson(provided);
    if (!state.cloudPublicKey.equals(cloudPublicKey)) {
      throw new HttpFailure(
        400,
        'security state was made for a different cloud public key (the board holds another cloud key)',
      );
    }
    const opened = openChallengeResponse(state, cloudPrivateKey);
    if (!opened.ok) throw new HttpFailure(400, `security state refused: challenge response ${opened.reason}`);
    if (opened.value.deviceId !== device.deviceId && opened.value.deviceId !== UNPROVISIONED_DEVICE_ID) {
      throw new HttpFailure(
        400,
        `security state belongs to device ${opened.value.deviceId}, not ${device.deviceId}`,
      );
    }
    if (
      device.devicePublicKey !== null &&
      !Buffer.from(device.devicePublicKey, 'base64').equals(state.devicePublicKey)
    ) {
      throw new HttpFailure(
        400,
        `security state device public key differs from the one bound to device ${device.deviceId}`,
      );
    }
    const at = iso();
    store.transaction(() => {
      store.bindDevicePublicKey(device.deviceId, state.devicePublicKey.toString('base64'), at);
      store.storeSecurityState(device.deviceId, JSON.stringify(provided), at);
    });
    return state.devicePublicKey;
  }

  const deviceKeyRequest = (template: string, body: unknown) => {
    validBody('POST', template, body);
    const { deviceId, securityState } = body as { deviceId: string; securityState?: SecurityStateJson };
    const device = deviceByDeviceId(deviceId);
    return sharedSecretWith(acceptedDevicePublicKey(device, securityState));
  };

  route('POST', '/key/sharedSecret/device', (req) => {
    const shared = deviceKeyRequest('/key/sharedSecret/device', req.body);
    return { key: shared.toString('base64') };
  });
  route('POST', '/key/derived/device', (req) => {
    const shared = deviceKeyRequest('/key/derived/device', req.body);
    const keyInterface = (req.body as Body['DeriveDeviceKeyBody']).interface;
    if (!KEY_INTERFACES.includes(keyInterface))
      throw new HttpFailure(400, `unknown interface "${keyInterface}"`);
    // Salt = today's GPS day, as devices derive per-interface keys. Which salt the real cloud uses for this
    // endpoint is an open question (infuse-facts "Keys"); the station must not rely on more than the sandbox shows.
    const key = deriveInterfaceKey(shared, keyInterface, gpsDayNumber(now()));
    shared.fill(0);
    return { key: key.toString('base64') };
  });

  // ---- MQTT -----------------------------------------------------------------------------------------------

  route('POST', '/mqtt/token', (req) => {
    validBody('POST', '/mqtt/token', req.body);
    const { organisationId, ttlSeconds } = req.body as Body['GenerateMQTTTokenBody'];
    if (!store.organisationById(organisationId))
      throw new HttpFailure(400, `organisation ${organisationId} does not exist`);
    if (ttlSeconds < 60 || ttlSeconds > 86_400)
      throw new HttpFailure(400, 'ttlSeconds must be from 60 to 86400');
    const issuedAt = now();
    return {
      token: `sbx_mqtt_${randomBytes(32).toString('base64url')}`,
      issuedAt: issuedAt.toISOString(),
      expiresAt: new Date(issuedAt.getTime() + ttlSeconds * 1000).toISOString(),
    };
  });

  // ---- sandbox-only routes (not in the OpenAPI file; see README.md) ---------------------------------------

  route('POST', '/sandbox/uplink', (req, reply) => {
    const parsed = uplinkBodySchema.safeParse(req.body);
    if (!parsed.success)
      throw new HttpFailure(400, 'uplink body needs deviceId, devicePublicKey, nonce and payload strings');
    const body = parsed.data;
    const device = deviceByDeviceId(body.deviceId);
    if (
      device.devicePublicKey !== null &&
      !Buffer.from(device.devicePublicKey, 'base64').equals(Buffer.from(body.devicePublicKey, 'base64'))
    ) {
      throw new HttpFailure(
        401,
        `uplink device public key does not match the key bound to device ${device.deviceId}`,
      );
    }
    const opened = openUplink(body, cloudPrivateKey);
    if (!opened.ok) {
      if (opened.reason === 'malformed') throw new HttpFailure(400, 'uplink is malformed');
      throw new HttpFailure(401, `uplink refused: ${opened.reason}`);
    }
    const at = iso();
    store.transaction(() => {
      store.bindDevicePublicKey(device.deviceId, body.devicePublicKey, at);
      store.recordSeen(device.deviceId, at, `${req.ip}:${req.socket.remotePort ?? 0}`);
    });
    return reply.code(204).send();
  });
  route('GET', '/sandbox/faults', () => faults.get());
  route('PUT', '/sandbox/faults', (req) => {
    const parsed = faultConfigSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw new HttpFailure(400, `invalid fault config: ${z.prettifyError(parsed.error)}`);
    faults.set(parsed.data);
    return faults.get();
  });
  route('POST', '/sandbox/faults/rules', (req) => {
    const parsed = faultRuleSchema.safeParse(req.body);
    if (!parsed.success) throw new HttpFailure(400, `invalid fault rule: ${z.prettifyError(parsed.error)}`);
    faults.addRule(parsed.data);
    return faults.get();
  });
  route('DELETE', '/sandbox/faults', (_req, reply) => {
    faults.clear();
    return reply.code(204).send();
  });
  route('GET', STATS_ROUTE, () => stats.snapshot());
  route('DELETE', STATS_ROUTE, (_req, reply) => {
    stats.reset();
    return reply.code(204).send();
  });

  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closed = false;
  return {
    url: `http://${urlHost}:${port}`,
    apiKey,
    cloudPublicKey: cloudPublicKey.toString('base64'),
    ...seed,
    faults,
    contractViolations,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      store.close();
    },
  };
}

function udpRoute(address: string, time: string, sequence: number) {
  return { interface: 'udp', interfaceData: { sequence }, udp: { address, time } };
}

/** A cloud-style id: random, never the blank all-ones id nor a locally managed ffff-prefixed one. */
function freshDeviceId(store: SandboxStore): string {
  for (;;) {
    const candidate = randomBytes(8).toString('hex');
    if (isValidDeviceId(candidate) && !store.deviceByDeviceId(candidate)) return candidate;
  }
}

/** One organisation, one nRF52840 board and one network, created on first start and reused after. */
function seedOnce(store: SandboxStore, iso: () => string): SandboxSeed {
  return store.transaction(() => {
    const organisationId = store.metaOrInit('seed_organisation_id', () => {
      const at = iso();
      const id = randomUUID();
      store.insertOrganisation({ id, name: 'Sandbox Organisation', createdAt: at, updatedAt: at });
      return id;
    });
    const boardId = store.metaOrInit('seed_board_id', () => {
      const at = iso();
      const id = randomUUID();
      store.insertBoard({
        id,
        name: 'Sandbox Board',
        description: 'Seeded sandbox board profile (nRF52840)',
        soc: 'nRF52840',
        organisationId,
        public: false,
        metadataFields: [],
        createdAt: at,
        updatedAt: at,
      });
      return id;
    });
    const networkUuid = store.metaOrInit('seed_network_uuid', () => {
      const at = iso();
      const id = randomUUID();
      store.insertNetwork({
        id,
        name: 'Sandbox Network',
        description: 'Seeded sandbox network (random id and key; never the vendor default network 0)',
        key: randomBytes(32).toString('base64'),
        organisationId,
        networkId: randomInt(1, 0x1000000),
        public: false,
        createdAt: at,
        updatedAt: at,
      });
      return id;
    });
    const network = store.networkById(networkUuid);
    if (!network) throw new Error('sandbox data is inconsistent: the seeded network is missing');
    return { organisationId, boardId, networkId: network.networkId, networkUuid };
  });
}
