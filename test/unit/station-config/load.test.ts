import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkConfigFile,
  checkConfigText,
  describeLoadFailure,
  formatProblem,
  loadStationConfig,
  MAX_CONFIG_BYTES,
  MAX_CONFIG_DEPTH,
  resolveStationPaths,
  SANDBOX_CONFIG_PATH,
} from '../../../station-config/index';
import { tempDir } from '../../support/temp-dirs';
import { production } from './fixtures';

const dir = tempDir('station-config-');
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const textLines = (text: string, jsonc = false) =>
  checkConfigText(text, { jsonc }).problems.map(formatProblem);

describe('syntax', () => {
  it('a syntax error is one problem with line:column', () => {
    expect(textLines('{\n  "configVersion": 1\n  "environment": "sandbox"\n}')).toEqual([
      '$: JSON syntax error at 3:3: expected "," (e.g. { "station": { "id": "line1-station2" } })',
    ]);
  });

  it('comments are refused in .json with a hint, accepted in .jsonc', () => {
    const text = JSON.stringify(production(), null, 2).replace('{', '{\n  // the station\n');
    expect(textLines(text)).toEqual([
      '$: JSON syntax error at 2:3: comments are not allowed in a .json file (e.g. rename the file to .jsonc to allow comments)',
    ]);
    expect(textLines(text, true)).toEqual([]);
  });

  it('a trailing comma is allowed only in .jsonc', () => {
    const text = JSON.stringify(production()).replace(/}$/, ',}');
    expect(textLines(text)[0]).toMatch(
      /^\$: JSON syntax error at 1:\d+: expected a property name in double quotes/,
    );
    expect(textLines(text, true)).toEqual([]);
  });

  it('an empty file', () => {
    expect(textLines('  \n')).toEqual(['$: the file is empty (e.g. station-config/sandbox.json)']);
  });

  it('a key set twice is a problem (JSON readers keep the last one silently)', () => {
    const text = JSON.stringify(production(), null, 2).replace(
      '"timezone": "Asia/Shanghai",',
      '"timezone": "Asia/Shanghai",\n    "timezone": "UTC",',
    );
    expect(textLines(text)).toEqual([
      '$.station.timezone: is set twice (at 10:5 and 11:5); only the last would count (e.g. each setting once)',
    ]);
  });

  it('a byte-order mark is tolerated', () => {
    expect(textLines('\uFEFF' + JSON.stringify(production()))).toEqual([]);
  });
});

describe('files', () => {
  it('an unreadable file says which file and why', () => {
    const missing = join(dir, 'nope.json');
    expect(checkConfigFile(missing)).toEqual({
      ok: false,
      message: `cannot read config file ${missing}: no such file`,
    });
    expect(checkConfigFile(dir)).toEqual({
      ok: false,
      message: `cannot read config file ${dir}: it is a directory`,
    });
  });

  it('.jsonc files may hold comments', () => {
    const path = write('station.jsonc', '// hi\n' + JSON.stringify(production()));
    const checked = checkConfigFile(path);
    expect(checked.ok && checked.result.valid).toBe(true);
  });
});

describe('loadStationConfig', () => {
  it('uses the sandbox example when no file is given and STATION_CONFIG is unset', () => {
    const loaded = loadStationConfig(undefined, {});
    expect(loaded.ok).toBe(true);
    expect(loaded.source).toEqual({ kind: 'default-sandbox', path: SANDBOX_CONFIG_PATH });
    expect(loaded.ok && loaded.config.environment).toBe('sandbox');
  });

  it('uses STATION_CONFIG when set, and the given file over it', () => {
    const a = write('a.json', JSON.stringify(production()));
    const b = write(
      'b.json',
      JSON.stringify({ ...production(), station: { ...(production().station as object), id: 'b' } }),
    );
    const fromEnv = loadStationConfig(undefined, { STATION_CONFIG: a });
    expect(fromEnv.source).toEqual({ kind: 'file', path: a });
    const given = loadStationConfig(b, { STATION_CONFIG: a });
    expect(given.ok && given.config.station.id).toBe('b');
  });

  it('returns the problems of an invalid config instead of throwing', () => {
    const path = write('bad.json', JSON.stringify({ ...production(), environment: 'prod' }));
    const loaded = loadStationConfig(path, {});
    expect(loaded.ok).toBe(false);
    expect(!loaded.ok && loaded.reason === 'invalid' && loaded.problems.map(formatProblem)).toEqual([
      '$.environment: must be one of "production", "sandbox" (e.g. "production")',
    ]);
    const missing = loadStationConfig(join(dir, 'missing.json'), {});
    expect(!missing.ok && missing.reason).toBe('unreadable');
  });

  it('resolves dataDir against the config folder and "~", the rest against dataDir', () => {
    const loaded = loadStationConfig(write('paths.json', JSON.stringify(production())), {});
    if (!loaded.ok) throw new Error('expected a valid config');
    const config = structuredClone(loaded.config);
    config.station.dataDir = 'data';
    config.station.logDir = '/var/log/station';
    expect(resolveStationPaths(config, '/etc/station', '/home/op')).toEqual({
      dataDir: '/etc/station/data',
      databaseFile: '/etc/station/data/station.sqlite',
      logDir: '/var/log/station',
    });
    config.station.dataDir = '~/station';
    expect(resolveStationPaths(config, '/etc/station', '/home/op').dataDir).toBe('/home/op/station');
  });
});

