import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LineSplitter,
  MAX_LINE_BYTES,
  crc32Hex,
  decodeFieldValue,
  decodeLine,
  encodeFieldValue,
  encodeFrame,
  FrameEncodingError,
  type Frame,
} from '../../../firmware-protocol';

describe('CRC-32', () => {
  it('has the standard check value', () => {
    expect(crc32Hex('123456789')).toBe('cbf43926');
  });

  it('matches the example in PROTOCOL.md section 2', () => {
    expect(crc32Hex('~> 0001 HELLO proto=1')).toBe('beb05281');
    expect(encodeFrame({ kind: 'request', id: 1, command: 'HELLO', fields: { proto: '1' } })).toBe(
      '~> 0001 HELLO proto=1 *beb05281\n',
    );
  });
});

describe('frame encoding and decoding', () => {
  const frames: Array<[Frame, string]> = [
    [{ kind: 'request', id: 0x2a, command: 'IDENTIFY', fields: {} }, '~> 002a IDENTIFY'],
    [{ kind: 'ok', id: 0xffff, fields: { state: 'locked' } }, '~< ffff OK state=locked'],
    [
      { kind: 'error', id: 7, code: 'BAD_ARGUMENT', fields: { field: 'deviceId' } },
      '~< 0007 ERR BAD_ARGUMENT field=deviceId',
    ],
    [
      { kind: 'event', name: 'boot', fields: { proto: '1', fw: '2.3.1' } },
      '~< 0000 EVT boot proto=1 fw=2.3.1',
    ],
  ];

  it.each(frames)('round-trips %j', (frame, body) => {
    const line = encodeFrame(frame);
    expect(line).toBe(`${body} *${crc32Hex(body)}\n`);
    const listener = frame.kind === 'request' ? 'board' : 'station';
    expect(decodeLine(line.trimEnd(), listener)).toEqual({ type: 'frame', frame, line: line.trimEnd() });
  });

  it('percent-encodes values that would break the line', () => {
    const line = encodeFrame({ kind: 'error', id: 3, code: 'STORAGE', fields: { msg: 'flash 100% full\n' } });
    expect(line).toContain('msg=flash%20100%25%20full%0A');
    const decoded = decodeLine(line.trimEnd(), 'station');
    expect(decoded.type === 'frame' && decoded.frame.fields.msg).toBe('flash 100% full\n');
  });

  it('refuses to build a frame over the line limit', () => {
    expect(() =>
      encodeFrame({
        kind: 'request',
        id: 1,
        command: 'WRITE',
        fields: { mqttToken: 'x'.repeat(MAX_LINE_BYTES) },
      }),
    ).toThrow(FrameEncodingError);
  });

  it('refuses the event id for a request and bad names', () => {
    expect(() => encodeFrame({ kind: 'request', id: 0, command: 'HELLO', fields: {} })).toThrow(/reserved/);
    expect(() => encodeFrame({ kind: 'request', id: 1, command: 'hello', fields: {} })).toThrow(
      /not allowed/,
    );
    expect(() => encodeFrame({ kind: 'ok', id: 1, fields: { 'bad key': 'x' } })).toThrow(/not allowed/);
  });

  it('classifies logs, echoes and bad frames', () => {
    expect(decodeLine('[00:00:01.000,000] <inf> main: hi', 'station')).toEqual({
      type: 'log',
      text: '[00:00:01.000,000] <inf> main: hi',
      truncated: false,
    });
    expect(decodeLine('~> 0001 HELLO proto=1 *beb05281', 'station').type).toBe('echo');
    expect(decodeLine('~< 0001 OK *00000000', 'station')).toEqual({
      type: 'bad-frame',
      reason: 'crc-mismatch',
      line: '~< 0001 OK *00000000',
      id: 1,
    });
    expect(decodeLine('~< zz OK', 'station')).toMatchObject({ type: 'bad-frame', reason: 'malformed' });
    expect(decodeLine('~< 0001 OK', 'station', true)).toMatchObject({
      type: 'bad-frame',
      reason: 'too-long',
      id: 1,
    });
    const dupKey = '~< 0001 OK a=1 a=2';
    expect(decodeLine(`${dupKey} *${crc32Hex(dupKey)}`, 'station')).toMatchObject({ reason: 'malformed' });
    const eventWithId = '~< 0005 EVT boot';
    expect(decodeLine(`${eventWithId} *${crc32Hex(eventWithId)}`, 'station')).toMatchObject({
      reason: 'malformed',
    });
  });

  it('never throws on arbitrary text, and always says what the line is', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 600 }),
        fc.constantFrom<'station' | 'board'>('station', 'board'),
        (text, who) => {
          const decoded = decodeLine(text, who);
          expect(['frame', 'log', 'bad-frame', 'echo']).toContain(decoded.type);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws on near-frames (marker + random tail)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (tail) => {
        const body = `~< 0001 ${tail}`;
        for (const line of [body, `${body} *${crc32Hex(body)}`]) {
          const decoded = decodeLine(line, 'station');
          expect(['frame', 'bad-frame', 'log']).toContain(decoded.type);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips any field value through percent-encoding', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (value) => {
        const encoded = encodeFieldValue(value);
        expect(encoded).toMatch(/^[\x21-\x7e]*$/);
        expect(decodeFieldValue(encoded)).toBe(value);
      }),
    );
    expect(decodeFieldValue('%zz')).toBeUndefined();
    expect(decodeFieldValue('%C3')).toBeUndefined();
  });
});

describe('line splitter', () => {
  const frameLines = fc.array(
    fc.oneof(
      fc.string({ maxLength: 80 }).map((s) => s.replace(/[\r\n]/g, '.')),
      fc
        .record({ id: fc.integer({ min: 1, max: 0xffff }), state: fc.constantFrom('blank', 'committed') })
        .map(({ id, state }) => encodeFrame({ kind: 'ok', id, fields: { state } }).trimEnd()),
    ),
    { maxLength: 30 },
  );

  it('gives the same lines however the stream is split or merged', () => {
    fc.assert(
      fc.property(
        frameLines,
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }),
        (lines, cuts) => {
          const stream = Buffer.from(lines.map((l) => l + (l.length % 2 ? '\r\n' : '\n')).join(''));
          const splitter = new LineSplitter();
          const out: string[] = [];
          let at = 0;
          let i = 0;
          while (at < stream.length) {
            const size = cuts[i++ % cuts.length]!;
            for (const line of splitter.push(stream.subarray(at, at + size))) out.push(line.text);
            at += size;
          }
          expect(out).toEqual(lines);
          expect(splitter.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never holds more than one line of input, however long the line', () => {
    const splitter = new LineSplitter(512);
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 200; i++) {
      expect(splitter.push(chunk)).toEqual([]);
      expect(splitter.bufferedBytes).toBeLessThanOrEqual(512);
    }
    const [line] = splitter.push(Buffer.from('tail\nnext'));
    expect(line).toEqual({ text: 'A'.repeat(512), truncated: true });
    expect(splitter.flush()).toEqual([{ text: 'next', truncated: false }]);
  });

  it('never throws on random bytes and stays bounded', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 2048 }), { maxLength: 20 }), (chunks) => {
        const splitter = new LineSplitter(128);
        for (const chunk of chunks) {
          for (const line of splitter.push(chunk)) {
            expect(Buffer.byteLength(line.text)).toBeLessThanOrEqual(128 * 3);
            decodeLine(line.text, 'station', line.truncated);
          }
          expect(splitter.bufferedBytes).toBeLessThanOrEqual(128);
        }
      }),
      { numRuns: 300 },
    );
  });
});
