/**
 * `station report` and `station report verify` through the built CLI, as QA would run them: the station's key
 * found in its secrets folder, the report written and summarised, verified against the trail, a changed file named
 * with exit 1, and usage mistakes (no such folder, an unknown format, no key) told apart with exit 2.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { signerFromSeed } from '../../../electron/audit/index';
import { STATION_CONFIG_ENV } from '../../../station-config/index';
import { EnvFileSecretStore, STATION_KEY_SECRET } from '../../../electron/secrets/index';
import { runStation } from '../../support/cli';
import { tempDir } from '../../support/temp-dirs';
import { buildReportTrail, type ReportTrail } from './report-fixture';

let trail: ReportTrail;
let secretsDir: string;

/** A clean environment: the developer's STATION_CONFIG or secrets folder must not decide anything here. */
function env(): NodeJS.ProcessEnv {
  const { [STATION_CONFIG_ENV]: _config, STATION_SECRETS_DIR: _secrets, ...rest } = process.env;
  return { ...rest, HOME: tempDir('station-report-home-') };
}

beforeAll(async () => {
  const dir = tempDir('station-report-cli-');
  const seed = Buffer.alloc(32, 0x5a);
  secretsDir = join(dir, 'secrets');
  await new EnvFileSecretStore({ dir: secretsDir }).set(STATION_KEY_SECRET, seed.toString('base64'));
  trail = buildReportTrail(join(dir, 'audit.sqlite'), {
    units: 24,
    qaEvents: true,
    signer: signerFromSeed(seed),
  });
}, 60_000);

describe('station report', () => {
  it('writes the report, prints a JSON summary, and `report verify --db` finds it intact', async () => {
    const out = join(tempDir('station-report-out-'), 'week48');
    const run = await runStation(
      [
        'report',
        '--batch',
        trail.batchName,
        '--db',
        trail.file,
        '--secrets-dir',
        secretsDir,
        '--out',
        out,
        '--json',
      ],
      { env: env(), timeoutMs: 60_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      ok: boolean;
      batch: { id: string; name: string };
      counts: { units: number; passed: number; failed: number };
      keyFingerprint: string;
      files: Array<{ name: string }>;
    };
    expect(summary).toMatchObject({
      ok: true,
      batch: { id: trail.batchId, name: trail.batchName },
      counts: { units: 24 },
      keyFingerprint: trail.signer.fingerprint,
    });
    expect(summary.files.map((f) => f.name)).toEqual([
      'units.csv',
      'units.json',
      'units-tested.cfx.json',
      'report.pdf',
    ]);
    // The key's fingerprint only: never the key.
    expect(run.stdout + run.stderr).not.toContain(Buffer.alloc(32, 0x5a).toString('base64'));

    const verified = await runStation(['report', 'verify', out, '--db', trail.file], { env: env() });
    expect(verified).toMatchObject({ code: 0, stderr: '' });
    expect(verified.stdout).toBe(
      `intact: 4 files of batch "${trail.batchName}" as signed by ${trail.signer.fingerprint}; the trail still holds seq ${
        (JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { chainHead: { seq: number } })
          .chainHead.seq
      } and records that key\n`,
    );

    // One changed byte: exit 1, and the file is named.
    const csv = join(out, 'units.csv');
    writeFileSync(csv, readFileSync(csv, 'utf8').replace('ann', 'Ann'));
    const tampered = await runStation(['report', 'verify', out, '--json'], { env: env() });
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toMatchObject({
      ok: false,
      problems: [{ code: 'hash', file: 'units.csv' }],
    });
    expect(tampered.stderr).toMatch(
      /^station: .*: the report failed verification \(units\.csv\): units\.csv does not match/,
    );
  });

  it('takes formats as a comma-separated list and writes only those', async () => {
    const out = join(tempDir('station-report-out-'), 'csv-only');
    const run = await runStation(
      [
        'report',
        '--batch',
        trail.batchId,
        '--db',
        trail.file,
        '--secrets-dir',
        secretsDir,
        '--out',
        out,
        '--format',
        'csv,cfx',
      ],
      { env: env() },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^batch "Week 48 sensors" \(b-2026-11-25-1\): 24 units, \d+ passed, \d+ failed\n/,
    );
    expect(run.stdout).toContain(join(out, 'units-tested.cfx.json'));
    expect(run.stdout).not.toContain('report.pdf');
  });

  it('exits 2 with what to do for usage mistakes and missing things', async () => {
    const out = join(tempDir('station-report-out-'), 'x');
    const base = ['report', '--db', trail.file, '--secrets-dir', secretsDir, '--out', out];
    const cases: Array<[string[], RegExp]> = [
      [
        [...base, '--batch', trail.batchName, '--format', 'csv,xlsx'],
        /unknown report format "xlsx": choose from csv, json, cfx, pdf/,
      ],
      [
        [...base, '--batch', 'Week 12'],
        /no batch named or with id "Week 12" in .*; the most recent batches are "Week 48 sensors"/,
      ],
      [
        [...base, '--batch', trail.batchName, '--shifts', '22:00,06:00'],
        /"06:00" is not after the start before it/,
      ],
      [
        [
          'report',
          '--batch',
          trail.batchName,
          '--db',
          trail.file,
          '--out',
          out,
          '--secrets-dir',
          tempDir('empty-'),
        ],
        /no station identity key in /,
      ],
      [
        ['report', '--batch', trail.batchName, '--db', join(out, 'missing.sqlite'), '--out', out],
        /missing\.sqlite: no such file/,
      ],
      [['report', 'verify', join(out, 'nowhere')], /nowhere: no such folder/],
      [['report', '--db', trail.file], /station report needs --batch NAME and --out DIR/],
    ];
    for (const [args, message] of cases) {
      const run = await runStation(args, { env: env() });
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });
});
