/** Structure and consistency problems: what each says, where it points, and the example it gives. */
import { describe, expect, it } from 'vitest';
import { checkStationConfig, formatProblem, jsonPath } from '../../../station-config/index';
import { at, production, sandbox, type JsonObject } from './fixtures';

const lines = (config: unknown): string[] => checkStationConfig(config).problems.map(formatProblem);

describe('structure', () => {
  it('a non-object config', () => {
    for (const value of [null, 42, 'config', [], true]) {
      const result = checkStationConfig(value);
      expect(result.valid).toBe(false);
      expect(result.problems).toHaveLength(1);
      expect(result.problems[0]?.path).toBe('$');
    }
    expect(lines([])).toEqual([
      '$: must be an object, not a list (e.g. see station-config/examples/production.template.jsonc)',
    ]);
  });

  it('missing sections say "is required" with an example of the section', () => {
    expect(lines({ configVersion: 1, environment: 'production' })).toEqual([
      '$.station: is required (e.g. {"id":"line1-station2","name":"Line 1 / Station 2","timezone":"Europe/Berlin","dataDir":"/var/lib/infuse-station"})',
      '$.backend: is required (e.g. {"mode":"remote","baseUrl":"https://api.infuse-iot.com","authMode":"x-api-key-bearer"})',
      '$.slots: is required (e.g. {"discovery":{"usb":[{"vendorId":"1915","productId":"c00a"}]},"start":"on-plug"})',
      '$.recipes: is required (e.g. [{"id":"sensor-v2"}])',
    ]);
  });

  it('a wrong type names what was expected and what was found', () => {
    const config = production();
    at(config, 'backend').timeoutMs = '15000';
    at(config, 'slots').maxConcurrent = 2.5;
    expect(lines(config)).toEqual([
      '$.backend.timeoutMs: must be a number, not a string (e.g. 15000)',
      '$.slots.maxConcurrent: must be a whole number, not a number with a fraction (e.g. 16)',
    ]);
  });

  it('an unknown key is a problem, with a suggestion for a typo', () => {
    const config = production();
    at(config, 'station').timeZone = 'UTC';
    expect(lines(config)).toEqual([
      '$.station.timeZone: is not a known setting; did you mean "timezone"? ' +
        '(e.g. one of the settings here: id, name, line, site, timezone, dataDir, databaseFile, logDir)',
    ]);
  });

  it('enums list their values; the discriminator of a union too', () => {
    const config = production();
    at(config, 'backend').authMode = 'bearer';
    at(config, 'recipes.0.communicationCheck').mode = 'ping';
    expect(lines(config)).toEqual([
      '$.backend.authMode: must be one of "x-api-key-bearer", "authorization-bearer", "authorization-apikey" (e.g. "x-api-key-bearer")',
      '$.recipes[0].communicationCheck.mode: must be one of "off", "state", "last-route" (e.g. "state")',
    ]);
  });

  it('ranges and sizes', () => {
    const config = production();
    at(config, 'slots').baudRate = 300;
    at(config, 'recipes.0').allowedFirmware = [];
    at(config, 'station').name = '';
    expect(lines(config)).toEqual([
      '$.station.name: must not be empty (e.g. "Line 1 / Station 2")',
      '$.slots.baudRate: must be at least 1200 (e.g. 115200)',
      '$.recipes[0].allowedFirmware: must list at least one item (e.g. [">=1.4.0 <2"])',
    ]);
  });

  it('a time zone Intl does not know', () => {
    const config = production();
    at(config, 'station').timezone = 'Europe/Atlantis';
    expect(lines(config)).toEqual([
      '$.station.timezone: must be an IANA time zone name (e.g. "Europe/Berlin")',
    ]);
  });

  it('USB ids are 4 hex digits without 0x', () => {
    const config = production();
    at(config, 'slots.discovery.usb.0').vendorId = '0x1915';
    expect(lines(config)).toEqual([
      '$.slots.discovery.usb[0].vendorId: must be 4 hex digits without "0x", as lsusb shows it (e.g. "1915")',
    ]);
  });

  it('organisation and board take exactly one of id or name', () => {
    const config = production();
    at(config, 'recipes.0').organisation = { id: '3fa85f64-5717-4562-b3fc-2c963f66afa6', name: 'Acme' };
    at(config, 'recipes.0').board = {};
    expect(lines(config)).toEqual([
      '$.recipes[0].organisation: give exactly one of "id" or "name" of the organisation (e.g. {"name":"Acme"})',
      '$.recipes[0].board: give exactly one of "id" or "name" of the board profile (e.g. {"name":"acme-sensor-v2"})',
    ]);
  });

  it('a network is an id or a create, not both', () => {
    const config = production();
    at(config, 'recipes.0').network = { id: 7, create: true, name: 'x' };
    expect(lines(config)).toEqual([
      '$.recipes[0].network: give either "id" (an existing network) or "create": true with a "name", not both ' +
        '(e.g. {"create":true,"name":"acme-line-1"})',
    ]);
  });

  it('network ids are 24-bit', () => {
    const config = production();
    at(config, 'recipes.0').network = { id: 0x1000000 };
    expect(lines(config)).toEqual(['$.recipes[0].network.id: must be at most 16777215 (e.g. 4660)']);
  });

  it('secret references must name a known secret', () => {
    const config = production();
    at(config, 'backend').apiKeySecret = 'my-key';
    expect(lines(config)).toEqual([
      '$.backend.apiKeySecret: must name a secret the station knows: backend-api-key or network-key-<label> (e.g. "backend-api-key")',
    ]);
  });

  it('firmware rules are semver ranges or {exact}', () => {
    const config = production();
    at(config, 'recipes.0').allowedFirmware = ['>=1.4 <<2'];
    expect(lines(config)).toEqual([
      '$.recipes[0].allowedFirmware[0]: must be a semver range such as ">=1.4.0 <2" or "1.4.2"; use {"exact": "..."} for other version strings (e.g. ">=1.4.0 <2")',
    ]);
  });

  it('a scanning pattern that does not compile', () => {
    const config = production();
    at(config, 'scanning.formats.0').pattern = 'SN:(?<serialNumber>[A-Z';
    expect(lines(config)).toEqual([
      '$.scanning.formats[0].pattern: must be a valid regular expression (e.g. "SN:(?<serialNumber>[A-Z0-9]{10})")',
    ]);
  });
});

