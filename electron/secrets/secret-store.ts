/**
 * The secret store contract: secrets are named (station-config references them by name), read as SecretBytes
 * wrappers that refuse to print themselves, and listed by name, source and fingerprint only. Two backends
 * implement it: Electron safeStorage in the app, and environment variables or owner-only files for the headless CLI.
 */
import { FIXED_SECRET_NAMES, isSecretName } from '../../station-config/index';
import type { SecretBytes } from './secret-bytes';

export { FIXED_SECRET_NAMES, isSecretName };

/** The station's own signing key (its audit identity): kept in the store, never named by a config. */
export const STATION_KEY_SECRET = 'station-signing-key';

/** The central database's password (`station sync`, `central.url`): the URL never holds it. */
export const CENTRAL_DATABASE_PASSWORD_SECRET = 'central-database-password';

/** Every fixed name the store knows: the ones a config may reference, and the station's own. */
export const STORE_SECRET_NAMES: readonly string[] = [
  ...FIXED_SECRET_NAMES,
  CENTRAL_DATABASE_PASSWORD_SECRET,
  STATION_KEY_SECRET,
];

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
  get(name: string): Promise<SecretBytes | undefined>;
  set(name: string, value: string): Promise<void>;
  has(name: string): Promise<boolean>;
  list(): Promise<SecretStatus[]>;
}

export type SecretStoreErrorCode =
  | 'unknown-secret'
  | 'empty-value'
  /** A value of a known shape (a network key) that does not have it. */
  | 'bad-value'
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

export function assertSecretName(name: string): void {
  if (!isSecretName(name) && !STORE_SECRET_NAMES.includes(name)) {
    throw new SecretStoreError(
      'unknown-secret',
      `unknown secret "${name}"; known secrets: ${STORE_SECRET_NAMES.join(', ')}, network-key-<label>`,
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

/**
 * The fingerprints of the named secrets as the store holds them (null when missing or unusable): what the audit
 * trail and `config effective` record beside the config, never the values.
 */
export async function secretFingerprints(
  store: SecretStore,
  names: readonly string[],
): Promise<Record<string, string | null>> {
  const fingerprints: Record<string, string | null> = {};
  for (const name of names) {
    try {
      fingerprints[name] = (await store.get(name))?.fingerprint ?? null;
    } catch {
      fingerprints[name] = null;
    }
  }
  return fingerprints;
}
