/**
 * A virtual board's non-volatile memory. COMMIT must be atomic across power loss (PROTOCOL.md "COMMIT"), so the
 * file store writes a new image beside the old one, syncs it, and renames it into place: after a crash the file
 * holds either the old image or the new one, never a mix.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

const credentialsSchema = z.object({
  deviceId: z.string(),
  networkId: z.number().int().optional(),
  networkKey: z.string().optional(),
  cloudPublicKey: z.string().optional(),
  mqttToken: z.string().optional(),
  mqttTokenExpiresAt: z.string().optional(),
  derivedKey: z.string().optional(),
  derivedKeyInterface: z.string().optional(),
});

const flashImageSchema = z.object({
  format: z.literal('infuse-virtual-board/1'),
  identity: z.object({
    soc: z.string(),
    mcuId: z.string(),
    /** The board's own X25519 private key, base64. It never leaves the board over serial. */
    devicePrivateKey: z.string(),
    /** The cloud public key the firmware was built with, base64. */
    builtInCloudPublicKey: z.string(),
    firmwareVersion: z.string(),
    boardName: z.string(),
  }),
  credentials: credentialsSchema.nullable(),
  locked: z.boolean(),
});

export type FlashImage = z.infer<typeof flashImageSchema>;
export type StoredCredentials = z.infer<typeof credentialsSchema>;

export interface FlashStore {
  load(): FlashImage | undefined;
  /** Replace the whole image atomically. Throws when the write fails; the old image then stays. */
  write(image: FlashImage): void;
}

export class MemoryFlashStore implements FlashStore {
  private image: FlashImage | undefined;

  constructor(initial?: FlashImage) {
    this.image = initial && structuredClone(initial);
  }

  load(): FlashImage | undefined {
    return this.image && structuredClone(this.image);
  }

  write(image: FlashImage): void {
    this.image = structuredClone(image);
  }
}

export class FileFlashStore implements FlashStore {
  constructor(readonly file: string) {}

  load(): FlashImage | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const parsed = flashImageSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`virtual board state file ${this.file} is not a board image`);
    return parsed.data;
  }

  write(image: FlashImage): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const temp = `${this.file}.new`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(image, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
    const dirFd = openSync(dirname(this.file), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}
