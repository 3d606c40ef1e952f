/**
 * QA review through the station: the units table (filters, search, keyset pages), a unit's whole record, notes and
 * e-signatures (PIN re-entered, bound to the record hash), void and release, the chain status; and a signature over
 * a record changed afterwards fails verification.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuditStore,
  checkSignature,
  eventHash,
  GENESIS_HASH,
  verifyAuditChain,
} from '../../../electron/audit';
import { verifyReportDir } from '../../../electron/reports';
import { openReviewDb, unitDetail } from '../../../electron/review';
import { EnvFileSecretStore } from '../../../electron/secrets';
import { openStation, type Station } from '../../../electron/station';
import type { CommandName, CommandResult } from '../../../electron/station-api';
import { loadStationConfig } from '../../../station-config';
import { DROP_TRIGGERS, RESTORE_TRIGGERS, sqlite3, STATION } from '../../support/audit';
import { writeQaTrail } from '../../support/qa-trail';
import { tempDir } from '../../support/temp-dirs';

let station: Station | undefined;
afterEach(async () => {
  await station?.close();
  station = undefined;
});

async function stationOver(dir: string): Promise<Station> {
  const loaded = loadStationConfig(undefined, {});
  if (!loaded.ok) throw new Error('sandbox config');
  station = await openStation({
    config: structuredClone(loaded.config),
    paths: loaded.paths,
    secrets: new EnvFileSecretStore({ dir: join(dir, 'secrets') }),
    dataDir: dir,
    ports: [join(dir, 'no-board-here')],
  });
  return station;
}

async function ok<N extends CommandName>(result: Promise<CommandResult<N>>) {
  const settled = await result;
  if (!settled.ok) throw new Error(`${settled.code}: ${settled.message}`);
  return settled;
}

function rows(file: string, sql: string, ...params: unknown[]): Array<Record<string, unknown>> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

describe('QA review through the station', () => {
  it(
    'finds a failed unit by its mcuId, shows its record and signs it reviewed',
    { timeout: 60_000 },
    async () => {
      const dir = tempDir('qa-review-');
      const db = join(dir, 'station.sqlite');
      const trail = writeQaTrail(db, { stationId: 'sandbox' });
      const s = await stationOver(dir);

      // An operator cannot review.
      await ok(s.execute('session.login', { operatorId: 'operator', pin: '1111' }));
      expect(await s.execute('units.query', {})).toMatchObject({ ok: false, code: 'FORBIDDEN' });
      await ok(s.execute('session.login', { operatorId: 'qa', pin: '3333' }));

      const all = await ok(s.execute('units.query', { limit: 3 }));
      expect(all.total).toBe(8);
      expect(all.units.map((u) => u.id)).toEqual(['unit-7', 'unit-6', 'unit-5']);
      // Keyset pages walk the whole history without repeats or gaps.
      const seen: string[] = [...all.units.map((u) => u.id)];
      let cursor = all.next;
      while (cursor) {
        const page = await ok(s.execute('units.query', { limit: 3, cursor }));
        expect(page.total).toBeNull();
        seen.push(...page.units.map((u) => u.id));
        cursor = page.next;
      }
      expect(seen).toEqual(['unit-7', 'unit-6', 'unit-5', 'unit-4', 'unit-3', 'unit-2', 'unit-1', 'unit-0']);

      const failed = await ok(s.execute('units.query', { filter: { state: 'failed' } }));
      expect(failed.units.map((u) => u.id)).toEqual([trail.failed.unitId]);
      const byMcu = await ok(
        s.execute('units.query', { filter: { search: trail.failed.mcuId.toUpperCase() } }),
      );
      expect(byMcu.units.map((u) => u.id)).toEqual([trail.failed.unitId]);
      const bySerialPrefix = await ok(s.execute('units.query', { filter: { search: 'SN-00100' } }));
      expect(bySerialPrefix.units).toHaveLength(7);
      expect(
        (await ok(s.execute('units.query', { filter: { operator: 'bob', errorCode: 'VERIFY_MISMATCH' } })))
          .units,
      ).toHaveLength(1);
      expect((await ok(s.execute('units.query', { filter: { slot: 1 } }))).units.map((u) => u.id)).toEqual([
        'unit-4',
        'unit-0',
      ]);
      expect((await ok(s.execute('units.query', { filter: { recipeId: 'sensor-v2' } }))).total).toBe(8);
      expect((await ok(s.execute('units.query', { filter: { recipeId: 'other' } }))).total).toBe(0);
      expect(await s.execute('units.query', { cursor: 'not-a-cursor' })).toMatchObject({
        ok: false,
        code: 'BAD_INPUT',
      });
      const facets = await ok(s.execute('units.facets', {}));
      expect(facets.facets).toMatchObject({
        operators: ['ann', 'bob'],
        slots: [1, 2, 3, 4],
        errorCodes: ['VERIFY_MISMATCH'],
        recipes: ['sensor-v2'],
      });

      const { detail } = await ok(s.execute('unit.detail', { unitId: trail.failed.unitId }));
      expect(detail.batch).toMatchObject({
        name: 'Week 48 sensors',
        recipeId: 'sensor-v2',
        workOrder: 'WO-4811',
      });
      expect(detail.attempts).toHaveLength(1);
      const verify = detail.attempts[0]!.steps.find((step) => step.step === 'verify')!;
      expect(verify).toMatchObject({
        outcome: 'failed',
        errorCode: 'VERIFY_MISMATCH',
        message: expect.stringContaining('set it aside'),
        boardLog: ['<err> infuse_prov: readback mismatch on slot 2'],
      });
      const deviceRecord = detail.attempts[0]!.steps.find((step) => step.step === 'device-record')!;
      expect(deviceRecord.backend.map((call) => call.status)).toEqual([404, 201]);
      expect(detail.fingerprints).toContainEqual({
        step: 'verify',
        name: 'derivedKeyFp',
        value: 'ab12cd34ef56ab78',
      });
      expect(detail.chain.events.length).toBeGreaterThan(5);
      expect(detail.chain.events.every((event) => /^[0-9a-f]{64}$/.test(event.hash))).toBe(true);
      expect(detail.chain.lastSeq).toBeGreaterThan(detail.chain.firstSeq);

      // Signing: a wrong PIN signs nothing (and counts as a failed login); a stale record hash signs nothing.
      const wrong = await s.execute('record.sign', {
        subject: { type: 'unit', id: trail.failed.unitId },
        meaning: 'reviewed',
        pin: '9999',
        recordHash: detail.record.recordHash,
      });
      expect(wrong).toMatchObject({
        ok: false,
        code: 'LOGIN_FAILED',
        message: expect.stringContaining('nothing was signed'),
      });
      expect(
        rows(
          db,
          "SELECT count(*) AS n FROM events WHERE kind = 'operator.login-failed' AND operator = 'qa'",
        )[0]!.n,
      ).toBe(1);
      const stale = await s.execute('record.sign', {
        subject: { type: 'unit', id: trail.failed.unitId },
        meaning: 'reviewed',
        pin: '3333',
        recordHash: 'f'.repeat(64),
      });
      expect(stale).toMatchObject({ ok: false, code: 'RECORD_CHANGED' });
      expect(rows(db, "SELECT count(*) AS n FROM events WHERE kind = 'signature'")[0]!.n).toBe(0);

      const signed = await ok(
        s.execute('record.sign', {
          subject: { type: 'unit', id: trail.failed.unitId },
          meaning: 'reviewed',
          pin: '3333',
          recordHash: detail.record.recordHash,
        }),
      );
      expect(signed.signature).toMatchObject({
        valid: true,
        meaning: 'reviewed',
        signerId: 'qa',
        recordHash: detail.record.recordHash,
        laterEvents: 0,
      });
      expect(
        (await ok(s.execute('units.query', { filter: { reviewed: true } }))).units.map((u) => u.id),
      ).toEqual([trail.failed.unitId]);
      expect((await ok(s.execute('units.query', { filter: { reviewed: false } }))).total).toBe(7);

      // A note is a new event; the signature stays valid and says the record has grown since.
      await ok(s.execute('unit.note', { unitId: trail.failed.unitId, text: 'Board sent back to rework.' }));
      const after = (await ok(s.execute('unit.detail', { unitId: trail.failed.unitId }))).detail;
      expect(after.notes).toMatchObject([{ operator: 'qa', text: 'Board sent back to rework.' }]);
      expect(after.signatures).toMatchObject([{ valid: true, laterEvents: 1 }]);
      expect(after.unit.reviewedAt).not.toBeNull();

      // Void needs a reason and the signer's PIN; the unit leaves the counts.
      const voided = await ok(
        s.execute('unit.void', {
          unitId: trail.failed.unitId,
          reason: 'Scrapped: board cracked at rework',
          pin: '3333',
          recordHash: after.record.recordHash,
        }),
      );
      expect(voided.signature).toMatchObject({ meaning: 'voided', valid: true });
      expect(rows(db, 'SELECT state FROM units WHERE id = ?', trail.failed.unitId)).toEqual([
        { state: 'voided' },
      ]);
      const voidEvent = rows(db, "SELECT details FROM events WHERE kind = 'unit.voided'")[0]!;
      expect(JSON.parse(String(voidEvent.details))).toMatchObject({ signatureSeq: voided.signature.seq });

      // Release is for QA and supervisors, signed over the whole batch record.
      const released = await ok(s.execute('batch.release', { batchId: trail.batchId, pin: '3333' }));
      expect(released.signature).toMatchObject({
        meaning: 'released',
        subject: { type: 'batch', id: trail.batchId },
        valid: true,
      });
      expect(await s.execute('batch.release', { batchId: trail.batchId, pin: '3333' })).toMatchObject({
        ok: false,
        code: 'ALREADY_SIGNED',
      });

      // Chain status: verified when opened, then Verify now.
      const before = await ok(s.execute('audit.status', {}));
      expect(before.status.lastVerified).toMatchObject({ scope: 'open', intact: true });
      await ok(s.execute('audit.verify', {}));
      const status = (await ok(s.execute('audit.status', {}))).status;
      expect(status.lastVerified).toMatchObject({ scope: 'full', intact: true, by: 'qa' });
      expect(status.head?.seq).toBeGreaterThan(0);
    },
  );
});

/** Rewrites every row's prev_hash and hash in seq order: an attacker who edited a row and re-linked the chain. */
function relinkChain(file: string): void {
  const db = new Database(file);
  try {
    db.exec(DROP_TRIGGERS);
    let prev = GENESIS_HASH;
    const all = db.prepare('SELECT * FROM events ORDER BY seq').all() as Array<Record<string, unknown>>;
    const update = db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?');
    db.transaction(() => {
      for (const row of all) {
        const { hash: _old, ...fields } = row;
        const hash = eventHash({
          ...(fields as unknown as Parameters<typeof eventHash>[0]),
          prev_hash: prev,
          details: JSON.parse(String(row.details)) as Record<string, unknown>,
        });
        update.run(prev, hash, row.seq);
        prev = hash;
      }
    })();
    db.exec(RESTORE_TRIGGERS);
  } finally {
    db.close();
  }
}

