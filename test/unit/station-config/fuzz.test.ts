/** The checker reports, never crashes: random JSON values, and valid configs with random parts replaced. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkConfigText,
  checkStationConfig,
  stationConfigSchema,
  type CheckResult,
} from '../../../station-config/index';
import { production, sandbox, type Json, type JsonObject } from './fixtures';

function wellFormed(result: CheckResult): boolean {
  if (result.valid) return result.problems.length === 0 && typeof result.config === 'object';
  return (
    result.problems.length > 0 &&
    result.problems.every(
      (p) =>
        typeof p.path === 'string' && p.path.startsWith('$') && p.problem.length > 0 && p.example.length > 0,
    )
  );
}

/** Replaces the value at a random existing path (or adds a random key) with a random JSON value. */
function mutate(root: JsonObject, choices: number[], replacement: Json, extraKey: string | null): JsonObject {
  const copy = structuredClone(root);
  let node: Json = copy;
  for (const choice of choices) {
    if (Array.isArray(node) && node.length > 0) {
      const index: number = choice % node.length;
      const child: Json = node[index]!;
      if (typeof child !== 'object' || child === null || choice % 3 === 0) {
        node[index] = replacement;
        return copy;
      }
      node = child;
    } else if (node && typeof node === 'object' && !Array.isArray(node)) {
      const keys: string[] = Object.keys(node);
      if (extraKey !== null && choice % 5 === 0) {
        node[extraKey] = replacement;
        return copy;
      }
      const key: string | undefined = keys[choice % Math.max(1, keys.length)];
      if (key === undefined) return copy;
      const child: Json = node[key]!;
      if (typeof child !== 'object' || child === null || choice % 3 === 0) {
        node[key] = replacement;
        return copy;
      }
      node = child;
    }
  }
  return copy;
}

describe('fuzz', () => {
  it('any JSON value: never throws, always a well-formed result, valid only when the schema agrees', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const result = checkStationConfig(value);
        expect(wellFormed(result)).toBe(true);
        if (!stationConfigSchema.safeParse(value).success) expect(result.valid).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('valid configs with one random part replaced: never throws, invalid whenever the schema says so', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        fc.jsonValue({ maxDepth: 3 }),
        fc.option(fc.string({ maxLength: 12 })),
        (useSandbox, choices, replacement, extraKey) => {
          const config = mutate(
            useSandbox ? sandbox() : production(),
            choices,
            replacement as Json,
            extraKey,
          );
          const result = checkStationConfig(config);
          expect(wellFormed(result)).toBe(true);
          if (!stationConfigSchema.safeParse(config).success) expect(result.valid).toBe(false);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('random text as a .json or .jsonc file: never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), fc.boolean(), (text, jsonc) => {
        expect(wellFormed(checkConfigText(text, { jsonc }))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('deeply nested values do not overflow the stack', () => {
    let deep: Json = 'x';
    for (let i = 0; i < 20000; i++) deep = [deep];
    const config = production();
    config.extra = deep;
    expect(wellFormed(checkStationConfig(config))).toBe(true);
    expect(wellFormed(checkStationConfig(deep))).toBe(true);
  });
});
