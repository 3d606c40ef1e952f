/**
 * Replays the worked examples of PROTOCOL.md against a virtual board built from the examples' fixed keys, so the
 * spec and the code cannot drift apart: every board frame in the spec must be what the board really sends.
 */
import { createHash } from 'node:crypto';
import { decodeLine } from '../../firmware-protocol';
import {
  MemoryFlashStore,
  VirtualBoard,
  createBlankBoardImage,
  DEVELOPMENT_CLOUD_PUBLIC_KEY,
} from '../../firmware-protocol/virtual-board';

/** The fixed inputs of the worked examples (PROTOCOL.md "Worked examples"). */
export const EXAMPLE = {
  soc: 'nRF52840',
  mcuId: '9c4a7e21d0b35f68',
  devicePrivateKey: createHash('sha256').update('PROTOCOL.md example device key').digest(),
  /** The board's random source in the examples: every draw returns bytes 0xa0, 0xa1, ... */
  random: (length: number) => Buffer.from(Array.from({ length }, (_, i) => 0xa0 + i)),
};

/** Which fixed board a worked example runs on; unset fields are the example board's (EXAMPLE). */
export interface ExampleBoardOptions {
  soc?: string;
  /** Required with a `soc` other than EXAMPLE.soc: the mcuId of the example board is nRF-sized. */
  mcuId?: string;
}

/** The HTML comment that, on the line right before a ```transcript fence, names the board the example runs on. */
export const BOARD_MARKER_PATTERN = /^<!-- board: (.*) -->$/;

/**
 * Read the board of a `<!-- board: soc=stm32l4x mcuId=0123456789abcdef01234567 -->` marker (its text between
 * "board:" and "-->"). Throws on anything it does not know, so a typo in the spec cannot pick the default board.
 */
export function parseBoardMarker(text: string): ExampleBoardOptions {
  const options: ExampleBoardOptions = {};
  for (const token of text.trim().split(/\s+/)) {
    const match = /^(soc|mcuId)=(\S+)$/.exec(token);
    if (!match) throw new Error(`board marker: "${token}" is not soc=... or mcuId=...`);
    options[match[1] as 'soc' | 'mcuId'] = match[2];
  }
  if (options.soc !== undefined && options.soc !== EXAMPLE.soc && options.mcuId === undefined)
    throw new Error(`board marker: a ${options.soc} board needs its fixed mcuId`);
  return options;
}

export function exampleBoard(options: ExampleBoardOptions = {}): VirtualBoard {
  const image = createBlankBoardImage({
    soc: options.soc ?? EXAMPLE.soc,
    mcuId: options.mcuId ?? EXAMPLE.mcuId,
    devicePrivateKey: EXAMPLE.devicePrivateKey,
    cloudPublicKey: DEVELOPMENT_CLOUD_PUBLIC_KEY,
  });
  return new VirtualBoard({
    store: new MemoryFlashStore(image),
    processingDelayMs: 0,
    flashWriteDelayMs: 0,
    bootDelayMs: 0,
    random: EXAMPLE.random,
    uptimeMs: () => 1234,
  });
}

/** Feed station lines one by one; return everything the board said, line by line, in order. */
export async function replayTranscript(stationLines: string[], board = exampleBoard()): Promise<string[]> {
  const output: string[] = [];
  let pending = '';
  board.on('output', (text) => {
    pending += text;
    let lf: number;
    while ((lf = pending.indexOf('\n')) >= 0) {
      output.push(pending.slice(0, lf));
      pending = pending.slice(lf + 1);
    }
  });
  board.powerOn();
  await waitFor(() => output.some((l) => l.includes(' EVT boot')));
  for (const line of stationLines) {
    const before = output.length;
    board.receive(Buffer.from(line + '\n'));
    await waitFor(() => output.slice(before).some((l) => decodeLine(l, 'station').type === 'frame'));
  }
  return output;
}

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('the board did not answer in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
