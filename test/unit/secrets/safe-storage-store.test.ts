import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ENCRYPTION_UNAVAILABLE_MESSAGE,
  PLAIN_TEXT_BACKEND_MESSAGE,
  SafeStorageSecretStore,
  SecretStoreError,
  type SafeStorageLike,
} from '../../../electron/secrets/index';
import { secretFingerprint } from '../../../firmware-protocol/index';
import { tempDir } from '../../support/temp-dirs';

/** A stand-in for Electron's safeStorage: XOR "encryption" is enough to prove the file never holds the plain text. */
function fakeSafeStorage(options: { available?: boolean; backend?: string } = {}): SafeStorageLike {
  const xor = (data: Buffer) => Buffer.from(data.map((b) => b ^ 0x5a));
  return {
    isEncryptionAvailable: () => options.available ?? true,
    encryptString: (text) => xor(Buffer.from(`enc:${text}`, 'utf8')),
    decryptString: (data) => xor(data).toString('utf8').replace(/^enc:/, ''),
    ...(options.backend ? { getSelectedStorageBackend: () => options.backend! } : {}),
  };
}

const newDir = () => join(tempDir('safe-storage-'), 'secrets');

async function failure(promise: Promise<unknown>): Promise<SecretStoreError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SecretStoreError) return error;
    throw error;
  }
  throw new Error('expected a SecretStoreError');
}

describe('safeStorage secret store', () => {
  it('stores encrypted, owner-only, and reads back', async () => {
    const dir = newDir();
    const store = new SafeStorageSecretStore({
      safeStorage: fakeSafeStorage({ backend: 'gnome_libsecret' }),
      dir,
      platform: 'linux',
    });
    await store.set('backend-api-key', 'ik_the-key\n');
    const file = join(dir, 'backend-api-key.enc');
    expect(readFileSync(file).toString('utf8')).not.toContain('the-key');
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await store.get('backend-api-key'))?.revealText()).toBe('ik_the-key');
    expect(await store.list()).toEqual([
      {
        name: 'backend-api-key',
        source: 'keychain',
        fingerprint: secretFingerprint('ik_the-key'),
        location: file,
      },
      { name: 'central-database-password', source: 'missing', fingerprint: null, location: null },
      { name: 'station-signing-key', source: 'missing', fingerprint: null, location: null },
    ]);
  });

  it('refuses when encryption is not available', async () => {
    const store = new SafeStorageSecretStore({
      safeStorage: fakeSafeStorage({ available: false }),
      dir: newDir(),
    });
    for (const attempt of [store.get('backend-api-key'), store.set('backend-api-key', 'x'), store.list()]) {
      const error = await failure(attempt);
      expect(error.code).toBe('encryption-unavailable');
      expect(error.message).toBe(
        'the OS keychain is not available to the station (Electron safeStorage cannot encrypt); the station will not keep secrets unencrypted',
      );
      expect(error.message).toBe(ENCRYPTION_UNAVAILABLE_MESSAGE);
    }
  });

  it("refuses Linux's plain-text fallback (basic_text) rather than pretend", async () => {
    const store = new SafeStorageSecretStore({
      safeStorage: fakeSafeStorage({ backend: 'basic_text' }),
      dir: newDir(),
      platform: 'linux',
    });
    const error = await failure(store.set('backend-api-key', 'x'));
    expect(error.code).toBe('plain-text-backend');
    expect(error.message).toBe(
      'Electron safeStorage fell back to plain-text storage (basic_text) because no keyring (GNOME Keyring, KWallet) ' +
        'runs in this Linux session; start one, or run the headless station with a secrets file, ' +
        'rather than keep the API key readable on disk',
    );
    expect(error.message).toBe(PLAIN_TEXT_BACKEND_MESSAGE);
  });

  it('the basic_text check is Linux-only (other platforms have no such fallback)', async () => {
    const store = new SafeStorageSecretStore({
      safeStorage: fakeSafeStorage({ backend: 'basic_text' }),
      dir: newDir(),
      platform: 'darwin',
    });
    await store.set('backend-api-key', 'x');
    expect(await store.has('backend-api-key')).toBe(true);
  });
});
