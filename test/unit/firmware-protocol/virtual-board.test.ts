import { describe, expect, it } from 'vitest';
import { decodeLine, encodeFrame, type FrameFields } from '../../../firmware-protocol';
import { FaultSet, parseFault, type FaultRule } from '../../../firmware-protocol/virtual-board';
import { exampleBoard } from '../../support/protocol-transcript';

describe('fault specs', () => {
  it('parse kind, command, value and count', () => {
    expect(parseFault('drop-reply@COMMIT x2')).toEqual({
      ok: true,
      rule: { kind: 'drop-reply', command: 'COMMIT', remaining: 2 },
    });
    expect(parseFault('delay-reply@VERIFY=3000')).toEqual({
      ok: true,
      rule: { kind: 'delay-reply', command: 'VERIFY', value: '3000' },
    });
    expect(parseFault('unplug@COMMIT=after')).toMatchObject({ ok: true, rule: { value: 'after' } });
  });

  it('refuse what they cannot mean, saying why', () => {
    expect(parseFault('unplug@COMMIT=sideways')).toEqual({
      ok: false,
      message: 'fault "unplug@COMMIT=sideways": unplug takes =before or =after',
    });
    expect(parseFault('drop-reply@SMASH')).toMatchObject({
      ok: false,
      message: expect.stringContaining('unknown command "SMASH"'),
    });
    expect(parseFault('delay-reply=soon')).toMatchObject({
      ok: false,
      message: expect.stringContaining('whole number'),
    });
    expect(parseFault('???')).toMatchObject({
      ok: false,
      message: expect.stringContaining('kind[@COMMAND][=value][xN]'),
    });
  });

  it('wear off after N firings and only match their command', () => {
    const rule: FaultRule = { kind: 'busy', command: 'WRITE', remaining: 2 };
    const set = new FaultSet([rule]);
    expect(set.take('busy', 'COMMIT')).toBeUndefined();
    expect(set.take('busy', 'WRITE')).toBeDefined();
    expect(set.take('busy', 'WRITE')).toBeDefined();
    expect(set.take('busy', 'WRITE')).toBeUndefined();
    expect(rule.remaining).toBe(2); // the caller's rule is not mutated
  });
});

/** Drive a board directly, without a serial port: send a request, get its reply frame. */
async function talk() {
  const board = exampleBoard();
  const replies: string[] = [];
  board.on('output', (text) => {
    for (const line of text.split('\n')) if (decodeLine(line, 'station').type === 'frame') replies.push(line);
  });
  board.powerOn();
  await new Promise((r) => setTimeout(r, 5));
  let id = 0;
  return {
    board,
    async send(command: string, fields: FrameFields = {}) {
      const before = replies.length;
      board.receive(Buffer.from(encodeFrame({ kind: 'request', id: ++id, command, fields })));
      for (let i = 0; i < 200 && replies.length === before; i++) await new Promise((r) => setTimeout(r, 2));
      const decoded = decodeLine(replies[replies.length - 1]!, 'station');
      if (decoded.type !== 'frame') throw new Error('no reply');
      return decoded.frame;
    },
  };
}

