/**
 * The station's signing key: Ed25519 as RFC 8032 defines it (its published test vectors), the fingerprint operators
 * compare, the exact bytes a checkpoint signs, verification that says no (never throws) to anything altered, and the
 * key's life in the real env/file secret store: made once on first run, read back as the same key, a bad stored
 * value refused rather than replaced, and the secret wiped after use.
 */
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  checkpointMessage,
  generateStationKey,
  keyFingerprint,
  loadStationSigner,
  signerFromSeed,
  verifyCheckpoint,
} from '../../../electron/audit/index';
import {
  EnvFileSecretStore,
  SecretStoreError,
  STATION_KEY_SECRET,
  type SecretBytes,
  type SecretStore,
} from '../../../electron/secrets/index';
import { tempDir } from '../../support/temp-dirs';

const posix = process.platform !== 'win32';
const hex = (value: string) => Buffer.from(value, 'hex');

/** RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte). */
const RFC8032 = [
  {
    name: 'TEST 1',
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
] as const;
const RFC_SEED = RFC8032[0].seed;
const RFC_PUBLIC_KEY = RFC8032[0].publicKey;
/** `echo -n <TEST 1 public key> | xxd -r -p | sha256sum`, first 32 hex characters. */
const RFC_FINGERPRINT = 'ed25519:21fe31dfa154a261626bf854046fd227';

describe('Ed25519 signer', () => {
  it.each(RFC8032)(
    'matches RFC 8032 $name: public key from the seed, signature, and it verifies',
    (vector) => {
      const signer = signerFromSeed(hex(vector.seed));
      expect(signer.publicKey.toString('hex')).toBe(vector.publicKey);
      const signature = signer.sign(hex(vector.message));
      expect(signature.toString('hex')).toBe(vector.signature);
      expect(verifyCheckpoint(hex(vector.publicKey), hex(vector.message), signature)).toBe(true);
    },
  );

  it('fingerprints a key as ed25519: and the first 16 bytes of its SHA-256 in hex, and the signer carries it', () => {
    expect(keyFingerprint(hex(RFC_PUBLIC_KEY))).toBe(RFC_FINGERPRINT);
    expect(signerFromSeed(hex(RFC_SEED)).fingerprint).toBe(RFC_FINGERPRINT);
    const { publicKey } = generateStationKey();
    expect(keyFingerprint(publicKey)).toMatch(/^ed25519:[0-9a-f]{32}$/);
    expect(keyFingerprint(publicKey)).not.toBe(RFC_FINGERPRINT);
  });

  it('generates a fresh 32-byte seed and 32-byte public key each time, and the seed rebuilds the same key', () => {
    const first = generateStationKey();
    const second = generateStationKey();
    expect(first.seed).toHaveLength(32);
    expect(first.publicKey).toHaveLength(32);
    expect(first.seed.equals(second.seed)).toBe(false);
    expect(first.publicKey.equals(second.publicKey)).toBe(false);
    expect(signerFromSeed(first.seed).publicKey.equals(first.publicKey)).toBe(true);
  });

  it('signs deterministically: two signers from one seed give the same signature', () => {
    const { seed } = generateStationKey();
    const message = checkpointMessage('line1-station2', 7, 'a'.repeat(64));
    expect(signerFromSeed(seed).sign(message).equals(signerFromSeed(seed).sign(message))).toBe(true);
  });

  it('refuses a seed that is not 32 bytes', () => {
    for (const length of [0, 31, 33, 64]) {
      expect(() => signerFromSeed(Buffer.alloc(length, 1))).toThrow(
        new RangeError('an Ed25519 private seed is 32 bytes'),
      );
    }
  });

  it('leaves the caller its seed to wipe, and still signs with the key after the caller has wiped it', () => {
    const seed = hex(RFC_SEED);
    const signer = signerFromSeed(seed);
    expect(seed.toString('hex')).toBe(RFC_SEED);
    seed.fill(0);
    const message = Buffer.from('after the wipe');
    expect(verifyCheckpoint(hex(RFC_PUBLIC_KEY), message, signer.sign(message))).toBe(true);
  });

  it('prints as its fingerprint only: String, JSON and inspect never show the seed', () => {
    const signer = signerFromSeed(hex(RFC_SEED));
    expect(String(signer)).toBe(`[station signing key ${RFC_FINGERPRINT}]`);
    expect(JSON.stringify(signer)).toBe(`{"signer":"${RFC_FINGERPRINT}"}`);
    expect(JSON.stringify({ signer })).toBe(`{"signer":{"signer":"${RFC_FINGERPRINT}"}}`);
    const printed = inspect(signer, { depth: 5, showHidden: true });
    expect(printed).not.toContain(RFC_SEED);
    expect(printed).not.toContain(hex(RFC_SEED).toString('base64'));
  });
});

describe('checkpoint message and verification', () => {
  const head = 'ab'.repeat(32);

  it('is the canonical JSON of headHash, seq and stationId, in that key order', () => {
    expect(checkpointMessage('line1-station2', 7, head).toString('utf8')).toBe(
      `{"headHash":"${head}","seq":7,"stationId":"line1-station2"}`,
    );
    expect(checkpointMessage('st"1', 1, 'x').toString('utf8')).toBe(
      '{"headHash":"x","seq":1,"stationId":"st\\"1"}',
    );
  });

  it('verifies a good signature, and says false for each thing altered or the wrong shape, without throwing', () => {
    const signer = signerFromSeed(generateStationKey().seed);
    const other = signerFromSeed(generateStationKey().seed);
    const message = checkpointMessage('line1-station2', 7, head);
    const signature = signer.sign(message);
    expect(verifyCheckpoint(signer.publicKey, message, signature)).toBe(true);

    expect(verifyCheckpoint(signer.publicKey, checkpointMessage('line1-station2', 8, head), signature)).toBe(
      false,
    );
    expect(verifyCheckpoint(signer.publicKey, checkpointMessage('line1-station3', 7, head), signature)).toBe(
      false,
    );
    expect(
      verifyCheckpoint(signer.publicKey, checkpointMessage('line1-station2', 7, 'cd'.repeat(32)), signature),
    ).toBe(false);
    const flipped = Buffer.from(signature);
    flipped[10] = flipped[10]! ^ 0x01;
    expect(verifyCheckpoint(signer.publicKey, message, flipped)).toBe(false);
    expect(verifyCheckpoint(other.publicKey, message, signature)).toBe(false);
    expect(verifyCheckpoint(signer.publicKey.subarray(0, 31), message, signature)).toBe(false);
    expect(verifyCheckpoint(Buffer.concat([signer.publicKey, Buffer.alloc(1)]), message, signature)).toBe(
      false,
    );
    expect(verifyCheckpoint(signer.publicKey, message, signature.subarray(0, 63))).toBe(false);
    expect(verifyCheckpoint(signer.publicKey, message, Buffer.alloc(0))).toBe(false);
    // 32 bytes that are not a point on the curve: a forged identity in a rewritten trail.
    expect(verifyCheckpoint(Buffer.alloc(32, 0xff), message, signature)).toBe(false);
  });
});

describe.runIf(posix)('the station key in the env/file secret store', () => {
  let dir: string;
  let store: EnvFileSecretStore;

  beforeEach(() => {
    dir = join(tempDir('station-key-'), 'secrets');
    store = new EnvFileSecretStore({ dir, env: {} });
  });

  async function refusal(promise: Promise<unknown>): Promise<SecretStoreError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof SecretStoreError) return error;
      throw error;
    }
    throw new Error('expected a SecretStoreError');
  }

  it('is null without `create` when there is none, and nothing is written', async () => {
    expect(await loadStationSigner(store, { create: false })).toBeNull();
    expect(existsSync(store.filePath(STATION_KEY_SECRET))).toBe(false);
  });

  it('is made on first run as the base64 of a 32-byte seed in an owner-only file, and read back as the same key', async () => {
    const made = await loadStationSigner(store, { create: true });
    if (!made) throw new Error('expected a signer');
    const file = join(dir, STATION_KEY_SECRET);
    expect(store.filePath(STATION_KEY_SECRET)).toBe(file);
    const stored = readFileSync(file, 'utf8');
    expect(stored).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(signerFromSeed(Buffer.from(stored, 'base64')).publicKey.equals(made.publicKey)).toBe(true);
    expect(made.fingerprint).toBe(keyFingerprint(made.publicKey));

    const again = await loadStationSigner(new EnvFileSecretStore({ dir, env: {} }), { create: false });
    expect(again?.fingerprint).toBe(made.fingerprint);
    // `create` with a key already there keeps it.
    const kept = await loadStationSigner(store, { create: true });
    expect(kept?.fingerprint).toBe(made.fingerprint);
    expect(readFileSync(file, 'utf8')).toBe(stored);
  });

  it('reads a restored key (base64 seed, trailing newline tolerated) as exactly that key', async () => {
    await store.set(STATION_KEY_SECRET, `${hex(RFC_SEED).toString('base64')}\n`);
    const signer = await loadStationSigner(store, { create: false });
    expect(signer?.publicKey.toString('hex')).toBe(RFC_PUBLIC_KEY);
    expect(signer?.fingerprint).toBe(RFC_FINGERPRINT);
  });

  it('takes the key from STATION_SECRET_STATION_SIGNING_KEY when set, and then writes no file', async () => {
    const env = { STATION_SECRET_STATION_SIGNING_KEY: hex(RFC_SEED).toString('base64') };
    const fromEnv = new EnvFileSecretStore({ dir, env });
    const signer = await loadStationSigner(fromEnv, { create: true });
    expect(signer?.fingerprint).toBe(RFC_FINGERPRINT);
    expect(existsSync(join(dir, STATION_KEY_SECRET))).toBe(false);
  });

  it.each([
    ['text that is not base64', 'not a key!'],
    ['the base64 of 31 bytes', Buffer.alloc(31, 7).toString('base64')],
    ['the base64 of 33 bytes', Buffer.alloc(33, 7).toString('base64')],
    ['unpadded base64 of 32 bytes', Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')],
    ['base64url of 32 bytes', Buffer.alloc(32, 0xfb).toString('base64url')],
  ])('refuses %s as bad-value, with create too, and leaves the stored value alone', async (_label, value) => {
    await store.set(STATION_KEY_SECRET, value);
    for (const create of [false, true]) {
      const error = await refusal(loadStationSigner(store, { create }));
      expect(error.code).toBe('bad-value');
      expect(error.message).toBe(
        `the secret "station-signing-key" is not the base64 of a 32-byte Ed25519 key: restore it from the station's backup (its trail can no longer be signed as this station's)`,
      );
    }
    expect(readFileSync(join(dir, STATION_KEY_SECRET), 'utf8')).toBe(value);
  });

  it('passes on a secret-store refusal (a key file others can read) rather than making a new key', async () => {
    await loadStationSigner(store, { create: true });
    const file = join(dir, STATION_KEY_SECRET);
    const before = readFileSync(file, 'utf8');
    chmodSync(file, 0o644);
    const error = await refusal(loadStationSigner(store, { create: true }));
    expect(error.code).toBe('insecure-permissions');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('wipes the secret it read, both for a good key and for a bad value', async () => {
    const read: SecretBytes[] = [];
    const watching: SecretStore = {
      kind: store.kind,
      get: async (name) => {
        const value = await store.get(name);
        if (value) read.push(value);
        return value;
      },
      set: (name, value) => store.set(name, value),
      has: (name) => store.has(name),
      list: () => store.list(),
    };
    await store.set(STATION_KEY_SECRET, hex(RFC_SEED).toString('base64'));
    expect((await loadStationSigner(watching, { create: false }))?.fingerprint).toBe(RFC_FINGERPRINT);
    await store.set(STATION_KEY_SECRET, 'bad');
    await expect(loadStationSigner(watching, { create: false })).rejects.toBeInstanceOf(SecretStoreError);
    expect(read).toHaveLength(2);
    expect(read.map((secret) => secret.wiped)).toEqual([true, true]);
  });
});