describe("the supervisor's dashboard and exports through the station", () => {
  it(
    'gives the batch numbers, the report HTML and a signed export that verifies',
    { timeout: 90_000 },
    async () => {
      const dir = tempDir('qa-dashboard-');
      const db = join(dir, 'station.sqlite');
      const trail = writeQaTrail(db, { stationId: 'sandbox' });
      const s = await stationOver(dir);
      await ok(s.execute('session.login', { operatorId: 'operator', pin: '1111' }));
      expect(await s.execute('batch.dashboard', { batchId: trail.batchId })).toMatchObject({
        code: 'FORBIDDEN',
      });
      await ok(s.execute('session.login', { operatorId: 'supervisor', pin: '2222' }));
      const { stats } = await ok(s.execute('batch.dashboard', { batchId: trail.batchId }));
      expect(stats.counts).toMatchObject({ units: 8, passed: 7, failed: 1 });
      expect(stats.failuresByCause).toMatchObject([{ code: 'VERIFY_MISMATCH', count: 1 }]);
      expect(await s.execute('batch.dashboard', { batchId: 'nope' })).toMatchObject({
        code: 'BATCH_NOT_FOUND',
      });
      const { html } = await ok(s.execute('batch.report', { batchId: trail.batchId }));
      expect(html).toContain('Week 48 sensors');
      expect(html).toContain('<svg');

      const exported = (
        await ok(s.execute('batch.export', { batchId: trail.batchId, formats: ['csv', 'pdf'] }))
      ).export;
      expect(exported.files.map((f) => f.name)).toEqual(['units.csv', 'report.pdf', 'manifest.json']);
      const pdf = exported.files.find((f) => f.name === 'report.pdf')!;
      expect(Buffer.from(pdf.contentBase64!, 'base64').subarray(0, 5).toString()).toBe('%PDF-');
      expect(exported.dir.startsWith(join(dir, 'reports'))).toBe(true);
      expect(verifyReportDir(exported.dir, { dbFile: db })).toMatchObject({ ok: true });
      // Nothing secret travels with an export: the station's key only as its fingerprint.
      const text = exported.files
        .map((f) => Buffer.from(f.contentBase64 ?? '', 'base64').toString('latin1'))
        .join('');
      expect(text).not.toMatch(/seed|privateKey|station-signing-key/);
    },
  );
});