describe('describeLoadFailure', () => {
  it('gives the lines the app shows, the same as the CLI', () => {
    const path = write('refused.json', JSON.stringify({ ...production(), environment: 'prod' }));
    const loaded = loadStationConfig(path, {});
    if (loaded.ok) throw new Error('expected a refusal');
    expect(describeLoadFailure(loaded)).toEqual([
      `1 problem in ${path}; the station will not provision with this config`,
      '  $.environment: must be one of "production", "sandbox" (e.g. "production")',
    ]);
    const missing = loadStationConfig(join(dir, 'gone.json'), {});
    if (missing.ok) throw new Error('expected a refusal');
    expect(describeLoadFailure(missing)).toEqual([
      `cannot read config file ${join(dir, 'gone.json')}: no such file`,
    ]);
  });
});

describe('depth and size bounds', () => {
  const TOO_DEEP =
    '$: nested deeper than 64 levels: a station config is at most a few levels deep (e.g. station-config/sandbox.json)';
  const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  const objects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

  it('a file nested 100,000 deep is one problem at $, in .json and .jsonc, not a stack overflow', () => {
    expect(MAX_CONFIG_DEPTH).toBe(64);
    expect(textLines(arrays(100_000))).toEqual([TOO_DEEP]);
    expect(textLines(objects(100_000), true)).toEqual([TOO_DEEP]);
    // Unclosed: refused for its depth before the parser would recurse into it.
    expect(textLines('[{"a":'.repeat(50_000))).toEqual([TOO_DEEP]);
  });

  it('through checkConfigFile and loadStationConfig', () => {
    for (const [name, text] of [
      ['deep.json', arrays(100_000)],
      ['deep.jsonc', `// deep\n${objects(100_000)}`],
    ] as const) {
      const path = write(name, text);
      const checked = checkConfigFile(path);
      expect(checked.ok && checked.result.problems.map(formatProblem)).toEqual([TOO_DEEP]);
      const loaded = loadStationConfig(path, {});
      expect(!loaded.ok && loaded.reason === 'invalid' && loaded.problems.map(formatProblem)).toEqual([
        TOO_DEEP,
      ]);
    }
  });

  it('64 levels are read (and checked as usual), 65 are refused', () => {
    const at64 = textLines(`{"extra":${arrays(63)}}`);
    expect(at64).not.toContain(TOO_DEEP);
    expect(at64.length).toBeGreaterThan(0);
    expect(textLines(`{"extra":${arrays(64)}}`)).toEqual([TOO_DEEP]);
  });

  it('brackets inside strings and comments are not nesting', () => {
    const config = production();
    (config.scanning as { badScanMessage: string }).badScanMessage = '[{'.repeat(100);
    const text = `// ${'{['.repeat(100)}\n/* ${'['.repeat(100)} */\n${JSON.stringify(config)}`;
    expect(textLines(text, true)).toEqual([]);
  });

  it('a file over MAX_CONFIG_BYTES is not read', () => {
    const path = write('huge.json', `"${'x'.repeat(MAX_CONFIG_BYTES)}"`);
    expect(checkConfigFile(path)).toEqual({
      ok: false,
      message: `cannot read config file ${path}: it is ${MAX_CONFIG_BYTES + 2} bytes; a station config is a few kilobytes`,
    });
  });
});
