/** The people who use the station: accounts, PIN hashing and lockout. What other folders may import. */
export {
  AccountStore,
  DEMO_ACCOUNTS,
  LOGIN_FAILED_MESSAGE,
  ACCOUNT_DISABLED_MESSAGE,
  type AccountStoreOptions,
  type AccountFailure,
  type AccountResult,
  type AuthenticateResult,
  type DemoAccount,
  type NewAccount,
} from './account-store';
export {
  DEFAULT_SCRYPT_PARAMS,
  credentialKind,
  hashCredential,
  verifyCredential,
  type CredentialKind,
  type ScryptParams,
  type StoredCredential,
} from './credential-hash';
