/**
 * The audit trail's verification costs on a large trail: `station audit verify` (every hash, every checkpoint
 * signature against the station's key, the views replayed) and the station's verify-on-open (schema, triggers and
 * the chain from the last checkpoint it verified; and the cold case, the whole trail, when that anchor is gone).
 *
 * The trail is grown from a real one: one board provisioned through the CLI, its unit's events (33 of them, with
 * their real details) appended again under new unit ids through the AuditStore with the station's own signer, so
 * checkpoints fall every `checkpointEvery` events exactly as in production. It is grown in /dev/shm when there is
 * one: with synchronous=FULL on a disk, growing 100,000 events would be the benchmark's slowest part.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  AuditStore,
  loadStationSigner,
  verifyAuditChain,
  type AuditEventInput,
  type TrailSigner,
} from '../../electron/audit/index';
import { stationSecrets } from '../../electron/cli/station-options';
import { anchorFileOf, guardTrail, writeAnchor } from '../../electron/station/trail-guard';
import { runStationTimed } from './run-station';

interface TemplateRow {
  kind: string;
  step: string | null;
  outcome: string | null;
  operator: string | null;
  details: string;
}

/** The events of the one unit a real provisioning run recorded, in order. */
function unitTemplate(db: string): { unitId: string; rows: TemplateRow[] } {
  const handle = new Database(db, { readonly: true });
  try {
    const unitId = handle
      .prepare<[], { unit_id: string }>("SELECT unit_id FROM events WHERE kind = 'unit.started' LIMIT 1")
      .get()!.unit_id;
    const rows = handle
      .prepare<[string], TemplateRow>(
        'SELECT kind, step, outcome, operator, details FROM events WHERE unit_id = ? ORDER BY seq',
      )
      .all(unitId);
    return { unitId, rows };
  } finally {
    handle.close();
  }
}

function grow(db: string, signer: TrailSigner, units: number, checkpointEvery: number): void {
  const template = unitTemplate(db);
  const mcuId = (
    JSON.parse(template.rows.find((r) => r.kind === 'unit.identified')!.details) as { mcuId: string }
  ).mcuId;
  const store = AuditStore.open(db, {
    stationId: 'sandbox', // the seeded station's id (station-config/sandbox.json)
    signer,
    checkpointEvery,
    onCheckpoint: (anchor) => writeAnchor(db, anchor),
  });
  try {
    // As the station opens a trail: its identity (once) and an 'opened' checkpoint before any new event.
    store.recordIdentity();
    store.checkpoint('opened');
    const batchId = 'bench-large-batch';
    store.append({
      kind: 'batch.opened',
      batchId,
      operator: 'bench',
      details: { name: 'bench large trail', recipeId: 'sensor-v2', configSha256: 'b'.repeat(64) },
    });
    for (let i = 0; i < units; i++) {
      const unitId = `bench-unit-${i}`;
      // Each unit its own board: the template's MCU id swapped for one of the same length.
      const newMcu = i.toString(16).padStart(mcuId.length, '0');
      for (const row of template.rows) {
        const details = JSON.parse(row.details.split(mcuId).join(newMcu)) as Record<string, unknown>;
        store.append({
          kind: row.kind,
          unitId,
          ...(row.kind === 'unit.started' && { batchId, slot: i % 8 }),
          ...(row.step !== null && { step: row.step }),
          ...(row.outcome !== null && { outcome: row.outcome }),
          ...(row.operator !== null && { operator: row.operator }),
          details,
        } as AuditEventInput);
      }
    }
    store.append({ kind: 'batch.closed', batchId, operator: 'bench', details: {} });
    store.checkpoint('batch-closed');
    store.checkpoint('shutdown');
  } finally {
    store.close();
  }
}

function timed<T>(work: () => T): { value: T; ms: number } {
  const started = process.hrtime.bigint();
  const value = work();
  return { value, ms: Math.round((Number(process.hrtime.bigint() - started) / 1e6) * 10) / 10 };
}

export async function auditBench(options: { units: number; checkpointEvery: number }) {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, 'station-audit-bench-'));
  try {
    const seeded = await runStationTimed([
      'provision',
      '--sim',
      '1',
      '--batch',
      'seed',
      '--operator',
      'bench',
      '--json',
      '--data',
      dir,
    ]);
    if (seeded.code !== 0) throw new Error(`provision exited ${seeded.code}: ${seeded.stderr.slice(-400)}`);
    const db = join(dir, 'station.sqlite');
    const signer = await loadStationSigner(stationSecrets({ data: dir }), { create: false });
    if (!signer) throw new Error('the seeded station has no identity key');

    const growth = timed(() => grow(db, signer, options.units, options.checkpointEvery));
    const handle = new Database(db, { readonly: true });
    const events = handle.prepare('SELECT count(*) FROM events').pluck().get() as number;
    const checkpoints = handle
      .prepare("SELECT count(*) FROM events WHERE kind = 'checkpoint'")
      .pluck()
      .get() as number;
    handle.close();

    // `station audit verify` as a supervisor runs it: a fresh process, the station's own key, views replayed.
    const cli = await runStationTimed(['audit', 'verify', '--db', db, '--json']);
    const cliResult = JSON.parse(cli.stdout) as { ok: boolean; keySource: string; checkpoints: number };
    if (cli.code !== 0 || !cliResult.ok) throw new Error(`audit verify failed: ${cli.stdout}`);

    const full = timed(() => verifyAuditChain(db, { expectKey: { publicKey: signer.publicKey } }));
    const chainOnly = timed(() =>
      verifyAuditChain(db, { expectKey: { publicKey: signer.publicKey }, replayViews: false }),
    );
    // What the station does every time it opens: from the checkpoint it verified last.
    const onOpen = timed(() => guardTrail(db, signer, { mayAdopt: false }));
    // The cold case: the remembered anchor is gone, so the whole trail is walked.
    rmSync(anchorFileOf(db));
    const onOpenCold = timed(() => guardTrail(db, signer, { mayAdopt: false }));
    if (!full.value.ok || !chainOnly.value.ok) throw new Error('the grown trail did not verify');

    return {
      benchmark: 'audit-verify',
      units: options.units + 1,
      events,
      checkpoints,
      checkpointEvery: options.checkpointEvery,
      databaseBytes: statSync(db).size,
      growMs: Math.round(growth.ms),
      auditVerifyCli: {
        wallMs: Math.round(cli.wallMs),
        maxRssKb: cli.maxRssKb,
        keySource: cliResult.keySource,
      },
      auditVerifyInProcessMs: { full: full.ms, withoutViewReplay: chainOnly.ms },
      verifyOnOpenMs: {
        fromLastVerifiedCheckpoint: onOpen.ms,
        wholeTrailWhenAnchorMissing: onOpenCold.ms,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
