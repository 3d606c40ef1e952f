import { createHash } from 'node:crypto';
import { x25519KeyPairFromPrivate } from '../infuse-crypto';

/**
 * The published development cloud key pair: the sandbox backend starts with it and virtual boards are "built"
 * with its public half, so a sandbox station works out of the box. Its private half is public knowledge by
 * design: it must never protect anything real, and production recipes never see it.
 */
export const DEVELOPMENT_CLOUD_KEY_SEED = 'infuse-station sandbox cloud key v1';

const DEVELOPMENT_CLOUD_KEY_PAIR = x25519KeyPairFromPrivate(
  createHash('sha256').update(DEVELOPMENT_CLOUD_KEY_SEED, 'ascii').digest(),
);

export const DEVELOPMENT_CLOUD_PUBLIC_KEY: Buffer = DEVELOPMENT_CLOUD_KEY_PAIR.publicKey;

export function developmentCloudPrivateKey(): Buffer {
  return Buffer.from(DEVELOPMENT_CLOUD_KEY_PAIR.privateKey);
}
