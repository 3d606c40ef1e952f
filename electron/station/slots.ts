/**
 * The station's slots: long-lived, one per port. Boards come and go (PortWatcher for configured paths and USB
 * adapters, the simulator's cable for virtual boards); a slot's state is never stored here, it is the reducer's
 * view of the events (port.added, scan.accepted, unit.started, unit.finished...). What lives here is what cannot
 * be derived: the running unit's abort handle and the board's live log buffer.
 *
 * Continuous mode: a passed board is unplugged, the next one is plugged in, and its unit starts by itself (or on
 * its scan). Each decision to start is taken in `evaluate`, from the snapshot.
 */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import type { AuditStore } from '../audit';
import { isAuditFailure, runUnit, type UnitJournal, type UnitResult } from '../provisioning';
import { PortWatcher, SerialBoardPort, type PortInfo } from '../serial';
import type { CommandFailure, Slot, Snapshot, StationEvent } from '../station-api';
import { matchScan, type StationConfig } from '../../station-config';
import { parseFault } from '../../firmware-protocol/virtual-board';
import type { BatchRuntime } from './batch-runtime';
import type { ConfiguredPort, StationEnvironment } from './environment';
import type { EventBus } from './event-bus';
import { fanOutJournal } from './journal-fanout';
import type { Sessions } from './sessions';

export interface SlotsOptions {
  config: StationConfig;
  env: StationEnvironment;
  store: AuditStore;
  bus: EventBus;
  batch: BatchRuntime;
  sessions: Sessions;
  now: () => Date;
  /** Start a unit when a board is ready (on plug or on its scan). Headless one-shot runs start slots themselves. */
  autoStart: boolean;
  link: { baudRate: number; timeoutScale?: number };
  /** Wraps each unit's journal (test-only crash hooks). */
  wrapJournal?: (journal: UnitJournal) => UnitJournal;
  /** The audit trail could not be written, or a unit ended in a way nobody can account for: stop everything. */
  halt: (reason: string) => void;
  /** Lists USB serial adapters (default: the OS's list); tests plug in adapters of their own. */
  listPorts?: () => Promise<PortInfo[]>;
}

interface Running {
  unitId: string;
  abort: AbortController;
  done: Promise<UnitResult | undefined>;
}

interface SlotRuntime {
  name: string;
  number: number;
  source: Slot['source'];
  configured?: ConfiguredPort;
  running?: Running;
  log: { lines: string[]; dropped: number; unitId: string | null; timer?: NodeJS.Timeout };
}

/** Board log lines go out at most this often per slot, and at most this many at a time (the record keeps all). */
const LOG_FLUSH_MS = 250;
const LOG_LINES_PER_FLUSH = 20;

const START_TRIGGERS: ReadonlySet<StationEvent['kind']> = new Set([
  'port.added',
  'scan.accepted',
  'batch.opened',
  'batch.changed',
  'session.changed',
  'unit.finished',
]);

type Fail = CommandFailure;
const failure = (code: string, message: string): Fail => ({ ok: false, code, message });

export class Slots {
  private readonly runtimes = new Map<string, SlotRuntime>();
  /** Port key (path, or usb:SERIAL) -> slot name. */
  private readonly slotOfKey = new Map<string, string>();
  private watcher: PortWatcher | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopping = false;
  private evaluating = false;
  private evaluateAgain = false;

  constructor(private readonly options: SlotsOptions) {}

  private get snapshot(): Snapshot {
    return this.options.bus.snapshot;
  }

  private at(): string {
    return this.options.now().toISOString();
  }

  slot(name: string): Slot | undefined {
    return this.snapshot.slots.find((slot) => slot.name === name);
  }

  /** Creates the configured slots, takes up boards already present, and starts watching for boards. */
  async start(): Promise<void> {
    const { env, config } = this.options;
    // Whatever may let a board start (a board, a label, a batch, someone logged in, a free channel) is an event.
    this.unsubscribe = this.options.bus.subscribe((event) => {
      if (START_TRIGGERS.has(event.kind)) this.scheduleEvaluate();
    });
    for (const port of env.ports) {
      this.addSlot(port.name, port.source, port.path, port);
      this.slotOfKey.set(port.path, port.name);
    }
    await this.restorePassedBoards();
    const usb = config.slots.discovery.usb;
    this.watcher = new PortWatcher({
      configuredPaths: env.ports.map((port) => port.path),
      usbFilters: usb,
      // Existence checks are cheap; listing USB devices is not.
      pollMs: usb.length > 0 ? 1000 : 250,
      ...(this.options.listPorts && { lister: this.options.listPorts, pollMs: 100 }),
    });
    this.watcher.on('attached', (port) => this.attached(port));
    this.watcher.on('detached', (port) => this.detached(port));
    this.watcher.on('error', () => undefined);
    for (const port of env.ports) {
      port.virtual?.host.onEvent(() => void this.watcher?.poll());
    }
    await this.watcher.start();
  }

