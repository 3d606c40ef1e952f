/**
 * Telling a keyboard-wedge scanner from a person: a scanner types a whole label in a fast burst (a few ms per
 * character) and ends it with Enter or Tab; people type slower. A burst is judged on its average pace, so one
 * late character (the browser busy re-drawing, a USB hiccup) does not split a scan in two. Pure and clock-driven,
 * so it is tested with exact timings.
 */
export interface WedgeOptions {
  /** The average gap between the characters of a scan is at most this. */
  maxAverageGapMs?: number;
  /** A gap longer than this ends a burst whatever came before. */
  maxKeyGapMs?: number;
  /** Shortest text that counts as a scan. */
  minLength?: number;
}

export type WedgeResult =
  /** Part of a burst that may still turn out to be a scan. */
  | { kind: 'char'; burstStart: boolean }
  /** The burst ended with Enter/Tab and was fast enough: a scan. */
  | { kind: 'scan'; text: string }
  | { kind: 'other' };

export class WedgeDetector {
  private buffer = '';
  private startedAt = 0;
  private lastAt = -Infinity;
  private readonly maxAverage: number;
  private readonly maxGap: number;
  private readonly minLength: number;

  constructor(options: WedgeOptions = {}) {
    this.maxAverage = options.maxAverageGapMs ?? 25;
    this.maxGap = options.maxKeyGapMs ?? 100;
    this.minLength = options.minLength ?? 4;
  }

  /** Feeds one keydown: `key` as KeyboardEvent.key, `at` in ms. */
  key(key: string, at: number): WedgeResult {
    const inBurst = this.buffer !== '' && at - this.lastAt <= this.maxGap;
    if (key === 'Enter' || key === 'Tab') {
      const text = this.buffer;
      const average = text.length > 1 ? (this.lastAt - this.startedAt) / (text.length - 1) : Infinity;
      this.reset();
      return inBurst && text.length >= this.minLength && average <= this.maxAverage
        ? { kind: 'scan', text }
        : { kind: 'other' };
    }
    if (key.length !== 1) {
      // Shift and the like come between a scanner's characters too; anything else ends the burst.
      if (key !== 'Shift' && key !== 'CapsLock') this.reset();
      return { kind: 'other' };
    }
    if (inBurst) {
      this.buffer += key;
    } else {
      this.buffer = key;
      this.startedAt = at;
    }
    this.lastAt = at;
    return { kind: 'char', burstStart: !inBurst };
  }

  reset(): void {
    this.buffer = '';
    this.lastAt = -Infinity;
  }
}
