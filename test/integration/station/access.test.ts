/**
 * Who may do what, checked in the core: every command of the catalogue against every role (and nobody logged in),
 * each refusal recorded as an access.denied audit event; logins, lockout and idle logout through the station.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvFileSecretStore } from '../../../electron/secrets';
import { openStation, type Station } from '../../../electron/station';
import { COMMANDS, COMMAND_NAMES, type CommandName, type Role } from '../../../electron/station-api';
import { loadStationConfig } from '../../../station-config';
import { DROP_TRIGGERS, RESTORE_TRIGGERS } from '../../support/audit';
import { tempDir } from '../../support/temp-dirs';

let station: Station | undefined;
afterEach(async () => {
  await station?.close();
  station = undefined;
});

/** A sandbox station whose only slot has no board: commands run, nothing gets provisioned. */
async function boardless(options: { now?: () => Date; idleMinutes?: number } = {}) {
  const loaded = loadStationConfig(undefined, {});
  if (!loaded.ok) throw new Error('sandbox config');
  const dir = tempDir('station-access-');
  const config = structuredClone(loaded.config);
  if (options.idleMinutes !== undefined) config.accounts.idleLogoutMinutes = options.idleMinutes;
  station = await openStation({
    config,
    paths: loaded.paths,
    secrets: new EnvFileSecretStore({ dir: join(dir, 'secrets') }),
    dataDir: dir,
    ports: [join(dir, 'no-board-here')],
    ...(options.now && { now: options.now }),
  });
  return { station, db: join(dir, 'station.sqlite') };
}

function deniedCount(db: string, command: string): number {
  const handle = new Database(db, { readonly: true });
  try {
    return handle
      .prepare(
        "SELECT count(*) AS n FROM events WHERE kind = 'access.denied' AND json_extract(details, '$.command') = ?",
      )
      .pluck()
      .get(command) as number;
  } finally {
    handle.close();
  }
}

/** An input each command accepts (its effect afterwards does not matter: only whether access was granted). */
const SAMPLE_INPUT: Record<CommandName, unknown> = {
  'station.status': {},
  'session.login': { operatorId: 'ghost', pin: '0000' },
  'session.logout': {},
  'batch.open': { name: 'access-test' },
  'batch.close': { reason: 'access test' },
  'slot.scan': { text: 'SN:AB12345678' },
  'slot.start': { slot: 'slot-1' },
  'slot.retry': { slot: 'slot-1' },
  'slot.cancel': { slot: 'slot-1' },
  'slot.skip': { slot: 'slot-1', reason: 'access test' },
  'ports.list': {},
  'unit.history': { unitId: 'no-such-unit' },
  'audit.verify': {},
  'audit.status': {},
  'units.query': { filter: { state: 'failed' }, limit: 10 },
  'units.facets': {},
  'unit.detail': { unitId: 'no-such-unit' },
  'unit.note': { unitId: 'no-such-unit', text: 'access test' },
  'record.sign': {
    subject: { type: 'unit', id: 'no-such-unit' },
    meaning: 'reviewed',
    pin: '0000',
    recordHash: '0'.repeat(64),
  },
  'unit.void': { unitId: 'no-such-unit', reason: 'access test', pin: '0000', recordHash: '0'.repeat(64) },
  'batch.release': { batchId: 'no-such-batch', pin: '0000' },
  'batch.dashboard': { batchId: 'no-such-batch' },
  'batch.report': { batchId: 'no-such-batch' },
  'batch.export': { batchId: 'no-such-batch', formats: ['csv'] },
  'accounts.list': {},
  'accounts.init': { pin: '24681357' },
  'accounts.create': { operatorId: 'newcomer', name: 'New Comer', roles: ['operator'], pin: '86427531' },
  'accounts.disable': { operatorId: 'ghost', reason: 'access test' },
  'accounts.enable': { operatorId: 'ghost' },
  'accounts.resetPin': { operatorId: 'ghost', pin: '97531864' },
  'accounts.setRoles': { operatorId: 'ghost', roles: ['qa'] },
  'sim.unplug': { slot: 'slot-1' },
  'sim.replug': { slot: 'slot-1' },
};

const PEOPLE: Array<{ role: Role | null; operatorId: string; pin: string }> = [
  { role: null, operatorId: '', pin: '' },
  { role: 'operator', operatorId: 'only-operator', pin: '11112222' },
  { role: 'qa', operatorId: 'only-qa', pin: '33334444' },
  { role: 'supervisor', operatorId: 'only-supervisor', pin: '55556666' },
  { role: 'admin', operatorId: 'only-admin', pin: '77778888' },
];

