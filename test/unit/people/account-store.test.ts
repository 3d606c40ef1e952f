import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyAuditChain, type AuditEvent, type AuditStore } from '../../../electron/audit/index';
import {
  AccountStore,
  DEMO_ACCOUNTS,
  DEFAULT_SCRYPT_PARAMS,
  hashCredential,
  LOGIN_FAILED_MESSAGE,
  type AccountStoreOptions,
  type NewAccount,
} from '../../../electron/people/index';
import { openStore, tempDbFile } from '../../support/audit';

const CHEAP = { N: 1024 };
const START = Date.parse('2026-11-25T19:00:00.000Z');
const ACCOUNT_KEYS = [
  'createdAt',
  'credentialKind',
  'disabled',
  'lockedUntil',
  'name',
  'operatorId',
  'roles',
];

interface AccountRowForTest {
  account_id: string;
  roles: string;
  credential_kind: string;
  kdf: string;
  salt: string;
  verifier: string;
  disabled: number;
  failed_attempts: number;
  locked_until: string | null;
}

const stores: AuditStore[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(options: AccountStoreOptions = {}) {
  const file = tempDbFile();
  dirs.push(dirname(file));
  const audit = openStore(file);
  stores.push(audit);
  let t = START;
  const accounts = new AccountStore(audit, { kdf: CHEAP, now: () => new Date(t), ...options });
  return {
    file,
    audit,
    accounts,
    advance: (ms: number) => {
      t += ms;
    },
    events: (kind?: string): AuditEvent[] =>
      audit.eventsAfter(0).filter((event) => kind === undefined || event.kind === kind),
    row: (id: string) =>
      audit.readSideTable((db) =>
        db.prepare<[string], AccountRowForTest>('SELECT * FROM accounts WHERE account_id = ?').get(id),
      ),
  };
}

async function withAdmin(options: AccountStoreOptions = {}) {
  const s = setup(options);
  const admin = await s.accounts.create(
    { operatorId: 'root', name: 'Rita Root', roles: ['admin'], pin: '90817263' },
    null,
  );
  expect(admin.ok).toBe(true);
  const ann = await s.accounts.create(
    { operatorId: 'ann', name: 'Ann Operator', roles: ['operator'], pin: '73918264' },
    'root',
  );
  expect(ann.ok).toBe(true);
  return s;
}

describe('creating accounts', () => {
  it('records the default scrypt parameters when none are given', async () => {
    const s = setup();
    const accounts = new AccountStore(s.audit, { now: () => new Date(START) });
    const created = await accounts.create(
      { operatorId: 'ann', name: 'Ann', roles: ['operator'], pin: '73918264' },
      null,
    );
    expect(created.ok).toBe(true);
    const kdf = '{"algorithm":"scrypt","N":32768,"r":8,"p":1,"keyLength":32}';
    expect(JSON.parse(kdf)).toEqual(DEFAULT_SCRYPT_PARAMS);
    expect(s.row('ann')?.kdf).toBe(kdf);
    expect(s.events('account.created')[0]?.details.kdf).toBe(kdf);
    expect((await accounts.authenticate('ann', '73918264')).ok).toBe(true);
  });

  it('never exposes the salt, the verifier or the PIN, in results or in the trail', async () => {
    const s = setup();
    const pin = await s.accounts.create(
      { operatorId: 'ann', name: 'Ann', roles: ['operator'], pin: '73918264' },
      null,
    );
    const password = await s.accounts.create(
      { operatorId: 'bob', name: ' Bob QA ', roles: ['qa'], pin: 'correct horse battery' },
      'ann',
    );
    expect(pin).toEqual({
      ok: true,
      account: {
        operatorId: 'ann',
        name: 'Ann',
        roles: ['operator'],
        credentialKind: 'pin',
        disabled: false,
        lockedUntil: null,
        createdAt: '2026-11-25T19:00:00.000+00:00',
      },
    });
    expect(password.ok && password.account.credentialKind).toBe('password');
    expect(password.ok && password.account.name).toBe('Bob QA');
    for (const account of [...s.accounts.list(), s.accounts.get('ann'), s.accounts.get('bob')]) {
      expect(Object.keys(account ?? {}).sort()).toEqual(ACCOUNT_KEYS);
    }
    await s.accounts.authenticate('ann', '73918264');
    await s.accounts.authenticate('ann', '11112222');
    await s.accounts.resetPin('ann', '55443322', 'bob');

    const trail = JSON.stringify(s.events());
    const secrets = ['73918264', '11112222', '55443322', 'correct horse battery'];
    for (const id of ['ann', 'bob']) {
      const row = s.row(id)!;
      secrets.push(row.salt, row.verifier);
    }
    for (const secret of secrets) expect(trail).not.toContain(secret);
    expect(trail).not.toMatch(/salt|verifier/i);
    const created = s.events('account.created').map((event) => event.details);
    expect(created).toEqual([
      { accountId: 'ann', name: 'Ann', roles: ['operator'], credentialKind: 'pin', kdf: s.row('ann')!.kdf },
      {
        accountId: 'bob',
        name: 'Bob QA',
        roles: ['qa'],
        credentialKind: 'password',
        kdf: s.row('bob')!.kdf,
      },
    ]);
  });

  it('lists accounts by operator id, compared exactly', async () => {
    const s = setup();
    for (const operatorId of ['zoe', 'Ann', 'ann', 'bob']) {
      const result = await s.accounts.create(
        { operatorId, name: operatorId, roles: ['operator'], pin: '73918264' },
        null,
      );
      expect(result.ok).toBe(true);
    }
    expect(s.accounts.count()).toBe(4);
    expect(s.accounts.list().map((a) => a.operatorId)).toEqual(['Ann', 'ann', 'bob', 'zoe']);
    expect(s.accounts.get('ANN')).toBeNull();
    expect(s.accounts.get('Ann')?.operatorId).toBe('Ann');
  });

  it('refuses a taken operator id, recording nothing', async () => {
    const s = await withAdmin();
    const before = s.events().length;
    const again = await s.accounts.create(
      { operatorId: 'ann', name: 'Another Ann', roles: ['qa'], pin: '12345678' },
      'root',
    );
    expect(again).toEqual({ ok: false, code: 'ACCOUNT_EXISTS', message: 'An account "ann" already exists.' });
    expect(s.events()).toHaveLength(before);
    expect(s.accounts.get('ann')?.name).toBe('Ann Operator');
  });

  it('lets only one of two concurrent creates of the same id through', async () => {
    const s = setup();
    const input = { operatorId: 'ann', name: 'Ann', roles: ['operator' as const], pin: '73918264' };
    const results = await Promise.all([s.accounts.create(input, null), s.accounts.create(input, null)]);
    expect(results.map((r) => (r.ok ? 'ok' : r.code)).sort()).toEqual(['ACCOUNT_EXISTS', 'ok']);
    expect(s.events('account.created')).toHaveLength(1);
  });

  it('stores roles once each, in the order given', async () => {
    const s = setup();
    const created = await s.accounts.create(
      { operatorId: 'sam', name: 'Sam', roles: ['supervisor', 'operator', 'supervisor'], pin: '73918264' },
      null,
    );
    expect(created.ok && created.account.roles).toEqual(['supervisor', 'operator']);
    expect(s.row('sam')?.roles).toBe('["supervisor","operator"]');
  });

  it.each([
    [{ operatorId: '', name: 'X', roles: ['operator'], pin: '73918264' }, /operator id/],
    [{ operatorId: ' ann', name: 'X', roles: ['operator'], pin: '73918264' }, /spaces/],
    [{ operatorId: 'a b', name: 'X', roles: ['operator'], pin: '73918264' }, /operator id/],
    [{ operatorId: 'ann', name: '  ', roles: ['operator'], pin: '73918264' }, /name/],
    [{ operatorId: 'ann', name: 'X', roles: [], pin: '73918264' }, /at least one role/],
    [{ operatorId: 'ann', name: 'X', roles: ['root'], pin: '73918264' }, /unknown role "root"/],
    [{ operatorId: 'ann', name: 'X', roles: ['operator'], pin: '123' }, /a PIN is 4 to 12 digits/],
    [{ operatorId: 'ann', name: 'X', roles: ['operator'], pin: 'short' }, /a PIN is 4 to 12 digits/],
  ] as const)('refuses bad input %#', async (input, message) => {
    const s = setup();
    // Role strings arrive unchecked from hosts, so the store checks them itself.
    const result = await s.accounts.create(input as unknown as NewAccount, null);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.code).toBe('BAD_INPUT');
    expect(!result.ok && result.message).toMatch(message);
    expect(s.accounts.count()).toBe(0);
    expect(s.events()).toHaveLength(0);
  });

  it('refuses nonsense options', () => {
    const s = setup();
    expect(() => new AccountStore(s.audit, { maxFailedAttempts: 0 })).toThrow(/maxFailedAttempts/);
    expect(() => new AccountStore(s.audit, { lockoutMs: -1 })).toThrow(/lockoutMs/);
    expect(() => new AccountStore(s.audit, { kdf: { N: 1000 } })).toThrow(/power of two/);
  });
});

