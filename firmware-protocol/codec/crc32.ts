import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32/ISO-HDLC (the IEEE 802.3 / zlib CRC): poly 0x04C11DB7 reflected, init and xorout 0xFFFFFFFF.
 * Check value: crc32("123456789") = 0xcbf43926. zlib's implementation is table-driven and native.
 */
export function crc32(data: Uint8Array | string): number {
  return zlibCrc32(data) >>> 0;
}

export function crc32Hex(data: Uint8Array | string): string {
  return crc32(data).toString(16).padStart(8, '0');
}