describe('virtual board behaviour beyond the worked examples', () => {
  it('assembles a long MQTT token from appended chunks, and refuses a misused append', async () => {
    const { send, board } = await talk();
    await send('HELLO', { proto: '1' });
    await send('WRITE', {
      deviceId: 'd291d4d66bf0a955',
      mqttToken: 'a'.repeat(300),
      mqttTokenExpiresAt: '2030-01-01T00:00:00Z',
    });
    await send('WRITE', { mqttToken: 'b'.repeat(300), append: '1' });
    expect(await send('WRITE', { deviceId: 'd291d4d66bf0a955', append: '1' })).toMatchObject({
      kind: 'error',
      code: 'BAD_ARGUMENT',
      fields: { field: 'append' },
    });
    await send('COMMIT');
    expect(board.flash.credentials?.mqttToken).toBe('a'.repeat(300) + 'b'.repeat(300));
  });

  it('refuses append=1 when no MQTT token is staged, also with one committed, and stages nothing', async () => {
    const { send, board } = await talk();
    await send('HELLO', { proto: '1' });
    const refused = { kind: 'error', code: 'BAD_ARGUMENT', fields: { field: 'append' } };
    expect(await send('WRITE', { mqttToken: 'sbx_mqtt_tail', append: '1' })).toMatchObject(refused);
    expect(await send('READBACK')).toMatchObject({ kind: 'ok', fields: { state: 'blank' } });
    expect((await send('READBACK')).fields).not.toHaveProperty('staged');

    // Other staged fields do not count: append continues a staged token, nothing else.
    await send('WRITE', { deviceId: 'd291d4d66bf0a955', mqttTokenExpiresAt: '2030-01-01T00:00:00Z' });
    expect(await send('WRITE', { mqttToken: 'sbx_mqtt_tail', append: '1' })).toMatchObject(refused);
    await send('WRITE', { mqttToken: 'sbx_mqtt_head' });
    await send('COMMIT');

    // A committed token is not a staged one: append never continues what is in flash.
    expect(await send('WRITE', { mqttToken: '_tail', append: '1' })).toMatchObject(refused);
    expect(await send('READBACK')).toMatchObject({ kind: 'ok', fields: { state: 'committed' } });
    expect((await send('READBACK')).fields).not.toHaveProperty('staged');
    expect(board.flash.credentials?.mqttToken).toBe('sbx_mqtt_head');
  });

  it('stages nothing from a WRITE frame with one bad field', async () => {
    const { send } = await talk();
    await send('HELLO', { proto: '1' });
    expect(await send('WRITE', { deviceId: 'd291d4d66bf0a955', networkKey: 'not-base64' })).toMatchObject({
      kind: 'error',
      code: 'BAD_ARGUMENT',
      fields: { field: 'networkKey' },
    });
    expect(await send('READBACK')).toMatchObject({
      kind: 'ok',
      fields: { state: 'blank', deviceId: 'none' },
    });
    expect(await send('WRITE', { colour: 'blue' })).toMatchObject({
      code: 'BAD_ARGUMENT',
      fields: { field: 'colour' },
    });
  });

  it('refuses unknown request fields and checks guards', async () => {
    const { send } = await talk();
    await send('HELLO', { proto: '1' });
    expect(await send('IDENTIFY', { verbose: '1' })).toMatchObject({
      code: 'BAD_ARGUMENT',
      fields: { field: 'verbose' },
    });
    expect(await send('LOCK', { deviceId: 'd291d4d66bf0a955' })).toMatchObject({ code: 'NOT_PROVISIONED' });
    await send('WRITE', { deviceId: 'd291d4d66bf0a955' });
    await send('COMMIT');
    expect(await send('LOCK', { deviceId: '0011223344556677' })).toMatchObject({
      code: 'BAD_ARGUMENT',
      fields: { field: 'deviceId' },
    });
    expect(await send('FACTORY-RESET', { mcuId: '9c4a7e21d0b35f68' })).toMatchObject({
      code: 'BAD_ARGUMENT',
      fields: { field: 'confirm' },
    });
    expect(await send('VERIFY', { nonce: Buffer.alloc(16).toString('base64'), key: 'udp' })).toMatchObject({
      code: 'BAD_ARGUMENT',
      fields: { field: 'gpsDay' },
    });
    expect(await send('COMMIT')).toMatchObject({ kind: 'ok', fields: { changed: '0' } });
  });

  it('checks in the order of PROTOCOL.md 7.1: fields, then values, then state, then the held device id', async () => {
    const { send } = await talk();
    expect(await send('WRITE', { deviceId: 'd291d4d66bf0a955' })).toMatchObject({ code: 'HELLO_REQUIRED' });
    await send('HELLO', { proto: '1' });
    await send('WRITE', { deviceId: 'd291d4d66bf0a955' });
    await send('COMMIT');
    // Committed with d291...: another id is ALREADY_PROVISIONED, but only after every field and value passed.
    expect(await send('WRITE', { deviceId: '0011223344556677', networkId: 'x' })).toMatchObject({
      code: 'BAD_ARGUMENT',
      fields: { field: 'networkId' },
    });
    expect(await send('WRITE', { deviceId: '0011223344556677' })).toMatchObject({
      code: 'ALREADY_PROVISIONED',
    });
    await send('LOCK', { deviceId: 'd291d4d66bf0a955' });
    expect(await send('WRITE', { colour: 'red', deviceId: 'd291d4d66bf0a955' })).toMatchObject({
      code: 'BAD_ARGUMENT',
      fields: { field: 'colour' },
    });
    expect(await send('WRITE', { networkKey: 'short' })).toMatchObject({
      code: 'BAD_ARGUMENT',
      fields: { field: 'networkKey' },
    });
    expect(await send('WRITE', { deviceId: 'd291d4d66bf0a955' })).toMatchObject({ code: 'LOCKED' });
    expect(await send('FACTORY-RESET', { mcuId: '0000000000000000', confirm: 'ERASE' })).toMatchObject({
      code: 'LOCKED',
    });
  });

  it('answers an over-long line with LINE_TOO_LONG carrying the id it could read, and survives random bytes', async () => {
    const { board } = await talk();
    const out: string[] = [];
    board.on('output', (t) => out.push(t));
    board.receive(Buffer.from('~> 0042 WRITE mqttToken=' + 'x'.repeat(2000) + ' *00000000\n'));
    for (let i = 0; i < 100 && !out.some((l) => l.includes('LINE_TOO_LONG')); i++)
      await new Promise((r) => setTimeout(r, 2));
    expect(out.find((l) => l.startsWith('~< '))).toMatch(/^~< 0042 ERR LINE_TOO_LONG \*[0-9a-f]{8}\n$/);
    for (let i = 0; i < 50; i++)
      board.receive(Buffer.from(Array.from({ length: 997 }, () => Math.floor(Math.random() * 256))));
    board.receive(Buffer.from('\n'));
    await new Promise((r) => setTimeout(r, 50));
    expect(board.isPowered).toBe(true);
  });
});
