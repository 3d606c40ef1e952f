import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const committed = join(root, 'electron/backend/openapi/infuse-api.generated.ts');

describe('generated OpenAPI types', () => {
  it('match a fresh `npm run gen:api-types` of the in-repo YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-types-'));
    try {
      const fresh = join(dir, 'fresh.generated.ts');
      execFileSync(
        process.execPath,
        [
          join(root, 'node_modules/openapi-typescript/bin/cli.js'),
          join(root, 'electron/backend/openapi/infuse-openapi.yaml'),
          '--output',
          fresh,
        ],
        { cwd: root, stdio: 'pipe' },
      );
      expect(readFileSync(fresh, 'utf8'), 'run `npm run gen:api-types` and commit the result').toBe(
        readFileSync(committed, 'utf8'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
