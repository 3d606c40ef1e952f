import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  AuditEventRejectedError,
  eventHash,
  GENESIS_HASH,
  verifyAuditChain,
  type AuditEvent,
} from '../../../electron/audit/index';
import { CONFIG_SHA, openStore, recordBatch, STATION, tempDbFile } from '../../support/audit';

function rowFields(e: AuditEvent) {
  return {
    seq: e.seq,
    event_id: e.eventId,
    at: e.at,
    station_id: e.stationId,
    operator: e.operator,
    batch_id: e.batchId,
    unit_id: e.unitId,
    slot: e.slot,
    step: e.step,
    kind: e.kind,
    outcome: e.outcome,
    details: e.details,
    supersedes: e.supersedes,
    prev_hash: e.prevHash,
  };
}

describe('the hash chain', () => {
  it('matches the worked example in electron/audit/README.md (computed independently in Python)', () => {
    expect(
      eventHash({
        seq: 1,
        event_id: '6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4e5',
        at: '2026-11-25T19:00:00.123+00:00',
        station_id: 'line1-station2',
        operator: 'ann',
        batch_id: 'b-2026-11-25-1',
        unit_id: null,
        slot: null,
        step: null,
        kind: 'batch.opened',
        outcome: null,
        details: { name: 'Sensors week 48', recipeId: 'sensor-v2', configSha256: 'a'.repeat(64) },
        supersedes: null,
        prev_hash: GENESIS_HASH,
      }),
    ).toBe('0934b109d86e4bd05d94ff7d6b7a77876784fe9c6005f3f1810732ff1a9caf39');
  });

  it('links every appended event to the one before, from 64 zeros, and the verifier agrees', () => {
    const file = tempDbFile();
    const store = openStore(file);
    const events: AuditEvent[] = [];
    events.push(store.append({ kind: 'operator.login', operator: 'ann', details: {} }));
    events.push(
      store.append({
        kind: 'batch.opened',
        batchId: 'b1',
        operator: 'ann',
        at: '2026-11-25T19:00:00.123+00:00',
        details: { name: 'B1', recipeId: 'sensor-v2', configSha256: CONFIG_SHA },
      }),
    );
    events.push(store.append({ kind: 'unit.started', batchId: 'b1', unitId: 'u1', slot: 3, details: {} }));
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[0]!.prevHash).toBe(GENESIS_HASH);
    expect(events[1]!.prevHash).toBe(events[0]!.hash);
    expect(events[2]!.prevHash).toBe(events[1]!.hash);
    for (const e of events) {
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(eventHash(rowFields(e))).toBe(e.hash);
      expect(e.stationId).toBe(STATION);
      expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
      expect(e.eventId).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(events[1]!.at).toBe('2026-11-25T19:00:00.123+00:00');
    store.close();
    expect(verifyAuditChain(file)).toEqual({
      ok: true,
      events: 3,
      lastHash: events[2]!.hash,
      firstAt: events[0]!.at,
      lastAt: events[2]!.at,
      // No signer: chained, not signed.
      checkpoints: 0,
      signedBy: null,
      keySource: 'none',
      lastCheckpoint: null,
      unsignedTail: 3,
      anchorsChecked: 0,
    });
  });

  it('verifies an empty trail', () => {
    const file = tempDbFile();
    openStore(file).close();
    expect(verifyAuditChain(file)).toMatchObject({
      ok: true,
      events: 0,
      lastHash: GENESIS_HASH,
      firstAt: null,
      lastAt: null,
    });
  });
});

