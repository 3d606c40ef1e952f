/**
 * POST /api/command: what never reaches the station (size, content type, envelope), what comes back from it (as
 * is, 200, refusals included), and that nothing a client sends gives a 500 or stops the host.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../../electron/station-api';
import { requestFor } from '../../support/command-fuzz';
import { startWebHost, type WebHost } from '../../../electron/web-host';
import { rawRequest, WebHostClient } from '../../support/web-host-client';
import { DOUBLE_OPERATOR, StationDouble } from './station-double';

let station: StationDouble;
let host: WebHost;
let client: WebHostClient;
const logs: string[] = [];

beforeAll(async () => {
  station = new StationDouble();
  host = await startWebHost({ station, log: (line) => logs.push(line) });
  client = new WebHostClient(host.origin, host.token);
});

afterAll(async () => {
  await client.close();
  await host.close();
  // Bodies carry PINs and the token guards everything: neither may reach the log.
  for (const line of logs) {
    expect(line).not.toContain(host.token);
    expect(line).not.toContain(DOUBLE_OPERATOR.pin);
    expect(line).not.toContain('736451');
  }
});

beforeEach(() => {
  station.calls.length = 0;
  station.throwNext = null;
});

const BODY_LIMIT = 64 * 1024;

/** A station.status envelope padded to exactly `size` bytes. */
function paddedBody(size: number): string {
  const empty = JSON.stringify({ command: 'station.status', input: { pad: '' } });
  return JSON.stringify({ command: 'station.status', input: { pad: 'x'.repeat(size - empty.length) } });
}

describe('what never reaches the station', () => {
  it('a body over 64 KB: 413, with or without a Content-Length', async () => {
    const over = await client.post(paddedBody(BODY_LIMIT + 1));
    expect(over.status).toBe(413);
    expect(JSON.parse(over.text)).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });

    const chunked = await rawRequest(host.port, {
      method: 'POST',
      path: '/api/command',
      headers: {
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
        authorization: `Bearer ${host.token}`,
      },
      body: paddedBody(4 * BODY_LIMIT),
    });
    expect(chunked.status).toBe(413);

    // Exactly at the limit it is read and handed over (the pad is not an input station.status takes).
    const at = await client.post(paddedBody(BODY_LIMIT));
    expect(at.status).toBe(200);
    expect(JSON.parse(at.text)).toMatchObject({ ok: false, code: 'BAD_INPUT' });
    expect(station.calls).toHaveLength(1);
  });

  it('a body that is not JSON by its content type: 415', async () => {
    const body = JSON.stringify({ command: 'station.status' });
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'application/json-patch+json',
      'text/json',
    ]) {
      const answer = await client.post(body, { 'content-type': type });
      expect(answer.status, type).toBe(415);
      expect(JSON.parse(answer.text)).toMatchObject({ ok: false, code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
    const untyped = await rawRequest(host.port, {
      method: 'POST',
      path: '/api/command',
      headers: { authorization: `Bearer ${host.token}` },
    });
    expect(untyped.status).toBe(415);
    expect(station.calls).toEqual([]);
  });

  it('takes application/json with parameters and in any case', async () => {
    for (const type of ['application/json; charset=utf-8', 'Application/JSON']) {
      const answer = await client.post(JSON.stringify({ command: 'station.status' }), {
        'content-type': type,
      });
      expect(answer.status, type).toBe(200);
    }
  });

  it('malformed JSON or a body that is not the {command, input} envelope: 400 BAD_REQUEST', async () => {
    for (const body of [
      '',
      '{"command":',
      '{command: "station.status"}',
      "{'command': 'station.status'}",
      'null',
      '[]',
      '"station.status"',
      '42',
      '{}',
      '{"command": 5}',
      '{"command": ""}',
      '{"command": null, "input": {}}',
      '{"command": "station.status", "input": {}, "extra": 1}',
      '{"command": "station.status", "__proto__": {"admin": true}}',
      '{"command": "session.login", "input": {"__proto__": {"roles": ["admin"]}}}',
      `{"command": "${'a'.repeat(201)}"}`,
    ]) {
      const answer = await client.post(body);
      expect(answer.status, body).toBe(400);
      expect(JSON.parse(answer.text)).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    }
    expect(station.calls).toEqual([]);
  });

  it('other methods and paths: 404, never handled as a command', async () => {
    const auth = { authorization: `Bearer ${host.token}` };
    for (const [method, path] of [
      ['GET', '/api/command'],
      ['PUT', '/api/command'],
      ['DELETE', '/api/command'],
      ['POST', '/api/commands'],
      ['POST', '/api/command/extra'],
    ] as const) {
      const answer = await rawRequest(host.port, { method, path, headers: auth });
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
    expect(station.calls).toEqual([]);
  });
});

