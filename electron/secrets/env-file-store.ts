/**
 * The headless CLI's secret store: an environment variable wins (`STATION_SECRET_BACKEND_API_KEY`, for CI and
 * kiosk scripts), otherwise one owner-only file per secret in the secrets directory
 * (`--secrets-dir`, else $STATION_SECRETS_DIR, else ~/.config/infuse-station/secrets).
 */
import { SecretBytes } from './secret-bytes';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { NETWORK_KEY_SECRET_PATTERN } from '../../station-config/index';
import {
  assertSecretName,
  STORE_SECRET_NAMES,
  normaliseSecretValue,
  SecretStoreError,
  secretEnvVar,
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

export const SECRETS_DIR_ENV = 'STATION_SECRETS_DIR';

export function defaultSecretsDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const fromEnv = env[SECRETS_DIR_ENV];
  return fromEnv ? resolve(fromEnv) : join(home, '.config', 'infuse-station', 'secrets');
}

export interface EnvFileStoreOptions {
  /** The secrets directory; defaults to defaultSecretsDir(env). */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  /** Whose files are acceptable; null skips the POSIX checks (Windows). Defaults to the current user. */
  owner?: FileOwner | null;
}

export class EnvFileSecretStore implements SecretStore {
  readonly kind = 'env+file';
  readonly dir: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #owner: FileOwner | null;

  constructor(options: EnvFileStoreOptions = {}) {
    this.#env = options.env ?? process.env;
    this.dir = resolve(options.dir ?? defaultSecretsDir(this.#env));
    this.#owner = options.owner === undefined ? currentOwner() : options.owner;
  }

  async get(name: string): Promise<SecretBytes | undefined> {
    return this.#read(name)?.value;
  }

  async has(name: string): Promise<boolean> {
    return this.#read(name) !== undefined;
  }

  async set(name: string, value: string): Promise<void> {
    assertSecretName(name);
    const normalised = normaliseSecretValue(name, value);
    writeSecretFile(this.dir, name, Buffer.from(normalised, 'utf8'), this.#owner);
  }

  /** Path of the file a secret lives in (whether or not it exists). */
  filePath(name: string): string {
    return join(this.dir, name);
  }

  /** Whether the environment overrides this secret (so a stored file would not be used). */
  envOverrides(name: string): boolean {
    return this.#env[secretEnvVar(name)] !== undefined;
  }

  async list(): Promise<SecretStatus[]> {
    const names = new Set<string>(STORE_SECRET_NAMES);
    for (const key of Object.keys(this.#env)) {
      const match = /^STATION_SECRET_(NETWORK_KEY_[A-Z0-9_]+)$/.exec(key);
      const name = match?.[1]?.toLowerCase().replace(/_/g, '-');
      if (name && NETWORK_KEY_SECRET_PATTERN.test(name)) names.add(name);
    }
    let dirProblem: string | undefined;
    try {
      for (const file of listSecretFiles(this.dir, this.#owner))
        if (NETWORK_KEY_SECRET_PATTERN.test(file)) names.add(file);
    } catch (error) {
      if (!(error instanceof SecretStoreError)) throw error;
      dirProblem = error.message;
    }
    return [...names].map((name) => {
      try {
        const found = this.#read(name);
        if (!found) {
          return {
            name,
            source: 'missing',
            fingerprint: null,
            location: null,
            ...(dirProblem ? { problem: dirProblem } : {}),
          };
        }
        return { name, source: found.source, fingerprint: found.value.fingerprint, location: found.location };
      } catch (error) {
        if (!(error instanceof SecretStoreError)) throw error;
        return {
          name,
          source: 'file',
          fingerprint: null,
          location: this.filePath(name),
          problem: error.message,
        };
      }
    });
  }

  #read(name: string): { value: SecretBytes; source: 'env' | 'file'; location: string } | undefined {
    assertSecretName(name);
    const variable = secretEnvVar(name);
    const fromEnv = this.#env[variable];
    if (fromEnv !== undefined) {
      // An empty variable is a mistake, not "unset": falling back to a file would use a key nobody meant.
      if (fromEnv === '') {
        throw new SecretStoreError(
          'empty-value',
          `environment variable ${variable} is set but empty; unset it or give it the value`,
        );
      }
      return { value: SecretBytes.fromText(fromEnv, name), source: 'env', location: variable };
    }
    const bytes = readSecretFile(this.dir, name, this.#owner);
    if (bytes === undefined) return undefined;
    const value = bytes.toString('utf8').replace(/\r?\n$/, '');
    if (value === '') {
      throw new SecretStoreError(
        'empty-value',
        `secret file ${this.filePath(name)} is empty; store the value again`,
      );
    }
    return { value: SecretBytes.fromText(value, name), source: 'file', location: this.filePath(name) };
  }
}
