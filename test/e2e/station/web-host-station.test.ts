/**
 * The web host in front of a real station (sandbox backend, virtual boards on PTYs): the access rules, 500 random
 * bodies per command that never give a 500 or stop the station, and a provisioning run whose secrets (API key,
 * network key, derived keys, MQTT tokens, the web token) appear nowhere in the event stream or the snapshots.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvFileSecretStore } from '../../../electron/secrets';
import { openStation, type Station } from '../../../electron/station';
import { COMMAND_NAMES, type Snapshot } from '../../../electron/station-api';
import { startWebHost, type WebHost } from '../../../electron/web-host';
import { loadStationConfig } from '../../../station-config';
import { requestFor } from '../../support/command-fuzz';
import { tempDir } from '../../support/temp-dirs';
import { rawRequest, WebHostClient, type EventSocket } from '../../support/web-host-client';

let station: Station;
let host: WebHost;
let client: WebHostClient;
let socket: EventSocket;

beforeAll(async () => {
  const loaded = loadStationConfig(undefined, {});
  if (!loaded.ok) throw new Error('sandbox config');
  const dir = tempDir('station-web-real-');
  station = await openStation({
    config: loaded.config,
    paths: loaded.paths,
    secrets: new EnvFileSecretStore({ dir: join(dir, 'secrets') }),
    dataDir: dir,
    sim: 2,
  });
  host = await startWebHost({ station });
  client = new WebHostClient(host.origin, host.token);
  socket = client.events();
  await socket.opened;
}, 60_000);

afterAll(async () => {
  await socket?.close();
  await client?.close();
  await host?.close();
  await station?.close();
});

const command = async (name: string, input: unknown) => (await client.command(name, input)).body;

describe('the web host in front of a real station', () => {
  it('refuses requests without the token, from another origin, for another host, or too large', async () => {
    const body = JSON.stringify({ command: 'station.status', input: {} });
    const post = (headers: Record<string, string>, payload = body) =>
      rawRequest(host.port, { method: 'POST', path: '/api/command', headers, body: payload });
    expect((await post({ 'content-type': 'application/json' })).status).toBe(401);
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${host.token}` };
    expect((await post({ ...auth, origin: 'http://evil.example' })).status).toBe(403);
    expect((await post({ ...auth, host: 'evil.example' })).status).toBe(403);
    expect((await post(auth, 'x'.repeat(70 * 1024))).status).toBe(413);
    const ok = await post({ ...auth, origin: host.origin });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBeUndefined();
    expect(new URL(host.url).hostname).toBe('127.0.0.1');
  });

  it(
    'provisions through the API, and no secret of the run reaches the stream or a snapshot',
    { timeout: 60_000 },
    async () => {
      expect(await command('session.login', { operatorId: 'operator', pin: '1111' })).toMatchObject({
        ok: true,
      });
      expect(await command('batch.open', { name: 'web-secrets' })).toMatchObject({ ok: true });
      await socket.waitFor(
        (messages) =>
          messages.filter((m) => m.type === 'event' && m.event.kind === 'unit.finished').length >= 2,
        40_000,
      );
      const snapshot = ((await command('station.status', {})) as { snapshot: Snapshot }).snapshot;
      expect(snapshot.slots.map((s) => s.state)).toEqual(['passed', 'passed']);

      const secrets = [host.token, station.environment.sandbox!.apiKey];
      for (const port of station.environment.ports) {
        const credentials = port.virtual!.board.flash.credentials!;
        for (const value of [credentials.networkKey, credentials.derivedKey, credentials.mqttToken]) {
          if (typeof value === 'string' && value.length > 0) {
            secrets.push(value, Buffer.from(value, 'base64').toString('hex'));
          }
        }
        secrets.push(port.virtual!.board.flash.identity.devicePrivateKey);
      }
      expect(secrets.length).toBeGreaterThan(6);
      const seen = JSON.stringify({ messages: socket.messages, snapshot });
      for (const secret of secrets)
        expect(seen.includes(secret), `secret ${secret.slice(0, 6)}…`).toBe(false);
    },
  );

  it(
    'for every command, 500 random bodies never give a 500, and the station keeps answering',
    { timeout: 240_000 },
    async () => {
      await command('session.login', { operatorId: 'admin', pin: '4444' });
      const statuses = new Map<number, number>();
      for (const name of COMMAND_NAMES) {
        await fc.assert(
          fc.asyncProperty(requestFor(name), async ({ body, type }) => {
            const answer = await client.post(body, { 'content-type': type });
            statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
            expect([200, 400, 415], answer.text).toContain(answer.status);
            const parsed = JSON.parse(answer.text) as { ok: unknown; code?: unknown };
            expect(typeof parsed.ok).toBe('boolean');
          }),
          { numRuns: 500 },
        );
      }
      expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(COMMAND_NAMES.length * 500);
      const status = await command('station.status', {});
      expect(status).toMatchObject({ ok: true, snapshot: { stopped: null } });
    },
  );
});