  private addSlot(
    name: string,
    source: Slot['source'],
    port: string | null,
    configured?: ConfiguredPort,
  ): SlotRuntime {
    const runtime: SlotRuntime = {
      name,
      number: this.runtimes.size + 1,
      source,
      ...(configured && { configured }),
      log: { lines: [], dropped: 0, unitId: null },
    };
    this.runtimes.set(name, runtime);
    this.options.bus.publish({
      kind: 'slot.changed',
      change: 'added',
      at: this.at(),
      slotState: {
        name,
        number: runtime.number,
        source,
        port,
        present: false,
        state: 'empty',
        since: this.at(),
        scan: null,
        unit: null,
        result: null,
      },
    });
    return runtime;
  }

  /**
   * After a restart, a board still in its slot whose last unit in this batch passed keeps its PASS: it is not
   * provisioned (and counted) a second time. Only boards that say who they are count.
   */
  private async restorePassedBoards(): Promise<void> {
    const batch = this.options.batch.current;
    if (!batch) return;
    await Promise.all(
      [...this.runtimes.values()].map(async (runtime) => {
        const path = runtime.configured?.path;
        const unit = this.options.store.lastUnitOnSlot(batch.id, runtime.number);
        if (!path || unit?.state !== 'passed' || unit.mcuId === null) return;
        const mcuId = await probeMcuId(path, this.options.link);
        if (mcuId !== unit.mcuId) return;
        const slot = this.slot(runtime.name)!;
        this.options.bus.publish({
          kind: 'slot.changed',
          change: 'added',
          at: this.at(),
          slotState: {
            ...slot,
            present: true,
            state: 'passed',
            since: unit.endedAt ?? this.at(),
            unit: null,
            result: {
              outcome: 'passed',
              unitId: unit.id,
              deviceId: unit.deviceId,
              durationMs: unit.durationMs,
              failedStep: null,
              error: null,
              reason: null,
              by: null,
              at: unit.endedAt ?? this.at(),
            },
          },
        });
      }),
    );
  }

  private attached(port: PortInfo): void {
    let name = this.slotOfKey.get(port.key);
    if (name === undefined) {
      name = this.usbSlotName(port);
      this.slotOfKey.set(port.key, name);
      if (!this.runtimes.has(name)) this.addSlot(name, 'usb', port.path);
    }
    const slot = this.slot(name);
    if (slot?.present && slot.port === port.path) return;
    this.options.bus.publish({
      kind: 'port.added',
      at: this.at(),
      slot: name,
      port: port.path,
      serialNumber: port.serialNumber ?? null,
    });
  }

  private detached(port: PortInfo): void {
    const name = this.slotOfKey.get(port.key);
    if (name === undefined || !this.slot(name)?.present) return;
    this.options.bus.publish({ kind: 'port.removed', at: this.at(), slot: name, port: port.path });
  }

  /** A USB slot's stable name: the filter's name for a pinned adapter, else its serial number, else its port. */
  private usbSlotName(port: PortInfo): string {
    const pinned = this.options.config.slots.discovery.usb.find(
      (filter) =>
        filter.name !== undefined &&
        filter.serialNumber !== undefined &&
        filter.serialNumber === port.serialNumber,
    );
    const name = pinned?.name ?? port.serialNumber ?? basename(port.path);
    let unique = name;
    for (let n = 2; this.runtimes.has(unique) && this.slotOfKey.get(port.key) !== unique; n++)
      unique = `${name}-${n}`;
    return unique;
  }

  /** Coalesces start decisions: many events in a row lead to one pass over the slots. */
  scheduleEvaluate(): void {
    if (this.evaluating) {
      this.evaluateAgain = true;
      return;
    }
    this.evaluating = true;
    queueMicrotask(() => {
      try {
        do {
          this.evaluateAgain = false;
          this.evaluate();
        } while (this.evaluateAgain);
      } finally {
        this.evaluating = false;
      }
    });
  }

