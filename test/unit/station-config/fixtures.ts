/** Valid configs to mutate in tests: the two shipped examples, parsed fresh for every call. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../../../station-config/index';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../../station-config/examples/', import.meta.url));
export const SANDBOX_EXAMPLE = fileURLToPath(
  new URL('../../../station-config/sandbox.json', import.meta.url),
);
export const PRODUCTION_TEMPLATE = `${EXAMPLES_DIR}production.template.jsonc`;

// Loose JSON shape so tests can mutate any field, including into wrong types.
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

function readExample(file: string): JsonObject {
  const parsed = parseConfigText(readFileSync(file, 'utf8'), { jsonc: file.endsWith('.jsonc') });
  if (!('value' in parsed) || parsed.problems.length > 0) throw new Error(`example ${file} does not parse`);
  return parsed.value as JsonObject;
}

export const production = (): JsonObject => readExample(PRODUCTION_TEMPLATE);
export const sandbox = (): JsonObject => readExample(SANDBOX_EXAMPLE);

/** The object at a dotted path, for mutation (`at(cfg, 'recipes.0.credentials')`). */
export function at(root: JsonObject, path: string): JsonObject {
  let node: Json = root;
  for (const key of path.split('.')) {
    node = Array.isArray(node) ? (node[Number(key)] as Json) : ((node as JsonObject)[key] as Json);
  }
  return node as JsonObject;
}