describe('projections follow the events', () => {
  it('records a cancelled attempt as cancelled, and finds passed units by scanned serial number', () => {
    const store = openStore(tempDbFile());
    recordBatch(store, 0);
    const scanned = (unitId: string, serialNumber: string) =>
      store.append({
        kind: 'unit.started',
        batchId: 'batch-1',
        unitId,
        slot: 1,
        details: { scan: { serialNumber } },
      });
    scanned('u-cancel', 'SN0000000001');
    store.append({ kind: 'unit.finished', unitId: 'u-cancel', outcome: 'cancelled', details: {} });
    expect(store.unit('u-cancel')).toMatchObject({ state: 'cancelled', outcome: 'cancelled' });
    expect(store.passedUnitBySerial('SN0000000001')).toBeNull();
    scanned('u-pass', 'SN0000000001');
    store.append({
      kind: 'unit.finished',
      unitId: 'u-pass',
      outcome: 'passed',
      details: { deviceId: 'd-1' },
    });
    expect(store.passedUnitBySerial('SN0000000001')).toMatchObject({ id: 'u-pass', deviceId: 'd-1' });
    expect(store.batchSummary('batch-1')).toMatchObject({ passed: 1, cancelled: 1, firstPass: 1 });
    store.close();
  });

  it('tracks a unit from start to PASS, and the batch summary', () => {
    const store = openStore(tempDbFile());
    recordBatch(store, 3);
    const unit = store.unit('batch-1-unit-1');
    expect(unit).toEqual({
      id: 'batch-1-unit-1',
      batchId: 'batch-1',
      slot: 1,
      soc: 'nrf9151',
      mcuId: 'mcu-batch-1-1',
      deviceId: 'dev-1',
      serialNumber: null,
      state: 'passed',
      lastStep: 'write-credentials',
      outcome: 'passed',
      errorCode: null,
      startedAt: '2026-11-25T19:00:02.000+00:00',
      endedAt: '2026-11-25T19:00:03.250+00:00',
      durationMs: 1250,
      attempt: 1,
      operator: 'ann',
      reviewedAt: null,
      lastSeq: 14,
    });
    expect(store.findUnitByMcuId('nrf9151', 'mcu-batch-1-2')?.id).toBe('batch-1-unit-2');
    expect(store.findUnitByMcuId('nrf9151', 'nope')).toBeNull();
    expect(store.unfinishedUnits()).toEqual([]);
    expect(store.batchSummary('batch-1')).toMatchObject({
      batch: {
        id: 'batch-1',
        name: 'Week 48 sensors',
        recipeId: 'sensor-v2',
        state: 'open',
        operator: 'ann',
      },
      units: 3,
      passed: 3,
      failed: 0,
      attention: 0,
      inProgress: 0,
      voided: 0,
      yield: 1,
    });
    expect(store.batchSummary('nope')).toBeNull();
    store.close();
  });

  it('fills batch and slot in from the unit, lists unfinished units, counts failures and attention', () => {
    const store = openStore(tempDbFile());
    recordBatch(store, 1);
    store.append({ kind: 'unit.started', batchId: 'batch-1', unitId: 'u-fail', slot: 2, details: {} });
    const step = store.append({
      kind: 'step.finished',
      unitId: 'u-fail',
      step: 'lookup',
      outcome: 'failed',
      details: { durationMs: 30_000, errorCode: 'BACKEND_TIMEOUT' },
    });
    expect(step).toMatchObject({ batchId: 'batch-1', slot: 2 });
    store.append({ kind: 'unit.started', batchId: 'batch-1', unitId: 'u-att', slot: 3, details: {} });
    store.append({ kind: 'unit.started', batchId: 'batch-1', unitId: 'u-run', slot: 0, details: {} });
    store.append({ kind: 'step.started', unitId: 'u-run', step: 'identify', details: {} });
    store.append({
      kind: 'unit.attention',
      unitId: 'u-att',
      details: { reason: 'board unplugged mid-write', errorCode: 'DISCONNECTED' },
    });
    expect(store.unfinishedUnits().map((u) => [u.id, u.state, u.lastStep])).toEqual([
      ['u-fail', 'in-progress', 'lookup'],
      ['u-att', 'attention', null],
      ['u-run', 'in-progress', 'identify'],
    ]);
    store.append({
      kind: 'unit.finished',
      unitId: 'u-fail',
      outcome: 'failed',
      details: { errorCode: 'BACKEND_TIMEOUT', durationMs: 31_000 },
    });
    expect(store.unit('u-fail')).toMatchObject({
      state: 'failed',
      outcome: 'failed',
      errorCode: 'BACKEND_TIMEOUT',
      durationMs: 31_000,
    });
    expect(store.batchSummary('batch-1')).toMatchObject({
      units: 4,
      passed: 1,
      failed: 1,
      attention: 1,
      inProgress: 1,
      yield: 0.5,
    });
    store.close();
  });

  it('counts a re-provision as a new attempt and keeps the old attempt in the history', () => {
    const store = openStore(tempDbFile());
    recordBatch(store, 1);
    store.append({
      kind: 'batch.opened',
      batchId: 'batch-2',
      details: { name: 'B2', recipeId: 'r', configSha256: CONFIG_SHA },
    });
    store.append({
      kind: 'unit.started',
      batchId: 'batch-2',
      unitId: 'batch-1-unit-0',
      slot: 1,
      details: {},
    });
    expect(store.unit('batch-1-unit-0')).toMatchObject({
      batchId: 'batch-2',
      attempt: 2,
      state: 'in-progress',
      outcome: null,
      soc: 'nrf9151',
      mcuId: 'mcu-batch-1-0',
      deviceId: 'dev-0',
    });
    expect(store.unitHistory('batch-1-unit-0').events.map((e) => e.kind)).toEqual([
      'unit.started',
      'unit.identified',
      'step.started',
      'step.intent',
      'step.finished',
      'unit.finished',
      'unit.started',
    ]);
    expect(store.batchSummary('batch-1')?.units).toBe(0);
    store.close();
  });

  it('closes and voids', () => {
    const store = openStore(tempDbFile());
    recordBatch(store, 2);
    store.append({
      kind: 'unit.voided',
      unitId: 'batch-1-unit-0',
      operator: 'sue',
      details: { reason: 'dropped on floor' },
    });
    store.append({ kind: 'batch.closed', batchId: 'batch-1', operator: 'sue', details: {} });
    expect(store.batchSummary('batch-1')).toMatchObject({
      batch: { state: 'closed', closedAt: '2026-11-25T19:00:03.750+00:00' },
      voided: 1,
      passed: 1,
      yield: 1,
    });
    store.close();
  });

  it('a correction is a new event pointing at the one it supersedes; the view takes the corrected values', () => {
    const store = openStore(tempDbFile());
    recordBatch(store, 1);
    const finished = store.unitHistory('batch-1-unit-0').events.find((e) => e.kind === 'unit.finished')!;
    const correction = store.append({
      kind: 'correction',
      supersedes: finished.seq,
      operator: 'qa-bob',
      details: {
        reason: 'label print failed; unit re-tested on bench and failed',
        set: { state: 'failed', outcome: 'failed', errorCode: 'BENCH_RETEST_FAILED' },
      },
    });
    expect(correction).toMatchObject({
      kind: 'correction',
      supersedes: finished.seq,
      unitId: 'batch-1-unit-0',
      batchId: 'batch-1',
    });
    const history = store.unitHistory('batch-1-unit-0');
    expect(history.unit).toMatchObject({
      state: 'failed',
      outcome: 'failed',
      errorCode: 'BENCH_RETEST_FAILED',
    });
    expect(history.events.find((e) => e.seq === finished.seq)?.supersededBy).toEqual([correction.seq]);
    expect(history.events.at(-1)).toMatchObject({ seq: correction.seq, supersededBy: [] });
    // The corrected event is untouched: the record shows both what was recorded and what it was corrected to.
    expect(history.events.find((e) => e.seq === finished.seq)).toMatchObject({
      outcome: 'passed',
      hash: finished.hash,
    });
    expect(store.batchSummary('batch-1')).toMatchObject({ passed: 0, failed: 1, yield: 0 });
    store.close();
  });
});

