import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretFingerprint } from '../../../firmware-protocol/index';
import { REPO_ROOT, runStation, tempHome, type StationRun } from './run-station';

const SECRET = 'ik_Sup3rS3cretStationKey-0123456789';
const FINGERPRINT = secretFingerprint(SECRET);

function secretsDir(): string {
  return join(tempHome(), 'secrets');
}

describe('station secret set', () => {
  it('reads the value from stdin, trims one newline, stores it 0600 in a 0700 directory', () => {
    const dir = secretsDir();
    const run = runStation(['secret', 'set', 'backend-api-key', '--secrets-dir', dir], {
      input: `${SECRET}\n`,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(
      `stored backend-api-key in ${join(dir, 'backend-api-key')} (fingerprint ${FINGERPRINT})\n`,
    );
    expect(readFileSync(join(dir, 'backend-api-key'), 'utf8')).toBe(SECRET);
    expect(statSync(join(dir, 'backend-api-key')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('uses STATION_SECRETS_DIR when --secrets-dir is not given', () => {
    const dir = secretsDir();
    const run = runStation(['secret', 'set', 'backend-api-key'], {
      input: SECRET,
      env: { STATION_SECRETS_DIR: dir },
    });
    expect(run.status).toBe(0);
    expect(readFileSync(join(dir, 'backend-api-key'), 'utf8')).toBe(SECRET);
  });

  it('defaults to ~/.config/infuse-station/secrets', () => {
    const home = tempHome();
    expect(runStation(['secret', 'set', 'backend-api-key'], { input: SECRET, home }).status).toBe(0);
    expect(readFileSync(join(home, '.config/infuse-station/secrets/backend-api-key'), 'utf8')).toBe(SECRET);
  });

  it.each([[['backend-api-key', SECRET]], [['backend-api-key', `--value=${SECRET}`]]])(
    'refuses a value on the command line (%j) without echoing it',
    (args) => {
      const run = runStation(['secret', 'set', ...args, '--secrets-dir', secretsDir()]);
      expect(run.status).toBe(2);
      expect(run.stderr).toBe(
        'station: secret values are not taken from the command line (shell history and the process list would keep them); ' +
          `pipe the value instead: printf '%s' "$VALUE" | station secret set backend-api-key\n`,
      );
      expect(run.stdout + run.stderr).not.toContain(SECRET);
    },
  );

  it('refuses an empty value and an unknown name', () => {
    const empty = runStation(['secret', 'set', 'backend-api-key', '--secrets-dir', secretsDir()], {
      input: '\n',
    });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toBe('station: refusing to store an empty value for backend-api-key\n');
    const unknown = runStation(['secret', 'set', 'root-password', '--secrets-dir', secretsDir()], {
      input: 'x',
    });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe(
      'station: unknown secret "root-password"; known secrets: backend-api-key, central-database-password, station-signing-key, network-key-<label>\n',
    );
  });

  it('refuses a network key that is not the base64 of 32 bytes, and stores nothing', () => {
    const dir = secretsDir();
    const notAKey = randomBytes(16).toString('base64');
    const run = runStation(['secret', 'set', 'network-key-line-1', '--secrets-dir', dir], {
      input: `${notAKey}\n`,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'station: the secret "network-key-line-1" is not the base64 of a 32-byte network key: store it again with `station secret set network-key-line-1`\n',
    );
    expect(run.stderr).not.toContain(notAKey);
    expect(existsSync(join(dir, 'network-key-line-1'))).toBe(false);
  });

  it('stores a network key that is the base64 of 32 bytes', () => {
    const dir = secretsDir();
    const key = randomBytes(32).toString('base64');
    const run = runStation(['secret', 'set', 'network-key-line-1', '--secrets-dir', dir], {
      input: `${key}\n`,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(
      `stored network-key-line-1 in ${join(dir, 'network-key-line-1')} (fingerprint ${secretFingerprint(key)})\n`,
    );
    expect(readFileSync(join(dir, 'network-key-line-1'), 'utf8')).toBe(key);
  });

  it('notes when the environment overrides the stored file', () => {
    const run = runStation(['secret', 'set', 'backend-api-key', '--secrets-dir', secretsDir()], {
      input: SECRET,
      env: { STATION_SECRET_BACKEND_API_KEY: 'other' },
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(
      'note: STATION_SECRET_BACKEND_API_KEY is set in this environment and takes precedence over the file\n',
    );
  });
});

describe('station secret status', () => {
  it('says where each secret comes from and its fingerprint', () => {
    const dir = secretsDir();
    expect(runStation(['secret', 'status', '--secrets-dir', dir]).stdout).toBe(
      `secrets directory: ${dir}\nbackend-api-key  missing\ncentral-database-password  missing\nstation-signing-key  missing\n`,
    );
    runStation(['secret', 'set', 'backend-api-key', '--secrets-dir', dir], { input: SECRET });
    const file = runStation(['secret', 'status', '--secrets-dir', dir]);
    expect(file.status).toBe(0);
    expect(file.stdout).toBe(
      `secrets directory: ${dir}\nbackend-api-key  file  ${join(dir, 'backend-api-key')}  fingerprint ${FINGERPRINT}\ncentral-database-password  missing\nstation-signing-key  missing\n`,
    );
    const env = runStation(['secret', 'status', '--secrets-dir', dir, '--json'], {
      env: { STATION_SECRET_BACKEND_API_KEY: 'from-env' },
    });
    expect(JSON.parse(env.stdout)).toEqual({
      secretsDir: dir,
      secrets: [
        {
          name: 'backend-api-key',
          source: 'env',
          fingerprint: secretFingerprint('from-env'),
          location: 'STATION_SECRET_BACKEND_API_KEY',
        },
        { name: 'central-database-password', source: 'missing', fingerprint: null, location: null },
        { name: 'station-signing-key', source: 'missing', fingerprint: null, location: null },
      ],
    });
  });

  it('reports a file others can read as unusable, with the chmod to run, and exits 1', () => {
    const dir = secretsDir();
    runStation(['secret', 'set', 'backend-api-key', '--secrets-dir', dir], { input: SECRET });
    const file = join(dir, 'backend-api-key');
    chmodSync(file, 0o644);
    const run = runStation(['secret', 'status', '--secrets-dir', dir]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(
      `secrets directory: ${dir}\nbackend-api-key  file  ${file}\n` +
        `  unusable: secret file ${file} is accessible by group or others (mode 0644); run: chmod 600 ${file}\n` +
        'central-database-password  missing\nstation-signing-key  missing\n',
    );
    expect(run.stderr).toBe('station: 1 secret(s) unusable: backend-api-key\n');
  });
});

describe('no command prints a secret value', () => {
  const encodings = [
    SECRET,
    Buffer.from(SECRET).toString('hex'),
    Buffer.from(SECRET).toString('base64'),
    Buffer.from(SECRET).toString('base64url'),
    Buffer.from(SECRET).toString('base64').slice(4, 24), // a fragment, as a partial dump would show
  ];

  function expectNoSecret(run: StationRun): void {
    const output = run.stdout + run.stderr;
    for (const encoded of encodings) expect(output).not.toContain(encoded);
  }

  it('set, status, check and effective, with the secret in a file, in the environment and pasted into a config', () => {
    const home = tempHome();
    const dir = join(home, 'secrets');
    const pasted = join(home, 'pasted.json');
    const template = JSON.parse(
      runStation(['config', 'effective', join(REPO_ROOT, 'station-config/sandbox.json')]).stdout,
    ) as { config: Record<string, Record<string, unknown>> };
    template.config.backend!.apiKey = SECRET;
    writeFileSync(pasted, JSON.stringify(template.config));
    const env = { STATION_SECRETS_DIR: dir };
    const withEnv = { ...env, STATION_SECRET_BACKEND_API_KEY: SECRET };
    const runs = [
      runStation(['secret', 'set', 'backend-api-key'], { input: SECRET, env, home }),
      runStation(['secret', 'set', 'backend-api-key', '--json'], { input: SECRET, env: withEnv, home }),
      runStation(['secret', 'status'], { env, home }),
      runStation(['secret', 'status', '--json'], { env: withEnv, home }),
      runStation(['config', 'check', join(REPO_ROOT, 'station-config/examples/production.template.jsonc')], {
        env: withEnv,
        home,
      }),
      runStation(['config', 'check', pasted], { env: withEnv, home }),
      runStation(['config', 'check', pasted, '--json'], { env: withEnv, home }),
      runStation(
        ['config', 'effective', join(REPO_ROOT, 'station-config/examples/production.template.jsonc')],
        { env: withEnv, home },
      ),
      runStation(['secret', 'set', 'backend-api-key', SECRET], { env, home }),
    ];
    expect(runs.map((r) => r.status)).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 2]);
    expect(runs[5]!.stdout).toContain('$.backend.apiKey: holds a plain-text secret');
    runs.forEach(expectNoSecret);
  });
});
