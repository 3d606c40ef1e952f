/** Secret stores: one contract, the app's safeStorage backend and the headless CLI's env/file backend. */
export * from './secret-store';
export { SecretBytes } from './secret-bytes';
export { decodeNetworkKeySecret, isNetworkKeySecretName, NETWORK_KEY_BYTES } from './network-key';
export {
  EnvFileSecretStore,
  defaultSecretsDir,
  SECRETS_DIR_ENV,
  type EnvFileStoreOptions,
} from './env-file-store';
export {
  SafeStorageSecretStore,
  ENCRYPTION_UNAVAILABLE_MESSAGE,
  PLAIN_TEXT_BACKEND_MESSAGE,
  type SafeStorageLike,
  type SafeStorageStoreOptions,
} from './safe-storage-store';
export { shellQuote } from './secure-files';
