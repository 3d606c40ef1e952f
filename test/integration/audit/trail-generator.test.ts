/**
 * The trail generator (test/support/trail-generator.ts) makes files the product accepts as its own: a signed
 * 20,000-unit trail verifies intact (every hash, every checkpoint against the expected key, the views replayed),
 * its events are ones the store's schemas accept, an unsigned trail is byte for byte what the station's own write
 * path records for the same events, and the same seed gives the same hashes. The 1,000,000-unit trail is checked where
 * it is used, test/integration/review/million-units.test.ts (one test file generates it, so two workers never make it
 * at once).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_TIMESTAMP,
  auditEventInputSchema,
  AuditStore,
  findSecretLikeKey,
  verifyAuditChain,
  type AuditEventInput,
} from '../../../electron/audit/index';
import { replayViews } from '../../../electron/audit/replay-views';
import { EVENT_COLUMNS, type EventRow } from '../../../electron/audit/store';
import { tempDbFile } from '../../support/audit';
import {
  DEFAULT_TRAIL_STATION,
  generateTrail,
  trailSigner,
  type GeneratedTrail,
  type TrailUnitSample,
} from '../../support/trail-generator';

const signer = trailSigner(7);

function readOnly<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const allEvents = (file: string) =>
  readOnly(file, (db) => db.prepare<[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY seq`).all());
const hashes = (file: string) =>
  readOnly(file, (db) => db.prepare<[], string>('SELECT hash FROM events ORDER BY seq').pluck().all());

/** A stored row as the engine would have passed it to `AuditStore.append`. */
function asInput(row: EventRow): AuditEventInput {
  return {
    kind: row.kind,
    eventId: row.event_id,
    at: row.at,
    operator: row.operator,
    batchId: row.batch_id,
    unitId: row.unit_id,
    slot: row.slot,
    step: row.step,
    outcome: row.outcome,
    supersedes: row.supersedes,
    details: JSON.parse(row.details) as Record<string, unknown>,
  } as AuditEventInput;
}

