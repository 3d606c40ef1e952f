/**
 * Shipping until stopped: a round every interval; while the central database is unreachable a longer wait each
 * time (up to 30 s); a refusal ends the loop (it will not change by itself). Whoever runs it (the station service,
 * `station sync`) hears the status whenever it changes: how far behind the station is, and why.
 */
import { CentralRefusedError, LocalTrailError, type ShipResult, type TrailShipper } from './shipper';

export type CentralState = 'starting' | 'catching-up' | 'caught-up' | 'down' | 'refused';

export interface CentralStatus {
  /** The database, as it may be shown (no password). */
  url: string;
  state: CentralState;
  /** The last seq the central database holds of this station (null until it has answered). */
  centralSeq: number | null;
  localSeq: number;
  /** Events not shipped yet (null until the database has answered). */
  behind: number | null;
  /** When a round last reached the database. */
  lastContactAt: string | null;
  /** Why it is down or refused. */
  problem: string | null;
}

const MAX_BACKOFF_MS = 30_000;

export class ShippingLoop {
  private current: CentralStatus;
  private readonly stopped = new AbortController();
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly options: {
      shipper: TrailShipper;
      url: string;
      intervalMs?: number;
      onStatus: (status: CentralStatus, round: ShipResult | null) => void;
      now?: () => Date;
    },
  ) {
    this.current = {
      url: options.url,
      state: 'starting',
      centralSeq: null,
      localSeq: options.shipper.localSeq(),
      behind: null,
      lastContactAt: null,
      problem: null,
    };
  }

  get status(): CentralStatus {
    return this.current;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Settles when the loop ends: stopped, or refused. */
  get finished(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    let backoffMs = 1000;
    const now = this.options.now ?? (() => new Date());
    while (!this.stopped.signal.aborted) {
      let waitMs = this.options.intervalMs ?? 1000;
      try {
        const round = await this.options.shipper.shipPending();
        this.update(
          {
            state: round.behind === 0 ? 'caught-up' : 'catching-up',
            centralSeq: round.centralSeq,
            localSeq: round.localSeq,
            behind: round.behind,
            lastContactAt: now().toISOString(),
            problem: null,
          },
          round,
        );
        backoffMs = 1000;
        if (round.behind > 0) waitMs = 0;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof CentralRefusedError || error instanceof LocalTrailError) {
          this.update(
            { state: 'refused', problem: message, localSeq: this.options.shipper.localSeq() },
            null,
          );
          return;
        }
        const localSeq = this.options.shipper.localSeq();
        this.update(
          {
            state: 'down',
            problem: `${message}; the station keeps provisioning and ships once the database is back`,
            localSeq,
            behind: this.current.centralSeq === null ? null : localSeq - this.current.centralSeq,
          },
          null,
        );
        waitMs = backoffMs;
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
      }
      await this.sleep(waitMs);
    }
  }

  private update(change: Partial<CentralStatus>, round: ShipResult | null): void {
    const next = { ...this.current, ...change };
    const changed =
      next.state !== this.current.state ||
      next.centralSeq !== this.current.centralSeq ||
      next.problem !== this.current.problem ||
      (next.state === 'down' && next.localSeq !== this.current.localSeq);
    this.current = next;
    if (changed) this.options.onStatus(next, round);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