describe("the station's answer", () => {
  it("a valid command returns the double's result as is", async () => {
    const status = await client.command('station.status', {});
    expect(status.status).toBe(200);
    expect(status.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(status.body).toEqual({ ok: true, snapshot: station.snapshot() });

    const login = await client.command('session.login', DOUBLE_OPERATOR);
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ ok: true, session: { operatorId: 'alice', method: 'pin' } });
    expect(station.calls.at(-1)).toEqual({ name: 'session.login', input: DOUBLE_OPERATOR });
  });

  it('an input is passed on untouched; no input is passed as undefined', async () => {
    await client.command('station.status');
    expect(station.calls.at(-1)).toEqual({ name: 'station.status', input: undefined });
  });

  it('a refused command is still 200, with ok:false', async () => {
    const answer = await client.command('session.login', { operatorId: 'alice', pin: '736451' });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ok: false, code: 'LOGIN_FAILED' });
  });

  it('bad input: 200 {ok:false, code:BAD_INPUT}', async () => {
    for (const [command, input] of [
      ['session.login', { operatorId: 'alice' }],
      ['session.login', { operatorId: 'alice', pin: 582947 }],
      ['station.status', { unexpected: true }],
      ['batch.open', { name: '' }],
      ['slot.start', []],
    ] as const) {
      const answer = await client.command(command, input);
      expect(answer.status, command).toBe(200);
      expect(answer.body).toMatchObject({ ok: false, code: 'BAD_INPUT' });
    }
  });

  it("an unknown command name is the station's to refuse: 200 {ok:false, code:UNKNOWN_COMMAND}", async () => {
    for (const name of ['no.such.command', 'toString', '__proto__', 'constructor']) {
      const answer = await client.command(name, {});
      expect(answer.status, name).toBe(200);
      expect(answer.body).toMatchObject({ ok: false, code: 'UNKNOWN_COMMAND' });
    }
  });

  it('a station that throws: 500 INTERNAL_ERROR without details, and the host carries on', async () => {
    station.throwNext = new Error(`database exploded while checking PIN ${DOUBLE_OPERATOR.pin}`);
    const answer = await client.post(JSON.stringify({ command: 'session.login', input: DOUBLE_OPERATOR }));
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.text)).toEqual({
      ok: false,
      code: 'INTERNAL_ERROR',
      message: expect.any(String) as string,
    });
    expect(answer.text).not.toContain('exploded');
    expect(answer.text).not.toContain(DOUBLE_OPERATOR.pin);
    expect(answer.text).not.toMatch(/at .*\.ts/);
    expect(logs.some((line) => line.includes('internal error'))).toBe(true);

    expect((await client.command('station.status')).status).toBe(200);
  });

  it("a thrown error's own status code does not leak into the answer", async () => {
    station.throwNext = Object.assign(new Error('backend said 404'), {
      statusCode: 404,
      code: 'E_NOT_FOUND',
    });
    const answer = await client.post(JSON.stringify({ command: 'station.status' }));
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.text)).toMatchObject({ ok: false, code: 'INTERNAL_ERROR' });
  });

  it('a station that answers without a result object: 500, not a broken body', async () => {
    const spy = station.executeUnchecked.bind(station);
    station.executeUnchecked = async () => undefined as never;
    try {
      expect((await client.post(JSON.stringify({ command: 'station.status' }))).status).toBe(500);
    } finally {
      station.executeUnchecked = spy;
    }
    expect((await client.command('station.status')).status).toBe(200);
  });
});

describe('fuzz', () => {
  it('for every command, 500 random bodies never give a 500, and the host keeps answering', async () => {
    const seen = new Map<number, number>();
    for (const name of COMMAND_NAMES) {
      await fc.assert(
        fc.asyncProperty(requestFor(name), async ({ body, type }) => {
          const answer = await client.post(body, { 'content-type': type });
          seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
          expect([200, 400, 415]).toContain(answer.status);
          const parsed = JSON.parse(answer.text) as { ok: unknown; code?: unknown };
          expect(typeof parsed.ok).toBe('boolean');
          if (answer.status !== 200 || parsed.ok === false) expect(typeof parsed.code).toBe('string');
        }),
        { numRuns: 500 },
      );
    }
    const total = [...seen.values()].reduce((sum, count) => sum + count, 0);
    expect(total).toBe(COMMAND_NAMES.length * 500);
    // The fuzz reached the station most of the time, not only the envelope checks.
    expect(seen.get(200) ?? 0).toBeGreaterThan(total / 2);
    expect(await client.command('station.status')).toMatchObject({ status: 200, body: { ok: true } });
  }, 60_000);
});
