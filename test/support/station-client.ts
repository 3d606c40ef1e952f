/**
 * One way to drive a station in tests, whatever host carries it: commands in, events out, the state a client
 * derives with the contract's reducer. The in-process client holds a Station; the served client (served-client.ts)
 * talks to `station serve` over real HTTP and a real WebSocket. The scenario suite runs against both.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditWriteError } from '../../electron/audit';
import type { JournalEntry, UnitJournal } from '../../electron/provisioning';
import { EnvFileSecretStore } from '../../electron/secrets';
import { openStation, type Station } from '../../electron/station';
import {
  reduce,
  type CommandInput,
  type CommandName,
  type CommandResult,
  type Snapshot,
  type StationEvent,
  type StepName,
} from '../../electron/station-api';
import { loadStationConfig } from '../../station-config';

export interface ScenarioClient {
  readonly kind: 'in-process' | 'served';
  readonly dataDir: string;
  readonly databaseFile: string;
  execute<N extends CommandName>(name: N, input: CommandInput<N>): Promise<CommandResult<N>>;
  /** The state as this client derives it: the first snapshot, then every event through the reducer. */
  state(): Snapshot;
  /** Every event received in the current run, in the order received. */
  events(): StationEvent[];
  /** Every run's events, by runId (a restart starts a new run). */
  runs(): Map<string, { firstSeq: number; events: StationEvent[] }>;
  waitFor(what: string, predicate: (state: Snapshot) => boolean, timeoutMs?: number): Promise<Snapshot>;
  /** Drops the event connection and resumes after the last event received. */
  dropAndResume(pause?: () => Promise<void>): Promise<void>;
  /** The station dies (power cut / SIGKILL) when `slot`'s running unit starts `step`; resolves once it is gone. */
  crashDuring(slot: string, step: StepName): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Base class: the derived state, run bookkeeping and waiting. */
export abstract class ClientState {
  protected current: Snapshot | undefined;
  protected readonly byRun = new Map<string, { firstSeq: number; events: StationEvent[] }>();
  private readonly waiters = new Set<() => void>();

  state(): Snapshot {
    if (!this.current) throw new Error('no snapshot yet');
    return this.current;
  }

  events(): StationEvent[] {
    return this.byRun.get(this.state().runId)?.events ?? [];
  }

  runs() {
    return this.byRun;
  }

  protected takeSnapshot(snapshot: Snapshot): void {
    this.current = snapshot;
    if (!this.byRun.has(snapshot.runId))
      this.byRun.set(snapshot.runId, { firstSeq: snapshot.seq + 1, events: [] });
    this.notify();
  }

  protected takeEvent(event: StationEvent): void {
    const state = this.state();
    this.byRun.get(state.runId)!.events.push(event);
    this.current = reduce(state, event);
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  waitFor(what: string, predicate: (state: Snapshot) => boolean, timeoutMs = 20_000): Promise<Snapshot> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.current && predicate(this.current)) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(this.current);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; slots: ${JSON.stringify(
              this.current?.slots.map((s) => [s.name, s.state, s.result?.error?.code ?? null]),
            )}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

/**
 * A scenario station's config: the sandbox with four virtual boards, plus a second recipe whose units wait for a
 * scanned serial number (so both continuous on-plug mode and scanning can be shown on one station).
 */
export function writeScenarioConfig(dir: string, virtualBoards = 4): string {
  const config = JSON.parse(readFileSync('station-config/sandbox.json', 'utf8')) as {
    $schema?: string;
    station: Record<string, unknown>;
    recipes: Array<Record<string, unknown>>;
  };
  delete config.$schema;
  config.station.id = 'scenario-station';
  config.station.dataDir = join(dir, 'data');
  (config as unknown as { slots: { virtualBoards: { count: number } } }).slots.virtualBoards.count =
    virtualBoards;
  const labelled = structuredClone(config.recipes[0]!);
  labelled.id = 'sandbox-sensor-labelled';
  labelled.name = 'Sandbox sensor (labelled)';
  labelled.metadata = [{ name: 'Serial Number', from: 'scan:serialNumber', required: true }];
  config.recipes.push(labelled);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'scenario-station.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  copyFileSync('station-config/schema/station-config.schema.json', join(dir, 'station-config.schema.json'));
  return file;
}

/** The station in this process; a "crash" is a power cut at a journal boundary (the trail stops mid-unit). */
export class InProcessClient extends ClientState implements ScenarioClient {
  readonly kind = 'in-process' as const;
  private station: Station | undefined;
  private unsubscribe: (() => void) | undefined;
  private crashAt: ((entry: JournalEntry) => boolean) | undefined;
  private poweredOff = false;