  /** Starts every slot whose board may start now, oldest first, within the batch's target and the channel limit. */
  private evaluate(): void {
    if (!this.options.autoStart || this.stopping) return;
    const batch = this.options.batch.current;
    if (!this.options.batch.ready || !batch || !this.options.sessions.current) return;
    const running = [...this.runtimes.values()].filter((r) => r.running).length;
    let budget =
      batch.targetQuantity === null ? Infinity : batch.targetQuantity - batch.counts.passed - running;
    let free = (this.options.config.slots.maxConcurrent ?? Infinity) - running;
    const ready = this.snapshot.slots
      .filter((slot) => slot.present && (slot.state === 'board-present' || slot.state === 'queued'))
      .filter((slot) => !this.runtimes.get(slot.name)?.running)
      .sort((a, b) => a.since.localeCompare(b.since) || a.number - b.number);
    for (const slot of ready) {
      if (budget <= 0) break;
      if (free <= 0) {
        if (slot.state !== 'queued') {
          this.options.bus.publish({
            kind: 'slot.changed',
            change: 'queued',
            at: this.at(),
            slotState: { ...slot, state: 'queued', since: this.at() },
          });
        }
        continue;
      }
      this.startUnit(slot.name, { unitId: randomUUID(), attempt: 1 });
      budget -= 1;
      free -= 1;
    }
  }

  /** Starts a unit on a slot that has a board (slot.start); refuses with a reason otherwise. */
  startNow(name: string): { ok: true; unitId: string } | Fail {
    const slot = this.slot(name);
    if (!slot) return this.noSlot(name);
    if (!slot.present) return failure('SLOT_NOT_READY', `Slot ${name} has no board: plug one in first.`);
    if (slot.state === 'waiting-for-scan')
      return failure('SLOT_NOT_READY', `Slot ${name} is waiting for its label: scan it first.`);
    // A passed board may be run again on purpose (headless re-runs are idempotent); a failed one goes through
    // Retry, which knows whether the failure was safe to repeat.
    if (!['board-present', 'queued', 'passed'].includes(slot.state))
      return failure(
        'SLOT_NOT_READY',
        `Slot ${name} is ${slot.state}: use Retry for a board that already ran.`,
      );
    const refused = this.cannotStart();
    if (refused) return refused;
    const unitId = randomUUID();
    this.startUnit(name, { unitId, attempt: 1 });
    return { ok: true, unitId };
  }

  /** Why no unit may start now, or null. */
  cannotStart(): Fail | null {
    if (this.stopping) return failure('STATION_STOPPED', 'The station is stopping.');
    const batch = this.options.batch.current;
    if (!batch) return failure('NO_BATCH', 'Open a batch first.');
    if (batch.problem) return failure('BATCH_NOT_READY', batch.problem);
    if (batch.targetReached)
      return failure(
        'TARGET_REACHED',
        `Batch "${batch.name}" has reached its target of ${batch.targetQuantity}: close it, or open the next batch.`,
      );
    return this.options.batch.ready ? null : failure('BATCH_NOT_READY', 'The batch is not ready yet.');
  }

  private startUnit(name: string, unit: { unitId: string; attempt: number }): void {
    const runtime = this.runtimes.get(name)!;
    const slot = this.slot(name)!;
    const context = this.options.batch.ready!;
    const batch = this.options.batch.current!;
    const session = this.options.sessions.current;
    const path = slot.port!;
    const abort = new AbortController();
    const board = SerialBoardPort.onPort({ path, ...this.options.link });
    const stopLog = board.onLog((line) => this.bufferLog(runtime, unit.unitId, line.text));
    const journal = fanOutJournal(this.options.store, this.options.bus, {
      batchId: batch.id,
      operator: session?.operatorId ?? null,
      slot: { name, number: runtime.number },
    });
    const done = runUnit({
      ...unit,
      batch: context,
      board,
      journal: this.options.wrapJournal ? this.options.wrapJournal(journal) : journal,
      scan: slot.scan?.fields ?? {},
      signal: abort.signal,
      now: this.options.now,
    })
      .then((result) => {
        if (result.error && isAuditFailure(result.error)) this.options.halt(result.error.operatorMessage);
        return result;
      })
      .catch(() => {
        // runUnit turns every failure it knows into a result; anything else is a station bug whose effect on
        // the record is unknown, so no slot may go on.
        this.options.halt(
          'The station hit an internal error and stopped provisioning: report it to engineering with the station log.',
        );
        return undefined;
      })
      .finally(() => {
        stopLog();
        this.flushLog(runtime);
        runtime.running = undefined;
        // The new counts (batch.changed) let the next board start.
        if (!this.stopping) this.options.batch.refresh();
      });
    runtime.running = { unitId: unit.unitId, abort, done };
  }

