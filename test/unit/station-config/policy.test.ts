/** Every refusal of the production policy, with its exact text. */
import { describe, expect, it } from 'vitest';
import { checkStationConfig, formatProblem, type ConfigProblem } from '../../../station-config/index';
import { at, production, sandbox, type JsonObject } from './fixtures';

const problemsOf = (config: JsonObject): ConfigProblem[] => checkStationConfig(config).problems;
const lines = (config: JsonObject): string[] => problemsOf(config).map(formatProblem);

const PLAIN_TEXT =
  'holds a plain-text secret; secrets must be referenced from the secret store, never written in the config ' +
  '(e.g. "apiKeySecret": "backend-api-key")';

describe('plain-text secrets are refused', () => {
  it('an apiKey field in the backend', () => {
    const config = production();
    at(config, 'backend').apiKey = 'some-key-value';
    expect(lines(config)).toEqual([`$.backend.apiKey: ${PLAIN_TEXT}`]);
  });

  it.each(['key', 'networkKey', 'token', 'password', 'sharedSecret'])('a "%s" string anywhere', (field) => {
    const config = production();
    at(config, 'recipes.0.network')[field] = 'AAECAwQF';
    expect(lines(config)).toEqual([`$.recipes[0].network.${field}: ${PLAIN_TEXT}`]);
  });

  it('a JWT-style Infuse key as a value, even under an innocent name', () => {
    const config = production();
    at(config, 'station').name = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdGF0aW9uIn0.c2lnbmF0dXJl';
    expect(lines(config)).toEqual([`$.station.name: ${PLAIN_TEXT}`]);
  });

  it('an IAM key (ik_...) in the secret reference itself', () => {
    const config = production();
    at(config, 'backend').apiKeySecret = 'ik_0123456789abcdefghij';
    expect(lines(config)).toEqual([`$.backend.apiKeySecret: ${PLAIN_TEXT}`]);
  });

  it('a base64 32-byte key such as the default network key', () => {
    const config = production();
    at(config, 'recipes.0.metadata.3').from = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
    expect(lines(config)).toContain(`$.recipes[0].metadata[3].from: ${PLAIN_TEXT}`);
  });

  it('credentials in the backend URL', () => {
    const config = production();
    at(config, 'backend').baseUrl = 'https://station:hunter2@proxy.acme.example';
    expect(lines(config)).toContain(`$.backend.baseUrl: ${PLAIN_TEXT}`);
  });

  it('in sandbox configs too', () => {
    const config = sandbox();
    at(config, 'backend').token = 'abc';
    expect(lines(config)).toEqual([`$.backend.token: ${PLAIN_TEXT}`]);
  });

  it('a reference to a known secret is fine', () => {
    const config = production();
    at(config, 'recipes.0').network = { id: 4660, keySecret: 'network-key-line-1' };
    expect(problemsOf(config)).toEqual([]);
  });
});

describe("the vendor's public default network", () => {
  const DEFAULT_NETWORK =
    "$.recipes[0].network.id: the vendor's public default network (id 0, key 00..1f) is insecure; " +
    'create a network for production (e.g. "network": { "create": true, "name": "acme-line-1" })';

  it('is refused in a production recipe', () => {
    const config = production();
    at(config, 'recipes.0').network = { id: 0 };
    expect(lines(config)).toEqual([DEFAULT_NETWORK]);
  });

  it('is allowed in the sandbox', () => {
    const config = sandbox();
    at(config, 'recipes.0').network = { id: 0 };
    expect(problemsOf(config)).toEqual([]);
  });

  it('is reported even when the rest of the recipe is broken', () => {
    const config = production();
    at(config, 'recipes.0').network = { id: 0 };
    at(config, 'recipes.0').soc = 'nRF00000';
    expect(lines(config)).toContain(DEFAULT_NETWORK);
  });
});

