/**
 * The sandbox's cloud key pair. By default every fresh sandbox uses one fixed, published development key, so
 * virtual boards can be "built" with its public half exactly as real firmware is built with the real cloud's.
 * It protects nothing: anyone can recompute it from the string below, which is the point.
 */
import { createHash } from 'node:crypto';
import { x25519KeyPairFromPrivate } from '../../firmware-protocol';

export const SANDBOX_CLOUD_KEY_SEED = 'infuse-station sandbox cloud key v1';

/** SHA-256 of the ASCII seed; X25519 clamps it when used. Published on purpose: sandbox development only. */
export const SANDBOX_DEV_CLOUD_PRIVATE_KEY: Buffer = createHash('sha256')
  .update(SANDBOX_CLOUD_KEY_SEED, 'ascii')
  .digest();

/** base64 of the development cloud public key; what a virtual board defaults to having "built in". */
export const SANDBOX_CLOUD_PUBLIC_KEY: string = x25519KeyPairFromPrivate(
  SANDBOX_DEV_CLOUD_PRIVATE_KEY,
).publicKey.toString('base64');
