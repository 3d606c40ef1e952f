/**
 * The people who may use the station: their accounts, PIN checks and lockout. Accounts live in the audit file's
 * `accounts` side table; every change to one is recorded as an event in the same transaction, so the table and
 * the trail cannot disagree. Salts, verifiers and PINs never reach an event: the trail is exported and shipped,
 * and a short PIN falls to offline guessing once its hash is known.
 *
 * Expected outcomes (wrong PIN, taken id, last admin...) are returned as `{ ok: false, code, message }`; only a
 * broken audit file or a damaged row throws.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { auditTimestamp, type AuditStore, type SideTableTransaction } from '../audit';
import {
  operatorIdSchema,
  reasonSchema,
  roleSchema,
  ROLES,
  type Account,
  type COMMAND_ERROR_CODES,
  type Role,
} from '../station-api';
import {
  credentialKind,
  credentialProblem,
  hashCredential,
  kdfText,
  scryptParams,
  verifyCredential,
  type CredentialKind,
  type ScryptParams,
  type StoredCredential,
} from './credential-hash';

type ErrorCode = (typeof COMMAND_ERROR_CODES)[number];

export interface AccountFailure<C extends ErrorCode = ErrorCode> {
  ok: false;
  code: C;
  message: string;
}
export type AccountResult<C extends ErrorCode> = { ok: true; account: Account } | AccountFailure<C>;
export type AuthenticateResult = AccountResult<'LOGIN_FAILED' | 'ACCOUNT_LOCKED' | 'ACCOUNT_DISABLED'>;

export interface AccountStoreOptions {
  now?: () => Date;
  /** Hashing cost for new credentials (tests pass a cheap N); existing accounts keep the cost they were made with. */
  kdf?: Partial<ScryptParams>;
  /** Consecutive wrong PINs that lock an account (default 5). */
  maxFailedAttempts?: number;
  /** How long a lockout lasts (default 5 minutes). */
  lockoutMs?: number;
}

export interface NewAccount {
  operatorId: string;
  name: string;
  roles: readonly Role[];
  /** A PIN or a password. */
  pin: string;
}

export interface DemoAccount {
  operatorId: string;
  pin: string;
  roles: Role[];
}

/** Sandbox stations only. These PINs are public on purpose: they are printed on the sandbox login screen. */
export const DEMO_ACCOUNTS: readonly Readonly<DemoAccount>[] = Object.freeze([
  { operatorId: 'operator', pin: '1111', roles: ['operator'] },
  { operatorId: 'supervisor', pin: '2222', roles: ['operator', 'supervisor'] },
  { operatorId: 'qa', pin: '3333', roles: ['qa'] },
  { operatorId: 'admin', pin: '4444', roles: ['admin', 'supervisor'] },
]);
const DEMO_NAMES: Readonly<Record<string, string>> = {
  operator: 'Demo operator',
  supervisor: 'Demo supervisor',
  qa: 'Demo QA',
  admin: 'Demo administrator',
};

export const LOGIN_FAILED_MESSAGE = 'Operator id or PIN is wrong: try again.';
export const ACCOUNT_DISABLED_MESSAGE = 'This account is disabled: ask an administrator.';
const FIRST_ADMIN_ROLES: readonly Role[] = ['admin', 'supervisor'];

interface AccountRow {
  account_id: string;
  name: string;
  roles: string;
  credential_kind: CredentialKind;
  kdf: string;
  salt: string;
  verifier: string;
  disabled: number;
  failed_attempts: number;
  locked_until: string | null;
  created_at: string;
  updated_at: string;
}

interface CheckedAccount {
  operatorId: string;
  name: string;
  roles: Role[];
  pin: string;
}

const storedRolesSchema = z.array(roleSchema);

export class AccountStore {
  private readonly now: () => Date;
  private readonly kdf: ScryptParams;
  private readonly maxFailedAttempts: number;
  private readonly lockoutMs: number;
  /**
   * What an unknown operator id is checked against: one scrypt at the station's current cost, so the time taken
   * does not tell whether the id exists. Random bytes, so nothing matches it.
   */
  private readonly nobody: StoredCredential;

  constructor(
    private readonly store: AuditStore,
    options: AccountStoreOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.kdf = scryptParams(options.kdf);
    this.maxFailedAttempts = options.maxFailedAttempts ?? 5;
    this.lockoutMs = options.lockoutMs ?? 5 * 60_000;
    if (!Number.isSafeInteger(this.maxFailedAttempts) || this.maxFailedAttempts < 1) {
      throw new RangeError(`maxFailedAttempts must be a positive integer, not ${options.maxFailedAttempts}`);
    }
    if (!Number.isFinite(this.lockoutMs) || this.lockoutMs < 0) {
      throw new RangeError(`lockoutMs must be a non-negative number, not ${options.lockoutMs}`);
    }
    this.nobody = {
      kdf: kdfText(this.kdf),
      salt: randomBytes(16).toString('base64'),
      verifier: randomBytes(this.kdf.keyLength).toString('base64'),
    };
  }

