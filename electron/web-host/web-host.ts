/**
 * The loopback web host: the station API for a browser on this machine. `POST /api/command` runs one command,
 * `GET /api/events` (a WebSocket) streams the snapshot and the events, and `/` serves the operator app. It adds
 * transport and nothing else: every decision about a command is the station's.
 *
 * HTTP status rule for `POST /api/command`: 4xx only when the request never reached the station (token, origin,
 * size, content type, not the `{command, input}` envelope); once it did, 200 with the station's result as is,
 * including a refusal and an unknown command name (`{ok:false, code:'UNKNOWN_COMMAND'}`).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyError, type FastifyReply } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { StationHandle } from '../station';
import { EventClient, resumePoint } from './event-stream';
import { Guard, TOKEN_COOKIE } from './guards';
import { RendererFiles } from '../renderer-files';
import { placeholderPage } from './placeholder-page';

export interface WebHostOptions {
  station: StationHandle;
  /** 0 (default): any free port. */
  port?: number;
  /** A built operator app (a folder with index.html); otherwise `/` is a placeholder page. */
  rendererDir?: string | null;
  /** Default: 32 random bytes, base64url, new on every start. */
  token?: string;
  /** Receives one line per notable happening; never a request body, never the token. */
  log?: (line: string) => void;
  /** Ping interval of the event sockets (default 15 s); a socket silent for a whole interval is dropped. */
  heartbeatMs?: number;
}

export interface WebHost {
  /** Open this in the browser: it carries the token, which the page trades for a cookie. */
  url: string;
  origin: string;
  port: number;
  /** Give it only to the operator's browser or a local client: it is the whole of the access control. */
  token: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const BODY_LIMIT = 64 * 1024;
const CLIENT_MESSAGE_LIMIT = 4 * 1024;
const CLOSE_GRACE_MS = 1_000;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

const envelopeSchema = z.strictObject({
  command: z.string().min(1).max(200),
  input: z.unknown().optional(),
});

const failure = (code: string, message: string) => ({ ok: false as const, code, message });

class HttpProblem extends Error {
  constructor(readonly statusCode: number) {
    super('http problem');
  }
}

/** A prototype key has no business in a command and could hurt whatever merges the input later. */
function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new HttpProblem(400);
  return value;
}

/** The raw path and query, split by hand: `new URL` would read `//evil/x` as a host and normalize `..` away. */
function splitUrl(url: string): { path: string; search: URLSearchParams } {
  const q = url.indexOf('?');
  return q < 0
    ? { path: url, search: new URLSearchParams() }
    : { path: url.slice(0, q), search: new URLSearchParams(url.slice(q + 1)) };
}

