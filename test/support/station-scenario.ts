/**
 * The station service scenario, one story told against any host (in-process and `station serve`): log in, a batch
 * of four boards in parallel, continuous mode, a retry-safe failure and Retry, a failure that needs a supervisor,
 * a power cut mid-unit with restart and reconciliation, then a labelled batch: a bad scan, a duplicate serial,
 * cancel mid-step, the target reached. Throughout, the client's event stream is dropped and resumed, and at the
 * end every run's events are checked: contiguous seqs, nothing twice, nothing secret.
 */
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { verifyAuditChain } from '../../electron/audit';
import type { Slot, Snapshot, StationEvent } from '../../electron/station-api';
import type { ScenarioClient } from './station-client';

const SLOTS = ['slot-1', 'slot-2', 'slot-3', 'slot-4'];

const slotOf = (state: Snapshot, name: string): Slot => {
  const slot = state.slots.find((s) => s.name === name);
  if (!slot) throw new Error(`no slot ${name}`);
  return slot;
};
const stateOf = (client: ScenarioClient, name: string) => slotOf(client.state(), name).state;

async function expectOk<T extends { ok: boolean }>(promise: Promise<T>): Promise<Extract<T, { ok: true }>> {
  const result = await promise;
  expect(result, JSON.stringify(result)).toMatchObject({ ok: true });
  return result as Extract<T, { ok: true }>;
}

async function waitSlot(client: ScenarioClient, name: string, states: Slot['state'][], timeoutMs = 20_000) {
  const state = await client.waitFor(
    `${name} ${states.join('/')}`,
    (s) => states.includes(slotOf(s, name).state),
    timeoutMs,
  );
  return slotOf(state, name);
}

/** Unplugs a slot's virtual board and plugs the next one in (with faults), waiting for the unplug to be seen. */
async function nextBoard(client: ScenarioClient, slot: string, faults: string[] = []) {
  await expectOk(client.execute('sim.unplug', { slot }));
  await waitSlot(client, slot, ['empty']);
  await expectOk(client.execute('sim.replug', { slot, faults }));
}

function auditRows(file: string, sql: string, ...params: unknown[]): Array<Record<string, unknown>> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

/** Every run's stream: seq contiguous from the first one the client saw, no duplicates, no secrets. */
export function expectCleanStreams(client: ScenarioClient, secrets: readonly string[] = []): void {
  for (const [runId, run] of client.runs()) {
    const seqs = run.events.map((e) => e.seq);
    const expected = seqs.map((_, i) => run.firstSeq + i);
    expect(seqs, `run ${runId}: events must arrive once each, in order, without gaps`).toEqual(expected);
    const text = JSON.stringify(run.events);
    for (const secret of secrets) expect(text.includes(secret), 'a secret in the event stream').toBe(false);
  }
}

