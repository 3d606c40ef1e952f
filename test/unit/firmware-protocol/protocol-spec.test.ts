import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeLine } from '../../../firmware-protocol';
import { replayTranscript } from '../../support/protocol-transcript';

const spec = readFileSync(new URL('../../../firmware-protocol/PROTOCOL.md', import.meta.url), 'utf8');

function transcripts(): string[][] {
  const blocks: string[][] = [];
  const pattern = /```transcript\n([\s\S]*?)```/g;
  for (let match = pattern.exec(spec); match; match = pattern.exec(spec)) {
    blocks.push(match[1]!.split('\n').filter((line) => line !== ''));
  }
  return blocks;
}

describe('PROTOCOL.md worked examples', () => {
  const blocks = transcripts();

  it('has the worked examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  it.each(blocks.map((lines, i) => [i + 1, lines] as const))(
    'example %i: the virtual board answers byte for byte as written',
    async (_n, lines) => {
      const stationLines = lines.filter((line) => line.startsWith('~> '));
      const boardLines = lines.filter((line) => !line.startsWith('~> '));
      expect(await replayTranscript(stationLines)).toEqual(boardLines);
    },
  );

  it('every board frame in the examples is a valid frame', () => {
    for (const line of blocks.flat().filter((l) => l.startsWith('~< '))) {
      expect(decodeLine(line, 'station').type, line).toBe('frame');
    }
  });

  it('every frame quoted anywhere in the spec has a correct CRC, except the one showing a bad CRC', () => {
    const quoted = spec.match(/~[<>] [0-9a-f]{4} [^`\n|]*\*[0-9a-f]{8}/g) ?? [];
    expect(quoted.length).toBeGreaterThan(20);
    const bad = quoted.filter((line) => {
      const decoded = decodeLine(line, line.startsWith('~>') ? 'board' : 'station');
      return decoded.type !== 'frame';
    });
    expect(bad).toEqual(['~> 0002 HELLO proto=1 *00000000']);
  });
});