describe('authenticate', () => {
  it('accepts the right PIN and refuses a wrong one with one message', async () => {
    const s = await withAdmin();
    const ok = await s.accounts.authenticate('ann', '73918264');
    expect(ok.ok && ok.account.operatorId).toBe('ann');
    expect(await s.accounts.authenticate('ann', '73918265')).toEqual({
      ok: false,
      code: 'LOGIN_FAILED',
      message: 'Operator id or PIN is wrong: try again.',
    });
    expect(s.events('operator.login-failed').map((e) => [e.operator, e.details])).toEqual([
      ['ann', { reason: 'wrong-pin', failedAttempts: 1 }],
    ]);
    expect(s.events('operator.login')).toHaveLength(0);
  });

  it('answers an unknown id exactly like a wrong PIN, and records it under the id as typed', async () => {
    const s = await withAdmin();
    const wrong = await s.accounts.authenticate('ann', '00000000');
    const unknown = await s.accounts.authenticate('nobody', '73918264');
    const wrongCase = await s.accounts.authenticate('ANN', '73918264');
    expect(unknown).toEqual(wrong);
    expect(wrongCase).toEqual(wrong);
    expect(unknown).toEqual({ ok: false, code: 'LOGIN_FAILED', message: LOGIN_FAILED_MESSAGE });
    expect(s.events('operator.login-failed').map((e) => [e.operator, e.details.reason])).toEqual([
      ['ann', 'wrong-pin'],
      ['nobody', 'unknown-operator'],
      ['ANN', 'unknown-operator'],
    ]);
    expect(s.accounts.count()).toBe(2);
  });

  it('records even an empty or overlong id', async () => {
    const s = await withAdmin();
    expect((await s.accounts.authenticate('', '1234')).ok).toBe(false);
    expect((await s.accounts.authenticate('x'.repeat(300), '1234')).ok).toBe(false);
    expect(s.events('operator.login-failed').map((e) => e.operator)).toEqual(['(empty)', 'x'.repeat(128)]);
  });

  it('locks after 5 wrong PINs in a row, refuses even the right PIN, and unlocks after the lockout', async () => {
    const s = await withAdmin();
    for (let i = 1; i <= 4; i++) {
      expect(await s.accounts.authenticate('ann', '11111111')).toEqual({
        ok: false,
        code: 'LOGIN_FAILED',
        message: LOGIN_FAILED_MESSAGE,
      });
      expect(s.row('ann')?.failed_attempts).toBe(i);
    }
    const locked = await s.accounts.authenticate('ann', '11111111');
    expect(locked).toEqual({
      ok: false,
      code: 'ACCOUNT_LOCKED',
      message:
        'Too many wrong PINs: this account is locked until 2026-11-25 19:05:00 UTC. ' +
        'An administrator can reset the PIN to unlock it sooner.',
    });
    expect(s.row('ann')).toMatchObject({ failed_attempts: 0, locked_until: '2026-11-25T19:05:00.000+00:00' });
    expect(s.accounts.get('ann')?.lockedUntil).toBe('2026-11-25T19:05:00.000+00:00');

    const lockedEvents = s.events('account.changed');
    expect(lockedEvents.map((e) => [e.operator, e.details])).toEqual([
      [
        null,
        {
          accountId: 'ann',
          change: 'locked',
          reason: '5 wrong PINs in a row',
          lockedUntil: '2026-11-25T19:05:00.000+00:00',
        },
      ],
    ]);

    s.advance(5 * 60_000 - 1);
    const stillLocked = await s.accounts.authenticate('ann', '73918264');
    expect(stillLocked.ok === false && stillLocked.code).toBe('ACCOUNT_LOCKED');

    const failures = s.events('operator.login-failed').map((e) => e.details);
    expect(failures.map((d) => d.failedAttempts)).toEqual([1, 2, 3, 4, 5, undefined]);
    expect(failures[4]).toEqual({
      reason: 'wrong-pin',
      failedAttempts: 5,
      lockedUntil: '2026-11-25T19:05:00.000+00:00',
    });
    expect(failures[5]).toEqual({ reason: 'locked', lockedUntil: '2026-11-25T19:05:00.000+00:00' });

    s.advance(1);
    expect(s.accounts.get('ann')?.lockedUntil).toBeNull();
    const unlocked = await s.accounts.authenticate('ann', '73918264');
    expect(unlocked.ok).toBe(true);
    expect(s.row('ann')).toMatchObject({ failed_attempts: 0, locked_until: null });
  });

  it('starts counting again after a lockout expires', async () => {
    const s = await withAdmin({ lockoutMs: 1000 });
    for (let i = 0; i < 5; i++) await s.accounts.authenticate('ann', '11111111');
    s.advance(1000);
    const next = await s.accounts.authenticate('ann', '11111111');
    expect(next.ok === false && next.code).toBe('LOGIN_FAILED');
    expect(s.events('operator.login-failed').at(-1)?.details).toEqual({
      reason: 'wrong-pin',
      failedAttempts: 1,
    });
  });

  it('forgets wrong attempts after a good login', async () => {
    const s = await withAdmin();
    for (let i = 0; i < 4; i++) await s.accounts.authenticate('ann', '11111111');
    expect((await s.accounts.authenticate('ann', '73918264')).ok).toBe(true);
    expect(s.row('ann')?.failed_attempts).toBe(0);
    for (let i = 0; i < 4; i++) await s.accounts.authenticate('ann', '11111111');
    const fourth = await s.accounts.authenticate('ann', '73918264');
    expect(fourth.ok).toBe(true);
  });

  it('honours maxFailedAttempts and lockoutMs', async () => {
    const s = await withAdmin({ maxFailedAttempts: 2, lockoutMs: 60_000 });
    await s.accounts.authenticate('ann', '11111111');
    const locked = await s.accounts.authenticate('ann', '11111111');
    expect(locked.ok === false && locked.message).toContain('2026-11-25 19:01:00 UTC');
  });

  it('counts two concurrent wrong PINs as two', async () => {
    const s = await withAdmin();
    const results = await Promise.all([
      s.accounts.authenticate('ann', '11111111'),
      s.accounts.authenticate('ann', '22222222'),
    ]);
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(s.row('ann')?.failed_attempts).toBe(2);
    expect(s.events('operator.login-failed').map((e) => e.details.failedAttempts)).toEqual([1, 2]);
  });

  it('checks a PIN changed while it was being hashed against the new PIN', async () => {
    const s = await withAdmin();
    // authenticate reads the row before its first await; the row changes under it while scrypt runs.
    const changePinDuring = async (typed: string, newPin: string) => {
      const replacement = await hashCredential(newPin, CHEAP);
      const pending = s.accounts.authenticate('ann', typed);
      s.audit.readSideTable((db) =>
        db
          .prepare('UPDATE accounts SET kdf = ?, salt = ?, verifier = ? WHERE account_id = ?')
          .run(replacement.kdf, replacement.salt, replacement.verifier, 'ann'),
      );
      return pending;
    };
    const old = await changePinDuring('73918264', '55443322');
    expect(old.ok === false && old.code).toBe('LOGIN_FAILED');
    expect((await changePinDuring('66554433', '66554433')).ok).toBe(true);
  });

  it('refuses a disabled account, even with the right PIN, until it is enabled', async () => {
    const s = await withAdmin();
    const disabled = s.accounts.disable('ann', 'left the company', 'root');
    expect(disabled.ok && disabled.account.disabled).toBe(true);
    const refused = await s.accounts.authenticate('ann', '73918264');
    expect(refused).toEqual({
      ok: false,
      code: 'ACCOUNT_DISABLED',
      message: 'This account is disabled: ask an administrator.',
    });
    expect(s.events('operator.login-failed').at(-1)).toMatchObject({
      operator: 'ann',
      details: { reason: 'disabled' },
    });
    expect(s.row('ann')?.failed_attempts).toBe(0);

    const enabled = s.accounts.enable('ann', 'root');
    expect(enabled.ok && enabled.account.disabled).toBe(false);
    expect((await s.accounts.authenticate('ann', '73918264')).ok).toBe(true);
  });
});