export async function runStationScenario(client: ScenarioClient): Promise<void> {
  // --- people ---------------------------------------------------------------------------------------------
  const station = client.state().station;
  expect(station.environment).toBe('sandbox');
  expect(station.demoAccounts?.map((a) => a.operatorId)).toEqual(['operator', 'supervisor', 'qa', 'admin']);
  const denied = await client.execute('batch.open', { name: 'nobody' });
  expect(denied).toMatchObject({ ok: false, code: 'NOT_LOGGED_IN' });
  const wrongPin = await client.execute('session.login', { operatorId: 'operator', pin: '9999' });
  expect(wrongPin).toEqual({
    ok: false,
    code: 'LOGIN_FAILED',
    message: 'Operator id or PIN is wrong: try again.',
  });
  const login = await expectOk(client.execute('session.login', { operatorId: 'operator', pin: '1111' }));
  expect(login.session).toMatchObject({ operatorId: 'operator', roles: ['operator'], method: 'pin' });
  await client.waitFor('the session', (s) => s.session?.operatorId === 'operator');

  // --- continuous batch: four boards in parallel --------------------------------------------------------------
  const opened = await expectOk(
    client.execute('batch.open', { name: 'scenario-A', recipeId: 'sandbox-sensor' }),
  );
  expect(opened.continued).toBe(false);
  const firstRunning = await client.waitFor('all four slots running at once', (s) =>
    SLOTS.every((name) => ['running', 'passed'].includes(slotOf(s, name).state)),
  );
  expect(firstRunning.slots.filter((s) => s.state === 'running').length).toBeGreaterThan(1);
  // The event stream drops while units run; the client resumes after the last event it saw.
  await client.dropAndResume(() => new Promise((resolve) => setTimeout(resolve, 300)));
  const fourPassed = await client.waitFor('four PASS', (s) =>
    SLOTS.every((name) => slotOf(s, name).state === 'passed'),
  );
  const deviceIds = SLOTS.map((name) => slotOf(fourPassed, name).result?.deviceId);
  expect(new Set(deviceIds).size).toBe(4);
  for (const id of deviceIds) expect(id).toMatch(/^[0-9a-f]{16}$/);
  await client.waitFor('batch counts', (s) => s.batch?.counts.passed === 4);
  expect(client.state().batch).toMatchObject({
    counts: { passed: 4, failed: 0, firstPass: 4 },
    firstPassYield: 1,
  });

  // --- continuous mode: the next board starts by itself -------------------------------------------------------
  await nextBoard(client, 'slot-1');
  const replugged = await waitSlot(client, 'slot-1', ['passed']);
  expect(replugged.result?.deviceId).not.toBe(deviceIds[0]);

  // --- a retry-safe failure, and Retry ------------------------------------------------------------------------
  await nextBoard(client, 'slot-2', ['drop-reply@CHALLENGE x3']);
  const failedSafe = await waitSlot(client, 'slot-2', ['failed', 'passed']);
  expect(failedSafe.state).toBe('failed');
  expect(failedSafe.result?.error).toMatchObject({ code: 'SERIAL_TIMEOUT', retrySafe: true });
  expect(failedSafe.result?.failedStep).toBe('key-agreement');
  const retried = await expectOk(client.execute('slot.retry', { slot: 'slot-2' }));
  expect(retried.unitId).toBe(failedSafe.result?.unitId);
  const afterRetry = await waitSlot(client, 'slot-2', ['passed', 'failed']);
  expect(afterRetry.state).toBe('passed');
  expect(afterRetry.unit?.attempt).toBe(2);

  // --- a failure that is not safe to retry: refused for an operator, approved by a supervisor -----------------
  await nextBoard(client, 'slot-3', ['storage-fail@COMMIT x1']);
  const failedHard = await waitSlot(client, 'slot-3', ['failed', 'passed']);
  expect(failedHard.result?.error).toMatchObject({ code: 'SERIAL_BOARD_ERROR_STORAGE', retrySafe: false });
  const refused = await client.execute('slot.retry', { slot: 'slot-3' });
  expect(refused).toMatchObject({ ok: false, code: 'APPROVAL_REQUIRED' });
  const badApproval = await client.execute('slot.retry', {
    slot: 'slot-3',
    reason: 'flash re-seated',
    approvedBy: { operatorId: 'qa', pin: '3333' },
  });
  expect(badApproval).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  const noReason = await client.execute('slot.retry', {
    slot: 'slot-3',
    approvedBy: { operatorId: 'supervisor', pin: '2222' },
  });
  expect(noReason).toMatchObject({ ok: false, code: 'BAD_INPUT' });
  await expectOk(
    client.execute('slot.retry', {
      slot: 'slot-3',
      reason: 'flash re-seated, board checked',
      approvedBy: { operatorId: 'supervisor', pin: '2222' },
    }),
  );
  expect((await waitSlot(client, 'slot-3', ['passed', 'failed'])).state).toBe('passed');
  const authorized = auditRows(
    client.databaseFile,
    "SELECT operator, details FROM events WHERE kind = 'retry.authorized'",
  );
  expect(authorized).toHaveLength(1);
  expect(JSON.parse(String(authorized[0]!.details))).toMatchObject({
    slotName: 'slot-3',
    authorizedBy: 'supervisor',
    reason: 'flash re-seated, board checked',
    errorCode: 'SERIAL_BOARD_ERROR_STORAGE',
  });
  // The approval is the supervisor's electronic signature over the failed unit's record.
  const signatures = auditRows(
    client.databaseFile,
    "SELECT seq, operator, unit_id, details FROM events WHERE kind = 'signature'",
  );
  expect(signatures).toHaveLength(1);
  expect(signatures[0]).toMatchObject({ operator: 'supervisor' });
  expect(JSON.parse(String(authorized[0]!.details)).signatureSeq).toBe(signatures[0]!.seq);
  expect(JSON.parse(String(signatures[0]!.details))).toMatchObject({
    meaning: 'reprovision-approved',
    reason: 'flash re-seated, board checked',
    subject: { type: 'unit', id: signatures[0]!.unit_id },
  });
  const deniedRows = auditRows(
    client.databaseFile,
    "SELECT details FROM events WHERE kind = 'access.denied'",
  );
  expect(deniedRows.map((r) => JSON.parse(String(r.details)).command)).toEqual(
    expect.arrayContaining(['batch.open', 'slot.retry']),
  );

  // --- power cut mid-unit: restart, reconcile, carry on -------------------------------------------------------
  await nextBoard(client, 'slot-4', ['delay-reply@VERIFY=1500 x1']);
  await client.crashDuring('slot-4', 'verify');
  const interrupted = auditRows(client.databaseFile, "SELECT id FROM units WHERE state = 'in-progress'");
  expect(interrupted).toHaveLength(1);
  await client.restart();
  expect(client.state().batch?.name).toBe('scenario-A');
  await client
    .waitFor('the interrupted unit reconciled', () =>
      client.events().some((e) => e.kind === 'unit.reconciled' && e.unitId === interrupted[0]!.id),
    )
    .catch(() => undefined);
  const reconciled = auditRows(
    client.databaseFile,
    'SELECT state, error_code FROM units WHERE id = ?',
    interrupted[0]!.id,
  );
  expect(reconciled).toEqual([{ state: 'failed', error_code: 'INTERRUPTED' }]);
  // Someone logs in again; the board still in slot-4 is provisioned by itself, the passed ones keep their PASS.
  await expectOk(client.execute('session.login', { operatorId: 'operator', pin: '1111' }));
  expect((await waitSlot(client, 'slot-4', ['passed', 'failed'], 30_000)).state).toBe('passed');
  for (const name of ['slot-1', 'slot-2', 'slot-3']) expect(stateOf(client, name)).toBe('passed');
  // Four, the next board, two retried boards, and the board the power cut interrupted, passed as a new unit; the
  // interrupted attempt stays in the record as failed (INTERRUPTED).
  await client.waitFor('batch counts after the restart', (s) => s.batch?.counts.passed === 8);
  expect(client.state().batch?.counts).toMatchObject({ passed: 8, failed: 1, firstPass: 6 });
  const close = await expectOk(client.execute('batch.close', {}));
  expect(close.batchId).toBe(opened.batchId);

  // --- a labelled batch: scans, a duplicate serial, cancel mid-step, the target -------------------------------
  const labelled = await expectOk(
    client.execute('batch.open', {
      name: 'scenario-B',
      recipeId: 'sandbox-sensor-labelled',
      targetQuantity: 2,
    }),
  );
  await client.waitFor('batch B', (s) => s.batch?.id === labelled.batchId && s.batch.requiresScan);
  const bad = await client.execute('slot.scan', { text: 'not a label' });
  expect(bad).toEqual({
    ok: false,
    code: 'SCAN_REFUSED',
    message: 'That label was not recognised. Scan the serial-number label (SN:...) again.',
  });
  await client.waitFor('the bad scan shown', (s) => s.lastScan?.accepted === false);
  const early = await client.execute('slot.scan', { text: 'SN:AAAA000001' });
  expect(early).toMatchObject({ ok: false, code: 'NO_SLOT_WAITING' });

  await nextBoard(client, 'slot-1');
  await waitSlot(client, 'slot-1', ['waiting-for-scan']);
  const scanned = await expectOk(client.execute('slot.scan', { text: 'SN:AAAA000001' }));
  expect(scanned).toMatchObject({ slot: 'slot-1', fields: { serialNumber: 'AAAA000001' } });
  const labelledPass = await waitSlot(client, 'slot-1', ['passed', 'failed']);
  expect(labelledPass.state).toBe('passed');

  await nextBoard(client, 'slot-2', ['delay-reply@VERIFY=2000 x1']);
  await waitSlot(client, 'slot-2', ['waiting-for-scan']);
  const duplicate = await client.execute('slot.scan', { text: 'SN:AAAA000001' });
  expect(duplicate).toMatchObject({ ok: false, code: 'DUPLICATE_SERIAL' });
  expect(duplicate.ok === false && duplicate.message).toContain(
    `as device ${labelledPass.result?.deviceId} on `,
  );
  expect(stateOf(client, 'slot-2')).toBe('waiting-for-scan');

  await expectOk(client.execute('slot.scan', { text: 'SN:AAAA000002', slot: 'slot-2' }));
  await client.waitFor('slot-2 verifying', (s) => slotOf(s, 'slot-2').unit?.step === 'verify');
  const cancelled = await expectOk(client.execute('slot.cancel', { slot: 'slot-2' }));
  const afterCancel = await waitSlot(client, 'slot-2', ['cancelled', 'passed', 'failed']);
  expect(afterCancel.state).toBe('cancelled');
  const cancelledUnit = auditRows(
    client.databaseFile,
    'SELECT kind, step, outcome FROM events WHERE unit_id = ? ORDER BY seq',
    cancelled.unitId,
  );
  // A complete record: the step in progress finished, then the unit ended cancelled.
  expect(cancelledUnit.at(-1)).toEqual({ kind: 'unit.finished', step: null, outcome: 'cancelled' });
  expect(cancelledUnit.filter((e) => e.kind === 'step.started').length).toBe(
    cancelledUnit.filter((e) => e.kind === 'step.finished').length,
  );

  await expectOk(client.execute('slot.retry', { slot: 'slot-2' }));
  expect((await waitSlot(client, 'slot-2', ['passed', 'failed'])).state).toBe('passed');
  await client.waitFor('the target reached', (s) => s.batch?.targetReached === true);
  expect(client.state().batch?.counts.passed).toBe(2);

  await nextBoard(client, 'slot-3');
  await waitSlot(client, 'slot-3', ['waiting-for-scan']);
  await expectOk(client.execute('slot.scan', { text: 'SN:AAAA000003' }));
  const held = await waitSlot(client, 'slot-3', ['board-present']);
  expect(held.scan?.fields.serialNumber).toBe('AAAA000003');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(stateOf(client, 'slot-3')).toBe('board-present');
  const overTarget = await client.execute('slot.start', { slot: 'slot-3' });
  expect(overTarget).toMatchObject({ ok: false, code: 'TARGET_REACHED' });

  // --- the record --------------------------------------------------------------------------------------------
  const chain = verifyAuditChain(client.databaseFile);
  expect(chain.ok, JSON.stringify(chain)).toBe(true);
  const scans = auditRows(
    client.databaseFile,
    "SELECT kind, details FROM events WHERE kind LIKE 'scan.%' ORDER BY seq",
  );
  expect(scans.map((r) => r.kind)).toEqual([
    'scan.refused',
    'scan.refused',
    'scan.accepted',
    'scan.refused',
    'scan.accepted',
    'scan.accepted',
  ]);
  const stream: StationEvent[] = client.events();
  expect(stream.some((e) => e.kind === 'board.log')).toBe(true);
}
