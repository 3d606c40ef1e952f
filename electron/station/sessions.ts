/**
 * Who is at the station: one session, station-wide (one operator stands at one station), derived from
 * session.changed events like everything else in the snapshot. Logins go through the account store (scrypt,
 * lockout); every command's access is checked here, in the core, and a refusal is an audit event.
 */
import type { AuditStore } from '../audit';
import type { AccountStore } from '../people';
import {
  hasRole,
  type Access,
  type CommandFailure,
  type CommandName,
  type Role,
  type Session,
} from '../station-api';
import type { EventBus } from './event-bus';

export interface SessionsOptions {
  store: AuditStore;
  accounts: AccountStore;
  bus: EventBus;
  idleLogoutMs: number;
  now: () => Date;
}

export class Sessions {
  private lastActivity = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SessionsOptions) {
    // Checked often enough that an idle session ends within a few seconds of its time.
    const every = Math.max(1000, Math.min(15_000, Math.floor(options.idleLogoutMs / 4)));
    this.idleTimer = setInterval(() => this.expireIfIdle(), every);
    this.idleTimer.unref();
  }

  get current(): Session | null {
    return this.options.bus.snapshot.session;
  }

  /** A command was run by the person logged in: the idle clock starts again. */
  touch(): void {
    this.lastActivity = this.options.now().getTime();
  }

  expireIfIdle(): void {
    const session = this.current;
    if (!session || session.idleLogoutMs === 0) return;
    if (this.options.now().getTime() - this.lastActivity >= session.idleLogoutMs) this.end('idle');
  }

  async login(operatorId: string, pin: string): Promise<{ ok: true; session: Session } | CommandFailure> {
    const outcome = await this.options.accounts.authenticate(operatorId, pin);
    if (!outcome.ok) return outcome;
    const { account } = outcome;
    const previous = this.current;
    if (previous && previous.operatorId !== account.operatorId) this.end('replaced');
    const session: Session = {
      operatorId: account.operatorId,
      name: account.name,
      roles: account.roles,
      method: account.credentialKind,
      since: this.options.now().toISOString(),
      idleLogoutMs: this.options.idleLogoutMs,
    };
    this.options.store.append({
      kind: 'operator.login',
      operator: account.operatorId,
      details: { roles: account.roles, method: account.credentialKind },
    });
    this.publish(session, 'login');
    this.touch();
    return { ok: true, session };
  }

  /**
   * A session named by the host that started the station (`station provision --operator`): the host already
   * holds the station's files, so it vouches for the person. Recorded as such; it never idles out.
   */
  hostLogin(operatorId: string, roles: Role[]): Session {
    const session: Session = {
      operatorId,
      name: operatorId,
      roles,
      method: 'host',
      since: this.options.now().toISOString(),
      idleLogoutMs: 0,
    };
    this.options.store.append({
      kind: 'operator.login',
      operator: operatorId,
      details: { roles, method: 'host' },
    });
    this.publish(session, 'host');
    return session;
  }

  end(reason: 'logout' | 'idle' | 'replaced' | 'account-disabled'): void {
    const session = this.current;
    if (!session) return;
    this.options.store.append({ kind: 'operator.logout', operator: session.operatorId, details: { reason } });
    this.publish(null, reason);
  }

  /** Whether the person logged in may run `command`; a refusal is recorded with who asked and why. */
  check(command: CommandName, access: Access): CommandFailure | null {
    if (access === 'anyone') return null;
    const session = this.current;
    if (!session) {
      return this.deny(command, null, 'NOT_LOGGED_IN', `Log in first: ${command} needs someone logged in.`);
    }
    if (access === 'signed-in' || hasRole(session, access)) return null;
    return this.deny(
      command,
      session,
      'FORBIDDEN',
      `${session.name} (${session.roles.join(', ')}) may not ${describe(command)}: it needs ${access.join(' or ')}.`,
    );
  }

  /**
   * Someone other than the person logged in approves one action on the spot (a supervisor's PIN on the
   * operator's screen). Counts towards that account's lockout like any login.
   */
  async approve(
    command: CommandName,
    approval: { operatorId: string; pin: string },
    roles: readonly Role[],
  ): Promise<{ ok: true; approver: string } | CommandFailure> {
    const outcome = await this.options.accounts.authenticate(approval.operatorId, approval.pin);
    if (!outcome.ok) return outcome;
    if (!outcome.account.roles.some((role) => roles.includes(role))) {
      return this.deny(
        command,
        this.current,
        'FORBIDDEN',
        `${outcome.account.name} is not a ${roles.join(' or ')} and cannot approve this.`,
        outcome.account.operatorId,
      );
    }
    return { ok: true, approver: outcome.account.operatorId };
  }

  /** Records a refusal and returns it as a command failure. */
  deny(
    command: CommandName,
    session: Session | null,
    code: string,
    message: string,
    operator: string | null = session?.operatorId ?? null,
  ): CommandFailure {
    this.options.store.append({
      kind: 'access.denied',
      operator,
      details: { command, reason: message, ...(session && { roles: session.roles }) },
    });
    return { ok: false, code, message };
  }

  close(): void {
    clearInterval(this.idleTimer);
  }

  private publish(
    session: Session | null,
    reason: 'login' | 'logout' | 'idle' | 'replaced' | 'host' | 'account-disabled',
  ): void {
    this.options.bus.publish({
      kind: 'session.changed',
      at: this.options.now().toISOString(),
      session,
      reason,
    });
  }
}

function describe(command: CommandName): string {
  return `run ${command}`;
}
