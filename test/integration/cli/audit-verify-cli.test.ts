/** `station audit verify` without --db checks the audit file of the station config it is given. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SANDBOX_CONFIG_PATH, STATION_CONFIG_ENV } from '../../../station-config/index';
import { openStore, STATION } from '../../support/audit';
import { runStation } from '../../support/cli';
import { tempDir as makeTempDir } from '../../support/temp-dirs';

const tempDir = () => makeTempDir('station-audit-cli-');

/** A clean environment: a STATION_CONFIG in the developer's shell must not decide which file gets checked. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { [STATION_CONFIG_ENV]: _ignored, ...rest } = process.env;
  return { ...rest, HOME: tempDir(), ...extra };
}

/** The sandbox config with its data in a temp folder, and an audit trail of one event there. */
function stationWithTrail(): { config: string; db: string } {
  const dir = tempDir();
  const config = JSON.parse(readFileSync(SANDBOX_CONFIG_PATH, 'utf8')) as {
    $schema?: string;
    station: { id: string; dataDir: string; databaseFile: string };
  };
  delete config.$schema;
  config.station.id = STATION;
  config.station.dataDir = join(dir, 'data');
  const file = join(dir, 'station.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  mkdirSync(config.station.dataDir);
  const db = join(config.station.dataDir, config.station.databaseFile);
  const store = openStore(db);
  store.append({ kind: 'operator.login', operator: 'ann', details: { role: 'operator' } });
  store.close();
  return { config: file, db };
}

describe('station audit verify without --db', () => {
  it('verifies the database of the config given with --config', async () => {
    const { config } = stationWithTrail();
    const run = await runStation(['audit', 'verify', '--config', config], { env: env() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^intact: 1 event, last hash [0-9a-f]{16}, /);
  });

  it('uses $STATION_CONFIG when --config is not given', async () => {
    const { config } = stationWithTrail();
    const run = await runStation(['audit', 'verify', '--json'], {
      env: env({ [STATION_CONFIG_ENV]: config }),
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, events: 1 });
  });

  it('falls back to the sandbox config, whose database is under HOME', async () => {
    const environment = env();
    const run = await runStation(['audit', 'verify'], { env: environment });
    const db = join(environment.HOME!, '.local/share/infuse-station/sandbox/station.sqlite');
    expect(run).toEqual({ code: 2, stdout: '', stderr: `station: ${db}: no such file\n` });
  });

  it('exits 2 with the problems when the config does not load', async () => {
    const dir = tempDir();
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ configVersion: 1 }));
    const run = await runStation(['audit', 'verify', '--config', invalid], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      new RegExp(
        `^station: \\d+ problems? in ${invalid}; the station will not provision with this config\\n  `,
      ),
    );

    const missing = join(dir, 'missing.json');
    const unreadable = await runStation(['audit', 'verify', '--config', missing], { env: env() });
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(new RegExp(`^station: cannot read config file ${missing}: `));
  });

  it('prefers --db over the config', async () => {
    const { db } = stationWithTrail();
    const run = await runStation(
      ['audit', 'verify', '--db', db, '--config', join(tempDir(), 'missing.json')],
      {
        env: env(),
      },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^intact: 1 event, /);
  });
});
