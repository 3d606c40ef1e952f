/**
 * Random request bodies for POST /api/command: mostly well-formed envelopes with random inputs (to reach the
 * station), plus junk of every other kind (wrong shapes, cut-off JSON, binary, other content types).
 */
import fc from 'fast-check';
import type { z } from 'zod';
import { COMMANDS, type CommandName } from '../../electron/station-api';

const keysOf = (name: CommandName): string[] =>
  Object.keys((COMMANDS[name].input as unknown as z.ZodObject).shape ?? {});

export function requestFor(name: CommandName): fc.Arbitrary<{ body: string; type: string }> {
  const keys = keysOf(name);
  const input = fc.oneof(
    { weight: 3, arbitrary: fc.jsonValue() },
    {
      weight: 3,
      arbitrary: fc.dictionary(fc.constantFrom(...keys, 'extra'), fc.jsonValue(), {
        maxKeys: keys.length + 1,
      }),
    },
  );
  const json = (body: fc.Arbitrary<string>) => body.map((text) => ({ body: text, type: 'application/json' }));
  return fc.oneof(
    { weight: 10, arbitrary: json(input.map((value) => JSON.stringify({ command: name, input: value }))) },
    { weight: 2, arbitrary: json(fc.jsonValue().map((value) => JSON.stringify(value))) },
    {
      weight: 1,
      arbitrary: json(
        fc
          .tuple(fc.jsonValue(), fc.jsonValue(), fc.string())
          .map(([command, value, key]) => JSON.stringify({ command, input: value, [key]: 1 })),
      ),
    },
    { weight: 1, arbitrary: json(fc.string({ unit: 'binary', maxLength: 200 })) },
    {
      weight: 1,
      arbitrary: json(
        fc
          .tuple(input, fc.nat({ max: 40 }))
          .map(([value, cut]) => JSON.stringify({ command: name, input: value }).slice(0, -1 - cut)),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        body: fc.string({ maxLength: 100 }),
        type: fc.constantFrom(
          'text/plain',
          'application/xml',
          'application/json; charset=utf-8',
          'text/html',
        ),
      }),
    },
  );
}