describe('events the store refuses (nothing written, store still usable)', () => {
  const cases: Array<[string, Parameters<ReturnType<typeof openStore>['append']>[0], string]> = [
    [
      'a unit never started',
      { kind: 'step.started', unitId: 'ghost', step: 'identify', details: {} },
      'audit event refused: unit "ghost" was never started (record unit.started first)',
    ],
    [
      'a unit in a batch never opened',
      { kind: 'unit.started', batchId: 'nope', unitId: 'u9', details: {} },
      'audit event refused: batch "nope" was never opened',
    ],
    [
      'finishing a finished unit',
      { kind: 'unit.finished', unitId: 'batch-1-unit-0', outcome: 'failed', details: {} },
      'audit event refused: unit "batch-1-unit-0" already ended (passed); start a new attempt with unit.started, or record a correction',
    ],
    [
      'a correction of an event that does not exist',
      { kind: 'correction', supersedes: 999, details: { reason: 'typo' } },
      'audit event refused: correction supersedes event seq 999, which does not exist',
    ],
    [
      'a step.finished without an outcome',
      { kind: 'step.finished', unitId: 'batch-1-unit-0', step: 'x', details: { durationMs: 1 } } as never,
      'audit event refused: outcome: Invalid option: expected one of "passed"|"failed"|"skipped"',
    ],
    [
      'a timestamp that is not UTC',
      { kind: 'operator.logout', operator: 'ann', at: '2026-11-25T20:00:00.000+01:00', details: {} },
      'audit event refused: at: must be UTC like 2026-11-25T19:00:00.123+00:00',
    ],
    [
      'a details value JSON cannot hold',
      {
        kind: 'step.log',
        unitId: 'batch-1-unit-0',
        details: { source: 'board', lines: [], rssi: Number.NaN },
      },
      'audit event refused: details.rssi is not a JSON value',
    ],
  ];

  it.each(cases)('%s', (_name, event, message) => {
    const store = openStore(tempDbFile());
    recordBatch(store, 1);
    const before = store.lastEvent();
    expect(() => store.append(event)).toThrow(new AuditEventRejectedError(message));
    expect(store.lastEvent()).toEqual(before);
    expect(store.failed).toBe(false);
    expect(store.append({ kind: 'operator.logout', operator: 'ann', details: {} }).seq).toBe(before!.seq + 1);
    store.close();
  });
});

