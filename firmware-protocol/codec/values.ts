/**
 * Field values travel as printable ASCII without spaces (PROTOCOL.md "Value encodings"). Anything else, and the
 * escape character itself, is percent-encoded as UTF-8 bytes (`%20` for a space), so a value never breaks the
 * line or the field grammar.
 */

const SAFE_BYTE_MIN = 0x21;
const SAFE_BYTE_MAX = 0x7e;
const PERCENT = 0x25;

export function encodeFieldValue(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte >= SAFE_BYTE_MIN && byte <= SAFE_BYTE_MAX && byte !== PERCENT) {
      out += String.fromCharCode(byte);
    } else {
      out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}

/** Returns undefined when the value holds a broken escape or bytes that are not valid UTF-8. */
export function decodeFieldValue(encoded: string): string | undefined {
  if (!encoded.includes('%')) return encoded;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const code = encoded.charCodeAt(i);
    if (code !== PERCENT) {
      bytes.push(code);
      continue;
    }
    const hex = encoded.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  const decoded = Buffer.from(bytes).toString('utf8');
  // A lone or truncated UTF-8 sequence decodes to U+FFFD; refuse rather than silently change the value.
  if (decoded.includes('\uFFFD') && !Buffer.from(decoded, 'utf8').equals(Buffer.from(bytes)))
    return undefined;
  return decoded;
}

export const HEX_ID_PATTERN = /^[0-9a-f]+$/;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (with padding) of exactly `length` bytes, or undefined. */
export function decodeBase64Exact(value: string, length: number): Buffer | undefined {
  if (!BASE64_PATTERN.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === length && bytes.toString('base64') === value ? bytes : undefined;
}