describe('account changes', () => {
  it('disable and enable: reason required, missing accounts reported, repeats change nothing', async () => {
    const s = await withAdmin();
    const badReason = s.accounts.disable('ann', ' x ', 'root');
    expect(badReason.ok === false && badReason.code).toBe('BAD_INPUT');
    expect(s.accounts.disable('zed', 'gone', 'root')).toEqual({
      ok: false,
      code: 'ACCOUNT_NOT_FOUND',
      message: 'There is no account "zed".',
    });
    expect(s.accounts.enable('zed', 'root')).toMatchObject({ ok: false, code: 'ACCOUNT_NOT_FOUND' });
    expect(s.accounts.disable('ann', '  left the company  ', 'root').ok).toBe(true);
    expect(s.accounts.disable('ann', 'again', 'root').ok).toBe(true);
    expect(s.accounts.enable('ann', 'root').ok).toBe(true);
    expect(s.accounts.enable('ann', 'root').ok).toBe(true);
    expect(s.events('account.changed').map((e) => [e.operator, e.details])).toEqual([
      ['root', { accountId: 'ann', change: 'disabled', reason: 'left the company' }],
      ['root', { accountId: 'ann', change: 'enabled' }],
    ]);
  });

  it('resetPin sets a new credential and lifts a lockout', async () => {
    const s = await withAdmin();
    for (let i = 0; i < 5; i++) await s.accounts.authenticate('ann', '11111111');
    expect(s.accounts.get('ann')?.lockedUntil).not.toBeNull();

    const reset = await s.accounts.resetPin('ann', 'new password 1', 'root');
    expect(reset.ok && reset.account).toMatchObject({ lockedUntil: null, credentialKind: 'password' });
    expect(s.row('ann')).toMatchObject({
      failed_attempts: 0,
      locked_until: null,
      credential_kind: 'password',
    });
    expect(s.events('account.changed').at(-1)).toMatchObject({
      operator: 'root',
      details: { accountId: 'ann', change: 'pin-reset', credentialKind: 'password', kdf: s.row('ann')!.kdf },
    });
    const old = await s.accounts.authenticate('ann', '73918264');
    expect(old.ok === false && old.code).toBe('LOGIN_FAILED');
    expect((await s.accounts.authenticate('ann', 'new password 1')).ok).toBe(true);

    expect(await s.accounts.resetPin('ann', '12', 'root')).toMatchObject({ ok: false, code: 'BAD_INPUT' });
    expect(await s.accounts.resetPin('zed', '12345678', 'root')).toMatchObject({
      ok: false,
      code: 'ACCOUNT_NOT_FOUND',
    });
  });

  it('resetPin hashes with the current parameters, while old accounts keep verifying with theirs', async () => {
    const s = await withAdmin();
    const stronger = new AccountStore(s.audit, { kdf: { N: 4096 }, now: () => new Date(START) });
    expect((await stronger.authenticate('ann', '73918264')).ok).toBe(true);
    await stronger.resetPin('ann', '55443322', 'root');
    expect(JSON.parse(s.row('ann')!.kdf)).toMatchObject({ N: 4096 });
    expect(JSON.parse(s.row('root')!.kdf)).toMatchObject({ N: 1024 });
    expect((await s.accounts.authenticate('ann', '55443322')).ok).toBe(true);
  });

  it('setRoles changes the roles and records old and new', async () => {
    const s = await withAdmin();
    const changed = s.accounts.setRoles('ann', ['supervisor', 'operator'], 'root');
    expect(changed.ok && changed.account.roles).toEqual(['supervisor', 'operator']);
    expect(s.accounts.get('ann')?.roles).toEqual(['supervisor', 'operator']);
    // The same roles in another order are no change, so nothing is recorded.
    expect(s.accounts.setRoles('ann', ['operator', 'supervisor'], 'root').ok).toBe(true);
    expect(s.events('account.changed').map((e) => [e.operator, e.details])).toEqual([
      [
        'root',
        { accountId: 'ann', change: 'roles', roles: ['supervisor', 'operator'], previousRoles: ['operator'] },
      ],
    ]);
    expect(s.accounts.setRoles('ann', [], 'root')).toMatchObject({ ok: false, code: 'BAD_INPUT' });
    expect(s.accounts.setRoles('zed', ['qa'], 'root')).toMatchObject({
      ok: false,
      code: 'ACCOUNT_NOT_FOUND',
    });
  });

  it('will not disable the last enabled admin or take its admin role away', async () => {
    const s = await withAdmin();
    const disable = s.accounts.disable('root', 'testing', 'root');
    expect(disable).toMatchObject({ ok: false, code: 'LAST_ADMIN' });
    expect(!disable.ok && disable.message).toMatch(/last enabled administrator/);
    expect(s.accounts.setRoles('root', ['supervisor'], 'root')).toMatchObject({
      ok: false,
      code: 'LAST_ADMIN',
    });
    expect(s.accounts.setRoles('root', ['admin', 'qa'], 'root').ok).toBe(true);

    expect(s.accounts.setRoles('ann', ['admin'], 'root').ok).toBe(true);
    expect(s.accounts.disable('root', 'second admin now exists', 'ann').ok).toBe(true);
    // A disabled admin manages nothing, so ann is now the last one.
    expect(s.accounts.setRoles('ann', ['operator'], 'ann')).toMatchObject({ ok: false, code: 'LAST_ADMIN' });
    expect(s.accounts.disable('ann', 'testing', 'ann')).toMatchObject({ ok: false, code: 'LAST_ADMIN' });
    // Taking the role from a disabled admin leaves the enabled one in place.
    expect(s.accounts.setRoles('root', ['qa'], 'ann').ok).toBe(true);
    expect(s.accounts.get('root')).toMatchObject({ roles: ['qa'], disabled: true });
  });
});

