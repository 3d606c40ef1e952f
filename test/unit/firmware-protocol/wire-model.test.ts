import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { PacedWire, UART_BITS_PER_BYTE, wireTimeMs } from '../../../firmware-protocol/virtual-board';
import { lineFeeds } from '../../../firmware-protocol/virtual-board/wire-model';

describe('wire model', () => {
  it('a byte is 10 bits: 115200 baud moves 11 520 bytes a second', () => {
    expect(UART_BITS_PER_BYTE).toBe(10);
    expect(wireTimeMs(11_520, 115_200)).toBeCloseTo(1000, 9);
    expect(wireTimeMs(96, 9600)).toBeCloseTo(100, 9);
  });

  it('delivers chunks in order, each no sooner than the wire time of everything before it and itself', async () => {
    const delivered: Array<{ text: string; at: number }> = [];
    const wire = new PacedWire(9600, (chunk) =>
      delivered.push({ text: chunk.toString(), at: performance.now() }),
    );
    const start = performance.now();
    const chunks = ['a'.repeat(48), 'b'.repeat(10), 'c'.repeat(38)];
    for (const chunk of chunks) wire.push(Buffer.from(chunk));
    expect(wire.idle).toBe(false);
    await wire.drained();
    expect(wire.idle).toBe(true);
    expect(delivered.map((d) => d.text)).toEqual(chunks);
    let bytes = 0;
    for (const [index, chunk] of chunks.entries()) {
      bytes += chunk.length;
      expect(delivered[index]!.at - start).toBeGreaterThanOrEqual(wireTimeMs(bytes, 9600));
    }
  });

  it('a chunk pushed after the wire went idle still takes its own wire time', async () => {
    const arrivals: number[] = [];
    const wire = new PacedWire(96_000, () => arrivals.push(performance.now()));
    wire.push(Buffer.alloc(96)); // 10 ms
    await wire.drained();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const pushedAt = performance.now();
    wire.push(Buffer.alloc(96));
    await wire.drained();
    expect(arrivals[1]! - pushedAt).toBeGreaterThanOrEqual(10);
  });

  it('clear() drops what is on the wire and releases a drain waiter', async () => {
    const delivered: Buffer[] = [];
    const wire = new PacedWire(300, (chunk) => delivered.push(chunk));
    wire.push(Buffer.alloc(30)); // a second at 300 baud
    const drained = wire.drained();
    wire.clear();
    await drained;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(delivered).toEqual([]);
    expect(wire.idle).toBe(true);
  });

  it('refuses a baud rate that would never move a byte', () => {
    expect(() => new PacedWire(0, () => undefined)).toThrow('a wire model needs a positive baud rate, not 0');
    expect(() => new PacedWire(Number.NaN, () => undefined)).toThrow(RangeError);
  });

  it('counts line feeds', () => {
    expect(lineFeeds(Buffer.from('a\nbc\n\nd'))).toBe(3);
    expect(lineFeeds(Buffer.alloc(0))).toBe(0);
  });
});