function isJsonContentType(header: string | undefined): boolean {
  return header?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

function isResult(value: unknown): value is { ok: boolean } {
  return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean';
}

function checkedToken(token: string | undefined): string {
  if (token === undefined) return randomBytes(32).toString('base64url');
  // It travels in a header, a cookie and a URL: base64url survives all three unescaped.
  if (!/^[A-Za-z0-9_-]{16,512}$/.test(token)) {
    throw new TypeError('web host token: 16 to 512 characters of A-Z, a-z, 0-9, "-" and "_"');
  }
  return token;
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const { station } = options;
  const log = options.log ?? (() => {});
  const token = checkedToken(options.token);
  const requestedPort = options.port ?? 0;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65_535) {
    throw new RangeError(`web host port: an integer from 0 to 65535, not ${requestedPort}`);
  }
  const files = await RendererFiles.open(options.rendererDir);
  const clients = new Set<EventClient>();
  let guard: Guard | null = null;

  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // Long hashed asset names must still reach the files route.
    routerOptions: { maxParamLength: 1_000 },
    frameworkErrors: (_error, _request, reply: FastifyReply) => {
      // Sent before any hook runs, so the headers of every other answer are set here by hand.
      void reply
        .code(400)
        .headers({ ...SECURITY_HEADERS, 'cache-control': 'no-store' })
        .send(failure('BAD_REQUEST', 'malformed request'));
    },
  });

  const internalError = (reply: FastifyReply, error: unknown) => {
    // The error's message may quote what the request carried (a PIN): its class name is all that is logged.
    log(`web host: internal error (${error instanceof Error ? error.name : typeof error})`);
    return reply.code(500).send(failure('INTERNAL_ERROR', 'the station could not answer this request'));
  };

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    // Only fastify's own errors and ours say what was wrong with the request; any other status code on an error
    // (a library's, thrown through the station) says nothing about it.
    const fromRequest = error instanceof HttpProblem || error.code?.startsWith('FST_') === true;
    const status = fromRequest ? (error.statusCode ?? 500) : 500;
    if (status === 413) {
      return reply
        .code(413)
        .send(failure('PAYLOAD_TOO_LARGE', `a request body is at most ${BODY_LIMIT} bytes`));
    }
    if (status === 415) {
      return reply.code(415).send(failure('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'));
    }
    if (status >= 400 && status < 500) {
      return reply.code(400).send(failure('BAD_REQUEST', 'the request body could not be read as JSON'));
    }
    return internalError(reply, error);
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send(failure('NOT_FOUND', 'no such resource')));

  await app.register(fastifyWebsocket, {
    options: { maxPayload: CLIENT_MESSAGE_LIMIT },
    errorHandler: (error: Error, socket: WebSocket) => {
      log(`web host: event socket failed (${error.name})`);
      socket.terminate();
    },
    // close() ends the event sockets itself, with 1001, before the server goes.
    preClose: (done) => {
      for (const client of [...clients]) client.terminate();
      done();
    },
  });

  // Registered after the websocket plugin, whose own onRequest hook is what sets `request.ws`.
  app.addHook('onRequest', (request, reply, done) => {
    guard ??= new Guard((app.server.address() as AddressInfo).port, token);
    const source = guard.checkSource(request.headers);
    if (source !== null) {
      void reply.code(source.status).send(failure(source.code, source.message));
      return;
    }
    if (request.method === 'OPTIONS') {
      void reply.code(404).send(failure('NOT_FOUND', 'no cross-origin access here'));
      return;
    }
    const { path, search } = splitUrl(request.url);
    const takesQueryToken = request.ws
      ? path === '/api/events'
      : path === '/' && (request.method === 'GET' || request.method === 'HEAD');
    const refusal = guard.checkToken({
      headers: request.headers,
      queryToken: takesQueryToken ? search.get('token') : null,
    });
    if (refusal !== null) {
      void reply.code(refusal.status).send(failure(refusal.code, refusal.message));
      return;
    }
    done();
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(SECURITY_HEADERS);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    done(null, payload);
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string, refusePrototypeKeys));
    } catch {
      done(new HttpProblem(400), undefined);
    }
  });

  app.post('/api/command', async (request, reply) => {
    if (!isJsonContentType(request.headers['content-type'])) {
      return reply.code(415).send(failure('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'));
    }
    const envelope = envelopeSchema.safeParse(request.body);
    if (!envelope.success) {
      return reply
        .code(400)
        .send(
          failure('BAD_REQUEST', 'the body must be {"command": "<name>", "input": {...}} and nothing else'),
        );
    }
    const result: unknown = await station.executeUnchecked(envelope.data.command, envelope.data.input);
    if (!isResult(result)) throw new Error('the station answered without a result');
    return reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(result));
  });

  app.route({
    method: 'GET',
    url: '/api/events',
    handler: (_request, reply) =>
      reply.code(426).header('upgrade', 'websocket').send(failure('UPGRADE_REQUIRED', 'this is a WebSocket')),
    wsHandler: (socket, request) => {
      const client = new EventClient(
        socket,
        station,
        resumePoint(splitUrl(request.url).search),
        log,
        (ended) => clients.delete(ended),
      );
      if (client.active) clients.add(client);
    },
  });

  const servePage = async (path: string, reply: FastifyReply) => {
    if (files === null) {
      if (path !== '/') return reply.code(404).send(failure('NOT_FOUND', 'no such resource'));
      return reply.type('text/html; charset=utf-8').send(placeholderPage(station.snapshot().station.name));
    }
    const file = await files.read(path);
    if (file === null) return reply.code(404).send(failure('NOT_FOUND', 'no such resource'));
    return reply.type(file.contentType).header('cache-control', file.cacheControl).send(file.body);
  };

  app.get('/', async (request, reply) => {
    if (splitUrl(request.url).search.has('token')) {
      // The token was checked on the way in; trading it for a cookie keeps it out of the address bar and history.
      return reply
        .code(302)
        .header('set-cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`)
        .header('location', '/')
        .send();
    }
    return servePage('/', reply);
  });
  app.get('/*', async (request, reply) => servePage(splitUrl(request.url).path, reply));

  try {
    await app.listen({ host: HOST, port: requestedPort });
  } catch (error) {
    await app.close();
    throw error;
  }
  const port = (app.server.address() as AddressInfo).port;
  const origin = `http://${HOST}:${port}`;
  log(`web host: listening on ${origin}/`);
  log(
    files === null
      ? 'web host: operator app not built; / is a placeholder'
      : `web host: serving ${files.folder}`,
  );

  const heartbeat = setInterval(() => {
    for (const client of [...clients]) client.heartbeat();
  }, options.heartbeatMs ?? 15_000);
  heartbeat.unref();

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(heartbeat);
      const sockets = [...app.websocketServer.clients];
      for (const client of [...clients]) client.shutdown();
      await Promise.race([
        Promise.all(sockets.map((socket) => closedPromise(socket))),
        new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref()),
      ]);
      for (const socket of sockets) socket.terminate();
      await app.close();
      log('web host: closed');
    })());

  return { url: `${origin}/?token=${token}`, origin, port, token, close };
}

function closedPromise(socket: WebSocket): Promise<void> {
  if (socket.readyState === socket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}