describe('first admin and demo accounts', () => {
  it('initFirstAdmin creates the admin once, recorded by nobody', async () => {
    const s = setup();
    const first = await s.accounts.initFirstAdmin('it-admin', '24681357');
    expect(first.ok && first.account).toMatchObject({
      operatorId: 'it-admin',
      name: 'it-admin',
      roles: ['admin', 'supervisor'],
    });
    expect(s.events('account.created').map((e) => [e.operator, e.details.accountId])).toEqual([
      [null, 'it-admin'],
    ]);
    const again = await s.accounts.initFirstAdmin('other-admin', '24681357');
    expect(again).toMatchObject({ ok: false, code: 'ALREADY_INITIALISED' });
    expect(s.accounts.count()).toBe(1);
    expect((await s.accounts.authenticate('it-admin', '24681357')).ok).toBe(true);
  });

  it('initFirstAdmin lets only one of two concurrent calls through', async () => {
    const s = setup();
    const results = await Promise.all([
      s.accounts.initFirstAdmin('one', '24681357'),
      s.accounts.initFirstAdmin('two', '24681357'),
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.code)).sort()).toEqual(['ALREADY_INITIALISED', 'ok']);
    expect(s.accounts.count()).toBe(1);
  });

  it('initFirstAdmin refuses a name that cannot be an operator id', async () => {
    const s = setup();
    expect(await s.accounts.initFirstAdmin('IT admin', '24681357')).toMatchObject({
      ok: false,
      code: 'BAD_INPUT',
    });
    expect(s.accounts.count()).toBe(0);
  });

  it('seedDemoAccounts creates the four demo accounts on an empty station, once', async () => {
    const s = setup();
    const seeded = await s.accounts.seedDemoAccounts();
    expect(seeded).toEqual([
      { operatorId: 'operator', pin: '1111', roles: ['operator'] },
      { operatorId: 'supervisor', pin: '2222', roles: ['operator', 'supervisor'] },
      { operatorId: 'qa', pin: '3333', roles: ['qa'] },
      { operatorId: 'admin', pin: '4444', roles: ['admin', 'supervisor'] },
    ]);
    expect(seeded).toEqual(DEMO_ACCOUNTS);
    for (const demo of DEMO_ACCOUNTS) {
      const login = await s.accounts.authenticate(demo.operatorId, demo.pin);
      expect(login.ok && login.account.roles).toEqual(demo.roles);
    }
    expect(s.events('account.created').every((e) => e.operator === null)).toBe(true);
    const events = s.events().length;
    expect(await s.accounts.seedDemoAccounts()).toEqual(seeded);
    expect(s.events()).toHaveLength(events);
  });

  it('seedDemoAccounts leaves a station with accounts alone and lists only demo accounts whose PIN still works', async () => {
    const s = setup();
    await s.accounts.initFirstAdmin('admin', '24681357');
    expect(await s.accounts.seedDemoAccounts()).toEqual([]);
    expect(s.accounts.count()).toBe(1);
    const seeded = setup();
    await seeded.accounts.seedDemoAccounts();
    await seeded.accounts.resetPin('qa', '97531864', null);
    expect((await seeded.accounts.seedDemoAccounts()).map((demo) => demo.operatorId)).toEqual([
      'operator',
      'supervisor',
      'admin',
    ]);

    const other = await withAdmin();
    expect(await other.accounts.seedDemoAccounts()).toEqual([]);
    expect(other.accounts.count()).toBe(2);
  });
});

