/** The keyboard-wedge detector, with exact timings: scanners are fast bursts ending in Enter/Tab; people are not. */
import { describe, expect, it } from 'vitest';
import { WedgeDetector } from '../../../renderer/src/scanning/wedge';

function type(detector: WedgeDetector, text: string, gapsMs: number | number[], end = 'Enter', start = 1000) {
  let at = start;
  const gaps = typeof gapsMs === 'number' ? text.split('').map(() => gapsMs) : gapsMs;
  [...text].forEach((char, i) => {
    detector.key(char, at);
    at += gaps[i] ?? 5;
  });
  return detector.key(end, at);
}

describe('keyboard-wedge scans', () => {
  it('takes a fast burst ending in Enter or Tab as a scan, punctuation and lower case included', () => {
    expect(type(new WedgeDetector(), 'SN:AB12345678', 5)).toEqual({ kind: 'scan', text: 'SN:AB12345678' });
    expect(type(new WedgeDetector(), 'sn-lower.case/1', 3, 'Tab')).toEqual({
      kind: 'scan',
      text: 'sn-lower.case/1',
    });
  });

  it('keeps a scan whole across one late character', () => {
    const gaps = [5, 5, 5, 5, 80, 5, 5, 5, 5, 5, 5, 5, 5];
    expect(type(new WedgeDetector(), 'SN:AB12345678', gaps)).toEqual({ kind: 'scan', text: 'SN:AB12345678' });
  });

  it('does not take a person typing for a scanner, however fast they type', () => {
    expect(type(new WedgeDetector(), 'SN:AB12345678', 90)).toEqual({ kind: 'other' });
    expect(type(new WedgeDetector(), 'keyboard batch', 40)).toEqual({ kind: 'other' });
  });

  it('needs at least four characters, and a pause longer than 100 ms ends a burst', () => {
    expect(type(new WedgeDetector(), 'abc', 5)).toEqual({ kind: 'other' });
    const detector = new WedgeDetector();
    type(detector, 'junk', 5, 'x');
    // 'x' is a character, not an end: the next burst starts after a pause and is judged alone.
    expect(type(detector, 'SN:AB12345678', 5, 'Enter', 5000)).toEqual({
      kind: 'scan',
      text: 'SN:AB12345678',
    });
  });

  it('reports where a burst starts (the field a scan typed into is restored from there)', () => {
    const detector = new WedgeDetector();
    expect(detector.key('S', 0)).toEqual({ kind: 'char', burstStart: true });
    expect(detector.key('N', 5)).toEqual({ kind: 'char', burstStart: false });
    expect(detector.key('Q', 500)).toEqual({ kind: 'char', burstStart: true });
  });
});