describe('backend URL', () => {
  const INSECURE =
    '$.backend.baseUrl: must use https:// unless the backend is on this machine (localhost, 127.0.0.0/8, ::1); ' +
    'otherwise the API key crosses the network in clear text (e.g. "https://api.infuse-iot.com")';

  it.each([
    'http://api.infuse-iot.com',
    'http://10.0.0.5:8080/infuse',
    'http://128.0.0.1',
    'http://localhost.evil.example',
  ])('refuses %s', (url) => {
    const config = production();
    at(config, 'backend').baseUrl = url;
    expect(lines(config)).toEqual([INSECURE]);
  });

  it.each([
    'http://localhost:8080',
    'http://127.0.0.1',
    'http://127.10.20.30:9000/api',
    'http://[::1]:3000',
    'https://proxy.acme.example/infuse',
  ])('accepts %s', (url) => {
    const config = production();
    at(config, 'backend').baseUrl = url;
    expect(problemsOf(config)).toEqual([]);
  });

  it('refuses a URL with a query string', () => {
    const config = production();
    at(config, 'backend').baseUrl = 'https://proxy.acme.example/?tenant=1';
    expect(lines(config)).toEqual([
      '$.backend.baseUrl: must be an absolute http(s) URL without query, fragment or user name (e.g. "https://api.infuse-iot.com")',
    ]);
  });
});

describe('MQTT token TTL', () => {
  const TTL =
    '$.recipes[0].credentials.mqttToken.ttlSeconds: MQTT token TTL must be between 60 and 86400 seconds ' +
    '(the limits of the Infuse cloud) (e.g. 3600)';

  it.each([0, 59, 86401, -5])('refuses %i seconds', (ttl) => {
    const config = production();
    at(config, 'recipes.0.credentials').mqttToken = { ttlSeconds: ttl };
    expect(lines(config)).toEqual([TTL]);
  });

  it.each([60, 86400])('accepts %i seconds', (ttl) => {
    const config = production();
    at(config, 'recipes.0.credentials').mqttToken = { ttlSeconds: ttl };
    expect(problemsOf(config)).toEqual([]);
  });

  it('applies in the sandbox too (the cloud refuses other values anyway)', () => {
    const config = sandbox();
    at(config, 'recipes.0.credentials').mqttToken = { ttlSeconds: 90000 };
    expect(lines(config)).toEqual([TTL]);
  });
});

describe('sandbox parts in production', () => {
  it('refuses the sandbox backend', () => {
    const config = production();
    config.backend = { mode: 'sandbox' };
    expect(lines(config)).toEqual([
      '$.backend.mode: a production station cannot use the built-in sandbox backend; its devices exist nowhere else (e.g. "remote")',
    ]);
  });

  it('refuses virtual boards', () => {
    const config = production();
    at(config, 'slots').virtualBoards = { count: 2, soc: 'nRF52840' };
    expect(lines(config)).toEqual([
      '$.slots.virtualBoards: virtual boards are for the sandbox; a production station provisions real boards only ' +
        '(e.g. remove "virtualBoards" and list real ports or USB filters in "discovery")',
      '$.slots.virtualBoards: virtual boards only run against the sandbox backend; they would create fake devices in a real cloud ' +
        '(e.g. "backend": { "mode": "sandbox" })',
    ]);
  });
});

it('reports every problem at once, in document order', () => {
  const config = production();
  at(config, 'backend').baseUrl = 'http://proxy.acme.example';
  at(config, 'station').timezone = 'Mars/Olympus';
  at(config, 'recipes.0').network = { id: 0 };
  at(config, 'recipes.0.credentials').mqttToken = { ttlSeconds: 10 };
  expect(problemsOf(config).map((p) => p.path)).toEqual([
    '$.station.timezone',
    '$.backend.baseUrl',
    '$.recipes[0].network.id',
    '$.recipes[0].credentials.mqttToken.ttlSeconds',
  ]);
});