describe('a generated 20,000-unit signed trail', () => {
  let trail: GeneratedTrail;
  /** Seen before anything reads it: a read-only open of a WAL file may leave an empty -wal beside it. */
  let walLeftBeside: boolean;

  beforeAll(async () => {
    trail = await generateTrail({ file: tempDbFile('trail-20k.sqlite'), units: 20_000, seed: 7, signer });
    walLeftBeside = existsSync(`${trail.file}-wal`);
    console.log(
      `trail generator: 20,000 units, ${trail.events} events, ${trail.checkpoints} checkpoints in ` +
        `${trail.seconds} s, ${(trail.bytes / 1e6).toFixed(1)} MB`,
    );
  }, 120_000);

  it('verifies intact: every hash, every checkpoint signed by the expected key, the views replayed', () => {
    const result = verifyAuditChain(trail.file, {
      replayViews: true,
      expectKey: { fingerprint: signer.fingerprint },
    });
    expect(result).toMatchObject({
      ok: true,
      events: trail.events,
      checkpoints: trail.checkpoints,
      signedBy: signer.fingerprint,
      keySource: 'expected',
      // The trail ends as a station that shut down cleanly: its last event is the signed `shutdown` checkpoint.
      unsignedTail: 0,
      firstAt: trail.firstAt,
      lastAt: trail.lastAt,
    });
    // Every `checkpointEvery` (100) events at the latest, as the store writes them.
    expect(trail.checkpoints).toBeGreaterThanOrEqual(Math.floor(trail.events / 101));
  }, 120_000);

  it("has exactly the product's schema: tables, indexes, triggers, user_version, meta, WAL", () => {
    // Nothing beside it as the generator left it: the file is whole on its own, ready to copy.
    expect(walLeftBeside).toBe(false);
    const fresh = tempDbFile('fresh.sqlite');
    AuditStore.open(fresh, { stationId: DEFAULT_TRAIL_STATION }).close();
    const schema = (file: string) =>
      readOnly(file, (db) => ({
        objects: db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all(),
        userVersion: db.pragma('user_version', { simple: true }),
        journalMode: db.pragma('journal_mode', { simple: true }),
        meta: db.prepare('SELECT key, value FROM meta ORDER BY key').all(),
      }));
    expect(schema(trail.file)).toEqual(schema(fresh));
    expect(schema(trail.file).journalMode).toBe('wal');
  });

  it('holds batches and units exactly as replaying its events gives them, and the report says what is there', () => {
    readOnly(trail.file, (db) => {
      expect(replayViews(db)).toBeNull();
      expect(db.prepare('SELECT count(*) FROM units').pluck().get()).toBe(20_000);
      const batches = db
        .prepare<[], { id: string; name: string; recipe_id: string; state: string; units: number }>(
          `SELECT b.id, b.name, b.recipe_id, b.state, (SELECT count(*) FROM units u WHERE u.batch_id = b.id) AS units
           FROM batches b ORDER BY b.opened_at`,
        )
        .all();
      expect(
        batches.map(({ id, name, recipe_id, units }) => ({ id, name, recipeId: recipe_id, units })),
      ).toEqual(trail.batches);
      expect(trail.batches.map((b) => b.units)).toEqual([5000, 5000, 5000, 5000]);
      // Every batch closed but the last: the station's current batch.
      expect(batches.map((b) => b.state)).toEqual(['closed', 'closed', 'closed', 'open']);
      const states = Object.fromEntries(
        db
          .prepare<[], { state: string; n: number }>('SELECT state, count(*) AS n FROM units GROUP BY state')
          .all()
          .map((r) => [r.state, r.n]),
      );
      const { passed, failed, cancelled, attention } = trail.counts;
      expect(states).toEqual({ passed, failed, cancelled, attention });
      expect(db.prepare('SELECT count(*) FROM units WHERE attempt > 1').pluck().get()).toBe(
        trail.counts.reprovisioned,
      );
      expect(db.prepare("SELECT count(*) FROM events WHERE kind = 'unit.note'").pluck().get()).toBe(
        trail.counts.notes,
      );
      const byCode = Object.fromEntries(
        db
          .prepare<[], { error_code: string; n: number }>(
            "SELECT error_code, count(*) AS n FROM units WHERE state <> 'passed' GROUP BY error_code",
          )
          .all()
          .map((r) => [r.error_code, r.n]),
      );
      expect(byCode).toEqual(trail.counts.byErrorCode);
      // The known units are what the view holds for them.
      const unit = db.prepare<[string], Record<string, unknown>>('SELECT * FROM units WHERE id = ?');
      const samples = [
        trail.sample.failed,
        trail.sample.passed,
        trail.sample.reprovisioned,
        trail.sample.cancelled,
        trail.sample.attention,
      ];
      for (const sample of samples) {
        expect(sample).not.toBeNull();
        const row = unit.get(sample!.unitId)!;
        expect(sample).toEqual<TrailUnitSample>({
          unitId: row.id as string,
          batchId: row.batch_id as string,
          slot: row.slot as number,
          soc: row.soc as string | null,
          mcuId: row.mcu_id as string | null,
          deviceId: row.device_id as string | null,
          serialNumber: row.serial_number as string | null,
          state: row.state as TrailUnitSample['state'],
          errorCode: row.error_code as string | null,
          lastStep: row.last_step as string | null,
          operator: row.operator as string | null,
          attempt: row.attempt as number,
          startedAt: row.started_at as string,
          endedAt: row.ended_at as string | null,
        });
      }
      const failedUnit = trail.sample.failed!;
      expect(failedUnit).toMatchObject({ state: 'failed', attempt: 1 });
      for (const field of [
        'mcuId',
        'deviceId',
        'serialNumber',
        'errorCode',
        'operator',
        'lastStep',
      ] as const) {
        expect(failedUnit[field]).not.toBeNull();
      }
      expect(trail.sample.reprovisioned).toMatchObject({ state: 'passed', attempt: 2 });
      expect(trail.sample.note).not.toBeNull();
      const note = db
        .prepare<[string], { operator: string; details: string }>(
          "SELECT operator, details FROM events WHERE kind = 'unit.note' AND unit_id = ? ORDER BY seq LIMIT 1",
        )
        .get(trail.sample.note!.unitId)!;
      expect({ operator: note.operator, text: (JSON.parse(note.details) as { text: string }).text }).toEqual({
        operator: trail.sample.note!.operator,
        text: trail.sample.note!.text,
      });
    });
  });

  it('is made of events the store accepts: every kind, and a sample of the rest, validate against events.ts', () => {
    const rows = allEvents(trail.file);
    const firstOfKind = new Map<string, EventRow>();
    for (const row of rows) if (!firstOfKind.has(row.kind)) firstOfKind.set(row.kind, row);
    expect([...firstOfKind.keys()].sort()).toEqual(
      [
        'batch.closed',
        'batch.opened',
        'checkpoint',
        'config.recorded',
        'operator.login',
        'operator.logout',
        'retry.authorized',
        'scan.refused',
        'station.identity',
        'step.finished',
        'unit.attention',
        'unit.finished',
        'unit.identified',
        'unit.note',
        'unit.started',
      ].sort(),
    );
    const sample = [...firstOfKind.values(), ...rows.filter((_, i) => i % 97 === 0)];
    for (const row of sample) {
      const parsed = auditEventInputSchema.safeParse(asInput(row));
      expect(parsed.success, `event ${row.seq} (${row.kind}): ${parsed.error?.message}`).toBe(true);
      expect(findSecretLikeKey(JSON.parse(row.details))).toBeNull();
      expect(row.at).toMatch(AUDIT_TIMESTAMP);
    }
    // Time only moves forward along the chain, as on a station.
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.at >= rows[i - 1]!.at).toBe(true);
  });

  it('has the variety QA screens filter and search on', () => {
    readOnly(trail.file, (db) => {
      const distinct = (sql: string) => db.prepare(sql).pluck().all() as unknown[];
      expect(distinct('SELECT DISTINCT operator FROM units ORDER BY 1')).toHaveLength(8);
      expect(distinct('SELECT DISTINCT slot FROM units ORDER BY 1')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(distinct('SELECT DISTINCT recipe_id FROM batches').length).toBeGreaterThanOrEqual(2);
      expect(
        distinct('SELECT DISTINCT error_code FROM units WHERE error_code IS NOT NULL').length,
      ).toBeGreaterThan(5);
      // Chip and device ids: 16 hex characters, one board each.
      expect(
        db
          .prepare("SELECT count(*) FROM units WHERE mcu_id NOT GLOB '[0-9a-f]*' OR length(mcu_id) <> 16")
          .pluck()
          .get(),
      ).toBe(0);
      expect(db.prepare('SELECT count(DISTINCT mcu_id) = count(mcu_id) FROM units').pluck().get()).toBe(1);
      expect(
        db
          .prepare("SELECT count(*) FROM units WHERE state = 'passed' AND length(device_id) <> 16")
          .pluck()
          .get(),
      ).toBe(0);
      // Scanned serials like SN-0001234, unique per board; gateway boards carry no label.
      expect(
        db
          .prepare(
            "SELECT count(*) FROM units WHERE serial_number NOT GLOB 'SN-[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'",
          )
          .pluck()
          .get(),
      ).toBe(0);
      expect(
        db.prepare('SELECT count(DISTINCT serial_number) = count(serial_number) FROM units').pluck().get(),
      ).toBe(1);
      // About 3% failed, a few cancelled, a few re-provisioned, the whole history spread over days and shifts.
      expect(trail.counts.failed / 20_000).toBeGreaterThan(0.015);
      expect(trail.counts.failed / 20_000).toBeLessThan(0.04);
      expect(trail.counts.cancelled).toBeGreaterThan(0);
      expect(trail.counts.reprovisioned).toBeGreaterThan(0);
      expect(distinct('SELECT DISTINCT substr(started_at, 1, 10) FROM units').length).toBeGreaterThanOrEqual(
        2,
      );
      expect(db.prepare('SELECT count(*) FROM units WHERE reviewed_at IS NOT NULL').pluck().get()).toBe(0);
    });
  });
});