  count(): number {
    return this.store.readSideTable(countAccounts);
  }

  /** Every account, by operator id. */
  list(): Account[] {
    const rows = this.store.readSideTable((db) =>
      db.prepare<[], AccountRow>('SELECT * FROM accounts ORDER BY account_id').all(),
    );
    const now = this.now();
    return rows.map((row) => toAccount(row, now));
  }

  /** The account with exactly this operator id (case-sensitive), or null. */
  get(operatorId: string): Account | null {
    const row = this.store.readSideTable((db) => readRow(db, operatorId));
    return row ? toAccount(row, this.now()) : null;
  }

  async create(input: NewAccount, by: string | null): Promise<AccountResult<'BAD_INPUT' | 'ACCOUNT_EXISTS'>> {
    const checked = checkNewAccount(input);
    if (!checked.ok) return checked;
    const taken = (db: Database.Database) =>
      readRow(db, checked.account.operatorId) ? exists(checked.account.operatorId) : null;
    // Checked before hashing only to answer quickly; the check inside the transaction is the one that counts.
    const early = this.store.readSideTable(taken);
    if (early) return early;
    const created = await this.insert([checked.account], by, taken);
    return created.ok ? { ok: true, account: created.accounts[0]! } : created;
  }

  /**
   * Checks a login. Every refusal is recorded as `operator.login-failed` under the id as typed, unknown ids
   * included. An unknown id and a wrong PIN get the same message and cost the same time, so neither tells a
   * stranger which operator ids exist. Success records nothing: the caller records the login itself.
   */
  async authenticate(operatorId: string, pin: string): Promise<AuthenticateResult> {
    for (let attempt = 0; ; attempt++) {
      const before = this.store.readSideTable((db) => readRow(db, operatorId));
      const credential = before ? storedCredential(before) : this.nobody;
      const matches = await verifyCredential(pin, credential);
      const outcome = this.store.changeSideTable((tx) => {
        // An account created while scrypt ran was still checked against nobody's record: it stays unknown.
        const row = before ? readRow(tx.db, operatorId) : undefined;
        const current = row !== undefined && sameCredential(row, credential);
        // A PIN reset while scrypt ran: what was checked is no longer the account's PIN, so check again.
        if (row && !current && attempt < 3) return null;
        return this.settleLogin(tx, operatorId, row, matches && current);
      });
      if (outcome) return outcome;
    }
  }

  disable(
    operatorId: string,
    reason: string,
    by: string | null,
  ): AccountResult<'BAD_INPUT' | 'ACCOUNT_NOT_FOUND' | 'LAST_ADMIN'> {
    const why = reasonSchema.safeParse(reason);
    if (!why.success) return badInput(why.error.issues[0]?.message ?? 'give a reason');
    return this.store.changeSideTable((tx) => {
      const row = readRow(tx.db, operatorId);
      if (!row) return notFound(operatorId);
      if (row.disabled) return { ok: true, account: toAccount(row, this.now()) };
      if (isLastAdmin(tx.db, row)) return lastAdmin(operatorId, 'disabled');
      const at = this.stamp();
      tx.db
        .prepare('UPDATE accounts SET disabled = 1, updated_at = ? WHERE account_id = ?')
        .run(at, operatorId);
      tx.append({
        kind: 'account.changed',
        operator: by,
        details: { accountId: operatorId, change: 'disabled', reason: why.data },
      });
      return { ok: true, account: this.reread(tx.db, operatorId) };
    });
  }

  enable(operatorId: string, by: string | null): AccountResult<'ACCOUNT_NOT_FOUND'> {
    return this.store.changeSideTable((tx) => {
      const row = readRow(tx.db, operatorId);
      if (!row) return notFound(operatorId);
      if (!row.disabled) return { ok: true, account: toAccount(row, this.now()) };
      tx.db
        .prepare('UPDATE accounts SET disabled = 0, updated_at = ? WHERE account_id = ?')
        .run(this.stamp(), operatorId);
      tx.append({
        kind: 'account.changed',
        operator: by,
        details: { accountId: operatorId, change: 'enabled' },
      });
      return { ok: true, account: this.reread(tx.db, operatorId) };
    });
  }