describe('consistency', () => {
  it('duplicate recipe ids', () => {
    const config = production();
    const recipes = config.recipes as JsonObject[];
    recipes.push(structuredClone(recipes[0]!));
    expect(lines(config)).toEqual(['$.recipes[1].id: repeats the id of $.recipes[0] (e.g. "sensor-v3")']);
  });

  it('credentials.network and network must agree', () => {
    const config = production();
    at(config, 'recipes.0.credentials').network = false;
    expect(lines(config)).toEqual([
      '$.recipes[0].network: is set but credentials.network is false, so it would never be written; ' +
        'set credentials.network to true or this to null (e.g. null)',
    ]);
    const other = production();
    at(other, 'recipes.0').network = null;
    expect(lines(other)).toEqual([
      '$.recipes[0].credentials.network: is true but the recipe has no network; set "network" or make this false (e.g. false)',
    ]);
  });

  it('metadata from a scan field no format fills', () => {
    const config = production();
    (at(config, 'recipes.0').metadata as JsonObject[]).push({ name: 'IMEI', from: 'scan:imei' });
    expect(lines(config)).toEqual([
      '$.recipes[0].metadata[4].from: reads scan field "imei", which no scanning format fills ' +
        '(e.g. a format in "scanning.formats" with "fills": ["imei"])',
    ]);
  });

  it('metadata from an unset station field, and repeated metadata names', () => {
    const config = production();
    delete at(config, 'station').line;
    (at(config, 'recipes.0').metadata as JsonObject[]).push({ name: 'Serial Number', from: 'const:x' });
    expect(lines(config)).toEqual([
      '$.recipes[0].metadata[2].from: reads station.line, which the config does not set (e.g. "station": { "line": "..." })',
      '$.recipes[0].metadata[4].name: repeats the name of $.recipes[0].metadata[0] (e.g. "Hardware Revision")',
    ]);
  });

  it('scanning groups, fills and example must agree', () => {
    const config = production();
    const format = at(config, 'scanning.formats.0');
    format.pattern = 'SN:(?<serialNumber>[A-Z0-9]{10})/(?<lot>\\d+)';
    format.fills = ['serialNumber', 'macAddress'];
    format.example = 'SN:short';
    expect(lines(config)).toEqual([
      '$.scanning.formats[0].pattern: names group "lot", which is not a known field (serialNumber, workOrder, productCode, hardwareRevision, batchCode, macAddress, imei, customerReference) (e.g. "SN:(?<serialNumber>[A-Z0-9]{10})")',
      '$.scanning.formats[0].fills[1]: "macAddress" has no named group (?<macAddress>...) in the pattern (e.g. "macAddress")',
      '$.scanning.formats[0].example: does not match the pattern (the whole scan must match) (e.g. "SN:AB12345678" for the pattern "SN:(?<serialNumber>[A-Z0-9]{10})")',
    ]);
  });

  it('on-scan needs a scanning format; slots need a way to find boards', () => {
    const config = production();
    at(config, 'scanning').formats = [];
    at(config, 'slots').discovery = { ports: [], usb: [] };
    at(config, 'recipes.0').metadata = [];
    expect(lines(config)).toEqual([
      '$.slots.discovery: finds no boards: list serial ports or USB filters (e.g. { "usb": [{ "vendorId": "1915", "productId": "c00a" }] })',
      '$.slots.start: is "on-scan" but no scanning format is defined (e.g. "on-plug", or add a format to "scanning.formats")',
    ]);
  });

  it('named slots: a name once per slot, a USB slot name only on a filter pinned to one adapter', () => {
    const config = production();
    at(config, 'slots').discovery = {
      ports: [
        { name: 'left-1', path: '/dev/serial/by-path/a' },
        { name: 'left-1', path: '/dev/serial/by-path/b' },
        '/dev/serial/by-path/a',
      ],
      usb: [{ vendorId: '1915', productId: 'c00a', name: 'right-1' }],
    };
    expect(lines(config)).toEqual([
      '$.slots.discovery.ports[1].name: repeats the slot name of $.slots.discovery.ports[0] (e.g. a name of its own for each slot)',
      '$.slots.discovery.ports[2]: repeats $.slots.discovery.ports[0] (e.g. each port once)',
      '$.slots.discovery.usb[0].name: names a slot but the filter has no serialNumber, so it may match several adapters (e.g. { "vendorId": "1915", "productId": "c00a", "serialNumber": "000683123456", "name": "left-1" })',
    ]);
    at(config, 'slots').discovery = {
      ports: [{ name: 'left 1', path: '/dev/serial/by-path/a' }, '/dev/serial/by-path/b'],
      usb: [{ vendorId: '1915', productId: 'c00a', serialNumber: '000683123456', name: 'right-1' }],
    };
    expect(lines(config)).toEqual([]);
  });

  it('virtual boards must make boards some recipe accepts', () => {
    const config = sandbox();
    at(config, 'slots.virtualBoards').soc = 'rp2040';
    expect(lines(config)).toEqual([
      '$.slots.virtualBoards.soc: is "rp2040" but no recipe makes a board with that SoC (e.g. "nRF52840")',
    ]);
  });
});

describe('valid configs', () => {
  it('come back parsed with defaults filled in', () => {
    const config = production();
    delete at(config, 'backend').timeoutMs;
    delete at(config, 'recipes.0').mcuIdByteOrder;
    const result = checkStationConfig(config);
    expect(result.valid).toBe(true);
    if (!result.valid) return;
    expect(result.config.backend.timeoutMs).toBe(15000);
    expect(result.config.recipes[0]?.mcuIdByteOrder).toBe('as-reported');
    expect(result.config.slots.baudRate).toBe(115200);
  });
});

it('jsonPath quotes keys that are not identifiers', () => {
  expect(jsonPath(['recipes', 0, 'network', 'id'])).toBe('$.recipes[0].network.id');
  expect(jsonPath(['a b', 'x"y'])).toBe('$["a b"]["x\\"y"]');
});
