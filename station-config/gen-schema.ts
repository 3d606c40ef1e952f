/**
 * Writes station-config/schema/station-config.schema.json from the zod schema (`npm run gen:config-schema`).
 * A test fails when the committed file differs from a fresh generation.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stationConfigJsonSchema } from './schema';

export const JSON_SCHEMA_PATH = fileURLToPath(
  new URL('./schema/station-config.schema.json', import.meta.url),
);

export function renderJsonSchema(): string {
  return JSON.stringify(stationConfigJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(JSON_SCHEMA_PATH, renderJsonSchema());
  process.stdout.write(`wrote ${JSON_SCHEMA_PATH}\n`);
}
