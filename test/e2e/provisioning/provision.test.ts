/**
 * `station provision` end to end: real CLI process, virtual boards on socat PTYs, the sandbox over HTTP, real
 * SQLite files. Then a scan of everything the station wrote for the bytes of every secret of the run.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  auditUnits,
  boardImages,
  encodings,
  expectChainIntact,
  expectCompleteRecord,
  expectProvisioned,
  provision,
  runSecrets,
  sandboxDevices,
  useDataDirs,
  type ProvisionRun,
} from './e2e-support';

const N = 3;
const newDir = useDataDirs();

describe('station provision over real PTYs and the sandbox', () => {
  let dir: string;
  let run: ProvisionRun;
  // Each run issues new MQTT tokens and derived keys; the boards' flash keeps only the latest, so learn them per run.
  const secrets = new Map<string, Buffer>();
  const learnSecrets = () => {
    for (const [name, secret] of runSecrets(dir))
      secrets.set(`${name} ${secret.toString('hex').slice(0, 8)}`, secret);
  };

  beforeAll(async () => {
    dir = newDir('happy');
    run = await provision(dir, { sim: N });
    learnSecrets();
  }, 60_000);

  it(`provisions ${N} boards in parallel: one device each, credentials on the board, verified keys, intact chain`, async () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary).toMatchObject({ passed: N, failed: 0 });
    // In parallel (the sandbox config runs two slots at once): slots 1 and 2 both started before either finished.
    const lines = run.stderr.split('\n');
    const secondStart = Math.max(...[1, 2].map((n) => lines.indexOf(`slot-${n} connect started`)));
    const firstFinish = lines.findIndex((l) => / communication-check (passed|skipped)/.test(l));
    expect(secondStart).toBeGreaterThanOrEqual(0);
    expect(secondStart).toBeLessThan(firstFinish);

    const boards = boardImages(dir);
    expect(boards).toHaveLength(N);
    expect(sandboxDevices(dir)).toHaveLength(N);
    for (const board of boards) expectProvisioned(dir, board);
    for (const unit of auditUnits(dir)) expect(expectCompleteRecord(dir, unit.id).outcome).toBe('passed');
    await expectChainIntact(dir, { cli: true });
  });

  it('a second run over the same boards re-uses each device (idempotent): still one device per chip', async () => {
    const again = await provision(dir, { sim: N });
    learnSecrets();
    expect(again.code, again.stderr).toBe(0);
    expect(sandboxDevices(dir)).toHaveLength(N);
    for (const board of boardImages(dir)) expectProvisioned(dir, board);
    await expectChainIntact(dir);
  });

  it('no secret reaches the audit database, its WAL or any log file (raw, hex, base64)', async () => {
    // A run that fails mid-write, so error paths are in the logs and the record too.
    const failing = await provision(dir, { sim: N, args: ['--sim-fault', '1:storage-fail@COMMIT'] });
    learnSecrets();
    expect(failing.code, failing.stderr).toBe(1);
    // A run killed after all three boards verified: its events are still in the WAL, never checkpointed.
    const crashed = await provision(dir, {
      sim: N,
      env: { STATION_TEST_HOOKS: '1', STATION_TEST_CRASH_AFTER: `step.finished:verify#${N}` },
    });
    learnSecrets();
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const wal = join(dir, 'station.sqlite-wal');
    expect(statSync(wal).size).toBeGreaterThan(0);

    const files = [join(dir, 'station.sqlite')];
    for (const suffix of ['-wal', '-shm', '-journal']) {
      try {
        statSync(join(dir, `station.sqlite${suffix}`));
        files.push(join(dir, `station.sqlite${suffix}`));
      } catch {
        // not there
      }
    }
    const logs = join(dir, 'logs');
    for (const f of readdirSync(logs, { recursive: true }) as string[]) {
      if (statSync(join(logs, f)).isFile()) files.push(join(logs, f));
    }
    // The captured stdout/stderr of each run, and the station's own daily log (one file per UTC day).
    expect(files.filter((f) => f.endsWith('.log')).length).toBeGreaterThanOrEqual(9);
    expect(files.some((f) => /station-\d{4}-\d{2}-\d{2}\.log$/.test(f))).toBe(true);

    // api key, cloud key, network key; per board: private key, shared secret, sign key, network key, MQTT token(s)
    // and derived key (the same all day: HKDF salted with the GPS day).
    expect(secrets.size).toBeGreaterThanOrEqual(3 + N * 6);
    expect([...secrets.keys()].some((name) => name.startsWith('station signing key '))).toBe(true);
    const hits: string[] = [];
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const [name, secret] of secrets) {
        for (const [form, needle] of encodings(secret)) {
          if (bytes.includes(needle)) hits.push(`${name} (${form}) in ${file}`);
        }
      }
    }
    expect(hits).toEqual([]);
    // The scan can find things: the sandbox's own data file does hold the API key and network key.
    const sandboxBytes = readFileSync(join(dir, 'sandbox.sqlite'));
    expect(sandboxBytes.includes([...secrets].find(([name]) => name.startsWith('sandbox api key'))![1])).toBe(
      true,
    );
  });
});
