import { timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import { secretFingerprint } from '../../firmware-protocol';

/**
 * The one wrapper for every secret the station holds: what the backend hands us (shared secret, derived key,
 * network key, MQTT token) and what the secret store reads (the API key, station-held network keys).
 *
 * The value sits in a private field so that every accidental way of printing an object (template strings,
 * JSON.stringify of a result, util.inspect in a log call, a test snapshot) shows only the fingerprint. Reading
 * the value is an explicit act: `use()` for a scoped borrow, `reveal()` for a copy the caller then owns.
 */
export class SecretBytes {
  readonly #bytes: Buffer;
  #wiped = false;
  /** sha256 prefix of the value: safe to store, log and show, and stable across runs. */
  readonly fingerprint: string;
  readonly label: string;

  private constructor(bytes: Buffer, label: string) {
    this.#bytes = bytes;
    this.label = label;
    this.fingerprint = secretFingerprint(bytes);
  }

  /** Copies the input, so wiping this secret never corrupts a buffer the caller still uses (and vice versa). */
  static fromBytes(bytes: Uint8Array, label = 'secret'): SecretBytes {
    return new SecretBytes(Buffer.from(bytes), label);
  }

  static fromBase64(base64: string, label = 'secret'): SecretBytes {
    return new SecretBytes(Buffer.from(base64, 'base64'), label);
  }

  static fromText(text: string, label = 'secret'): SecretBytes {
    return new SecretBytes(Buffer.from(text, 'utf8'), label);
  }

  get length(): number {
    return this.#bytes.length;
  }

  get wiped(): boolean {
    return this.#wiped;
  }

  /** Borrow the bytes for the duration of `fn`; the buffer passed in must not be kept. */
  use<T>(fn: (bytes: Buffer) => T): T {
    this.#assertLive();
    return fn(this.#bytes);
  }

  /** A copy of the bytes; the caller owns it and should `fill(0)` it when done. */
  reveal(): Buffer {
    this.#assertLive();
    return Buffer.from(this.#bytes);
  }

  revealBase64(): string {
    this.#assertLive();
    return this.#bytes.toString('base64');
  }

  /** For secrets that are text on the wire (MQTT tokens, API keys). */
  revealText(): string {
    this.#assertLive();
    return this.#bytes.toString('utf8');
  }

  /** Constant-time comparison that never exposes either value. */
  equals(other: SecretBytes | Uint8Array): boolean {
    this.#assertLive();
    const theirs = other instanceof SecretBytes ? other.reveal() : Buffer.from(other);
    try {
      return theirs.length === this.#bytes.length && timingSafeEqual(theirs, this.#bytes);
    } finally {
      if (other instanceof SecretBytes) theirs.fill(0);
    }
  }

  /** Overwrite the value in memory; every later read fails loudly instead of returning zeros. */
  wipe(): void {
    this.#bytes.fill(0);
    this.#wiped = true;
  }

  toString(): string {
    return `[SecretBytes ${this.label} fp=${this.fingerprint}${this.#wiped ? ' wiped' : ''}]`;
  }

  toJSON(): { secret: string; fingerprint: string } {
    return { secret: this.label, fingerprint: this.fingerprint };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  #assertLive(): void {
    if (this.#wiped) throw new Error(`${this.label} was wiped and can no longer be read`);
  }
}
