/** `station units list` and `station units show`: QA review in a terminal, over a real audit file, read-only. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStation } from '../../support/cli';
import { writeQaTrail } from '../../support/qa-trail';
import { tempDir } from '../../support/temp-dirs';

function trail() {
  const db = join(tempDir('station-units-cli-'), 'station.sqlite');
  return { db, ...writeQaTrail(db) };
}

describe('station units', () => {
  it('lists units newest first as a table, filtered, and pages with --cursor', async () => {
    const { db, failed } = trail();
    const all = await runStation(['units', 'list', '--db', db]);
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^started \(UTC\)\s+unit\s+mcuId\s+serial\s+batch/);
    expect(lines[1]).toContain('unit-7');
    expect(lines.at(-1)).toBe('8 of 8 units');

    const failedOnly = await runStation(['units', 'list', '--db', db, '--state', 'failed']);
    expect(failedOnly.stdout).toContain(failed.unitId);
    expect(failedOnly.stdout).toContain('VERIFY_MISMATCH');
    expect(failedOnly.stdout.trim().split('\n').at(-1)).toBe('1 of 1 units');

    const page = await runStation(['units', 'list', '--db', db, '--limit', '5', '--json']);
    const first = JSON.parse(page.stdout) as { units: Array<{ id: string }>; next: string; total: number };
    expect(first.units).toHaveLength(5);
    expect(first.total).toBe(8);
    const rest = await runStation([
      'units',
      'list',
      '--db',
      db,
      '--limit',
      '5',
      '--json',
      '--cursor',
      first.next,
    ]);
    const second = JSON.parse(rest.stdout) as { units: Array<{ id: string }>; next: string | null };
    expect([...first.units, ...second.units].map((u) => u.id)).toEqual([
      'unit-7',
      'unit-6',
      'unit-5',
      'unit-4',
      'unit-3',
      'unit-2',
      'unit-1',
      'unit-0',
    ]);
    expect(second.next).toBeNull();

    const lines2 = await runStation([
      'units',
      'list',
      '--db',
      db,
      '--all',
      '--json',
      '--limit',
      '3',
      '--operator',
      'ann',
    ]);
    expect(
      lines2.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual(['unit-7', 'unit-4', 'unit-2', 'unit-0']);
  });

  it('refuses bad filters and a missing file with exit 2 and says why', async () => {
    const { db } = trail();
    const bad = await runStation(['units', 'list', '--db', db, '--state', 'broken']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('one of in-progress, passed');
    const missing = await runStation([
      'units',
      'list',
      '--db',
      join(tempDir('station-units-cli-'), 'none.sqlite'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('there is no audit trail at');
    const batch = await runStation(['units', 'list', '--db', db, '--batch', 'nope']);
    expect(batch.code).toBe(2);
    expect(batch.stderr).toContain('there is no batch named or with id "nope"');
  });

  it("shows one unit's whole record, found by unit id or by mcuId", async () => {
    const { db, failed } = trail();
    const shown = await runStation(['units', 'show', '--db', db, failed.mcuId]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`Unit ${failed.unitId}: FAILED (VERIFY_MISMATCH)`);
    expect(shown.stdout).toContain('operator saw: The board read back different credentials');
    expect(shown.stdout).toContain('backend: POST /device 201');
    expect(shown.stdout).toContain('board: <err> infuse_prov: readback mismatch on slot 2');
    expect(shown.stdout).toContain('derivedKeyFp: ab12cd34ef56ab78');
    const json = await runStation(['units', 'show', '--db', db, failed.unitId, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ unit: { id: failed.unitId, state: 'failed' } });
    const none = await runStation(['units', 'show', '--db', db, 'no-such-unit']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no unit "no-such-unit"');
  });
});
