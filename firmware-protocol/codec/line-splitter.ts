import { Transform, type TransformCallback } from 'node:stream';
import { MAX_LINE_BYTES } from './frame';

export interface SplitLine {
  /** The line without CR/LF, decoded as UTF-8 (frames are ASCII; log lines may not be). */
  text: string;
  /** The line ran past the limit: `text` holds its first `maxLineBytes` bytes, the rest was dropped. */
  truncated: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines with a hard memory bound. @serialport/parser-readline buffers a line without
 * limit (and re-concatenates on every chunk), so a board that never sends LF would grow the station's heap
 * forever; this keeps at most `maxLineBytes` bytes and reports a longer line as truncated.
 */
export class LineSplitter {
  private readonly buffer: Buffer;
  private length = 0;
  private overflowed = false;

  constructor(readonly maxLineBytes: number = MAX_LINE_BYTES) {
    this.buffer = Buffer.alloc(maxLineBytes);
  }

  push(chunk: Uint8Array): SplitLine[] {
    const lines: SplitLine[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? chunk.length : lf;
      this.append(chunk, start, end);
      if (lf === -1) break;
      lines.push(this.takeLine());
      start = lf + 1;
    }
    return lines;
  }

  /** The unterminated tail, if any (a port closing mid-line). */
  flush(): SplitLine[] {
    return this.length > 0 || this.overflowed ? [this.takeLine()] : [];
  }

  /** Bytes currently held; never more than maxLineBytes. */
  get bufferedBytes(): number {
    return this.length;
  }

  private append(chunk: Uint8Array, from: number, to: number): void {
    const room = this.maxLineBytes - this.length;
    const count = to - from;
    if (count > room) this.overflowed = true;
    const copy = Math.min(count, room);
    if (copy > 0) {
      this.buffer.set(chunk.subarray(from, from + copy), this.length);
      this.length += copy;
    }
  }

  private takeLine(): SplitLine {
    let end = this.length;
    if (!this.overflowed && end > 0 && this.buffer[end - 1] === CR) end -= 1;
    const line = { text: this.buffer.toString('utf8', 0, end), truncated: this.overflowed };
    this.length = 0;
    this.overflowed = false;
    return line;
  }
}

/** LineSplitter as an object-mode Transform, to pipe a serial port into. */
export class LineSplitterStream extends Transform {
  private readonly splitter: LineSplitter;

  constructor(maxLineBytes: number = MAX_LINE_BYTES) {
    super({ readableObjectMode: true });
    this.splitter = new LineSplitter(maxLineBytes);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (const line of this.splitter.push(chunk)) this.push(line);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    for (const line of this.splitter.flush()) this.push(line);
    callback();
  }
}