describe('access to every command, by role, checked in the core', () => {
  // Every command for every role, each with a scrypt PIN check: ~25 s alone, several times that on a loaded CI box.
  it('grants exactly what the catalogue says and records every refusal', { timeout: 180_000 }, async () => {
    const { station, db } = await boardless();
    // The demo admin creates one account per single role.
    await station.execute('session.login', { operatorId: 'admin', pin: '4444' });
    for (const person of PEOPLE.filter((p) => p.role)) {
      const made = await station.execute('accounts.create', {
        operatorId: person.operatorId,
        name: person.operatorId,
        roles: [person.role!],
        pin: person.pin,
      });
      expect(made.ok, JSON.stringify(made)).toBe(true);
    }
    let created = 0;
    for (const person of PEOPLE) {
      for (const name of COMMAND_NAMES) {
        await station.execute('session.logout', {});
        if (person.role) {
          const login = await station.execute('session.login', {
            operatorId: person.operatorId,
            pin: person.pin,
          });
          expect(login.ok, JSON.stringify(login)).toBe(true);
        }
        const access = COMMANDS[name].access;
        const allowed =
          access === 'anyone' ||
          (access === 'signed-in'
            ? person.role !== null
            : person.role !== null && access.includes(person.role));
        const before = deniedCount(db, name);
        let input = SAMPLE_INPUT[name];
        if (name === 'accounts.create') input = { ...(input as object), operatorId: `newcomer-${++created}` };
        const result = await station.execute(name, input);
        const who = `${person.role ?? 'nobody'} -> ${name}: ${JSON.stringify(result)}`;
        if (allowed) {
          expect(result.ok === false && ['FORBIDDEN', 'NOT_LOGGED_IN'].includes(result.code), who).toBe(
            false,
          );
          expect(deniedCount(db, name), who).toBe(before);
        } else {
          expect(result, who).toMatchObject({ ok: false, code: person.role ? 'FORBIDDEN' : 'NOT_LOGGED_IN' });
          expect(deniedCount(db, name), who).toBe(before + 1);
        }
      }
    }
  });

  it('locks an account after five wrong PINs, at the station', async () => {
    const { station } = await boardless();
    for (let i = 0; i < 4; i++) {
      expect(await station.execute('session.login', { operatorId: 'operator', pin: '9999' })).toMatchObject({
        code: 'LOGIN_FAILED',
      });
    }
    const locked = await station.execute('session.login', { operatorId: 'operator', pin: '9999' });
    expect(locked).toMatchObject({ ok: false, code: 'ACCOUNT_LOCKED' });
    expect(await station.execute('session.login', { operatorId: 'operator', pin: '1111' })).toMatchObject({
      code: 'ACCOUNT_LOCKED',
    });
    expect(station.snapshot().session).toBeNull();
  });

  it('logs the person out after the idle time, and records why', async () => {
    let now = Date.parse('2026-12-01T08:00:00Z');
    const { station, db } = await boardless({ now: () => new Date(now), idleMinutes: 1 });
    await station.execute('session.login', { operatorId: 'operator', pin: '1111' });
    now += 30_000;
    expect((await station.execute('ports.list', {})).ok).toBe(true);
    now += 45_000; // 45 s since the last command: still logged in
    expect(station.snapshot().session?.operatorId).toBe('operator');
    now += 20_000;
    expect(await station.execute('ports.list', {})).toMatchObject({ ok: false, code: 'NOT_LOGGED_IN' });
    expect(station.snapshot().session).toBeNull();
    const handle = new Database(db, { readonly: true });
    const logout = handle.prepare("SELECT details FROM events WHERE kind = 'operator.logout'").pluck().all();
    handle.close();
    expect(logout.map((d) => JSON.parse(String(d)))).toEqual([{ reason: 'idle' }]);
  });

  it('checks input against the contract before anything else, and knows no other commands', async () => {
    const { station } = await boardless();
    expect(await station.executeUnchecked('slot.explode', {})).toMatchObject({
      ok: false,
      code: 'UNKNOWN_COMMAND',
    });
    expect(await station.execute('slot.scan', { text: '' })).toEqual({
      ok: false,
      code: 'BAD_INPUT',
      message: 'slot.scan: text: Too small: expected string to have >=1 characters',
    });
  });
});

describe('audit.verify through the station', () => {
  it("checks the trail against the station's own key, and names an edit made behind its back", async () => {
    const { station, db } = await boardless();
    await station.execute('session.login', { operatorId: 'qa', pin: '3333' });
    const intact = await station.execute('audit.verify', {});
    expect(intact).toMatchObject({ ok: true, report: { intact: true, firstBadSeq: null } });
    if (!intact.ok) throw new Error('audit.verify failed');
    expect(intact.report.message).toMatch(
      new RegExp(`^intact: \\d+ events, \\d+ checkpoints signed by ${station.identity.fingerprint}$`),
    );
    const handle = new Database(db);
    handle.exec(`${DROP_TRIGGERS} UPDATE events SET operator = 'mallory' WHERE seq = 3; ${RESTORE_TRIGGERS}`);
    handle.close();
    expect(await station.execute('audit.verify', {})).toEqual({
      ok: true,
      report: {
        intact: false,
        events: null,
        lastHash: null,
        firstBadSeq: 3,
        message: 'event seq 3 was changed (hash mismatch)',
      },
    });
  });
});