describe('signatures are bound to the record they sign', () => {
  function signedTrail() {
    const dir = tempDir('qa-signature-');
    const file = join(dir, 'audit.db');
    const trail = writeQaTrail(file);
    const review = openReviewDb(file);
    const { record } = unitDetail(review, trail.failed.unitId)!;
    review.close();
    const store = AuditStore.open(file, { stationId: STATION });
    store.append({
      kind: 'signature',
      operator: 'qa',
      unitId: trail.failed.unitId,
      details: {
        meaning: 'reviewed',
        signerName: 'Quinn QA',
        subject: { type: 'unit', id: trail.failed.unitId },
        recordHash: record.recordHash,
        coversSeq: record.coversSeq,
      },
    });
    store.close();
    return { file, trail };
  }
  const signatureOf = (file: string) => {
    const review = openReviewDb(file);
    try {
      const row = review
        .prepare("SELECT seq, at, operator, details FROM events WHERE kind = 'signature'")
        .get() as { seq: number; at: string; operator: string; details: string };
      return checkSignature(review, row);
    } finally {
      review.close();
    }
  };
  const editFailedStep = (file: string, unitId: string) =>
    sqlite3(
      file,
      `${DROP_TRIGGERS}
       UPDATE events SET details = json_set(details, '$.errorCode', 'NONE') WHERE unit_id = '${unitId}'
         AND kind = 'step.finished' AND outcome = 'failed';
       ${RESTORE_TRIGGERS}`,
    );

  it('holds on the record as signed', () => {
    const { file } = signedTrail();
    expect(signatureOf(file)).toMatchObject({ valid: true, problem: null });
    expect(verifyAuditChain(file)).toMatchObject({ ok: true });
  });

  it('fails when a signed event is edited in place', () => {
    const { file, trail } = signedTrail();
    expect(editFailedStep(file, trail.failed.unitId).status).toBe(0);
    expect(signatureOf(file)).toMatchObject({
      valid: false,
      problem: expect.stringContaining('changed after signing'),
    });
    expect(verifyAuditChain(file)).toMatchObject({ ok: false, reason: 'changed' });
  });

  it('fails when the chain is re-linked around the edit (which an unsigned trail alone would not show)', () => {
    const { file, trail } = signedTrail();
    expect(editFailedStep(file, trail.failed.unitId).status).toBe(0);
    relinkChain(file);
    expect(signatureOf(file)).toMatchObject({
      valid: false,
      problem: expect.stringContaining('no longer hashes to what was signed'),
    });
    const verdict = verifyAuditChain(file);
    expect(verdict).toMatchObject({ ok: false, reason: 'signature' });
    if (!verdict.ok) expect(verdict.message).toContain(`unit ${trail.failed.unitId}`);
  });

  it('cannot be moved to another record', () => {
    const { file } = signedTrail();
    const db = new Database(file);
    db.exec(DROP_TRIGGERS);
    db.prepare(
      `UPDATE events SET details = json_set(details, '$.subject.id', 'unit-5'), unit_id = 'unit-5' WHERE kind = 'signature'`,
    ).run();
    db.exec(RESTORE_TRIGGERS);
    db.close();
    relinkChain(file);
    expect(signatureOf(file)).toMatchObject({ valid: false, subject: { id: 'unit-5' } });
  });
});
