import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runStation } from '../../support/cli';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'station-provision-'));
  dirs.push(dir);
  return dir;
}

describe('station provision (headless)', () => {
  it('provisions a sandbox batch of virtual boards and records it, config included', async () => {
    const data = tempDir();
    const run = await runStation(
      [
        'provision',
        '--config',
        'station-config/sandbox.json',
        '--sim',
        '3',
        '--batch',
        'demo',
        '--operator',
        'alice',
        '--json',
        '--data',
        data,
      ],
      { timeoutMs: 60_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      batch: string;
      db: string;
      passed: number;
      failed: number;
      units: Array<{ mcuId: string; deviceId: string; outcome: string; durationMs: number }>;
    };
    expect(summary).toMatchObject({ batch: 'demo', db: join(data, 'station.sqlite'), passed: 3, failed: 0 });
    expect(summary.units.map((u) => u.outcome)).toEqual(['passed', 'passed', 'passed']);
    for (const unit of summary.units) {
      expect(unit.mcuId).toMatch(/^[0-9a-f]{16}$/);
      expect(unit.deviceId).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(run.stderr.split('\n')[0]).toBe(
      'SANDBOX station: a local Infuse-compatible backend and virtual boards; nothing here reaches the Infuse cloud',
    );
    // A progress line per step per slot on stderr.
    for (const slot of ['slot-1', 'slot-2', 'slot-3']) {
      expect(run.stderr).toContain(`${slot} verify passed`);
      expect(run.stderr).toContain(`${slot} write-credentials passed`);
    }

    const db = new Database(summary.db, { readonly: true });
    try {
      const config = db.prepare("select details from events where kind = 'config.recorded'").get() as {
        details: string;
      };
      const details = JSON.parse(config.details) as { configSha256: string; configJson: string };
      expect(details.configSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.parse(details.configJson)).toMatchObject({
        environment: 'sandbox',
        recipes: [{ id: 'sandbox-sensor' }],
      });
      const opened = db.prepare("select details from events where kind = 'batch.opened'").get() as {
        details: string;
      };
      expect(JSON.parse(opened.details)).toMatchObject({
        name: 'demo',
        recipeId: 'sandbox-sensor',
        configSha256: details.configSha256,
      });
      const units = db.prepare('select state, device_id from units order by device_id').all() as Array<{
        state: string;
        device_id: string;
      }>;
      expect(units.map((u) => u.state)).toEqual(['passed', 'passed', 'passed']);
      expect(units.map((u) => u.device_id).sort()).toEqual(summary.units.map((u) => u.deviceId).sort());
    } finally {
      db.close();
    }

    const verify = await runStation(['audit', 'verify', '--db', summary.db]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^intact: \d+ events/);

    // A second run over the same data: the same boards, the same devices, no new cloud records.
    const again = await runStation(
      ['provision', '--sim', '3', '--batch', 'demo-2', '--operator', 'bob', '--json', '--data', data],
      { timeoutMs: 60_000 },
    );
    expect(again.code, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout) as typeof summary;
    expect(second.units.map((u) => u.deviceId).sort()).toEqual(summary.units.map((u) => u.deviceId).sort());
  });

  it('refuses an invalid config with the same messages as `config check`', async () => {
    const dir = tempDir();
    const file = join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify({ configVersion: 1, environment: 'production' }));
    const check = await runStation(['config', 'check', file]);
    const run = await runStation([
      'provision',
      '--config',
      file,
      '--batch',
      'b',
      '--operator',
      'o',
      '--sim',
      '1',
    ]);
    expect(run.code).toBe(1);
    const problemLines = (text: string) => text.split('\n').filter((line) => line.trim().startsWith('$'));
    expect(problemLines(run.stderr).length).toBeGreaterThan(0);
    expect(problemLines(run.stderr).map((l) => l.trim())).toEqual(
      problemLines(check.stdout + check.stderr).map((l) => l.trim()),
    );
  });

  it('says what to do when there is nothing to provision', async () => {
    const dir = tempDir();
    const config = JSON.parse(readFileSync('station-config/sandbox.json', 'utf8')) as {
      slots: Record<string, unknown>;
    };
    delete config.slots.virtualBoards;
    config.slots.discovery = { ports: [], usb: [{ vendorId: 'fffe', productId: 'fffe' }] };
    const file = join(dir, 'no-boards.json');
    writeFileSync(file, JSON.stringify(config));
    const run = await runStation([
      'provision',
      '--config',
      file,
      '--batch',
      'b',
      '--operator',
      'o',
      '--data',
      dir,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n').at(-1)).toBe(
      'station: no ports to provision: no configured port, and no USB adapter matching slots.discovery.usb is plugged in; pass --ports P1,P2, or --sim N with a sandbox config, or list slots.discovery.ports in the config',
    );
  });

  it('refuses an empty operator or a batch name of 1000 characters as a usage error, writing nothing', async () => {
    const dir = tempDir();
    const empty = await runStation([
      'provision',
      '--sim',
      '1',
      '--batch',
      'b',
      '--operator',
      ' ',
      '--data',
      dir,
    ]);
    expect(empty.code).toBe(2);
    expect(empty.stderr.trim()).toBe(
      'station: --operator must be 1 to 128 printable characters without spaces (got nothing)',
    );
    const long = await runStation([
      'provision',
      '--sim',
      '1',
      '--batch',
      'x'.repeat(1000),
      '--operator',
      'o',
      '--data',
      dir,
    ]);
    expect(long.code).toBe(2);
    expect(long.stderr.trim()).toBe('station: --batch must be 1 to 200 characters (got 1000)');
    expect(existsSync(join(dir, 'station.sqlite'))).toBe(false);
  });

  it('a batch that cannot start is not opened in the trail, and --json says why', async () => {
    const dir = tempDir();
    const run = await runStation(
      [
        'provision',
        '--sim',
        '1',
        '--batch',
        'unreachable',
        '--operator',
        'o',
        '--data',
        dir,
        '--json',
        '--sandbox-fault',
        'status=503,method=GET,route=/organisation/name/{name}',
      ],
      { timeoutMs: 60_000 },
    );
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as { batchId: string | null; problem: string; passed: number };
    expect(summary.batchId).toBeNull();
    expect(summary.problem).toMatch(/^The batch cannot start: /);
    expect(run.stderr.trim().split('\n').at(-1)).toBe(`station: ${summary.problem}`);
    const db = new Database(join(dir, 'station.sqlite'), { readonly: true });
    try {
      expect(db.prepare("select count(*) as n from events where kind like 'batch.%'").get()).toEqual({
        n: 0,
      });
    } finally {
      db.close();
    }
  });

  it('continues an open batch of the same name and refuses a closed one', async () => {
    const dir = tempDir();
    const first = await runStation(
      ['provision', '--sim', '1', '--batch', 'once', '--operator', 'o', '--data', dir],
      {
        timeoutMs: 60_000,
      },
    );
    expect(first.code, first.stderr).toBe(0);
    const again = await runStation(
      ['provision', '--sim', '1', '--batch', 'once', '--operator', 'o', '--data', dir],
      {
        timeoutMs: 60_000,
      },
    );
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n').at(-1)).toMatch(
      /^station: A batch named "once" was opened on \d{4}-\d{2}-\d{2} and is closed: give the new batch another name\.$/,
    );
  });
});
