/**
 * The app's secret store: values encrypted with Electron's safeStorage (the OS keychain: DPAPI, Keychain,
 * libsecret/KWallet) and kept as owner-only files in the app's data folder. `safeStorage` is injected, so this file
 * imports nothing from Electron and is tested with a fake. On Linux without a keyring, safeStorage silently falls
 * back to a hard-coded key ("basic_text"); the station refuses that rather than pretend the key is protected.
 */
import { SecretBytes } from './secret-bytes';
import {
  assertSecretName,
  STORE_SECRET_NAMES,
  normaliseSecretValue,
  SecretStoreError,
  type SecretStatus,
  type SecretStore,
} from './secret-store';
import {
  currentOwner,
  listSecretFiles,
  readSecretFile,
  writeSecretFile,
  type FileOwner,
} from './secure-files';
import { join } from 'node:path';
import { NETWORK_KEY_SECRET_PATTERN } from '../../station-config/index';

/** The part of Electron's `safeStorage` this store uses. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only, after app ready: 'basic_text', 'gnome_libsecret', 'kwallet', 'kwallet5', 'kwallet6' or 'unknown'. */
  getSelectedStorageBackend?(): string;
}

export interface SafeStorageStoreOptions {
  safeStorage: SafeStorageLike;
  /** Folder of the encrypted files, e.g. join(app.getPath('userData'), 'secrets'). */
  dir: string;
  platform?: NodeJS.Platform;
  owner?: FileOwner | null;
}

export const ENCRYPTION_UNAVAILABLE_MESSAGE =
  'the OS keychain is not available to the station (Electron safeStorage cannot encrypt); ' +
  'the station will not keep secrets unencrypted';
export const PLAIN_TEXT_BACKEND_MESSAGE =
  'Electron safeStorage fell back to plain-text storage (basic_text) because no keyring (GNOME Keyring, KWallet) ' +
  'runs in this Linux session; start one, or run the headless station with a secrets file, ' +
  'rather than keep the API key readable on disk';

const FILE_SUFFIX = '.enc';

export class SafeStorageSecretStore implements SecretStore {
  readonly kind = 'safeStorage';
  readonly #safeStorage: SafeStorageLike;
  readonly #dir: string;
  readonly #platform: NodeJS.Platform;
  readonly #owner: FileOwner | null;

  constructor(options: SafeStorageStoreOptions) {
    this.#safeStorage = options.safeStorage;
    this.#dir = options.dir;
    this.#platform = options.platform ?? process.platform;
    this.#owner = options.owner === undefined ? currentOwner() : options.owner;
  }

  /** Throws the reason the keychain cannot be trusted; checked before every use, since a keyring can go away. */
  assertUsable(): void {
    if (!this.#safeStorage.isEncryptionAvailable()) {
      throw new SecretStoreError('encryption-unavailable', ENCRYPTION_UNAVAILABLE_MESSAGE);
    }
    if (this.#platform === 'linux' && this.#safeStorage.getSelectedStorageBackend?.() === 'basic_text') {
      throw new SecretStoreError('plain-text-backend', PLAIN_TEXT_BACKEND_MESSAGE);
    }
  }

  async get(name: string): Promise<SecretBytes | undefined> {
    assertSecretName(name);
    this.assertUsable();
    const encrypted = readSecretFile(this.#dir, name + FILE_SUFFIX, this.#owner);
    if (encrypted === undefined) return undefined;
    let value: string;
    try {
      value = this.#safeStorage.decryptString(encrypted);
    } catch (error) {
      throw new SecretStoreError(
        'io',
        `cannot decrypt ${name} (${error instanceof Error ? error.message : String(error)}); ` +
          'the keychain may have changed: store the secret again',
      );
    }
    return SecretBytes.fromText(value, name);
  }

  async has(name: string): Promise<boolean> {
    return (await this.get(name)) !== undefined;
  }

  async set(name: string, value: string): Promise<void> {
    assertSecretName(name);
    this.assertUsable();
    const normalised = normaliseSecretValue(name, value);
    writeSecretFile(this.#dir, name + FILE_SUFFIX, this.#safeStorage.encryptString(normalised), this.#owner);
  }

  async list(): Promise<SecretStatus[]> {
    this.assertUsable();
    const names = new Set<string>(STORE_SECRET_NAMES);
    for (const file of listSecretFiles(this.#dir, this.#owner)) {
      const name = file.endsWith(FILE_SUFFIX) ? file.slice(0, -FILE_SUFFIX.length) : '';
      if (NETWORK_KEY_SECRET_PATTERN.test(name)) names.add(name);
    }
    const out: SecretStatus[] = [];
    for (const name of names) {
      const location = join(this.#dir, name + FILE_SUFFIX);
      try {
        const value = await this.get(name);
        out.push(
          value
            ? { name, source: 'keychain', fingerprint: value.fingerprint, location }
            : { name, source: 'missing', fingerprint: null, location: null },
        );
      } catch (error) {
        if (!(error instanceof SecretStoreError)) throw error;
        out.push({ name, source: 'keychain', fingerprint: null, location, problem: error.message });
      }
    }
    return out;
  }
}
