import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file shipped with the station (an example config, the OpenAPI description), by its path from the project
 * root. Found by walking up from this module, because the same code runs from the sources and from the CLI
 * bundle (dist/cli/), which sit at different depths.
 */
export function findShippedFile(relative: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return join(here, '..', relative);
  }
}