  /**
   * Retry on the same board: the same unit again (its next attempt) when it belongs to this batch, else a new
   * unit. The caller has checked who may retry.
   */
  retry(name: string): { ok: true; unitId: string } | Fail {
    const slot = this.slot(name);
    if (!slot) return this.noSlot(name);
    if (!['failed', 'cancelled', 'skipped'].includes(slot.state))
      return failure('NOTHING_TO_RETRY', `Slot ${name} has nothing to retry (it is ${slot.state}).`);
    if (!slot.present) return failure('SLOT_NOT_READY', `Slot ${name} has no board: plug it back in first.`);
    const refused = this.cannotStart();
    if (refused) return refused;
    const batchId = this.options.batch.current!.id;
    const previous = slot.result?.unitId ? this.options.store.unit(slot.result.unitId) : null;
    const unit =
      previous && previous.batchId === batchId
        ? { unitId: previous.id, attempt: previous.attempt + 1 }
        : { unitId: randomUUID(), attempt: 1 };
    this.startUnit(name, unit);
    return { ok: true, unitId: unit.unitId };
  }

  /** The failure a Retry would repeat, to decide whether it needs a supervisor. */
  lastError(name: string): Slot['result'] {
    return this.slot(name)?.result ?? null;
  }

  cancel(name: string): { ok: true; unitId: string } | Fail {
    const slot = this.slot(name);
    if (!slot) return this.noSlot(name);
    const running = this.runtimes.get(name)?.running;
    if (!running) return failure('SLOT_NOT_READY', `Nothing is running on slot ${name}.`);
    running.abort.abort();
    return { ok: true, unitId: running.unitId };
  }

  skip(name: string, reason: string, by: string | null): { ok: true } | Fail {
    const slot = this.slot(name);
    if (!slot) return this.noSlot(name);
    if (this.runtimes.get(name)?.running)
      return failure('SLOT_NOT_READY', `Slot ${name} is running: cancel it first.`);
    if (!slot.present || slot.state === 'skipped' || slot.state === 'passed')
      return failure('SLOT_NOT_READY', `Slot ${name} has no board to set aside.`);
    const unitId = slot.result?.unitId ?? null;
    const event = this.options.store.append({
      kind: 'slot.skipped',
      operator: by,
      batchId: this.options.batch.current?.id ?? null,
      unitId,
      slot: this.runtimes.get(name)!.number,
      details: { slotName: name, reason },
    });
    this.options.bus.publish({
      kind: 'slot.skipped',
      at: event.at,
      auditSeq: event.seq,
      slot: name,
      reason,
      by,
    });
    return { ok: true };
  }

