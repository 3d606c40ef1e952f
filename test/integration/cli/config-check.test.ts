import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runStation, tempHome } from './run-station';

const SANDBOX = join(REPO_ROOT, 'station-config/sandbox.json');
const TEMPLATE = join(REPO_ROOT, 'station-config/examples/production.template.jsonc');

function writeConfig(name: string, value: unknown): string {
  const path = join(tempHome(), name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

describe('station config check', () => {
  it.each([SANDBOX, TEMPLATE])('exits 0 for the example %s', (file) => {
    const run = runStation(['config', 'check', file]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: valid \\((sandbox|production), 1 recipe, sha256 [0-9a-f]{16}\\)\\n$`,
      ),
    );
    expect(run.stderr).toBe('');
  });

  it('without a file checks $STATION_CONFIG, else the built-in sandbox', () => {
    expect(runStation(['config', 'check']).stdout).toContain(`${SANDBOX}: valid (sandbox`);
    expect(runStation(['config', 'check'], { env: { STATION_CONFIG: TEMPLATE } }).stdout).toContain(
      `${TEMPLATE}: valid (production`,
    );
  });

  it('lists every problem, then a count line, and exits 1', () => {
    const file = writeConfig('bad.json', {
      configVersion: 1,
      environment: 'production',
      station: { id: 'Line 1', name: 'x', timezone: 'UTC', dataDir: '/d' },
      backend: { mode: 'remote', baseUrl: 'http://infuse.example', authMode: 'x-api-key-bearer' },
      slots: { discovery: { ports: ['/dev/ttyACM0'] } },
      recipes: [],
    });
    const run = runStation(['config', 'check', file]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(
      `${file}:\n` +
        '  $.station.id: a station id must be 1 to 64 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. "line1-station2")\n' +
        '  $.backend.baseUrl: must use https:// unless the backend is on this machine (localhost, 127.0.0.0/8, ::1); otherwise the API key crosses the network in clear text (e.g. "https://api.infuse-iot.com")\n' +
        '  $.recipes: must list at least one item (e.g. [{"id":"sensor-v2"}])\n',
    );
    expect(run.stderr).toBe(
      `station: 3 problems in ${file}; the station will not provision with this config\n`,
    );
  });

  it('--json prints {valid, problems}', () => {
    const bad = runStation(['config', 'check', writeConfig('bad.json', { configVersion: 2 }), '--json']);
    expect(bad.status).toBe(1);
    const parsed = JSON.parse(bad.stdout) as {
      valid: boolean;
      problems: Array<{ path: string; problem: string; example: string }>;
    };
    expect(parsed.valid).toBe(false);
    expect(parsed.problems[0]).toEqual({ path: '$.configVersion', problem: 'must be 1', example: '1' });
    const good = runStation(['config', 'check', SANDBOX, '--json']);
    expect(good.status).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({ valid: true, problems: [] });
  });

  it('a syntax error reports line:column', () => {
    const file = writeConfig('syntax.json', '{\n  "configVersion": 1,\n  "environment" "sandbox"\n}\n');
    const run = runStation(['config', 'check', file]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(
      `${file}:\n  $: JSON syntax error at 3:17: expected ":" (e.g. { "station": { "id": "line1-station2" } })\n`,
    );
  });

  it.each([
    ['deep.json', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['deep.jsonc', '// deep\n' + '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)],
  ])('refuses %s nested 100,000 deep with a message, not a stack overflow', (name, text) => {
    const file = writeConfig(name, text);
    const run = runStation(['config', 'check', file]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(
      `${file}:\n  $: nested deeper than 64 levels: a station config is at most a few levels deep (e.g. station-config/sandbox.json)\n`,
    );
    expect(run.stderr).toBe(
      `station: 1 problem in ${file}; the station will not provision with this config\n`,
    );
  });

  it('exits 2 for an unreadable file, saying which and why', () => {
    const missing = join(tempHome(), 'missing.json');
    const run = runStation(['config', 'check', missing]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`station: cannot read config file ${missing}: no such file\n`);
  });
});

describe('station config effective', () => {
  it('prints the effective config with secret references masked and its SHA-256', () => {
    const run = runStation(['config', 'effective', TEMPLATE]);
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { sha256: string; config: { backend: { apiKeySecret: string } } };
    expect(out.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(out.config.backend.apiKeySecret).toBe('[secret backend-api-key]');
  });
});
