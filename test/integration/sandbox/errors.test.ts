/**
 * The sandbox takes exactly the credentials the OpenAPI file describes, and every error it sends, including the
 * ones fastify and node's HTTP server produce on their own, has the API's `{code, message}` body.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { AUTH_MODES, InfuseClient, OPENAPI_FILE } from '../../../electron/backend';
import {
  ACCEPTED_CREDENTIALS,
  MISSING_KEY_MESSAGE,
  startSandbox,
  type SandboxHandle,
} from '../../../electron/sandbox';

let sb: SandboxHandle;
let port: number;
beforeAll(async () => {
  sb = await startSandbox({ contractCheck: true });
  port = Number(new URL(sb.url).port);
});
afterEach(() => {
  expect(sb.contractViolations).toEqual([]);
});
afterAll(async () => {
  await sb.close();
});

interface RawReply {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: unknown;
}

/**
 * One request as bytes on a fresh connection, and the reply as the server wrote it: fetch would refuse or
 * rewrite several of these requests (a bad URL, an unknown method, a 20 KB header) before they left.
 */
function raw(request: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('no reply within 5 s')), 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may reset the connection right after its reply (it stops reading an unparsable request).
    socket.on('error', (error) => (chunks.length > 0 ? undefined : reject(error)));
    socket.on('close', () => {
      clearTimeout(timer);
      const reply = Buffer.concat(chunks).toString('utf8');
      const split = reply.indexOf('\r\n\r\n');
      const [statusLine = '', ...headerLines] = reply.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const text = reply.slice(split + 4);
      let body: unknown;
      try {
        body = text.length > 0 ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text, body });
    });
  });
}

