/**
 * The station's identity key: made on first run, kept in the secret store (the OS keychain in the app, an
 * owner-only file headless) as the base64 of its 32-byte Ed25519 seed, and never written to the trail, a log or an
 * export. Only its public key and fingerprint go anywhere.
 */
import { decodeBase64Exact } from '../../firmware-protocol';
import { SecretStoreError, STATION_KEY_SECRET, type SecretStore } from '../secrets';
import { generateStationKey, signerFromSeed, type TrailSigner } from './signing';

/** The station's signer from the secret store; made and stored first when `create` and there is none. */
export async function loadStationSigner(
  store: SecretStore,
  options: { create: boolean },
): Promise<TrailSigner | null> {
  const stored = await store.get(STATION_KEY_SECRET);
  if (stored) {
    const seed = stored.use((bytes) => decodeBase64Exact(bytes.toString('utf8').trim(), 32));
    stored.wipe();
    if (!seed) {
      throw new SecretStoreError(
        'bad-value',
        `the secret "${STATION_KEY_SECRET}" is not the base64 of a 32-byte Ed25519 key: restore it from the station's backup (its trail can no longer be signed as this station's)`,
      );
    }
    try {
      return signerFromSeed(seed);
    } finally {
      seed.fill(0);
    }
  }
  if (!options.create) return null;
  const { seed } = generateStationKey();
  try {
    await store.set(STATION_KEY_SECRET, seed.toString('base64'));
    return signerFromSeed(seed);
  } finally {
    seed.fill(0);
  }
}