  /**
   * A scanned label: matched against the label formats, refused when its serial number was already provisioned
   * here, bound to the named slot or else to the one that has waited longest. Both outcomes are audit events.
   */
  scan(
    text: string,
    named: string | undefined,
    by: string | null,
  ): { ok: true; slot: string; format: string; fields: Record<string, string> } | Fail {
    const refuse = (code: string, message: string, slot: string | null = named ?? null): Fail => {
      this.options.store.append({
        kind: 'scan.refused',
        operator: by,
        details: { text, reason: message, ...(slot !== null && { slotName: slot }) },
      });
      this.options.bus.publish({ kind: 'scan.refused', at: this.at(), slot, text, message });
      return failure(code, message);
    };
    const match = matchScan(this.options.config.scanning, text);
    if (!match.ok) return refuse('SCAN_REFUSED', match.message);
    const fields = Object.fromEntries(
      Object.entries(match.fields).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    const serial = fields.serialNumber;
    if (serial !== undefined) {
      const earlier = this.options.store.passedUnitBySerial(serial);
      if (earlier) {
        return refuse(
          'DUPLICATE_SERIAL',
          `Serial number ${serial} was already provisioned here as device ${earlier.deviceId ?? '(unknown)'} on ${earlier.endedAt?.replace('T', ' ').slice(0, 16) ?? 'an earlier run'} UTC: set this board aside and check its label.`,
        );
      }
      const twice = this.snapshot.slots.find(
        (slot) => slot.present && slot.scan?.fields.serialNumber === serial && slot.name !== named,
      );
      if (twice)
        return refuse(
          'DUPLICATE_SERIAL',
          `Serial number ${serial} was just scanned for slot ${twice.name}: check the label.`,
        );
    }
    let target: Slot | undefined;
    if (named !== undefined) {
      target = this.slot(named);
      if (!target) return refuse('SLOT_NOT_FOUND', `There is no slot ${named}.`);
      if (!target.present || !['waiting-for-scan', 'board-present', 'queued'].includes(target.state))
        return refuse('SLOT_NOT_READY', `Slot ${named} is not waiting for a label (it is ${target.state}).`);
    } else {
      const waiting = this.snapshot.slots
        .filter((slot) => slot.present && slot.state === 'waiting-for-scan')
        .sort((a, b) => a.since.localeCompare(b.since) || a.number - b.number);
      target = waiting[0];
      if (!target)
        return refuse(
          'NO_SLOT_WAITING',
          'No slot is waiting for a label: plug in a board first, then scan it.',
          null,
        );
    }
    this.options.store.append({
      kind: 'scan.accepted',
      operator: by,
      slot: this.runtimes.get(target.name)!.number,
      details: { text, format: match.format, fields, slotName: target.name },
    });
    this.options.bus.publish({
      kind: 'scan.accepted',
      at: this.at(),
      slot: target.name,
      text,
      format: match.format,
      fields,
    });
    return { ok: true, slot: target.name, format: match.format, fields };
  }

  /** Sandbox: pulls the virtual board out of its slot. */
  async unplug(name: string): Promise<{ ok: true } | Fail> {
    const virtual = this.runtimes.get(name)?.configured?.virtual;
    if (!virtual) return failure('SLOT_NOT_FOUND', `Slot ${name} has no virtual board.`);
    await virtual.host.unplug();
    await this.watcher?.poll();
    return { ok: true };
  }

  /** Sandbox: the next board goes into the slot (a fresh blank one unless `sameBoard`), maybe with faults. */
  async replug(name: string, sameBoard: boolean, faults: readonly string[]): Promise<{ ok: true } | Fail> {
    const virtual = this.runtimes.get(name)?.configured?.virtual;
    if (!virtual) return failure('SLOT_NOT_FOUND', `Slot ${name} has no virtual board.`);
    if (virtual.host.plugged)
      return failure('SLOT_NOT_READY', `The virtual board of slot ${name} is plugged in.`);
    const rules = [];
    for (const spec of faults) {
      const parsed = parseFault(spec);
      if (!parsed.ok) return failure('BAD_INPUT', parsed.message);
      rules.push(parsed.rule);
    }
    if (!sameBoard) virtual.board.swapForBlankBoard();
    virtual.board.faults.clear();
    for (const rule of rules) virtual.board.faults.add(rule);
    await virtual.host.replug();
    await this.watcher?.poll();
    return { ok: true };
  }

  ports(): Array<PortInfo & { slot: string | null; virtual: boolean }> {
    return (this.watcher?.current() ?? []).map((port) => {
      const slot = this.slotOfKey.get(port.key) ?? null;
      return { ...port, slot, virtual: slot !== null && this.runtimes.get(slot)?.source === 'virtual' };
    });
  }

  runningCount(): number {
    return [...this.runtimes.values()].filter((runtime) => runtime.running).length;
  }

  /** Resolves when every running unit has ended (recorded). */
  async settled(): Promise<void> {
    await Promise.all([...this.runtimes.values()].map((runtime) => runtime.running?.done));
  }

  /** Stops starting units, cancels the running ones at their next step boundary and waits for their records. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.watcher?.stop();
    for (const runtime of this.runtimes.values()) runtime.running?.abort.abort();
    await this.settled();
    for (const runtime of this.runtimes.values()) clearTimeout(runtime.log.timer);
  }

  private noSlot(name: string): Fail {
    return failure(
      'SLOT_NOT_FOUND',
      `There is no slot ${name}; slots: ${[...this.runtimes.keys()].join(', ')}.`,
    );
  }

  private bufferLog(runtime: SlotRuntime, unitId: string, line: string): void {
    const log = runtime.log;
    log.unitId = unitId;
    if (log.lines.length < LOG_LINES_PER_FLUSH) log.lines.push(line);
    else log.dropped += 1;
    log.timer ??= setTimeout(() => this.flushLog(runtime), LOG_FLUSH_MS);
  }

  private flushLog(runtime: SlotRuntime): void {
    const log = runtime.log;
    clearTimeout(log.timer);
    log.timer = undefined;
    if (log.lines.length === 0 && log.dropped === 0) return;
    this.options.bus.publish({
      kind: 'board.log',
      at: this.at(),
      slot: runtime.name,
      unitId: log.unitId,
      lines: log.lines,
      dropped: log.dropped,
    });
    log.lines = [];
    log.dropped = 0;
  }
}

/** HELLO + IDENTIFY on a port, within two seconds; null when no board answers. */
async function probeMcuId(
  path: string,
  link: { baudRate: number; timeoutScale?: number },
): Promise<string | null> {
  const board = SerialBoardPort.onPort({ path, ...link });
  const probe = (async () => {
    await board.open();
    await board.hello();
    return (await board.identify()).mcuId;
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 2000)));
  try {
    return await Promise.race([probe.catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
    await board.close().catch(() => undefined);
  }
}
