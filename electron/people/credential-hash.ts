/**
 * PIN and password hashing. A 4-digit PIN has 10,000 values, so no hash makes a stolen accounts table safe on its
 * own; scrypt makes each guess cost memory and time, which turns "instant" into "hours per account" and buys the
 * time to notice and reset. The parameters travel with each account, so they can be raised for new accounts
 * without locking out the old ones.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export interface ScryptParams {
  algorithm: 'scrypt';
  /** CPU/memory cost: a power of two. */
  N: number;
  r: number;
  p: number;
  /** Bytes of output stored as the verifier. */
  keyLength: number;
}

export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({
  algorithm: 'scrypt',
  N: 2 ** 15,
  r: 8,
  p: 1,
  keyLength: 32,
});

/** What an account stores to check a credential later; the kdf text is the only part safe to show anyone. */
export interface StoredCredential {
  /** The parameters as JSON, e.g. {"algorithm":"scrypt","N":32768,"r":8,"p":1,"keyLength":32}. */
  kdf: string;
  /** base64 */
  salt: string;
  /** base64 */
  verifier: string;
}

export type CredentialKind = 'pin' | 'password';

const SALT_BYTES = 16;
// Node's 32 MiB default maxmem is too small for N=2^15, r=8 once OpenSSL's overhead is counted.
const MIN_MAXMEM = 64 * 1024 * 1024;
// A ceiling on what a stored record may ask for: a tampered kdf column must not be able to exhaust the station.
const MAX_MEMORY = 1024 * 1024 * 1024;

const paramsSchema = z.strictObject({
  algorithm: z.literal('scrypt'),
  N: z
    .int()
    .min(2)
    .refine((n) => (n & (n - 1)) === 0, 'N must be a power of two'),
  r: z.int().min(1).max(64),
  p: z.int().min(1).max(16),
  keyLength: z.int().min(16).max(64),
});

const CREDENTIAL_RULE = 'a PIN is 4 to 12 digits; a password is 8 to 128 characters and not only digits';

/** Why `value` cannot be a PIN or a password, or null when it can. */
export function credentialProblem(value: string): string | null {
  if (/^\d{4,12}$/.test(value)) return null;
  if (value.length >= 8 && value.length <= 128 && !/^\d+$/.test(value)) return null;
  return CREDENTIAL_RULE;
}

/** 'pin' for 4 to 12 digits, 'password' for anything else acceptable; throws a RangeError for the rest. */
export function credentialKind(value: string): CredentialKind {
  const problem = credentialProblem(value);
  if (problem !== null) throw new RangeError(problem);
  return /^\d+$/.test(value) ? 'pin' : 'password';
}

/** The defaults with `overrides` applied and checked; throws a RangeError naming the bad parameter. */
export function scryptParams(overrides: Partial<ScryptParams> = {}): ScryptParams {
  return checkParams({ ...DEFAULT_SCRYPT_PARAMS, ...overrides });
}

/** The parameters as they are recorded: fixed key order, so equal parameters give equal text. */
export function kdfText(params: ScryptParams): string {
  const { algorithm, N, r, p, keyLength } = params;
  return JSON.stringify({ algorithm, N, r, p, keyLength });
}

/** Hashes a credential with a fresh random salt. Runs on the libuv pool, so the event loop keeps serving. */
export async function hashCredential(
  value: string,
  params: Partial<ScryptParams> = {},
): Promise<StoredCredential> {
  const checked = scryptParams(params);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(value, salt, checked);
  return { kdf: kdfText(checked), salt: salt.toString('base64'), verifier: key.toString('base64') };
}

/**
 * True when `value` matches, using the parameters stored with the record. Throws when the record's kdf is not one
 * this station understands: a damaged accounts table should be seen, not look like a wrong PIN.
 */
export async function verifyCredential(value: string, stored: StoredCredential): Promise<boolean> {
  const params = parseKdf(stored.kdf);
  const expected = Buffer.from(stored.verifier, 'base64');
  const actual = await derive(value, Buffer.from(stored.salt, 'base64'), params);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function parseKdf(text: string): ScryptParams {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RangeError(`credential record has an unreadable kdf: ${text.slice(0, 200)}`);
  }
  return checkParams(json);
}

function checkParams(value: unknown): ScryptParams {
  const parsed = paramsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RangeError(
      `unsupported credential hashing parameters: ${issue?.path.join('.') || 'kdf'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  if (memoryOf(parsed.data) > MAX_MEMORY) {
    throw new RangeError('unsupported credential hashing parameters: N * r needs more than 1 GiB');
  }
  return parsed.data;
}

function memoryOf(params: ScryptParams): number {
  return 128 * params.N * params.r;
}

function derive(value: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options = {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: Math.max(MIN_MAXMEM, 2 * memoryOf(params)),
  };
  return new Promise((resolve, reject) => {
    // NFC: the same password typed on two keyboards (composed or decomposed accents) must give the same bytes.
    scrypt(value.normalize('NFC'), salt, params.keyLength, options, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}
