import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crc32Hex, decodeLine } from '../../../firmware-protocol';
import {
  BOARD_MARKER_PATTERN,
  exampleBoard,
  parseBoardMarker,
  replayTranscript,
  type ExampleBoardOptions,
} from '../../support/protocol-transcript';

const spec = readFileSync(new URL('../../../firmware-protocol/PROTOCOL.md', import.meta.url), 'utf8');

interface Transcript {
  /** The heading of the subsection the block is in, e.g. "10.5 A 12-byte mcuId (STM32L4)". */
  title: string;
  /** The board it runs on: the example board unless a `<!-- board: ... -->` line right before the fence says. */
  board: ExampleBoardOptions;
  lines: string[];
}

function transcripts(): Transcript[] {
  const blocks: Transcript[] = [];
  const pattern = /^(?:(<!-- board: .* -->)\n)?```transcript\n([\s\S]*?)```/gm;
  for (let match = pattern.exec(spec); match; match = pattern.exec(spec)) {
    const headings = spec.slice(0, match.index).match(/^### .+$/gm) ?? ['### (no heading)'];
    const marker = match[1] === undefined ? undefined : BOARD_MARKER_PATTERN.exec(match[1]);
    blocks.push({
      title: headings[headings.length - 1]!.slice('### '.length),
      board: marker ? parseBoardMarker(marker[1]!) : {},
      lines: match[2]!.split('\n').filter((line) => line !== ''),
    });
  }
  return blocks;
}

describe('PROTOCOL.md worked examples', () => {
  const blocks = transcripts();

  it('has the worked examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(7);
  });

  it('puts every board marker right before a transcript it applies to', () => {
    const markers = spec.match(/^<!-- board:.*$/gm) ?? [];
    expect(markers.length).toBeGreaterThan(0);
    expect(markers.length).toBe(blocks.filter((b) => Object.keys(b.board).length > 0).length);
  });

  it.each(blocks.map((block) => [block.title, block] as const))(
    'example %s: the virtual board answers byte for byte as written',
    async (_title, block) => {
      const stationLines = block.lines.filter((line) => line.startsWith('~> '));
      const boardLines = block.lines.filter((line) => !line.startsWith('~> '));
      expect(await replayTranscript(stationLines, exampleBoard(block.board))).toEqual(boardLines);
    },
  );

  it('every board frame in the examples is a valid frame', () => {
    for (const line of blocks.flatMap((b) => b.lines).filter((l) => l.startsWith('~< '))) {
      expect(decodeLine(line, 'station').type, line).toBe('frame');
    }
  });

  const quoted = spec.match(/~[<>] [0-9a-f]{4} [^`\n|]*\*[0-9a-f]{8}/g) ?? [];

  it('every frame quoted anywhere in the spec has a correct CRC, except the one showing a bad CRC', () => {
    expect(quoted.length).toBeGreaterThan(20);
    const badCrc = quoted.filter((line) => {
      const star = line.lastIndexOf(' *');
      return crc32Hex(line.slice(0, star)) !== line.slice(star + 2);
    });
    expect(badCrc).toEqual(['~> 0002 HELLO proto=1 *00000000']);
  });

  it('every quoted frame is a valid frame, except the bad CRC and the malformed percent escapes (10.7)', () => {
    const bad = quoted.filter((line) => {
      const decoded = decodeLine(line, line.startsWith('~>') ? 'board' : 'station');
      return decoded.type !== 'frame';
    });
    expect(bad).toEqual([
      '~> 0002 HELLO proto=1 *00000000',
      '~> 0005 WRITE mqttToken=100%ZZ *d0b1fcf8',
      '~> 0006 WRITE mqttToken=caf%C3%A *10a94e3d',
    ]);
  });
});
