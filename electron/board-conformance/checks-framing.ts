/**
 * Lines a board must refuse or ignore (PROTOCOL.md 2, 2.3, 5, 7, 8): wrong CRCs, id 0000, duplicate keys, broken
 * fields, unknown commands and fields, over-long lines, console input and line noise. All of them read-only: every
 * request used here is one whose accidental acceptance changes nothing (HELLO, IDENTIFY, READBACK).
 */
import { MAX_LINE_BYTES, STATION_MARKER } from '../../firmware-protocol';
import type { RunContext } from './context';
import { describeOutcome, fail, requireError, requireOk, runCheck } from './results';
import { formatId, frameLine, wrongCrcLine } from './wire';

/** Bytes of the over-long line: well past the 512-byte limit, but not so long it looks like a flood. */
const LONG_LINE_BYTES = 600;

export async function framingChecks(ctx: RunContext): Promise<void> {
  const { wire, book } = ctx;

  await runCheck(book, 'errors.bad-crc', async () => {
    const id = wire.allocateId();
    const exchange = await wire.send(wrongCrcLine(`${STATION_MARKER} ${formatId(id)} HELLO proto=1`), {
      command: 'HELLO',
      id,
    });
    if (exchange.outcome.kind === 'ok')
      fail('the board acted on a frame whose CRC is wrong (answered OK)', exchange);
    requireError(exchange, 'BAD_FRAME', {}, 'HELLO with a wrong CRC');
    return `ERR BAD_FRAME with id ${formatId(id)}`;
  });

  await runCheck(book, 'errors.id-0000', async () => {
    const exchange = await wire.send(frameLine(`${STATION_MARKER} 0000 IDENTIFY`), {
      command: 'IDENTIFY',
      id: 0,
    });
    requireError(exchange, 'BAD_FRAME', {}, 'IDENTIFY with id 0000');
    return 'ERR BAD_FRAME with id 0000';
  });

  await runCheck(book, 'errors.duplicate-key', async () => {
    const id = wire.allocateId();
    const exchange = await wire.send(frameLine(`${STATION_MARKER} ${formatId(id)} HELLO proto=1 proto=1`), {
      command: 'HELLO',
      id,
    });
    requireError(exchange, 'BAD_FRAME', {}, 'HELLO with proto twice');
    return `ERR BAD_FRAME with id ${formatId(id)}`;
  });

  await runCheck(book, 'errors.malformed', async () => {
    const id = wire.allocateId();
    const exchange = await wire.send(frameLine(`${STATION_MARKER} ${formatId(id)} IDENTIFY verbose`), {
      command: 'IDENTIFY',
      id,
    });
    requireError(exchange, 'BAD_FRAME', {}, 'IDENTIFY with a field without "="');
    const escapeId = wire.allocateId();
    const escape = await wire.send(frameLine(`${STATION_MARKER} ${formatId(escapeId)} HELLO proto=%3`), {
      command: 'HELLO',
      id: escapeId,
    });
    requireError(escape, 'BAD_FRAME', {}, 'HELLO proto=%3 (a "%" without two hex digits)');
    return 'a field without "=" and proto=%3: ERR BAD_FRAME with their ids';
  });

  await runCheck(book, 'framing.escapes', async () => {
    // "%31" is "1": a reader decodes escapes before it reads the value (a writer would not escape it, but may).
    const id = wire.allocateId();
    const exchange = await wire.send(frameLine(`${STATION_MARKER} ${formatId(id)} HELLO proto=%31`), {
      command: 'HELLO',
      id,
    });
    const fields = requireOk(exchange, 'HELLO proto=%31');
    if (fields.proto !== '1')
      fail(`HELLO proto=%31 ("1") was answered proto=${fields.proto ?? '(missing)'}`, exchange);
    return 'HELLO proto=%31 answered proto=1';
  });

  await runCheck(book, 'errors.unknown-command', async () => {
    const exchange = await wire.request('FLASH');
    requireError(exchange, 'UNKNOWN_COMMAND', {}, 'FLASH');
    return 'FLASH: ERR UNKNOWN_COMMAND';
  });

  await runCheck(book, 'errors.unknown-field', async () => {
    const exchange = await wire.request('IDENTIFY', { bogus: '1' });
    requireError(exchange, 'BAD_ARGUMENT', { fields: { field: 'bogus' } }, 'IDENTIFY bogus=1');
    return 'IDENTIFY bogus=1: ERR BAD_ARGUMENT field=bogus';
  });

  await runCheck(book, 'errors.line-too-long', async () => {
    const id = wire.allocateId();
    const head = `${STATION_MARKER} ${formatId(id)} READBACK pad=`;
    const body = head + 'x'.repeat(LONG_LINE_BYTES - head.length - 10);
    const exchange = await wire.send(frameLine(body), { command: 'READBACK', id });
    // Its first 7 bytes are "~> " and an id, so the board could read it and must answer with it (2.3).
    requireError(exchange, 'LINE_TOO_LONG', {}, `a ${frameLine(body).length}-byte READBACK line`);
    return `a ${frameLine(body).length}-byte line (limit ${MAX_LINE_BYTES}): ERR LINE_TOO_LONG`;
  });

  await runCheck(book, 'errors.after-long-line', async () => {
    const exchange = await wire.request('READBACK');
    requireOk(exchange, 'READBACK after the over-long line');
    return 'READBACK answered OK';
  });

  await runCheck(book, 'framing.console-input', async () => {
    // What a shared console carries: a person typing, an empty line, and the board's own frame echoed back.
    wire.writeRaw('hello from a terminal\n');
    wire.writeRaw('\r\n');
    wire.writeRaw(frameLine('~< 0001 OK state=blank') + '\n');
    // A board handles lines in order, so any answer to them arrives before the answer to this IDENTIFY.
    const exchange = await wire.request('IDENTIFY');
    if (exchange.outcome.kind === 'error' && exchange.outcome.id === 0)
      fail(`the board answered console input with ${describeOutcome(exchange.outcome)}`, exchange);
    requireOk(exchange, 'IDENTIFY after console input');
    return 'no reply to a log line, an empty line or an echoed "~<" frame; IDENTIFY then answered OK';
  });

  await runCheck(book, 'framing.noise', async () => {
    wire.writeRaw(Buffer.from([0x00, 0x00, 0xff, 0x80, 0x01, 0x7f, 0x1b, 0x5b, 0x41, 0xc3, 0x28, 0x0a]));
    wire.writeRaw(Buffer.concat([Buffer.from('\x00\x00~', 'latin1'), Buffer.from([0xfe, 0x0a])]));
    const exchange = await wire.request('IDENTIFY');
    if (exchange.outcome.kind === 'error' && exchange.outcome.id === 0)
      fail(`the board answered line noise with ${describeOutcome(exchange.outcome)}`, exchange);
    requireOk(exchange, 'IDENTIFY after line noise');
    return 'NULs, high bytes and escape codes ignored; IDENTIFY then answered OK';
  });
}
