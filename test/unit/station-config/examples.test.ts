import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkConfigFile, stationConfigSchema } from '../../../station-config/index';
import { JSON_SCHEMA_PATH, renderJsonSchema } from '../../../station-config/gen-schema';
import { PRODUCTION_TEMPLATE, SANDBOX_EXAMPLE } from './fixtures';

describe('shipped examples', () => {
  it.each([SANDBOX_EXAMPLE, PRODUCTION_TEMPLATE])('%s validates', (file) => {
    const checked = checkConfigFile(file);
    expect(checked.ok && checked.result.problems).toEqual([]);
    expect(checked.ok && checked.result.valid).toBe(true);
  });

  it('the sandbox example is a sandbox and the template is production', () => {
    const sandbox = checkConfigFile(SANDBOX_EXAMPLE);
    const template = checkConfigFile(PRODUCTION_TEMPLATE);
    expect(sandbox.ok && sandbox.result.valid && sandbox.result.config.environment).toBe('sandbox');
    expect(sandbox.ok && sandbox.result.valid && sandbox.result.config.backend.mode).toBe('sandbox');
    expect(template.ok && template.result.valid && template.result.config.environment).toBe('production');
  });

  it('the template explains every setting it uses with a comment', () => {
    const text = readFileSync(PRODUCTION_TEMPLATE, 'utf8');
    expect(text.split('\n').filter((line) => line.trim().startsWith('//')).length).toBeGreaterThan(60);
  });
});

describe('JSON Schema for editors', () => {
  it('the committed file equals a fresh generation (run npm run gen:config-schema)', () => {
    expect(readFileSync(JSON_SCHEMA_PATH, 'utf8')).toBe(renderJsonSchema());
  });

  it('every field of the schema has a description and an example', () => {
    const missing: string[] = [];
    const schema = JSON.parse(renderJsonSchema()) as Record<string, unknown>;
    const visit = (node: unknown, path: string) => {
      if (typeof node !== 'object' || node === null) return;
      const record = node as Record<string, unknown>;
      const properties = record.properties as Record<string, Record<string, unknown>> | undefined;
      for (const [key, child] of Object.entries(properties ?? {})) {
        if (!('examples' in child) || !('description' in child)) missing.push(`${path}.${key}`);
        visit(child, `${path}.${key}`);
      }
      for (const key of ['items', 'anyOf', 'oneOf']) {
        const sub = record[key];
        if (Array.isArray(sub)) sub.forEach((s) => visit(s, path));
        else if (sub) visit(sub, `${path}[]`);
      }
    };
    visit(schema, '$');
    expect(missing).toEqual([]);
  });

  it('is generated from the zod schema', () => {
    expect(JSON.parse(renderJsonSchema())).toEqual(
      JSON.parse(
        JSON.stringify(z.toJSONSchema(stationConfigSchema, { io: 'input', target: 'draft-2020-12' })),
      ),
    );
  });
});