  private constructor(
    private readonly configFile: string,
    readonly dataDir: string,
  ) {
    super();
  }

  static async open(configFile: string, dataDir: string): Promise<InProcessClient> {
    const client = new InProcessClient(configFile, dataDir);
    await client.start();
    return client;
  }

  get databaseFile(): string {
    return join(this.dataDir, 'station.sqlite');
  }

  get stationForTest(): Station {
    if (!this.station) throw new Error('the station is not running');
    return this.station;
  }

  private async start(): Promise<void> {
    this.poweredOff = false;
    const loaded = loadStationConfig(this.configFile);
    if (!loaded.ok) throw new Error(`scenario config does not load: ${JSON.stringify(loaded)}`);
    // What a power cut looks like to the trail: this entry never reaches the disk, and nothing after it does.
    const powerCut = (entry: JournalEntry) => {
      if (this.crashAt?.(entry)) {
        this.crashAt = undefined;
        this.poweredOff = true;
      }
      return this.poweredOff ? new AuditWriteError(new Error('simulated power cut')) : null;
    };
    const wrapJournal = (inner: UnitJournal): UnitJournal => ({
      record: (entry) => {
        const cut = powerCut(entry);
        if (cut) throw cut;
        inner.record(entry);
      },
      recordDurably: (entry) => {
        const cut = powerCut(entry);
        return cut ? Promise.reject(cut) : inner.recordDurably(entry);
      },
    });
    this.station = await openStation({
      config: loaded.config,
      paths: loaded.paths,
      secrets: new EnvFileSecretStore({ dir: join(this.dataDir, 'secrets') }),
      dataDir: this.dataDir,
      wrapJournal,
    });
    this.connect();
  }

  private connect(): void {
    const station = this.stationForTest;
    const snapshot = station.snapshot();
    if (this.current?.runId !== snapshot.runId) this.takeSnapshot(snapshot);
    this.unsubscribe = station.subscribe((event) => this.takeEvent(event));
  }

  execute<N extends CommandName>(name: N, input: CommandInput<N>): Promise<CommandResult<N>> {
    return this.stationForTest.execute(name, input);
  }

  async dropAndResume(pause?: () => Promise<void>): Promise<void> {
    this.unsubscribe?.();
    await pause?.();
    const missed = this.stationForTest.eventsAfter(this.state().seq);
    if (missed === null) throw new Error('events no longer retained');
    for (const event of missed) this.takeEvent(event);
    this.unsubscribe = this.stationForTest.subscribe((event) => this.takeEvent(event));
  }

  async crashDuring(slot: string, step: StepName): Promise<void> {
    const running = await this.waitFor(`a unit running on ${slot}`, (s) =>
      s.slots.some((x) => x.name === slot && x.state === 'running' && x.unit !== null),
    );
    const unitId = running.slots.find((x) => x.name === slot)!.unit!.unitId;
    this.crashAt = (entry) => entry.unitId === unitId && entry.kind === 'step.started' && entry.step === step;
    await this.waitFor('the station to stop', (s) => s.stopped !== null);
    this.unsubscribe?.();
    await this.station?.close();
    this.station = undefined;
  }

  async restart(): Promise<void> {
    await this.start();
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.station?.close();
    this.station = undefined;
  }
}