  /** Sets a new PIN or password; also lifts a lockout and forgets earlier wrong attempts. */
  async resetPin(
    operatorId: string,
    pin: string,
    by: string | null,
  ): Promise<AccountResult<'BAD_INPUT' | 'ACCOUNT_NOT_FOUND'>> {
    const problem = credentialProblem(pin);
    if (problem !== null) return badInput(problem);
    if (!this.store.readSideTable((db) => readRow(db, operatorId))) return notFound(operatorId);
    const credential = await hashCredential(pin, this.kdf);
    const kind = credentialKind(pin);
    return this.store.changeSideTable((tx) => {
      if (!readRow(tx.db, operatorId)) return notFound(operatorId);
      tx.db
        .prepare(
          `UPDATE accounts SET credential_kind = ?, kdf = ?, salt = ?, verifier = ?, failed_attempts = 0,
             locked_until = NULL, updated_at = ? WHERE account_id = ?`,
        )
        .run(kind, credential.kdf, credential.salt, credential.verifier, this.stamp(), operatorId);
      tx.append({
        kind: 'account.changed',
        operator: by,
        details: { accountId: operatorId, change: 'pin-reset', credentialKind: kind, kdf: credential.kdf },
      });
      return { ok: true, account: this.reread(tx.db, operatorId) };
    });
  }

  setRoles(
    operatorId: string,
    roles: readonly Role[],
    by: string | null,
  ): AccountResult<'BAD_INPUT' | 'ACCOUNT_NOT_FOUND' | 'LAST_ADMIN'> {
    const checked = checkRoles(roles);
    if (typeof checked === 'string') return badInput(checked);
    return this.store.changeSideTable((tx) => {
      const row = readRow(tx.db, operatorId);
      if (!row) return notFound(operatorId);
      const previous = rolesOf(row);
      if (sameRoles(previous, checked)) return { ok: true, account: toAccount(row, this.now()) };
      if (!checked.includes('admin') && isLastAdmin(tx.db, row)) {
        return lastAdmin(operatorId, 'left without the admin role');
      }
      tx.db
        .prepare('UPDATE accounts SET roles = ?, updated_at = ? WHERE account_id = ?')
        .run(JSON.stringify(checked), this.stamp(), operatorId);
      tx.append({
        kind: 'account.changed',
        operator: by,
        details: { accountId: operatorId, change: 'roles', roles: checked, previousRoles: previous },
      });
      return { ok: true, account: this.reread(tx.db, operatorId) };
    });
  }

  /** Creates the configured first administrator (id and name both `name`); only while no account exists. */
  async initFirstAdmin(
    name: string,
    pin: string,
  ): Promise<AccountResult<'BAD_INPUT' | 'ALREADY_INITIALISED'>> {
    const checked = checkNewAccount({ operatorId: name, name, roles: FIRST_ADMIN_ROLES, pin });
    if (!checked.ok) return checked;
    const initialised = (db: Database.Database): AccountFailure<'ALREADY_INITIALISED'> | null =>
      countAccounts(db) === 0
        ? null
        : {
            ok: false,
            code: 'ALREADY_INITIALISED',
            message: 'The station already has accounts: an administrator can create more.',
          };
    const early = this.store.readSideTable(initialised);
    if (early) return early;
    const created = await this.insert([checked.account], null, initialised);
    return created.ok ? { ok: true, account: created.accounts[0]! } : created;
  }

  /**
   * Sandbox stations: creates the demo accounts when the station has none, all or nothing. Returns the demo
   * accounts that still log in with their published PIN (a reset PIN is not shown to anyone).
   */
  async seedDemoAccounts(): Promise<DemoAccount[]> {
    if (this.count() === 0) {
      const accounts = DEMO_ACCOUNTS.map((demo) => ({
        operatorId: demo.operatorId,
        name: DEMO_NAMES[demo.operatorId] ?? demo.operatorId,
        roles: [...demo.roles],
        pin: demo.pin,
      }));
      // Someone else may have created an account while hashing: then there is nothing to seed.
      await this.insert(accounts, null, (db) => (countAccounts(db) === 0 ? null : { ok: false }));
    }
    const usable = await Promise.all(
      DEMO_ACCOUNTS.map(async (demo) => {
        const row = this.store.readSideTable((db) => readRow(db, demo.operatorId));
        return row !== undefined && (await verifyCredential(demo.pin, storedCredential(row)));
      }),
    );
    return DEMO_ACCOUNTS.filter((_, i) => usable[i]).map((demo) => ({ ...demo, roles: [...demo.roles] }));
  }

