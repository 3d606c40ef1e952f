/**
 * The sandbox's cloud key pair. By default every fresh sandbox uses the published development key of
 * firmware-protocol/virtual-board, so virtual boards are "built" with its public half exactly as real firmware is
 * built with the real cloud's. It protects nothing: anyone can recompute it, which is the point.
 */
import {
  DEVELOPMENT_CLOUD_KEY_SEED,
  DEVELOPMENT_CLOUD_PUBLIC_KEY,
  developmentCloudPrivateKey,
} from '../../firmware-protocol/virtual-board';

export const SANDBOX_CLOUD_KEY_SEED = DEVELOPMENT_CLOUD_KEY_SEED;

/** SHA-256 of the ASCII seed; X25519 clamps it when used. Published on purpose: sandbox development only. */
export const SANDBOX_DEV_CLOUD_PRIVATE_KEY: Buffer = developmentCloudPrivateKey();

/** base64 of the development cloud public key; what a virtual board defaults to having "built in". */
export const SANDBOX_CLOUD_PUBLIC_KEY: string = DEVELOPMENT_CLOUD_PUBLIC_KEY.toString('base64');