const auth = () => `x-api-key: Bearer ${sb.apiKey}\r\n`;
const get = (path: string, headers = auth()) =>
  raw(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`);

/** The API's error body and nothing else, with code = the status, as JSON. */
function expectErrorReply(reply: RawReply, status: number, message?: string): void {
  expect(reply.status).toBe(status);
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  expect(reply.body).toEqual({ code: status, message: message ?? expect.any(String) });
}

describe('auth: exactly the forms the OpenAPI file describes', () => {
  const openapi = parseYaml(readFileSync(OPENAPI_FILE, 'utf8')) as {
    security: Array<Record<string, unknown>>;
    components: {
      securitySchemes: Record<string, { type: string; in: string; name: string; description: string }>;
    };
  };

  it('every accepted form is a security scheme of the file, and every scheme the file requires is accepted', () => {
    const schemes = openapi.components.securitySchemes;
    for (const form of ACCEPTED_CREDENTIALS) {
      const scheme = schemes[form.scheme];
      expect(scheme).toMatchObject({ type: 'apiKey', in: 'header', name: form.header });
      // The value's shape is only in the scheme's description: the word must be the one recorded there.
      expect(scheme?.description).toMatch(new RegExp(`\\b${form.word} [<{]?\\w`));
    }
    const required = openapi.security.flatMap((requirement) => Object.keys(requirement));
    expect(required.length).toBeGreaterThan(0);
    for (const name of required) expect(ACCEPTED_CREDENTIALS.map((c) => c.scheme)).toContain(name);
  });

  it("the station's three auth modes are the accepted forms, and each works end to end", async () => {
    expect(ACCEPTED_CREDENTIALS.map((c) => c.authMode)).toEqual([...AUTH_MODES]);
    for (const authMode of AUTH_MODES) {
      const client = new InfuseClient({
        baseUrl: sb.url,
        apiKey: sb.apiKey,
        authMode,
        retry: { maxAttempts: 1 },
      });
      const listed = await client.listOrganisations();
      expect(listed.ok, authMode).toBe(true);
    }
  });

  it('each accepted form, with the scheme word in any case (HTTP compares it without case)', async () => {
    for (const header of [
      `x-api-key: Bearer ${sb.apiKey}`,
      `Authorization: Bearer ${sb.apiKey}`,
      `Authorization: ApiKey ${sb.apiKey}`,
      `authorization: bearer ${sb.apiKey}`,
      `X-API-KEY: BEARER ${sb.apiKey}`,
    ]) {
      expect((await get('/organisation', `${header}\r\n`)).status, header).toBe(200);
    }
  });

  it('a wrong header name is a missing key', async () => {
    for (const header of [
      `api-key: Bearer ${sb.apiKey}`,
      `x-api-token: Bearer ${sb.apiKey}`,
      `x-auth-token: ${sb.apiKey}`,
      `Proxy-Authorization: Bearer ${sb.apiKey}`,
    ]) {
      expectErrorReply(await get('/organisation', `${header}\r\n`), 401, MISSING_KEY_MESSAGE);
    }
    expect(MISSING_KEY_MESSAGE).toBe(
      'missing API key: send x-api-key: Bearer <key>, Authorization: Bearer <key> or Authorization: ApiKey <key>',
    );
  });

  it('a wrong scheme word, or the key without one, is refused', async () => {
    const refused: Array<[string, string]> = [
      [
        `Authorization: Basic ${sb.apiKey}`,
        'unsupported Authorization scheme: use "Bearer <key>" or "ApiKey <key>"',
      ],
      [
        `Authorization: Token ${sb.apiKey}`,
        'unsupported Authorization scheme: use "Bearer <key>" or "ApiKey <key>"',
      ],
      [
        `Authorization: ${sb.apiKey}`,
        'unsupported Authorization scheme: use "Bearer <key>" or "ApiKey <key>"',
      ],
      [`Authorization: Bearer`, 'unsupported Authorization scheme: use "Bearer <key>" or "ApiKey <key>"'],
      [`x-api-key: ${sb.apiKey}`, 'unsupported x-api-key value: use "Bearer <key>"'],
      [`x-api-key: ApiKey ${sb.apiKey}`, 'unsupported x-api-key value: use "Bearer <key>"'],
      [`x-api-key: Bearer ${sb.apiKey} extra`, 'unsupported x-api-key value: use "Bearer <key>"'],
    ];
    for (const [header, message] of refused) {
      expectErrorReply(await get('/organisation', `${header}\r\n`), 401, message);
    }
  });

  it('a key in the query string is refused, even next to a good header', async () => {
    for (const name of ['api_key', 'apiKey', 'key', 'token', 'access_token']) {
      const message =
        `an API key in the URL (query parameter "${name}") is refused, as URLs end up in logs: ` +
        MISSING_KEY_MESSAGE.replace('missing API key: ', '');
      expectErrorReply(await get(`/organisation?${name}=${sb.apiKey}`, ''), 401, message);
      expectErrorReply(await get(`/organisation?limit=5&${name}=${sb.apiKey}`), 401, message);
    }
  });

  it('two credentials at once are refused, and a wrong key is a wrong key', async () => {
    expectErrorReply(
      await get('/organisation', `${auth()}Authorization: ApiKey ${sb.apiKey}\r\n`),
      401,
      'send the API key in one header, not in both x-api-key and Authorization',
    );
    expectErrorReply(await get('/organisation', 'x-api-key: Bearer sbx_wrong\r\n'), 401, 'invalid API key');
  });
});

describe('every error is {code, message}', () => {
  it('431: request headers over the limit (a 20 KB header), answered before fastify sees the request', async () => {
    const reply = await raw(
      `GET /organisation HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth()}x-padding: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expectErrorReply(reply, 431, 'request headers are larger than 16384 bytes');
    expect(reply.headers.connection).toBe('close');
  });

  it('400: a request node cannot parse', async () => {
    const reply = await raw(
      `POST /organisation HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth()}Content-Length: ten\r\n\r\n`,
    );
    expectErrorReply(reply, 400, 'malformed HTTP request (HPE_INVALID_CONTENT_LENGTH)');
  });

  it('400: a malformed URL (broken percent-encoding)', async () => {
    expectErrorReply(await get('/%E0%A4%A'), 400);
    expectErrorReply(await get('/device/deviceId/%E0%A4%A'), 400);
  });

  it('501: a method the sandbox serves nowhere, whether node knows it (PROPFIND) or not (BREW)', async () => {
    const propfind = await raw(
      `PROPFIND /device HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth()}Connection: close\r\n\r\n`,
    );
    expectErrorReply(propfind, 501, 'method PROPFIND is not implemented');
    expect(propfind.headers.allow).toBe('GET, HEAD, POST');
    expectErrorReply(
      await raw(`BREW /device HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
      501,
      'unknown HTTP method',
    );
  });

  it('405: a method served elsewhere but not on this path, with Allow', async () => {
    const reply = await raw(
      `DELETE /device HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth()}Connection: close\r\n\r\n`,
    );
    expectErrorReply(reply, 405, 'DELETE is not allowed on /device; use GET, HEAD, POST');
    expect(reply.headers.allow).toBe('GET, HEAD, POST');
  });

  it('404: an unknown route', async () => {
    expectErrorReply(await get('/nowhere'), 404, 'no route GET /nowhere');
  });

  it('400: a malformed JSON body, and an empty one', async () => {
    const post = (body: string) =>
      raw(
        `POST /organisation HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth()}Content-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    expectErrorReply(await post('{"name": '), 400);
    expectErrorReply(await post(''), 400);
  });

  it('413: a body over the limit', async () => {
    const reply = await raw(
      `POST /organisation HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth()}Content-Type: application/json\r\n` +
        `Content-Length: ${2 * 1024 * 1024}\r\nConnection: close\r\n\r\n{"name": "`,
    );
    expectErrorReply(reply, 413);
  });

  it('415: a body of a type the API does not take', async () => {
    const body = '<organisation/>';
    const reply = await raw(
      `POST /organisation HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth()}Content-Type: application/xml\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expectErrorReply(reply, 415);
  });

  it('417: an Expect other than 100-continue', async () => {
    const reply = await raw(
      `POST /organisation HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth()}Expect: 200-ok\r\nContent-Type: application/json\r\n` +
        `Content-Length: 2\r\n\r\n{}`,
    );
    expectErrorReply(reply, 417, 'unsupported Expect: 200-ok; only 100-continue is understood');
  });

  it('the sandbox still serves after all of these', async () => {
    expect((await get('/organisation')).status).toBe(200);
  });
});
