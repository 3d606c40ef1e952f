import { crc32Hex } from './crc32';
import { decodeFieldValue, encodeFieldValue } from './values';

/** Longest line either side may send, in bytes, not counting the CR/LF terminator (PROTOCOL.md "Transport"). */
export const MAX_LINE_BYTES = 512;

export const STATION_MARKER = '~>';
export const BOARD_MARKER = '~<';

/** Request ids are 0001..ffff; 0000 is reserved for frames the board sends on its own (events). */
export const EVENT_FRAME_ID = 0;
export const MAX_FRAME_ID = 0xffff;

export type FrameFields = Record<string, string>;

export interface RequestFrame {
  kind: 'request';
  id: number;
  command: string;
  fields: FrameFields;
}

export interface OkReplyFrame {
  kind: 'ok';
  id: number;
  fields: FrameFields;
}

export interface ErrorReplyFrame {
  kind: 'error';
  id: number;
  code: string;
  fields: FrameFields;
}

export interface EventFrame {
  kind: 'event';
  name: string;
  fields: FrameFields;
}

export type BoardFrame = OkReplyFrame | ErrorReplyFrame | EventFrame;
export type Frame = RequestFrame | BoardFrame;

const WORD_PATTERN = /^[A-Z][A-Z0-9_-]*$/;
const EVENT_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
const FIELD_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const ID_PATTERN = /^[0-9a-f]{4}$/;
const CRC_PATTERN = /^[0-9a-f]{8}$/;

export class FrameEncodingError extends Error {
  override name = 'FrameEncodingError';
}

function formatId(id: number): string {
  if (!Number.isInteger(id) || id < 0 || id > MAX_FRAME_ID) {
    throw new FrameEncodingError(`frame id ${id} is outside 0..${MAX_FRAME_ID}`);
  }
  return id.toString(16).padStart(4, '0');
}

function formatFields(fields: FrameFields): string {
  let out = '';
  for (const [key, value] of Object.entries(fields)) {
    if (!FIELD_KEY_PATTERN.test(key)) throw new FrameEncodingError(`field name "${key}" is not allowed`);
    out += ` ${key}=${encodeFieldValue(value)}`;
  }
  return out;
}

function frameBody(frame: Frame): string {
  switch (frame.kind) {
    case 'request':
      if (!WORD_PATTERN.test(frame.command))
        throw new FrameEncodingError(`command "${frame.command}" is not allowed`);
      if (frame.id === EVENT_FRAME_ID) throw new FrameEncodingError('request id 0000 is reserved for events');
      return `${STATION_MARKER} ${formatId(frame.id)} ${frame.command}${formatFields(frame.fields)}`;
    case 'ok':
      return `${BOARD_MARKER} ${formatId(frame.id)} OK${formatFields(frame.fields)}`;
    case 'error':
      if (!WORD_PATTERN.test(frame.code))
        throw new FrameEncodingError(`error code "${frame.code}" is not allowed`);
      return `${BOARD_MARKER} ${formatId(frame.id)} ERR ${frame.code}${formatFields(frame.fields)}`;
    case 'event':
      if (!EVENT_NAME_PATTERN.test(frame.name))
        throw new FrameEncodingError(`event "${frame.name}" is not allowed`);
      return `${BOARD_MARKER} ${formatId(EVENT_FRAME_ID)} EVT ${frame.name}${formatFields(frame.fields)}`;
  }
}

/**
 * Encode a frame as one line, LF-terminated. Throws FrameEncodingError for frames the spec does not allow
 * (bad names, or a line over MAX_LINE_BYTES): those are bugs in the sender, never data from the wire.
 */
export function encodeFrame(frame: Frame): string {
  const body = frameBody(frame);
  const line = `${body} *${crc32Hex(body)}`;
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
    throw new FrameEncodingError(
      `frame is ${Buffer.byteLength(line)} bytes, over the ${MAX_LINE_BYTES}-byte line limit`,
    );
  }
  return line + '\n';
}

export type BadFrameReason = 'crc-mismatch' | 'malformed' | 'too-long' | 'not-ascii';

