import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeNetworkKeySecret, SecretBytes, SecretStoreError } from '../../../electron/secrets/index';

const KEY = randomBytes(32);
const BASE64 = KEY.toString('base64');

function decodeError(text: string): unknown {
  try {
    decodeNetworkKeySecret('network-key-line-1', SecretBytes.fromText(text, 'network-key-line-1'));
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('decodeNetworkKeySecret', () => {
  it.each([
    ['bare', BASE64],
    ['with a trailing newline', `${BASE64}\n`],
    ['with trailing spaces and CRLF', `${BASE64}  \r\n`],
  ])('decodes the 32-byte key (%s), labelled with the secret name', (_, text) => {
    const key = decodeNetworkKeySecret(
      'network-key-line-1',
      SecretBytes.fromText(text, 'network-key-line-1'),
    );
    expect(key.reveal().equals(KEY)).toBe(true);
    expect(key.label).toBe('network-key-line-1');
    expect(key.length).toBe(32);
  });

  it('leaves the stored secret readable: the caller owns it', () => {
    const stored = SecretBytes.fromText(BASE64, 'network-key-line-1');
    decodeNetworkKeySecret('network-key-line-1', stored);
    expect(stored.revealText()).toBe(BASE64);
  });

  it.each([
    ['16 bytes', randomBytes(16).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['unpadded', BASE64.replace(/=+$/, '')],
    ['base64url', Buffer.from(KEY).toString('base64url')],
    ['hex', KEY.toString('hex')],
    ['a leading space', ` ${BASE64}`],
  ])('refuses %s with a bad-value error that names the secret, never the value', (_, text) => {
    const error = decodeError(text);
    expect(error).toBeInstanceOf(SecretStoreError);
    expect((error as SecretStoreError).code).toBe('bad-value');
    expect((error as SecretStoreError).message).toBe(
      'the secret "network-key-line-1" is not the base64 of a 32-byte network key: store it again with `station secret set network-key-line-1`',
    );
    expect((error as SecretStoreError).message).not.toContain(text.trim());
  });
});