describe('the audit trail', () => {
  it('records every change with who made it, and the chain still verifies', async () => {
    const s = setup();
    await s.accounts.initFirstAdmin('root', '90817263');
    await s.accounts.create({ operatorId: 'ann', name: 'Ann', roles: ['operator'], pin: '73918264' }, 'root');
    s.accounts.setRoles('ann', ['operator', 'qa'], 'root');
    for (let i = 0; i < 5; i++) await s.accounts.authenticate('ann', '11111111');
    await s.accounts.authenticate('ann', '73918264');
    await s.accounts.resetPin('ann', '55443322', 'root');
    await s.accounts.authenticate('ghost', '55443322');
    s.accounts.disable('ann', 'on leave', 'root');
    await s.accounts.authenticate('ann', '55443322');
    s.accounts.enable('ann', 'root');
    expect((await s.accounts.authenticate('ann', '55443322')).ok).toBe(true);

    expect(
      s
        .events()
        .map((e) => [e.kind, e.operator, e.details.change ?? e.details.reason ?? e.details.accountId]),
    ).toEqual([
      ['account.created', null, 'root'],
      ['account.created', 'root', 'ann'],
      ['account.changed', 'root', 'roles'],
      ['operator.login-failed', 'ann', 'wrong-pin'],
      ['operator.login-failed', 'ann', 'wrong-pin'],
      ['operator.login-failed', 'ann', 'wrong-pin'],
      ['operator.login-failed', 'ann', 'wrong-pin'],
      ['operator.login-failed', 'ann', 'wrong-pin'],
      ['account.changed', null, 'locked'],
      ['operator.login-failed', 'ann', 'locked'],
      ['account.changed', 'root', 'pin-reset'],
      ['operator.login-failed', 'ghost', 'unknown-operator'],
      ['account.changed', 'root', 'disabled'],
      ['operator.login-failed', 'ann', 'disabled'],
      ['account.changed', 'root', 'enabled'],
    ]);
    const events = s.events().length;
    s.audit.close();
    stores.splice(stores.indexOf(s.audit), 1);
    expect(verifyAuditChain(s.file)).toMatchObject({ ok: true, events });
  });
});
