import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultSecretsDir, EnvFileSecretStore, SecretStoreError } from '../../../electron/secrets/index';
import { secretFingerprint } from '../../../firmware-protocol/index';
import { tempDir } from '../../support/temp-dirs';

const posix = process.platform !== 'win32';
const user = userInfo().username;
let root: string;
let dir: string;

beforeEach(() => {
  root = tempDir('secrets-');
  dir = join(root, 'secrets');
});

async function failure(promise: Promise<unknown>): Promise<SecretStoreError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SecretStoreError) return error;
    throw error;
  }
  throw new Error('expected a SecretStoreError');
}

describe.runIf(posix)('env/file secret store', () => {
  it('creates a 0700 directory and 0600 files, and reads them back', async () => {
    const store = new EnvFileSecretStore({ dir, env: {} });
    await store.set('backend-api-key', 'ik_value-one\n');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'backend-api-key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'backend-api-key'), 'utf8')).toBe('ik_value-one');
    expect((await store.get('backend-api-key'))?.revealText()).toBe('ik_value-one');
    expect(await store.has('backend-api-key')).toBe(true);
  });

  it('a missing secret is undefined, not an error', async () => {
    const store = new EnvFileSecretStore({ dir, env: {} });
    expect(await store.get('backend-api-key')).toBeUndefined();
    expect(await store.list()).toEqual([
      { name: 'backend-api-key', source: 'missing', fingerprint: null, location: null },
      { name: 'central-database-password', source: 'missing', fingerprint: null, location: null },
      { name: 'station-signing-key', source: 'missing', fingerprint: null, location: null },
    ]);
  });

  it('the environment variable takes precedence over the file', async () => {
    const env = { STATION_SECRET_BACKEND_API_KEY: 'from-env' };
    const store = new EnvFileSecretStore({ dir, env });
    await store.set('backend-api-key', 'from-file');
    expect((await store.get('backend-api-key'))?.revealText()).toBe('from-env');
    expect(await store.list()).toEqual([
      {
        name: 'backend-api-key',
        source: 'env',
        fingerprint: secretFingerprint('from-env'),
        location: 'STATION_SECRET_BACKEND_API_KEY',
      },
      { name: 'central-database-password', source: 'missing', fingerprint: null, location: null },
      { name: 'station-signing-key', source: 'missing', fingerprint: null, location: null },
    ]);
    expect(store.envOverrides('backend-api-key')).toBe(true);
  });

  it('an empty environment variable is refused rather than falling back to the file', async () => {
    const store = new EnvFileSecretStore({ dir, env: { STATION_SECRET_BACKEND_API_KEY: '' } });
    const error = await failure(store.get('backend-api-key'));
    expect(error.message).toBe(
      'environment variable STATION_SECRET_BACKEND_API_KEY is set but empty; unset it or give it the value',
    );
  });

  it('refuses to read a 0644 file with the exact chmod to run', async () => {
    const store = new EnvFileSecretStore({ dir, env: {} });
    await store.set('backend-api-key', 'value');
    const file = join(dir, 'backend-api-key');
    chmodSync(file, 0o644);
    const error = await failure(store.get('backend-api-key'));
    expect(error.code).toBe('insecure-permissions');
    expect(error.message).toBe(
      `secret file ${file} is accessible by group or others (mode 0644); run: chmod 600 ${file}`,
    );
    const [status] = await store.list();
    expect(status).toEqual({
      name: 'backend-api-key',
      source: 'file',
      fingerprint: null,
      location: file,
      problem: error.message,
    });
  });

  it('refuses to read from a 0755 directory with the exact chmod to run', async () => {
    const store = new EnvFileSecretStore({ dir, env: {} });
    await store.set('backend-api-key', 'value');
    chmodSync(dir, 0o755);
    const error = await failure(store.get('backend-api-key'));
    expect(error.message).toBe(
      `secrets directory ${dir} is accessible by group or others (mode 0755); run: chmod 700 ${dir}`,
    );
    // Writing into it is refused the same way: the file would sit in a folder others can list and replace.
    expect((await failure(store.set('backend-api-key', 'other'))).message).toBe(error.message);
  });

  it('quotes paths with spaces in the command it suggests', async () => {
    const spaced = join(root, 'my secrets');
    mkdirSync(spaced, { mode: 0o750 });
    chmodSync(spaced, 0o750);
    const error = await failure(new EnvFileSecretStore({ dir: spaced, env: {} }).get('backend-api-key'));
    expect(error.message).toBe(
      `secrets directory ${spaced} is accessible by group or others (mode 0750); run: chmod 700 '${spaced}'`,
    );
  });

  it('refuses a symlinked secret file', async () => {
    const store = new EnvFileSecretStore({ dir, env: {} });
    await store.set('backend-api-key', 'value');
    const elsewhere = join(root, 'elsewhere');
    writeFileSync(elsewhere, 'other', { mode: 0o600 });
    const link = join(dir, 'network-key-line-1');
    symlinkSync(elsewhere, link);
    const error = await failure(store.get('network-key-line-1'));
    expect(error.message).toBe(`secret file ${link} is a symbolic link; replace it with the file itself`);
  });

  it.runIf(process.getuid?.() === 0)(
    'refuses a file owned by another user, saying the chown to run',
    async () => {
      const store = new EnvFileSecretStore({ dir, env: {} });
      await store.set('backend-api-key', 'value');
      const file = join(dir, 'backend-api-key');
      chownSync(file, 4242, 4242);
      const error = await failure(store.get('backend-api-key'));
      expect(error.code).toBe('wrong-owner');
      expect(error.message).toBe(
        `secret file ${file} is owned by uid 4242, not by ${user} (uid 0); run: chown ${user} ${file}`,
      );
    },
  );

  it('refuses unknown names and empty values', async () => {
    const store = new EnvFileSecretStore({ dir, env: {} });
    expect((await failure(store.get('root-password'))).message).toBe(
      'unknown secret "root-password"; known secrets: backend-api-key, central-database-password, station-signing-key, network-key-<label>',
    );
    expect((await failure(store.set('backend-api-key', '\n'))).message).toBe(
      'refusing to store an empty value for backend-api-key',
    );
  });

  it('lists network keys found in the directory and the environment', async () => {
    const store = new EnvFileSecretStore({ dir, env: { STATION_SECRET_NETWORK_KEY_LINE_2: 'k2' } });
    await store.set('network-key-line-1', 'k1');
    expect((await store.list()).map((s) => [s.name, s.source])).toEqual([
      ['backend-api-key', 'missing'],
      ['central-database-password', 'missing'],
      ['station-signing-key', 'missing'],
      ['network-key-line-2', 'env'],
      ['network-key-line-1', 'file'],
    ]);
  });

  it('the default directory: STATION_SECRETS_DIR, else ~/.config/infuse-station/secrets', () => {
    expect(defaultSecretsDir({ STATION_SECRETS_DIR: '/srv/secrets' }, '/home/op')).toBe('/srv/secrets');
    expect(defaultSecretsDir({}, '/home/op')).toBe('/home/op/.config/infuse-station/secrets');
  });
});
