/** The production template explains every option: each setting of the schema appears in it. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { stationConfigJsonSchema } from '../../../station-config/index';
import { PRODUCTION_TEMPLATE } from './fixtures';

function propertyNames(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => propertyNames(n, out));
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'properties' && typeof value === 'object' && value !== null) {
        for (const name of Object.keys(value)) out.add(name);
      }
      propertyNames(value, out);
    }
  }
  return out;
}

it('every setting of the schema is named in the production template', () => {
  const template = readFileSync(PRODUCTION_TEMPLATE, 'utf8');
  const missing = [...propertyNames(stationConfigJsonSchema())].filter(
    (name) => !template.includes(`"${name}"`),
  );
  expect(missing).toEqual([]);
});