describe('the generator and the station write the same trail', () => {
  // The station's own path appends with synchronous=FULL: on tmpfs when there is one, so fsync costs nothing.
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'trail-generator-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an unsigned trail appended event by event through AuditStore gives the same hashes, batches and units', async () => {
    // Small batches and many failures, so closes, re-runs, retry authorizations and shift changes all occur.
    const generated = await generateTrail({
      file: join(dir, 'generated.sqlite'),
      units: 1500,
      seed: 11,
      batchSize: 400,
      failureRate: 0.2,
    });
    const rows = allEvents(generated.file);
    expect(new Set(rows.map((r) => r.kind))).toEqual(
      new Set([
        'operator.login',
        'operator.logout',
        'config.recorded',
        'batch.opened',
        'batch.closed',
        'unit.started',
        'unit.identified',
        'step.finished',
        'unit.finished',
        'retry.authorized',
        ...rows
          .filter((r) => ['unit.note', 'scan.refused', 'unit.attention'].includes(r.kind))
          .map((r) => r.kind),
      ]),
    );
    const station = join(dir, 'station.sqlite');
    const store = AuditStore.open(station, { stationId: DEFAULT_TRAIL_STATION });
    try {
      for (const row of rows) store.append(asInput(row));
    } finally {
      store.close();
    }
    expect(hashes(station)).toEqual(rows.map((r) => r.hash));
    const views = (file: string) =>
      readOnly(file, (db) => ({
        batches: db.prepare('SELECT * FROM batches ORDER BY id').all(),
        units: db.prepare('SELECT * FROM units ORDER BY id').all(),
      }));
    expect(views(generated.file)).toEqual(views(station));
    expect(views(generated.file).units).toHaveLength(1500);
  }, 120_000);

  it('is deterministic: the same seed gives the same hashes, another seed another trail', async () => {
    const make = (name: string, seed: number) =>
      generateTrail({ file: join(dir, name), units: 3000, seed, signer: trailSigner(seed) });
    const [a, b, c] = [await make('a.sqlite', 5), await make('b.sqlite', 5), await make('c.sqlite', 6)];
    expect(hashes(b.file)).toEqual(hashes(a.file));
    expect({ ...b, file: a.file, seconds: a.seconds }).toEqual(a);
    expect(hashes(c.file)[0]).not.toEqual(hashes(a.file)[0]);
  }, 120_000);

  it('refuses to write over an existing file', async () => {
    const file = join(dir, 'a.sqlite');
    await expect(generateTrail({ file, units: 10 })).rejects.toThrow(/exists/);
  });
});