export type DecodedLine =
  /** A well-formed frame from the peer we listen to. */
  | { type: 'frame'; frame: Frame; line: string }
  /** Not a frame: the peer's ordinary log output, kept as text. */
  | { type: 'log'; text: string; truncated: boolean }
  /** Starts like a frame but is not a valid one. `id` is set when the id field could still be read. */
  | { type: 'bad-frame'; reason: BadFrameReason; line: string; id?: number }
  /** A frame going the other way (a terminal that echoes what the station sent). */
  | { type: 'echo'; line: string };

export type Listener = 'station' | 'board';

function parseFields(tokens: string[]): FrameFields | undefined {
  const fields: FrameFields = {};
  for (const token of tokens) {
    const eq = token.indexOf('=');
    if (eq <= 0) return undefined;
    const key = token.slice(0, eq);
    if (!FIELD_KEY_PATTERN.test(key) || Object.hasOwn(fields, key)) return undefined;
    const value = decodeFieldValue(token.slice(eq + 1));
    if (value === undefined) return undefined;
    fields[key] = value;
  }
  return fields;
}

function readableId(rest: string): number | undefined {
  const idText = rest.slice(3, 7);
  return ID_PATTERN.test(idText) && (rest.length === 7 || rest[7] === ' ') ? parseInt(idText, 16) : undefined;
}

/**
 * Classify one line (without its terminator). Never throws: garbage becomes a log line or a bad frame.
 * `listener` says which side is reading, so the other side's marker is reported as an echo.
 */
export function decodeLine(line: string, listener: Listener, truncated = false): DecodedLine {
  const peerMarker = listener === 'station' ? BOARD_MARKER : STATION_MARKER;
  const ownMarker = listener === 'station' ? STATION_MARKER : BOARD_MARKER;
  if (line.startsWith(ownMarker + ' ')) return { type: 'echo', line };
  if (!line.startsWith(peerMarker + ' ')) return { type: 'log', text: line, truncated };

  const id = readableId(line);
  const bad = (reason: BadFrameReason): DecodedLine =>
    id === undefined ? { type: 'bad-frame', reason, line } : { type: 'bad-frame', reason, line, id };
  if (truncated || Buffer.byteLength(line) > MAX_LINE_BYTES) return bad('too-long');
  if (!/^[\x20-\x7e]*$/.test(line)) return bad('not-ascii');

  const star = line.lastIndexOf(' *');
  if (star < 0) return bad('malformed');
  const body = line.slice(0, star);
  const crc = line.slice(star + 2);
  if (!CRC_PATTERN.test(crc)) return bad('malformed');
  if (crc32Hex(body) !== crc) return bad('crc-mismatch');

  const tokens = body.split(' ');
  const [, idText, verb, ...rest] = tokens;
  if (idText === undefined || !ID_PATTERN.test(idText) || verb === undefined) return bad('malformed');
  const frameId = parseInt(idText, 16);

  if (listener === 'board') {
    if (!WORD_PATTERN.test(verb) || frameId === EVENT_FRAME_ID) return bad('malformed');
    const fields = parseFields(rest);
    if (!fields) return bad('malformed');
    return { type: 'frame', frame: { kind: 'request', id: frameId, command: verb, fields }, line };
  }

  if (verb === 'OK') {
    const fields = parseFields(rest);
    if (!fields || frameId === EVENT_FRAME_ID) return bad('malformed');
    return { type: 'frame', frame: { kind: 'ok', id: frameId, fields }, line };
  }
  if (verb === 'ERR' || verb === 'EVT') {
    const [word, ...fieldTokens] = rest;
    const fields = parseFields(fieldTokens);
    if (word === undefined || !fields) return bad('malformed');
    if (verb === 'ERR') {
      if (!WORD_PATTERN.test(word)) return bad('malformed');
      return { type: 'frame', frame: { kind: 'error', id: frameId, code: word, fields }, line };
    }
    if (!EVENT_NAME_PATTERN.test(word) || frameId !== EVENT_FRAME_ID) return bad('malformed');
    return { type: 'frame', frame: { kind: 'event', name: word, fields }, line };
  }
  return bad('malformed');
}
