/**
 * A StationHandle for the web host's tests: a real EventBus (so seq, retention and eventsAfter behave as the
 * station's) and a few commands, with inputs checked by the contract like the real core does.
 */
import { randomUUID } from 'node:crypto';
import {
  isCommandName,
  parseCommandInput,
  type CommandFailure,
  type CommandName,
  type CommandResult,
  type Snapshot,
  type StationEvent,
} from '../../../electron/station-api';
import { EventBus } from '../../../electron/station/event-bus';
import type { StationHandle } from '../../../electron/station/station-handle';

/** Six digits, so a port number in a log line can never look like it. */
export const DOUBLE_OPERATOR = { operatorId: 'alice', pin: '582947' } as const;

export function initialSnapshot(runId: string, name = 'Line 1 station'): Snapshot {
  return {
    seq: 0,
    runId,
    station: {
      id: 'station-test',
      name,
      line: null,
      site: null,
      environment: 'sandbox',
      startMode: 'on-plug',
      softwareVersion: '0.0.0-test',
      demoAccounts: null,
      needsFirstAdmin: false,
    },
    recipes: [],
    session: null,
    batch: null,
    slots: [],
    recentUnits: [],
    lastScan: null,
    stopped: null,
    central: null,
    centralRecord: null,
  };
}

export class StationDouble implements StationHandle {
  readonly runId = randomUUID();
  readonly bus: EventBus;
  /** Every command that reached the station, as the host passed it. */
  readonly calls: { name: unknown; input: unknown }[] = [];
  /** The next command throws this (breaking the never-throws contract, as a buggy core would). */
  throwNext: Error | null = null;

  private readonly delivery: 'sync' | 'queued';
  private readonly queuedListeners = new Set<(event: StationEvent) => void>();
  private readonly outbox: StationEvent[] = [];
  private held = false;

  /**
   * `queued` delivery hands each event to the listeners there are when a later turn of the event loop comes, not
   * to those there were at publish time: a listener that subscribes in between also receives an event that its
   * snapshot or backlog already holds (a station that fans out through a queue does that).
   */
  constructor(options: { retain?: number; name?: string; delivery?: 'sync' | 'queued' } = {}) {
    this.bus = new EventBus({ initial: initialSnapshot(this.runId, options.name), retain: options.retain });
    this.delivery = options.delivery ?? 'sync';
    if (this.delivery === 'queued') {
      this.bus.subscribe((event) => {
        this.outbox.push(event);
        if (this.outbox.length === 1) setImmediate(() => this.flush());
      });
    }
  }

  /** Queued delivery only: keep events in the queue until release(). */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    this.flush();
  }

  private flush(): void {
    if (this.held) return;
    for (const event of this.outbox.splice(0)) {
      for (const listener of [...this.queuedListeners]) listener(event);
    }
  }

  async execute<N extends CommandName>(name: N, input: unknown): Promise<CommandResult<N>> {
    return (await this.executeUnchecked(name, input)) as CommandResult<N>;
  }

  async executeUnchecked(
    name: unknown,
    input: unknown,
  ): Promise<CommandResult<CommandName> | CommandFailure> {
    this.calls.push({ name, input });
    if (this.throwNext !== null) {
      const error = this.throwNext;
      this.throwNext = null;
      throw error;
    }
    if (!isCommandName(name)) {
      return { ok: false, code: 'UNKNOWN_COMMAND', message: `no command ${String(name).slice(0, 80)}` };
    }
    const parsed = parseCommandInput(name, input);
    if (!parsed.ok) return parsed;
    const at = new Date().toISOString();
    switch (name) {
      case 'station.status':
        return { ok: true, snapshot: this.snapshot() };
      case 'session.login': {
        const { operatorId, pin } = parsed.input as { operatorId: string; pin: string };
        if (operatorId !== DOUBLE_OPERATOR.operatorId || pin !== DOUBLE_OPERATOR.pin) {
          return { ok: false, code: 'LOGIN_FAILED', message: 'wrong operator id or PIN' };
        }
        const session = {
          operatorId,
          name: 'Alice',
          roles: ['operator' as const],
          method: 'pin' as const,
          since: at,
          idleLogoutMs: 600_000,
        };
        this.bus.publish({ kind: 'session.changed', at, session, reason: 'login' });
        return { ok: true, session };
      }
      case 'session.logout':
        this.bus.publish({ kind: 'session.changed', at, session: null, reason: 'logout' });
        return { ok: true } as CommandResult<'session.logout'>;
      default:
        return { ok: false, code: 'FORBIDDEN', message: `${name} is not offered by the test double` };
    }
  }

  snapshot(): Snapshot {
    return this.bus.snapshot;
  }

  eventsAfter(seq: number): StationEvent[] | null {
    return this.bus.eventsAfter(seq);
  }

  /** Subscriptions not yet undone: the host must undo each one when its socket goes. */
  subscribers = 0;

  subscribe(listener: (event: StationEvent) => void): () => void {
    let unsubscribe: () => void;
    if (this.delivery === 'sync') {
      unsubscribe = this.bus.subscribe(listener);
    } else {
      this.queuedListeners.add(listener);
      unsubscribe = () => this.queuedListeners.delete(listener);
    }
    this.subscribers++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.subscribers--;
      unsubscribe();
    };
  }

  /** One live event; `lines` make it as large as a test needs. */
  publishLog(lines: string[] = ['hello']): StationEvent {
    return this.bus.publish({
      kind: 'board.log',
      at: new Date().toISOString(),
      slot: 'slot-1',
      unitId: null,
      lines,
      dropped: 0,
    });
  }
}