  /** Hashes first (async), then inserts all rows and their events in one transaction, unless `refuse` objects. */
  private async insert<F>(
    accounts: CheckedAccount[],
    by: string | null,
    refuse: (db: Database.Database) => F | null,
  ): Promise<{ ok: true; accounts: Account[] } | F> {
    const credentials = await Promise.all(accounts.map((account) => hashCredential(account.pin, this.kdf)));
    return this.store.changeSideTable((tx) => {
      const refusal = refuse(tx.db);
      if (refusal !== null) return refusal;
      const insert = tx.db.prepare(
        `INSERT INTO accounts (account_id, name, roles, credential_kind, kdf, salt, verifier, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const at = this.stamp();
      const created = accounts.map((account, i) => {
        const credential = credentials[i]!;
        const kind = credentialKind(account.pin);
        insert.run(
          account.operatorId,
          account.name,
          JSON.stringify(account.roles),
          kind,
          credential.kdf,
          credential.salt,
          credential.verifier,
          at,
          at,
        );
        tx.append({
          kind: 'account.created',
          operator: by,
          details: {
            accountId: account.operatorId,
            name: account.name,
            roles: account.roles,
            credentialKind: kind,
            kdf: credential.kdf,
          },
        });
        return this.reread(tx.db, account.operatorId);
      });
      return { ok: true as const, accounts: created };
    });
  }

  /** Decides a login inside the transaction, on the row as it is now, and records what happened. */
  private settleLogin(
    tx: SideTableTransaction,
    typed: string,
    row: AccountRow | undefined,
    matches: boolean,
  ): AuthenticateResult {
    const now = this.now();
    // The envelope needs 1 to 128 characters; what was typed is recorded as faithfully as that allows.
    const operator = typed.slice(0, 128) || '(empty)';
    const refuse = (
      code: 'LOGIN_FAILED' | 'ACCOUNT_LOCKED' | 'ACCOUNT_DISABLED',
      message: string,
      details: { reason: string; failedAttempts?: number; lockedUntil?: string },
    ): AuthenticateResult => {
      tx.append({ kind: 'operator.login-failed', operator, details });
      return { ok: false, code, message };
    };

    if (!row) return refuse('LOGIN_FAILED', LOGIN_FAILED_MESSAGE, { reason: 'unknown-operator' });
    if (row.disabled) return refuse('ACCOUNT_DISABLED', ACCOUNT_DISABLED_MESSAGE, { reason: 'disabled' });
    const lockedUntil = activeLock(row, now);
    if (lockedUntil !== null) {
      return refuse('ACCOUNT_LOCKED', lockedMessage(lockedUntil), { reason: 'locked', lockedUntil });
    }

    if (matches) {
      if (row.failed_attempts !== 0 || row.locked_until !== null) {
        tx.db
          .prepare(
            'UPDATE accounts SET failed_attempts = 0, locked_until = NULL, updated_at = ? WHERE account_id = ?',
          )
          .run(auditTimestamp(now), row.account_id);
      }
      return { ok: true, account: this.reread(tx.db, row.account_id) };
    }

    const failedAttempts = row.failed_attempts + 1;
    if (failedAttempts < this.maxFailedAttempts) {
      tx.db
        .prepare(
          'UPDATE accounts SET failed_attempts = ?, locked_until = NULL, updated_at = ? WHERE account_id = ?',
        )
        .run(failedAttempts, auditTimestamp(now), row.account_id);
      return refuse('LOGIN_FAILED', LOGIN_FAILED_MESSAGE, { reason: 'wrong-pin', failedAttempts });
    }

    // The count starts again after the lockout, so the next person gets a full set of tries.
    const until = auditTimestamp(new Date(now.getTime() + this.lockoutMs));
    tx.db
      .prepare(
        'UPDATE accounts SET failed_attempts = 0, locked_until = ?, updated_at = ? WHERE account_id = ?',
      )
      .run(until, auditTimestamp(now), row.account_id);
    const result = refuse('ACCOUNT_LOCKED', lockedMessage(until), {
      reason: 'wrong-pin',
      failedAttempts,
      lockedUntil: until,
    });
    // No person chose the lockout, so the change is the station's (operator null); the login-failed event above
    // says who was typing.
    tx.append({
      kind: 'account.changed',
      operator: null,
      details: {
        accountId: row.account_id,
        change: 'locked',
        reason: `${failedAttempts} wrong PINs in a row`,
        lockedUntil: until,
      },
    });
    return result;
  }

  private reread(db: Database.Database, operatorId: string): Account {
    const row = readRow(db, operatorId);
    if (!row) throw new Error(`account ${operatorId} vanished inside its own transaction`);
    return toAccount(row, this.now());
  }

  private stamp(): string {
    return auditTimestamp(this.now());
  }
}

function readRow(db: Database.Database, operatorId: string): AccountRow | undefined {
  return db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE account_id = ?').get(operatorId);
}

function countAccounts(db: Database.Database): number {
  return db.prepare<[], { n: number }>('SELECT count(*) AS n FROM accounts').get()?.n ?? 0;
}

function rolesOf(row: AccountRow): Role[] {
  let json: unknown;
  try {
    json = JSON.parse(row.roles);
  } catch {
    json = null;
  }
  const parsed = storedRolesSchema.safeParse(json);
  if (!parsed.success) throw new Error(`account ${row.account_id} has unreadable roles: ${row.roles}`);
  return parsed.data;
}

function toAccount(row: AccountRow, now: Date): Account {
  return {
    operatorId: row.account_id,
    name: row.name,
    roles: rolesOf(row),
    credentialKind: row.credential_kind,
    disabled: row.disabled === 1,
    lockedUntil: activeLock(row, now),
    createdAt: row.created_at,
  };
}

/** The lockout's end while it is still in force, else null (an expired lock is no lock). */
function activeLock(row: AccountRow, now: Date): string | null {
  if (row.locked_until === null) return null;
  return Date.parse(row.locked_until) > now.getTime() ? row.locked_until : null;
}

function storedCredential(row: AccountRow): StoredCredential {
  return { kdf: row.kdf, salt: row.salt, verifier: row.verifier };
}

function sameCredential(row: AccountRow, credential: StoredCredential): boolean {
  return row.kdf === credential.kdf && row.salt === credential.salt && row.verifier === credential.verifier;
}

/** True when `row` is the only enabled account with the admin role. */
function isLastAdmin(db: Database.Database, row: AccountRow): boolean {
  if (row.disabled || !rolesOf(row).includes('admin')) return false;
  const enabled = db.prepare<[], AccountRow>('SELECT * FROM accounts WHERE disabled = 0').all();
  return !enabled.some((other) => other.account_id !== row.account_id && rolesOf(other).includes('admin'));
}

function lockedMessage(lockedUntil: string): string {
  const iso = new Date(lockedUntil).toISOString();
  return (
    `Too many wrong PINs: this account is locked until ${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC. ` +
    'An administrator can reset the PIN to unlock it sooner.'
  );
}

function checkNewAccount(
  input: NewAccount,
): { ok: true; account: CheckedAccount } | AccountFailure<'BAD_INPUT'> {
  const id = operatorIdSchema.safeParse(input.operatorId);
  if (!id.success) return badInput(id.error.issues[0]?.message ?? 'invalid operator id');
  // Ids are compared exactly, so one with stray spaces would be an account nobody can log in to.
  if (id.data !== input.operatorId) return badInput('an operator id has no spaces before or after it');
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) return badInput('a name is 1 to 100 characters');
  const roles = checkRoles(input.roles);
  if (typeof roles === 'string') return badInput(roles);
  const problem = credentialProblem(input.pin);
  if (problem !== null) return badInput(problem);
  return { ok: true, account: { operatorId: input.operatorId, name, roles, pin: input.pin } };
}

/** The roles without repeats, in the order given; or what is wrong with them. */
function checkRoles(roles: readonly string[]): Role[] | string {
  if (roles.length === 0) return 'an account needs at least one role';
  const unknown = roles.find((role) => !(ROLES as readonly string[]).includes(role));
  if (unknown !== undefined) return `unknown role "${unknown}" (roles are ${ROLES.join(', ')})`;
  return [...new Set(roles as readonly Role[])];
}

function sameRoles(a: readonly Role[], b: readonly Role[]): boolean {
  return a.length === b.length && a.every((role) => b.includes(role));
}

function badInput(message: string): AccountFailure<'BAD_INPUT'> {
  return { ok: false, code: 'BAD_INPUT', message };
}

function exists(operatorId: string): AccountFailure<'ACCOUNT_EXISTS'> {
  return { ok: false, code: 'ACCOUNT_EXISTS', message: `An account "${operatorId}" already exists.` };
}

function notFound(operatorId: string): AccountFailure<'ACCOUNT_NOT_FOUND'> {
  return { ok: false, code: 'ACCOUNT_NOT_FOUND', message: `There is no account "${operatorId}".` };
}

function lastAdmin(operatorId: string, what: string): AccountFailure<'LAST_ADMIN'> {
  return {
    ok: false,
    code: 'LAST_ADMIN',
    message:
      `"${operatorId}" is the last enabled administrator and cannot be ${what}: ` +
      'give another account the admin role first (a station without an administrator cannot be managed).',
  };
}
