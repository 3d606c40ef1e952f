/**
 * The secret store contract: secrets are named (station-config references them by name), read as SecretValue
 * wrappers that refuse to print themselves, and listed by name, source and fingerprint only. Two backends
 * implement it: Electron safeStorage in the app, and environment variables or owner-only files for the headless CLI.
 */
import { inspect } from 'node:util';
import { secretFingerprint } from '../../firmware-protocol/index';
import { FIXED_SECRET_NAMES, isSecretName, maskedSecret } from '../../station-config/index';

export { FIXED_SECRET_NAMES, isSecretName };

export type SecretSource = 'env' | 'file' | 'keychain';

export interface SecretStatus {
  name: string;
  source: SecretSource | 'missing';
  /** secretFingerprint of the value (first 8 bytes of its SHA-256, hex); null when missing or unreadable. */
  fingerprint: string | null;
  /** Where it lives: the environment variable or the file. Never the value. */
  location: string | null;
  /** Why the secret cannot be used (e.g. a file others can read); absent when it is fine or simply missing. */
  problem?: string;
}

export interface SecretStore {
  /** Which backend this is, for status lines ("env+file", "safeStorage"). */
  readonly kind: string;
  get(name: string): Promise<SecretValue | undefined>;
  set(name: string, value: string): Promise<void>;
  has(name: string): Promise<boolean>;
  list(): Promise<SecretStatus[]>;
}

export type SecretStoreErrorCode =
  | 'unknown-secret'
  | 'empty-value'
  | 'insecure-permissions'
  | 'wrong-owner'
  | 'not-a-regular-file'
  | 'encryption-unavailable'
  | 'plain-text-backend'
  | 'io';

export class SecretStoreError extends Error {
  override name = 'SecretStoreError';
  constructor(
    readonly code: SecretStoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A secret value that never prints: String(), JSON.stringify, template literals and console.log/inspect all show
 * `[secret <name>]`. Only `reveal()` gives the value, so every place that uses one is easy to find and review.
 */
export class SecretValue {
  readonly #value: string;

  constructor(
    readonly name: string,
    value: string,
  ) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  get fingerprint(): string {
    return secretFingerprint(this.#value);
  }

  toString(): string {
    return maskedSecret(this.name);
  }

  toJSON(): string {
    return maskedSecret(this.name);
  }

  [Symbol.toPrimitive](): string {
    return maskedSecret(this.name);
  }

  [inspect.custom](): string {
    return maskedSecret(this.name);
  }
}

export function assertSecretName(name: string): void {
  if (!isSecretName(name)) {
    throw new SecretStoreError(
      'unknown-secret',
      `unknown secret "${name}"; known secrets: ${FIXED_SECRET_NAMES.join(', ')}, network-key-<label>`,
    );
  }
}

/** Strips one trailing newline (what `echo` and editors add) and refuses an empty value. */
export function normaliseSecretValue(name: string, value: string): string {
  const trimmed = value.replace(/\r?\n$/, '');
  if (trimmed.length === 0)
    throw new SecretStoreError('empty-value', `refusing to store an empty value for ${name}`);
  return trimmed;
}

/** The environment variable that overrides a secret: backend-api-key -> STATION_SECRET_BACKEND_API_KEY. */
export function secretEnvVar(name: string): string {
  return `STATION_SECRET_${name.toUpperCase().replace(/-/g, '_')}`;
}
