import { describe, expect, it } from 'vitest';
import { parseFault } from '../../../firmware-protocol/virtual-board';

describe('fault grammar: a repeat count after a value', () => {
  it.each([
    ['delay-reply@VERIFY=500x2', { kind: 'delay-reply', command: 'VERIFY', value: '500', remaining: 2 }],
    ['unplug@COMMIT=afterx1', { kind: 'unplug', command: 'COMMIT', value: 'after', remaining: 1 }],
    ['busy=20x3', { kind: 'busy', value: '20', remaining: 3 }],
    ['busy=20 x3', { kind: 'busy', value: '20', remaining: 3 }],
    ['corrupt-crc x2', { kind: 'corrupt-crc', remaining: 2 }],
    ['corrupt-crcx2', { kind: 'corrupt-crc', remaining: 2 }],
    ['delay-reply=500', { kind: 'delay-reply', value: '500' }],
    ['wrong-version@HELLO=7x10', { kind: 'wrong-version', command: 'HELLO', value: '7', remaining: 10 }],
  ])('%s', (spec, rule) => {
    expect(parseFault(spec)).toEqual({ ok: true, rule });
  });

  it('still refuses bad values and counts with the usual messages', () => {
    expect(parseFault('unplug@COMMIT=sidewaysx2')).toEqual({
      ok: false,
      message: 'fault "unplug@COMMIT=sidewaysx2": unplug takes =before or =after',
    });
    expect(parseFault('delay-reply=soonx2')).toEqual({
      ok: false,
      message: 'fault "delay-reply=soonx2": delay-reply takes a whole number',
    });
    expect(parseFault('delay-reply=x2')).toEqual({
      ok: false,
      message: 'fault "delay-reply=x2": delay-reply takes a whole number',
    });
    expect(parseFault('busy=20x0')).toEqual({
      ok: false,
      message: 'fault "busy=20x0": busy takes a whole number',
    });
    expect(parseFault('busy=20x')).toEqual({
      ok: false,
      message: 'fault "busy=20x": busy takes a whole number',
    });
    expect(parseFault('busy=20 x')).toMatchObject({
      ok: false,
      message: expect.stringContaining('kind[@COMMAND][=value][xN]'),
    });
  });
});
