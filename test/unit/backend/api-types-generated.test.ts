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
    // Run the package.json script's own command line, with only the output redirected, so flags cannot drift.
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const [command, ...args] = (pkg.scripts['gen:api-types'] ?? '').split(/\s+/);
    expect(command).toBe('openapi-typescript');
    const outputIndex = args.indexOf('--output') + 1;
    expect(args[outputIndex]).toBe('electron/backend/openapi/infuse-api.generated.ts');
    const dir = mkdtempSync(join(tmpdir(), 'api-types-'));
    try {
      const fresh = join(dir, 'fresh.generated.ts');
      args[outputIndex] = fresh;
      execFileSync(process.execPath, [join(root, 'node_modules/openapi-typescript/bin/cli.js'), ...args], {
        cwd: root,
        stdio: 'pipe',
      });
      expect(readFileSync(fresh, 'utf8'), 'run `npm run gen:api-types` and commit the result').toBe(
        readFileSync(committed, 'utf8'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