describe('no secret is ever stored', () => {
  it.each([
    ['apiKey', { apiKey: 'ik_live_123' }, 'details.apiKey'],
    ['nested sharedSecret', { cloud: { reply: { sharedSecret: 'x' } } }, 'details.cloud.reply.sharedSecret'],
    [
      'MQTT_TOKEN in an array',
      { attempts: [{ ok: true }, { MQTT_TOKEN: 'x' }] },
      'details.attempts[1].MQTT_TOKEN',
    ],
    ['password', { password: 'hunter2' }, 'details.password'],
    ['key', { key: 'x' }, 'details.key'],
  ])('refuses %s with the exact message and writes nothing', (_name, details, path) => {
    const file = tempDbFile();
    const store = openStore(file);
    recordBatch(store, 1);
    const before = store.lastEvent();
    expect(() =>
      store.append({
        kind: 'step.finished',
        unitId: 'batch-1-unit-0',
        step: 'derive-key',
        outcome: 'passed',
        details: { durationMs: 3, ...details },
      } as never),
    ).toThrow(
      new AuditEventRejectedError(
        `audit event refused: ${path} is named like a secret; secrets are never stored in the audit trail ` +
          '(store a fingerprint as "...Fp" or an id as "...Id" instead)',
      ),
    );
    expect(store.lastEvent()).toEqual(before);
    store.close();
    const db = new Database(file, { readonly: true });
    expect(
      db
        .prepare(
          "SELECT count(*) AS n FROM events WHERE details LIKE '%hunter2%' OR details LIKE '%ik_live%'",
        )
        .get(),
    ).toEqual({ n: 0 });
    db.close();
  });

  it('stores fingerprints and ids', () => {
    const store = openStore(tempDbFile());
    recordBatch(store, 1);
    const details = {
      durationMs: 3,
      derivedKeyFp: '0011223344556677',
      networkKeyId: 'net-1',
      cloudPublicKeyFingerprint: 'aabbccdd',
      secretFingerprints: [{ name: 'infuse-api-key', fingerprint: 'ffeeddcc' }],
    };
    store.append({ kind: 'unit.started', batchId: 'batch-1', unitId: 'u2', details: {} });
    const event = store.append({
      kind: 'step.finished',
      unitId: 'u2',
      step: 'derive-key',
      outcome: 'passed',
      details,
    } as never);
    expect(event.details).toEqual(details);
    store.close();
  });
});

describe('events are append-only in the file itself', () => {
  it('rejects UPDATE and DELETE from any connection with a clear message', () => {
    const file = tempDbFile();
    const store = openStore(file);
    recordBatch(store, 1);
    store.close();
    const db = new Database(file);
    expect(() => db.prepare("UPDATE events SET outcome = 'failed' WHERE seq = 8").run()).toThrow(
      'audit trail is append-only: events cannot be updated (record a correction instead)',
    );
    expect(() => db.prepare('DELETE FROM events WHERE seq = 3').run()).toThrow(
      'audit trail is append-only: events cannot be deleted',
    );
    db.close();
    expect(verifyAuditChain(file)).toMatchObject({ ok: true, events: 8 });
  });
});
