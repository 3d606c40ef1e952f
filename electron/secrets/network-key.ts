/**
 * Station-held network keys (`network-key-<label>` secrets): stored as text, the base64 of the 32-byte key, and
 * decoded here so that the place that stores one and the place that uses one agree on what a good value is.
 */
import { decodeBase64Exact } from '../../firmware-protocol/index';
import { NETWORK_KEY_SECRET_PATTERN } from '../../station-config/index';
import { SecretBytes } from './secret-bytes';
import { SecretStoreError } from './secret-store';

export const NETWORK_KEY_BYTES = 32;

export function isNetworkKeySecretName(name: string): boolean {
  return NETWORK_KEY_SECRET_PATTERN.test(name);
}

/**
 * The key held in a `network-key-*` secret as read from the store. Throws SecretStoreError 'bad-value' when it is
 * not the base64 of exactly 32 bytes; the message names the secret and how to fix it, never the value.
 */
export function decodeNetworkKeySecret(name: string, stored: SecretBytes): SecretBytes {
  // What `echo` or an editor leaves after the base64 is not part of the key.
  const bytes = stored.use((text) => decodeBase64Exact(text.toString('utf8').trimEnd(), NETWORK_KEY_BYTES));
  if (!bytes) {
    throw new SecretStoreError(
      'bad-value',
      `the secret "${name}" is not the base64 of a 32-byte network key: store it again with \`station secret set ${name}\``,
    );
  }
  try {
    return SecretBytes.fromBytes(bytes, name);
  } finally {
    // fromBytes copied it; this buffer would otherwise hold the key until the garbage collector reuses it.
    bytes.fill(0);
  }
}
