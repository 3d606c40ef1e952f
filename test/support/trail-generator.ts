/**
 * A valid station audit trail of any size (1,000,000 units and more), for QA query tests and benchmarks.
 *
 * Why not the station's write path: `AuditStore.append` validates, resolves and commits each event in its own
 * immediate transaction with synchronous=FULL, which is right for a station and days of work for a million units.
 * This writes the same rows straight into the product's own schema instead, with better-sqlite3, in large
 * transactions with no journal and no fsync (1,000,000 units: about 2.5 minutes on two busy cores, ~3.1 GB):
 *
 * - The file is created by the real `AuditStore.open` and closed again, so the tables, indexes, triggers,
 *   `user_version` and the `meta` row (`station_id`, the only one the store keeps) are exactly the product's.
 *   Some indexes are dropped while loading and made again at the end from their own CREATE INDEX text; the
 *   foreign keys are checked once at the end; the file is left in WAL mode, and AuditStore.open opens it again.
 * - Every event's hash is the one `eventHash` (hash-chain.ts) gives for the row exactly as stored, chained by
 *   prev_hash, its details stored as `canonicalJson`, as store.ts does. `rowHash` computes it without
 *   canonicalizing the whole row again, and is checked against `eventHash` on one event in a thousand.
 * - With a signer it mirrors the station: `station.identity` then an `opened` checkpoint when the station starts,
 *   an `interval` checkpoint whenever `checkpointEvery` events have passed since the last one (store.ts `write`),
 *   `batch-closed` after each batch.closed, and `shutdown` / `opened` when the station restarts and at the end.
 * - The `batches` and `units` rows are what projections.ts gives when the events are replayed: the generator keeps
 *   each row in memory with the same rules (`mirror` below) and inserts it once, when its batch is done.
 *   `verifyAuditChain(file, { replayViews: true })` checks all of it; the tests run it on a 20,000-unit trail.
 *
 * Events come out in time order: each unit's events are queued with their times, and the queue is drained up to
 * the next unit's start, so several slots' units interleave as they do on a real 8-slot station.
 * Everything is drawn from a small seeded PRNG (sfc32), so the same options give the same file, byte for byte in
 * the events (same hashes); only `seconds` in the report differs.
 *
 * Per unit (first attempt): `unit.started` (operator, slot, port, scanned serial), `unit.identified` (soc, 16-hex
 * mcuId, firmware) when the board got that far, and `unit.finished` (durationMs, 16-hex deviceId once the device
 * record exists). A failed or cancelled unit also has the failing `step.finished` (errorCode, message, retrySafe,
 * the backend requests for BACKEND_* codes); an attention unit ends with `unit.attention` instead of finishing.
 * A passed unit has no step events, to keep a million units small: its `last_step` is null.
 * Around those: operator.login/logout at each shift change (06:00, 14:00, 22:00 UTC), config.recorded and
 * batch.opened per batch, batch.closed (all batches but the last, which stays open as a station's current batch),
 * a few scan.refused (a duplicate serial label), retry.authorized before a re-run that was not safe to retry,
 * re-provisioned units (a second unit.started on the same unit id at the end of its batch: attempt 2), and QA
 * notes (unit.note). No `signature` events: `reviewed_at` and `released_at` stay null.
 */
import { createHash, hash as sha256Hex } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { STEP_NAMES, type StepName } from '../../electron/station-api';
import {
  auditTimestamp,
  type AuditEventKind,
  type CheckpointReason,
  type UnitState,
} from '../../electron/audit/events';
import { canonicalJson, eventHash, GENESIS_HASH, type EventRowFields } from '../../electron/audit/hash-chain';
import { MIGRATIONS, SCHEMA_VERSION } from '../../electron/audit/schema';
import { checkpointMessage, signerFromSeed, type TrailSigner } from '../../electron/audit/signing';
import { AuditStore, EVENT_COLUMNS } from '../../electron/audit/store';

export type { TrailSigner };

/**
 * Bump whenever what the generator writes changes (event mix, details, defaults): the cache in
 * `generatedTrailFile` is keyed by it, together with the schema version, so a stale file is never reused.
 */
export const TRAIL_GENERATOR_VERSION = 1;

export const DEFAULT_TRAIL_STATION = 'line1-station2';
export const DEFAULT_OPERATORS: readonly string[] = [
  'ann',
  'ben',
  'chloe',
  'dmitri',
  'emma',
  'farid',
  'greta',
  'hiro',
];

export interface TrailOptions {
  /** Where to write; must not exist yet (the generator never writes over a file it did not make). */
  file: string;
  /** Distinct unit ids (a re-provisioned unit counts once). */
  units: number;
  seed?: number;
  stationId?: string;
  /** Signs checkpoints as the station would; without one the trail is chained but unsigned, like old software. */
  signer?: TrailSigner;
  /** As `AuditStoreOptions.checkpointEvery` (default 100). */
  checkpointEvery?: number;
  /** Units per production batch (default 5000). */
  batchSize?: number;
  /** Station operators, one per shift in turn (default DEFAULT_OPERATORS, 8 names). */
  operators?: string[];
  /** Slots of the station (default 8): slot numbers 0..slots-1. */
  slots?: number;
  /** Share of first attempts that fail (default 0.03). */
  failureRate?: number;
  /** When the station first starts (default 2025-01-06T05:55:00.000Z, a Monday before the early shift). */
  startAt?: Date;
  /** Time between two board starts (default 9000 ms: 8 slots of about a minute's work each). */
  unitSpacingMs?: number;
}

export interface TrailBatch {
  id: string;
  name: string;
  recipeId: string;
  /** Distinct units in the batch. */
  units: number;
}

/** A unit as the `units` view holds it at the end (camelCase of its columns). */
export interface TrailUnitSample {
  unitId: string;
  batchId: string;
  slot: number | null;
  soc: string | null;
  mcuId: string | null;
  deviceId: string | null;
  serialNumber: string | null;
  state: UnitState;
  errorCode: string | null;
  lastStep: string | null;
  operator: string | null;
  attempt: number;
  startedAt: string;
  endedAt: string | null;
}

export interface GeneratedTrail {
  file: string;
  stationId: string;
  seed: number;
  units: number;
  events: number;
  checkpoints: number;
  /** The signer's fingerprint, or null for an unsigned trail. */
  publicKeyFp: string | null;
  batches: TrailBatch[];
  /** How the units ended (final state of their latest attempt), and failed/cancelled/attention units by code. */
  counts: {
    passed: number;
    failed: number;
    cancelled: number;
    attention: number;
    /** Units with attempt > 1. */
    reprovisioned: number;
    notes: number;
    byErrorCode: Record<string, number>;
  };
  firstAt: string;
  lastAt: string;
  /** Wall time of the generation, including the two AuditStore.open calls. */
  seconds: number;
  bytes: number;
  /** Known units for tests to look up: the first of each kind, in unit order. */
  sample: {
    /** Failed late enough to have a device id, so every search field is set. */
    failed: TrailUnitSample | null;
    passed: TrailUnitSample | null;
    /** Passed on its second attempt. */
    reprovisioned: TrailUnitSample | null;
    cancelled: TrailUnitSample | null;
    attention: TrailUnitSample | null;
    note: { unitId: string; operator: string; text: string } | null;
  };
}

// --- the seeded PRNG --------------------------------------------------------------------------------------------

/** sfc32 seeded through splitmix32: small, fast, and the same sequence on every machine (Math.random is not). */
class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const split = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** In [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  weighted<T extends { weight: number }>(items: readonly T[]): T {
    const total = items.reduce((sum, item) => sum + item.weight, 0);
    let r = this.next() * total;
    for (const item of items) {
      r -= item.weight;
      if (r < 0) return item;
    }
    return items[items.length - 1]!;
  }

  /** Lowercase hex of 32 random bits, 8 characters. */
  hex8(): string {
    const x = this.u32();
    return HEX[x >>> 24]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
  }

  /** A version-4 UUID (the store's randomUUID shape, which verify and zod's z.uuid() accept). */
  uuid(): string {
    const h = this.hex8() + this.hex8() + this.hex8() + this.hex8();
    const variant = '89ab'[this.u32() >>> 30]!;
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// --- what is produced -------------------------------------------------------------------------------------------

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Details = { [key: string]: Json };

interface Recipe {
  id: string;
  soc: string;
  firmwareVersion: string;
  /** Whether its boards carry a label that is scanned (the serial number the units view keeps). */
  scanned: boolean;
}

/** Two or three recipes as a real line runs them; a gateway has no label to scan, so its units have no serial. */
const RECIPES: readonly Recipe[] = [
  { id: 'sensor-v2', soc: 'nRF52840', firmwareVersion: '2.4.1', scanned: true },
  { id: 'tracker-v3', soc: 'nRF9151', firmwareVersion: '3.0.2', scanned: true },
  { id: 'gateway-v1', soc: 'nRF5340', firmwareVersion: '1.9.0', scanned: false },
];
/**
 * Which recipe each batch runs, in turn from a seeded start: 3 sensor : 2 tracker : 1 gateway, and never the same
 * twice running, so even a trail of two batches has two recipes for QA's recipe filter.
 */
const RECIPE_TURNS = [0, 1, 0, 2, 0, 1];

/** The steps of a unit, in order (a failure's step decides what the unit got before it). */
const STEPS = STEP_NAMES;
type Step = StepName;
const IDENTIFIED_AFTER = STEPS.indexOf('identify');
const DEVICE_AFTER = STEPS.indexOf('device-record');

interface FailureMode {
  code: string;
  step: Step;
  weight: number;
  retrySafe: boolean;
  message: string;
  backend?: { method: string; endpoint: string; outcome: string; status?: number; durationMs: number };
}

/**
 * Failures as the station's own codes name them (provisioning/errors.ts, SERIAL_<code>, backend BACKEND_*), at the
 * step that raises them, weighted roughly as a line sees them: backend hiccups and flaky contacts most often.
 */
const FAILURES: readonly FailureMode[] = [
  {
    code: 'BACKEND_TIMEOUT',
    step: 'device-record',
    weight: 14,
    retrySafe: true,
    message: 'The cloud did not answer in time. Check the network, then retry the slot.',
    backend: { method: 'POST', endpoint: '/device', outcome: 'timeout', durationMs: 10_000 },
  },
  {
    code: 'BACKEND_TIMEOUT',
    step: 'cloud-key',
    weight: 5,
    retrySafe: true,
    message: 'The cloud did not answer in time. Check the network, then retry the slot.',
    backend: {
      method: 'GET',
      endpoint: '/device/deviceId/{deviceId}',
      outcome: 'timeout',
      durationMs: 10_000,
    },
  },
  {
    code: 'BACKEND_UNAVAILABLE',
    step: 'device-record',
    weight: 4,
    retrySafe: true,
    message: 'The cloud is unavailable right now (503). Retry in a few minutes.',
    backend: { method: 'POST', endpoint: '/device', outcome: 'http-error', status: 503, durationMs: 240 },
  },
  {
    code: 'SERIAL_TIMEOUT',
    step: 'connect',
    weight: 10,
    retrySafe: true,
    message: 'The board did not answer on its serial port. Reseat it in the fixture, then retry.',
  },
  {
    code: 'SERIAL_TIMEOUT',
    step: 'write-credentials',
    weight: 6,
    retrySafe: true,
    message: 'The board stopped answering while its credentials were written. Retry the slot.',
  },
  {
    code: 'BOARD_LOCKED',
    step: 'identify',
    weight: 8,
    retrySafe: false,
    message: 'The board is read-protected and cannot be provisioned. Set it aside for rework.',
  },
  {
    code: 'SOC_MISMATCH',
    step: 'identify',
    weight: 3,
    retrySafe: false,
    message: 'The board is not the chip this recipe is for. Check the batch and the board.',
  },
  {
    code: 'FIRMWARE_NOT_ALLOWED',
    step: 'recipe-checks',
    weight: 4,
    retrySafe: false,
    message: 'The board runs firmware this recipe does not allow. Reflash it, then run it again.',
  },
  {
    code: 'READBACK_MISMATCH',
    step: 'write-credentials',
    weight: 6,
    retrySafe: false,
    message: 'What the board read back differs from what was written. A supervisor must approve a retry.',
  },
  {
    code: 'VERIFY_FAILED',
    step: 'verify',
    weight: 12,
    retrySafe: true,
    message: 'The board could not prove it holds the right key. Retry the slot.',
  },
  {
    code: 'COMMUNICATION_CHECK_FAILED',
    step: 'communication-check',
    weight: 12,
    retrySafe: true,
    message: 'The device did not reach the cloud in time. Check the antenna and coverage, then retry.',
  },
];

const CANCEL: FailureMode = {
  code: 'CANCELLED',
  step: 'key-agreement',
  weight: 0,
  retrySafe: true,
  message: 'Provisioning of this slot was cancelled: retry to run it again.',
};

/** A unit that ends in `attention`: the board's state is uncertain and someone must look before it runs again. */
const ATTENTION = {
  code: 'SERIAL_DISCONNECTED',
  reason: 'The board was unplugged while its credentials were written: check it before it is run again.',
};

const QA_PEOPLE = ['qa.maria', 'qa.jonas'];
const SUPERVISOR = 'sup.kowalski';
const NOTES_FAILED = [
  'Set aside for rework: connector pins bent.',
  'Sent to failure analysis with the fixture log.',
  'Board reflashed by engineering, to be re-run next batch.',
];
const NOTES_PASSED = ['Label reprinted (smudged).', 'Checked by QA after the fixture was recalibrated.'];

// Besides failureRate, "a few" of each. The rarest are counted per batch rather than drawn per unit, so every
// batch has at least one of each and QA filters and searches find them on any trail, however small.
const CANCEL_RATE = 0.002;
/** One unit left in `attention` per this many units of a batch (at least one per batch). */
const UNITS_PER_ATTENTION = 5000;
/** One refused duplicate-label scan per this many units (at least one per batch with labels). */
const UNITS_PER_DUPLICATE_SCAN = 2000;
/** One QA note per this many units (at least one per batch). */
const UNITS_PER_NOTE = 1000;
/** Of failed (or cancelled) first attempts, how many are run again at the end of their batch. */
const REPROVISION_RATE = 0.3;
const REPROVISION_PASSES = 0.85;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SHIFT_MS = 8 * HOUR;
/** Shifts start at 06:00, 14:00 and 22:00 UTC. */
const SHIFT_ORIGIN = 6 * HOUR;
/** Rows between two yields to the event loop (a few hundred ms of work). */
const YIELD_ROWS = 50_000;
/**
 * Rows per transaction. Each commit writes every page it dirtied, and the random keys (event ids, hashes) dirty
 * pages all over their indexes, so the fewer commits the fewer times the same page is written: 1,000,000 rows
 * measured fastest, and with no journal a large transaction costs no memory beyond the page cache.
 */
const TRANSACTION_ROWS = 1_000_000;

// --- the views, as projections.ts keeps them ---------------------------------------------------------------------

interface UnitRow {
  id: string;
  batch_id: string;
  slot: number | null;
  soc: string | null;
  mcu_id: string | null;
  device_id: string | null;
  serial_number: string | null;
  state: UnitState;
  last_step: string | null;
  outcome: 'passed' | 'failed' | 'cancelled' | null;
  error_code: string | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  attempt: number;
  operator: string | null;
  reviewed_at: string | null;
  last_seq: number;
}

interface BatchRow {
  id: string;
  name: string;
  recipe_id: string;
  config_sha256: string;
  operator: string | null;
  opened_at: string;
  closed_at: string | null;
  state: 'open' | 'closed';
  released_at: string | null;
  last_seq: number;
}

/** One event before it has a place in the chain. */
interface EventSpec {
  kind: AuditEventKind;
  operator: string | null;
  batchId: string | null;
  unitId: string | null;
  slot: number | null;
  step: string | null;
  outcome: string | null;
  details: Details;
}

interface Pending {
  t: number;
  order: number;
  spec: EventSpec;
}

/** A min-heap on (time, insertion order): equal times keep the order they were queued in. */
class EventQueue {
  private readonly items: Pending[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Pending | undefined {
    return this.items[0];
  }

  push(item: Pending): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): Pending | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && before(items[l]!, items[m]!)) m = l;
        if (r < items.length && before(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: Pending, b: Pending) => a.t < b.t || (a.t === b.t && a.order < b.order);

/** A board as it sits in the fixture: what it is, whatever its attempts do. */
interface Board {
  unitId: string;
  batchId: string;
  recipe: Recipe;
  slot: number;
  serial: string | null;
  mcuId: string;
  deviceId: string;
}

type AttemptEnd =
  { kind: 'passed' } | { kind: 'failed' | 'cancelled'; failure: FailureMode } | { kind: 'attention' };

interface Resolved {
  file: string;
  units: number;
  seed: number;
  stationId: string;
  signer: TrailSigner | undefined;
  checkpointEvery: number;
  batchSize: number;
  operators: readonly string[];
  slots: number;
  failureRate: number;
  startAt: number;
  spacing: number;
}

// --- the generator ----------------------------------------------------------------------------------------------

class TrailWriter {
  private readonly rng: Prng;
  private readonly insertEvent: Database.Statement;
  private readonly insertBatch: Database.Statement;
  private readonly insertUnit: Database.Statement;
  private readonly queue = new EventQueue();
  private order = 0;
  private seq = 0;
  private head = GENESIS_HASH;
  private lastCheckpointSeq = 0;
  private lastT = 0;
  private firstAt: string | null = null;
  private rowsInTransaction = 0;
  private rowsSinceYield = 0;
  private checkpoints = 0;
  /** The shift whose operator is logged in, and when the next one starts. */
  private shift: number;
  private nextShiftAt: number;
  private operator: string;
  private sessionDay: number;
  private serialCounter = 0;
  private configCounter = 0;
  /** The open batch's views, written once it is done. */
  private batch: BatchRow | null = null;
  private readonly units = new Map<string, UnitRow>();
  private readonly batches: TrailBatch[] = [];
  /** Serials of passed units (the latest 10,000): the labels a duplicate scan repeats. */
  private readonly passedSerials: string[] = [];
  /** How each unit's first attempt ends, and when: the batch tail decides the re-runs from it. */
  private readonly plannedEnd = new Map<string, { end: AttemptEnd; at: number }>();
  readonly counts: GeneratedTrail['counts'] = {
    passed: 0,
    failed: 0,
    cancelled: 0,
    attention: 0,
    reprovisioned: 0,
    notes: 0,
    byErrorCode: {},
  };
  readonly sample: GeneratedTrail['sample'] = {
    failed: null,
    passed: null,
    reprovisioned: null,
    cancelled: null,
    attention: null,
    note: null,
  };

  constructor(
    private readonly db: Database.Database,
    private readonly o: Resolved,
  ) {
    this.rng = new Prng(o.seed);
    this.insertEvent = db.prepare(
      `INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertBatch = db.prepare(
      `INSERT INTO batches (id, name, recipe_id, config_sha256, operator, opened_at, closed_at, state, released_at,
                            last_seq)
       VALUES (@id, @name, @recipe_id, @config_sha256, @operator, @opened_at, @closed_at, @state, @released_at,
               @last_seq)`,
    );
    this.insertUnit = db.prepare(
      `INSERT INTO units (id, batch_id, slot, soc, mcu_id, device_id, serial_number, state, last_step, outcome,
                          error_code, started_at, ended_at, duration_ms, attempt, operator, reviewed_at, last_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.shift = Math.floor((o.startAt - SHIFT_ORIGIN) / SHIFT_MS);
    this.nextShiftAt = (this.shift + 1) * SHIFT_MS + SHIFT_ORIGIN;
    this.operator = this.operatorOf(this.shift);
    this.sessionDay = Math.floor(o.startAt / (24 * HOUR));
  }

  async run(): Promise<void> {
    const o = this.o;
    this.db.exec('BEGIN');
    let t = o.startAt;
    this.startStation(t);
    let made = 0;
    for (let b = 0; made < o.units; b++) {
      const count = Math.min(o.batchSize, o.units - made);
      t = this.openBatch(t + 2 * MINUTE, b);
      const boards: Board[] = [];
      const firstStart = t + MINUTE;
      const attention = this.someOf(count, UNITS_PER_ATTENTION, 0);
      // In the batch's second half, when earlier boards have passed with labels a wrong one can repeat.
      const duplicates = this.someOf(count, UNITS_PER_DUPLICATE_SCAN, Math.floor(count / 2));
      const noted = this.someOf(count, UNITS_PER_NOTE, 0);
      for (let k = 0; k < count; k++) {
        const start = firstStart + k * o.spacing;
        this.advanceTo(start);
        boards.push(this.firstAttempt(start, k % o.slots, attention.has(k), duplicates.has(k)));
        await this.pause();
      }
      made += count;
      this.batchTail(
        firstStart + count * o.spacing,
        boards,
        boards.filter((_, k) => noted.has(k)),
      );
      this.drain();
      const last = made >= o.units;
      if (!last) {
        t = this.lastT + 5 * MINUTE;
        this.emitAt(
          t,
          this.envelope(
            'batch.closed',
            { operator: this.operator, batchId: this.batch!.id },
            { reason: 'target quantity reached' },
          ),
        );
        this.checkpoint('batch-closed', t);
      }
      this.writeViews();
      await this.pause();
      if (last) break;
      // A changeover between batches (new fixture settings, new boxes of boards), and once a day the station is
      // restarted then: a clean shutdown, signed, and the next start's `opened` checkpoint.
      t += Math.round(this.rng.between(10, 30) * MINUTE);
      const day = Math.floor(t / (24 * HOUR));
      if (day !== this.sessionDay) {
        this.sessionDay = day;
        this.stopStation(this.lastT + MINUTE, true);
      }
    }
    this.stopStation(this.lastT + MINUTE, false);
    this.db.exec('COMMIT');
  }

  get report() {
    return {
      events: this.seq,
      checkpoints: this.checkpoints,
      batches: this.batches,
      firstAt: this.firstAt ?? '',
      lastAt: this.lastT > 0 ? auditTimestamp(new Date(this.lastT)) : '',
    };
  }

  /** Now and then: let timers and IPC run (a vitest worker stays responsive), and commit a large transaction. */
  private async pause(): Promise<void> {
    if (this.rowsSinceYield < YIELD_ROWS) return;
    this.rowsSinceYield = 0;
    if (this.rowsInTransaction >= TRANSACTION_ROWS) {
      this.db.exec('COMMIT');
      this.rowsInTransaction = 0;
      this.db.exec('BEGIN');
    }
    await nextTurn();
  }

  private operatorOf(shift: number): string {
    const list = this.o.operators;
    return list[((shift % list.length) + list.length) % list.length]!;
  }

  // --- station and shifts ---------------------------------------------------------------------------------------

  /** As open-station.ts: recordIdentity (the key never changes here, so once), checkpoint('opened'), a login. */
  private startStation(t: number): void {
    const signer = this.o.signer;
    this.advanceTo(t + 20_000);
    if (signer) {
      this.emit(
        t,
        this.envelope(
          'station.identity',
          {},
          {
            algorithm: 'ed25519',
            stationPublicKey: signer.publicKey.toString('base64'),
            publicKeyFp: signer.fingerprint,
          },
        ),
      );
    }
    this.checkpoint('opened', t);
    this.emit(t + 20_000, this.envelope('operator.login', { operator: this.operator }, { role: 'operator' }));
  }

  /**
   * A clean shutdown (station.ts: the operator's session closed, a `shutdown` checkpoint), then, unless it is the
   * end, the next start. Shift changes are written before: nothing but a checkpoint may follow a shutdown.
   */
  private stopStation(t: number, restart: boolean): void {
    const startAt = t + 2 * MINUTE;
    this.advanceTo(restart ? startAt + 20_000 : t);
    this.emit(
      t,
      this.envelope('operator.logout', { operator: this.operator }, { reason: 'the station was shut down' }),
    );
    this.checkpoint('shutdown', t + 500);
    if (!restart) return;
    this.checkpoint('opened', startAt);
    this.emit(
      startAt + 20_000,
      this.envelope('operator.login', { operator: this.operator }, { role: 'operator' }),
    );
  }

  /** Writes the events due by `t`, then this one at `t`. */
  private emitAt(t: number, spec: EventSpec): void {
    this.advanceTo(t);
    this.emit(t, spec);
  }

  /** Queues the shift changes up to `t`, then writes every queued event due by then. */
  private advanceTo(t: number): void {
    while (this.nextShiftAt <= t) {
      const at = this.nextShiftAt;
      this.queue.push({
        t: at,
        order: this.order++,
        spec: this.envelope('operator.logout', { operator: this.operator }, { reason: 'shift end' }),
      });
      this.shift++;
      this.operator = this.operatorOf(this.shift);
      this.queue.push({
        t: at,
        order: this.order++,
        spec: this.envelope('operator.login', { operator: this.operator }, { role: 'operator' }),
      });
      this.nextShiftAt += SHIFT_MS;
    }
    for (let next = this.queue.peek(); next && next.t <= t; next = this.queue.peek()) {
      this.queue.pop();
      this.emit(next.t, next.spec);
    }
  }

  /** Writes everything still queued (shift changes included, up to the last queued event). */
  private drain(): void {
    for (let next = this.queue.peek(); next; next = this.queue.peek()) this.advanceTo(next.t);
  }

  private schedule(t: number, spec: EventSpec): void {
    this.queue.push({ t, order: this.order++, spec });
  }

  // --- batches and units ----------------------------------------------------------------------------------------

  /** config.recorded then batch.opened, as batch-runtime.ts `open` records them. Returns when it was opened. */
  private openBatch(t: number, index: number): number {
    const recipe = RECIPES[RECIPE_TURNS[(index + this.o.seed) % RECIPE_TURNS.length]!]!;
    const batchId = this.rng.uuid();
    // The config changes now and then (a new recipe revision, a rotated secret): a new fingerprint each time.
    if (index === 0 || this.rng.next() < 0.2) this.configCounter++;
    const configSha256 = sha256(`config:${this.o.seed}:${this.configCounter}`);
    const secretSha = sha256(`secret:${this.o.seed}:${this.configCounter}`);
    this.emitAt(
      t,
      this.envelope(
        'config.recorded',
        { operator: this.operator, batchId },
        {
          configSha256,
          environment: 'production',
          recipeIds: RECIPES.map((r) => r.id),
          secretFingerprints: [
            { name: 'infuse-api-key', fingerprint: `sha256:${secretSha.slice(0, 16)}` },
            { name: 'network-key', fingerprint: `sha256:${secretSha.slice(16, 32)}` },
          ],
        },
      ),
    );
    const workOrder = `WO-${String(10_000 + ((this.o.seed * 7919 + index) % 90_000)).padStart(5, '0')}-${index + 1}`;
    const name = `${workOrder} ${recipe.id}`;
    const opened = t + 1500;
    this.emitAt(
      opened,
      this.envelope(
        'batch.opened',
        { operator: this.operator, batchId },
        { name, recipeId: recipe.id, configSha256, workOrder, targetQuantity: this.o.batchSize },
      ),
    );
    this.batches.push({ id: batchId, name, recipeId: recipe.id, units: 0 });
    return opened;
  }

  private currentRecipe(): Recipe {
    const id = this.batch!.recipe_id;
    return RECIPES.find((r) => r.id === id)!;
  }

  /** About count / per distinct indexes in [from, count), at least one. */
  private someOf(count: number, per: number, from: number): Set<number> {
    const picked = new Set<number>();
    const wanted = Math.min(count - from, Math.max(1, Math.round(count / per)));
    while (picked.size < wanted) picked.add(from + this.rng.int(count - from));
    return picked;
  }

  private firstAttempt(start: number, slot: number, attention: boolean, duplicateScan: boolean): Board {
    const rng = this.rng;
    const recipe = this.currentRecipe();
    const board: Board = {
      unitId: rng.uuid(),
      batchId: this.batch!.id,
      recipe,
      slot,
      serial: recipe.scanned ? `SN-${String(++this.serialCounter).padStart(7, '0')}` : null,
      mcuId: rng.hex8() + rng.hex8(),
      deviceId: rng.hex8() + rng.hex8(),
    };
    // A label already used: the scan is refused (DUPLICATE_SERIAL) before the right label is scanned.
    if (duplicateScan && board.serial && this.passedSerials.length > 0) {
      const earlier = rng.pick(this.passedSerials);
      this.schedule(
        start - 4000,
        this.envelope(
          'scan.refused',
          { operator: this.operator, batchId: board.batchId, slot },
          {
            text: earlier,
            reason: `Serial number ${earlier} was already provisioned here: set this board aside and check its label.`,
            slotName: slotName(slot),
          },
        ),
      );
    }
    const r = rng.next();
    const rate = this.o.failureRate;
    const end: AttemptEnd = attention
      ? { kind: 'attention' }
      : r < rate
        ? { kind: 'failed', failure: rng.weighted(FAILURES) }
        : r < rate + CANCEL_RATE
          ? { kind: 'cancelled', failure: CANCEL }
          : { kind: 'passed' };
    this.plannedEnd.set(board.unitId, { end, at: this.attempt(board, start, 1, end) });
    return board;
  }

  /** Queues one attempt's events, as audit-journal.ts records them. Returns when the slot is free again. */
  private attempt(board: Board, start: number, attempt: number, end: AttemptEnd): number {
    const rng = this.rng;
    const o = this.o;
    const operator = this.operator;
    const unit = { operator, batchId: board.batchId, unitId: board.unitId, slot: board.slot };
    // A full run takes most of the time until the slot's next board: a little over a minute on 8 slots.
    const full = Math.round(o.slots * o.spacing * rng.between(0.55, 0.9));
    const stepMs = Math.round(full / STEPS.length);
    const scan: Details = board.serial ? { serialNumber: board.serial } : {};
    this.schedule(
      start,
      this.envelope('unit.started', unit, {
        port: `/dev/ttyACM${board.slot}`,
        slotName: slotName(board.slot),
        scan,
        attempt,
      }),
    );
    const failedAt = end.kind === 'failed' || end.kind === 'cancelled' ? STEPS.indexOf(end.failure.step) : -1;
    const reached = end.kind === 'passed' ? STEPS.length : end.kind === 'attention' ? 8 : failedAt;
    if (reached > IDENTIFIED_AFTER) {
      this.schedule(
        start + 2 * stepMs,
        this.envelope('unit.identified', unit, {
          soc: board.recipe.soc,
          mcuId: board.mcuId,
          cloudMcuId: board.mcuId,
          firmwareVersion: board.recipe.firmwareVersion,
        }),
      );
    }
    const hasDevice = reached > DEVICE_AFTER;
    if (end.kind === 'attention') {
      const at = start + 8 * stepMs;
      this.schedule(
        at,
        this.envelope('unit.attention', unit, { reason: ATTENTION.reason, errorCode: ATTENTION.code }),
      );
      return at;
    }
    if (end.kind === 'passed') {
      const at = start + full;
      this.schedule(
        at,
        this.envelope(
          'unit.finished',
          { ...unit, outcome: 'passed' },
          { durationMs: full, deviceId: board.deviceId },
        ),
      );
      return at;
    }
    const failure = end.failure;
    const stepDuration = failure.backend ? 3 * failure.backend.durationMs + 1000 : stepMs;
    const failedStepAt = start + failedAt * stepMs + stepDuration;
    const stepDetails: Details = {
      durationMs: stepDuration,
      measurements: {},
      errorCode: failure.code,
      message: failure.message,
      retrySafe: failure.retrySafe,
    };
    if (failure.backend) {
      const b = failure.backend;
      // The client's own retries: three attempts, each logged with its path template and outcome.
      stepDetails.backend = [1, 2, 3].map((n) => ({
        method: b.method,
        endpoint: b.endpoint,
        attempt: n,
        outcome: b.outcome,
        ...(b.status !== undefined && { status: b.status }),
        durationMs: b.durationMs,
        code: failure.code,
      }));
    }
    this.schedule(
      failedStepAt,
      this.envelope('step.finished', { ...unit, step: failure.step, outcome: 'failed' }, stepDetails),
    );
    const finishedAt = failedStepAt + 40 + rng.int(160);
    const finishDetails: Details = { durationMs: finishedAt - start };
    if (hasDevice) finishDetails.deviceId = board.deviceId;
    // A cancelled unit has no failed step (unit-workflow.ts: UnitStopped(error, null, 'cancelled')).
    if (end.kind === 'failed') finishDetails.failedStep = failure.step;
    finishDetails.errorCode = failure.code;
    finishDetails.message = failure.message;
    finishDetails.retrySafe = failure.retrySafe;
    this.schedule(finishedAt, this.envelope('unit.finished', { ...unit, outcome: end.kind }, finishDetails));
    return finishedAt;
  }

  /**
   * The end of a batch: some failed and cancelled boards are run again (the same unit id, attempt 2, on their
   * slot, a supervisor's retry.authorized first when the failure was not safe to retry), then QA's notes.
   */
  private batchTail(regularEnd: number, boards: Board[], noted: Board[]): void {
    const rng = this.rng;
    const o = this.o;
    // Long enough for any attempt (a full run, or a failure after three backend timeouts).
    const reserve = o.slots * o.spacing + 35_000;
    const slotFree = new Array<number>(o.slots).fill(regularEnd + 2 * MINUTE);
    const reruns: { board: Board; start: number; first: { end: AttemptEnd; at: number } }[] = [];
    for (const board of boards) {
      const first = this.plannedEnd.get(board.unitId)!;
      if ((first.end.kind === 'failed' || first.end.kind === 'cancelled') && rng.next() < REPROVISION_RATE) {
        // Never before the first attempt has ended: its unit.finished must come first in the chain.
        const start = Math.max(slotFree[board.slot]!, first.at + 30_000);
        slotFree[board.slot] = start + reserve;
        reruns.push({ board, start, first });
      }
    }
    // In time order, so each re-run is started by whoever is on shift then.
    reruns.sort((a, b) => a.start - b.start);
    for (const { board, start, first } of reruns) {
      this.advanceTo(start - 30_000);
      if (first.end.kind !== 'passed' && first.end.kind !== 'attention' && !first.end.failure.retrySafe) {
        this.schedule(
          start - 30_000,
          this.envelope(
            'retry.authorized',
            { operator: this.operator, unitId: board.unitId, batchId: board.batchId, slot: board.slot },
            {
              slotName: slotName(board.slot),
              reason: 'Board reseated and fixture contacts cleaned; safe to write again.',
              authorizedBy: SUPERVISOR,
              errorCode: first.end.failure.code,
            },
          ),
        );
      }
      this.attempt(board, start, 2, rng.next() < REPROVISION_PASSES ? { kind: 'passed' } : first.end);
    }
    let noteAt = Math.max(...slotFree) + 10 * MINUTE;
    for (const board of noted) {
      const failed = this.plannedEnd.get(board.unitId)!.end.kind !== 'passed';
      const text = rng.pick(failed ? NOTES_FAILED : NOTES_PASSED);
      const operator = rng.pick(QA_PEOPLE);
      this.schedule(
        noteAt,
        this.envelope(
          'unit.note',
          { operator, unitId: board.unitId, batchId: board.batchId, slot: board.slot },
          { text },
        ),
      );
      this.counts.notes++;
      this.sample.note ??= { unitId: board.unitId, operator, text };
      noteAt += 20_000 + rng.int(40_000);
    }
    this.plannedEnd.clear();
  }

  private envelope(
    kind: AuditEventKind,
    fields: Partial<Omit<EventSpec, 'kind' | 'details'>>,
    details: Details,
  ): EventSpec {
    return {
      kind,
      operator: fields.operator ?? null,
      batchId: fields.batchId ?? null,
      unitId: fields.unitId ?? null,
      slot: fields.slot ?? null,
      step: fields.step ?? null,
      outcome: fields.outcome ?? null,
      details,
    };
  }

  // --- the chain ------------------------------------------------------------------------------------------------

  private minute = Number.NaN;
  private minutePrefix = '';

  /** auditTimestamp(new Date(t)), with the date and minute formatted once a minute: a few seconds on 3M events. */
  private timestamp(t: number): string {
    const minute = Math.floor(t / MINUTE);
    if (minute !== this.minute) {
      this.minute = minute;
      this.minutePrefix = new Date(minute * MINUTE).toISOString().slice(0, 17);
    }
    const ms = t - minute * MINUTE;
    const seconds = Math.floor(ms / 1000);
    return `${this.minutePrefix}${seconds < 10 ? '0' : ''}${seconds}.${String(ms % 1000).padStart(3, '0')}+00:00`;
  }

  /** Appends one event: its place in the chain, its hash, the views; then an interval checkpoint when due. */
  private emit(time: number, spec: EventSpec, intervalCheck = true): void {
    // Never before the event before it: times only move forward along the chain.
    const t = Math.max(time, this.lastT);
    this.lastT = t;
    const seq = ++this.seq;
    const detailsJson = canonicalJson(spec.details);
    const fields: EventRowFields = {
      seq,
      event_id: this.rng.uuid(),
      at: this.timestamp(t),
      station_id: this.o.stationId,
      operator: spec.operator,
      batch_id: spec.batchId,
      unit_id: spec.unitId,
      slot: spec.slot,
      step: spec.step,
      kind: spec.kind,
      outcome: spec.outcome,
      details: spec.details,
      supersedes: null,
      prev_hash: this.head,
    };
    const hash = rowHash(fields, detailsJson);
    // The fast form is checked against the store's own hash function now and then while generating (and the
    // tests verify every event of a trail with it): a difference stops the generation rather than ship a bad file.
    if (seq % HASH_CHECK_EVERY === 1) {
      if (eventHash(fields) !== hash)
        throw new Error(
          `trail generator: event ${seq}'s hash differs from eventHash (hash-chain.ts changed?)`,
        );
      if (fields.at !== auditTimestamp(new Date(t)))
        throw new Error(
          `trail generator: event ${seq}'s time differs from auditTimestamp (events.ts changed?)`,
        );
    }
    this.insertEvent.run(
      seq,
      fields.event_id,
      fields.at,
      fields.station_id,
      fields.operator,
      fields.batch_id,
      fields.unit_id,
      fields.slot,
      fields.step,
      fields.kind,
      fields.outcome,
      detailsJson,
      null,
      fields.prev_hash,
      hash,
    );
    this.head = hash;
    this.rowsInTransaction++;
    this.rowsSinceYield++;
    this.firstAt ??= fields.at;
    this.mirror(fields);
    // store.ts `write`: in the same transaction as the event that made it due.
    if (intervalCheck && seq - this.lastCheckpointSeq >= this.o.checkpointEvery)
      this.checkpoint('interval', t);
  }

  /** store.ts `appendCheckpoint`: the signature over (station, seq, hash) of the event before it. */
  private checkpoint(reason: CheckpointReason, t: number): void {
    const signer = this.o.signer;
    if (!signer || this.seq === 0) return;
    const signature = signer
      .sign(checkpointMessage(this.o.stationId, this.seq, this.head))
      .toString('base64');
    this.emit(
      t,
      this.envelope('checkpoint', {}, { reason, publicKeyFp: signer.fingerprint, signature }),
      false,
    );
    this.lastCheckpointSeq = this.seq;
    this.checkpoints++;
  }

  // --- the views (projections.ts `apply`, for the kinds generated here) -------------------------------------------

  private mirror(e: EventRowFields): void {
    const d = e.details;
    switch (e.kind) {
      case 'batch.opened':
        this.batch = {
          id: e.batch_id!,
          name: String(d.name),
          recipe_id: String(d.recipeId),
          config_sha256: String(d.configSha256),
          operator: e.operator,
          opened_at: e.at,
          closed_at: null,
          state: 'open',
          released_at: null,
          last_seq: e.seq,
        };
        return;
      case 'batch.closed':
        this.batch!.state = 'closed';
        this.batch!.closed_at = e.at;
        this.batch!.last_seq = e.seq;
        return;
      case 'unit.started': {
        const scan = d.scan as { serialNumber?: string } | undefined;
        const serial = scan?.serialNumber ?? null;
        const existing = this.units.get(e.unit_id!);
        if (existing) {
          // restartUnit: a new attempt; soc/mcu/serial kept unless given, device_id kept, the rest starts over.
          existing.batch_id = e.batch_id!;
          existing.slot = e.slot;
          existing.serial_number = serial ?? existing.serial_number;
          existing.state = 'in-progress';
          existing.last_step = null;
          existing.outcome = null;
          existing.error_code = null;
          existing.started_at = e.at;
          existing.ended_at = null;
          existing.duration_ms = null;
          existing.attempt++;
          existing.operator = e.operator;
          existing.reviewed_at = null;
          existing.last_seq = e.seq;
        } else {
          this.units.set(e.unit_id!, {
            id: e.unit_id!,
            batch_id: e.batch_id!,
            slot: e.slot,
            soc: null,
            mcu_id: null,
            device_id: null,
            serial_number: serial,
            state: 'in-progress',
            last_step: null,
            outcome: null,
            error_code: null,
            started_at: e.at,
            ended_at: null,
            duration_ms: null,
            attempt: 1,
            operator: e.operator,
            reviewed_at: null,
            last_seq: e.seq,
          });
        }
        return;
      }
      case 'unit.identified': {
        const u = this.units.get(e.unit_id!)!;
        u.soc = str(d.soc) ?? u.soc;
        u.mcu_id = str(d.mcuId) ?? u.mcu_id;
        u.device_id = str(d.deviceId) ?? u.device_id;
        u.last_seq = e.seq;
        return;
      }
      case 'step.started':
      case 'step.finished': {
        const u = this.units.get(e.unit_id!)!;
        u.last_step = e.step;
        u.last_seq = e.seq;
        return;
      }
      case 'unit.attention': {
        const u = this.units.get(e.unit_id!)!;
        u.state = 'attention';
        u.error_code = str(d.errorCode) ?? u.error_code;
        u.last_seq = e.seq;
        return;
      }
      case 'unit.finished': {
        const u = this.units.get(e.unit_id!)!;
        const outcome = e.outcome === 'passed' || e.outcome === 'cancelled' ? e.outcome : 'failed';
        u.state = outcome;
        u.outcome = outcome;
        u.error_code = str(d.errorCode) ?? (outcome === 'passed' ? null : u.error_code);
        u.device_id = str(d.deviceId) ?? u.device_id;
        u.ended_at = e.at;
        u.duration_ms =
          typeof d.durationMs === 'number' ? d.durationMs : Date.parse(e.at) - Date.parse(u.started_at);
        u.last_seq = e.seq;
        if (outcome === 'passed' && u.serial_number) {
          if (this.passedSerials.length < 10_000) this.passedSerials.push(u.serial_number);
          else this.passedSerials[e.seq % 10_000] = u.serial_number;
        }
        return;
      }
      // Everything else generated here (identity, checkpoints, logins, config, scans, retries, notes) only adds to
      // the trail, as in projections.ts.
    }
  }

  /** The batch's rows as replaying its events gives them, inserted once its events are all written. */
  private writeViews(): void {
    const batch = this.batch!;
    this.insertBatch.run(batch);
    const entry = this.batches[this.batches.length - 1]!;
    for (const u of this.units.values()) {
      // Positional: binding 18 named parameters from an object costs more than the insert itself.
      this.insertUnit.run(
        u.id,
        u.batch_id,
        u.slot,
        u.soc,
        u.mcu_id,
        u.device_id,
        u.serial_number,
        u.state,
        u.last_step,
        u.outcome,
        u.error_code,
        u.started_at,
        u.ended_at,
        u.duration_ms,
        u.attempt,
        u.operator,
        u.reviewed_at,
        u.last_seq,
      );
      entry.units++;
      this.tally(u);
    }
    this.rowsInTransaction += this.units.size;
    this.rowsSinceYield += this.units.size;
    this.units.clear();
    this.batch = null;
  }

  private tally(u: UnitRow): void {
    const c = this.counts;
    const s = this.sample;
    if (u.state === 'passed') c.passed++;
    else if (u.state === 'failed') c.failed++;
    else if (u.state === 'cancelled') c.cancelled++;
    else if (u.state === 'attention') c.attention++;
    if (u.attempt > 1) c.reprovisioned++;
    if (u.state !== 'passed' && u.error_code !== null)
      c.byErrorCode[u.error_code] = (c.byErrorCode[u.error_code] ?? 0) + 1;
    if (u.state === 'failed' && u.attempt === 1 && u.device_id && u.mcu_id && u.serial_number)
      s.failed ??= toSample(u);
    if (u.state === 'passed' && u.attempt === 1 && u.serial_number) s.passed ??= toSample(u);
    if (u.state === 'passed' && u.attempt > 1) s.reprovisioned ??= toSample(u);
    if (u.state === 'cancelled') s.cancelled ??= toSample(u);
    if (u.state === 'attention') s.attention ??= toSample(u);
  }
}

/** One event in HASH_CHECK_EVERY is hashed by `eventHash` too, to prove `rowHash` still computes the same. */
const HASH_CHECK_EVERY = 1000;

/**
 * `eventHash` (hash-chain.ts) without canonicalizing the whole row again: the row's RFC 8785 form is its columns
 * in sorted order with the details embedded as their canonical text, which the generator has already made for the
 * details column. Five times faster than canonicalize on the row, which is most of a million units' time.
 * at, event_id and prev_hash are plain ASCII made here; everything else goes through JSON.stringify, which is
 * RFC 8785's string and number form.
 */
function rowHash(f: EventRowFields, detailsJson: string): string {
  const canonical =
    `{"at":"${f.at}","batch_id":${json(f.batch_id)},"details":${detailsJson},"event_id":"${f.event_id}",` +
    `"kind":${json(f.kind)},"operator":${json(f.operator)},"outcome":${json(f.outcome)},` +
    `"prev_hash":"${f.prev_hash}","seq":${f.seq},"slot":${json(f.slot)},"station_id":${json(f.station_id)},` +
    `"step":${json(f.step)},"supersedes":${json(f.supersedes)},"unit_id":${json(f.unit_id)}}`;
  return sha256Hex('sha256', f.prev_hash + canonical, 'hex');
}

const json = (value: string | number | null): string => (value === null ? 'null' : JSON.stringify(value));
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const slotName = (slot: number) => `slot-${slot + 1}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function toSample(u: UnitRow): TrailUnitSample {
  return {
    unitId: u.id,
    batchId: u.batch_id,
    slot: u.slot,
    soc: u.soc,
    mcuId: u.mcu_id,
    deviceId: u.device_id,
    serialNumber: u.serial_number,
    state: u.state,
    errorCode: u.error_code,
    lastStep: u.last_step,
    operator: u.operator,
    attempt: u.attempt,
    startedAt: u.started_at,
    endedAt: u.ended_at,
  };
}

// --- the API ----------------------------------------------------------------------------------------------------

/**
 * A test signer derived from the seed, so a cached trail and whoever reads it agree on the key without storing
 * one. Never a station's key: anyone can derive it.
 */
export function trailSigner(seed = 1): TrailSigner {
  return signerFromSeed(createHash('sha256').update(`trail-generator test key ${seed}`).digest());
}

function resolve(options: TrailOptions): Resolved {
  const whole = (name: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min)
      throw new RangeError(`${name} must be a whole number >= ${min}`);
    return value;
  };
  const failureRate = options.failureRate ?? 0.03;
  if (!(failureRate >= 0 && failureRate <= 0.5))
    throw new RangeError('failureRate must be between 0 and 0.5');
  const operators = options.operators ?? DEFAULT_OPERATORS;
  if (operators.length === 0) throw new RangeError('operators must name at least one operator');
  return {
    file: options.file,
    units: whole('units', options.units, 1),
    seed: whole('seed', options.seed ?? 1, 0),
    stationId: options.stationId ?? DEFAULT_TRAIL_STATION,
    signer: options.signer,
    checkpointEvery: whole('checkpointEvery', options.checkpointEvery ?? 100, 1),
    batchSize: whole('batchSize', options.batchSize ?? 5000, 1),
    operators,
    slots: whole('slots', options.slots ?? 8, 1),
    failureRate,
    startAt: (options.startAt ?? new Date('2025-01-06T05:55:00.000Z')).getTime(),
    spacing: whole('unitSpacingMs', options.unitSpacingMs ?? 9000, 1),
  };
}

function removeDatabase(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
}

/**
 * Writes a whole trail into `options.file` (which must not exist) and reports what is in it. The file is left as a
 * station leaves it: WAL mode, nothing beside it; `AuditStore.open` opens it (checked before returning).
 */
export async function generateTrail(options: TrailOptions): Promise<GeneratedTrail> {
  const o = resolve(options);
  if (existsSync(o.file)) throw new Error(`${o.file} exists: the trail generator only writes new files`);
  const started = performance.now();
  // The product makes the file: schema, migrations, triggers, user_version, meta.station_id, WAL.
  AuditStore.open(o.file, { stationId: o.stationId, ...(o.signer && { signer: o.signer }) }).close();
  let writer: TrailWriter;
  const db = new Database(o.file);
  try {
    // Only while generating, on a file nobody else has open: no journal and no fsync. better-sqlite3's defensive
    // mode refuses journal_mode=OFF, hence unsafeMode for that one pragma. A failure leaves garbage, which is
    // removed below; the station's own pragmas are per connection and AuditStore.open sets them again.
    db.unsafeMode(true);
    db.pragma('journal_mode = OFF');
    db.unsafeMode(false);
    if (db.pragma('journal_mode', { simple: true }) !== 'off')
      throw new Error('could not turn the journal off');
    db.pragma('synchronous = OFF');
    db.pragma('temp_store = MEMORY');
    // The random keys (event ids, hashes, unit ids, chip ids) touch pages all over their indexes: keep them cached.
    db.pragma('cache_size = -1500000');
    // Foreign keys are checked once at the end (foreign_key_check below) rather than on every insert.
    db.pragma('foreign_keys = OFF');
    // Some indexes are built once at the end, from the product's own CREATE INDEX text (sqlite_master keeps it
    // exactly as the migrations wrote it), so the schema ends the same: sorting once beats millions of inserts into
    // random places. Those are the views' (their tables are small to scan) and events_unit (random unit ids). The
    // other events indexes grow at a few places only (by batch, by kind), cost little as we go and would each
    // need a scan of the whole events table; the UNIQUE constraints' own indexes stay and check as we go.
    const indexes = db
      .prepare<[], { name: string; sql: string }>(
        `SELECT name, sql FROM sqlite_master
         WHERE type = 'index' AND sql IS NOT NULL AND (tbl_name IN ('batches', 'units') OR name = 'events_unit')
         ORDER BY rowid`,
      )
      .all();
    for (const index of indexes) db.exec(`DROP INDEX "${index.name}"`);
    writer = new TrailWriter(db, o);
    await writer.run();
    for (const index of indexes) db.exec(index.sql);
    // The views' references (batch, last_seq); events.supersedes is never set here.
    const dangling = [
      ...db.prepare('PRAGMA foreign_key_check(units)').all(),
      ...db.prepare('PRAGMA foreign_key_check(batches)').all(),
    ];
    if (dangling.length > 0)
      throw new Error(`trail generator: foreign keys broken: ${JSON.stringify(dangling[0])}`);
    db.pragma('journal_mode = WAL');
    db.close();
  } catch (error) {
    if (db.open) db.close();
    removeDatabase(o.file);
    throw error;
  }
  // What a station does with it: open it with its own checks (durability pragmas, schema version, station id).
  AuditStore.open(o.file, { stationId: o.stationId, ...(o.signer && { signer: o.signer }) }).close();
  const report = writer.report;
  return {
    file: o.file,
    stationId: o.stationId,
    seed: o.seed,
    units: o.units,
    events: report.events,
    checkpoints: report.checkpoints,
    publicKeyFp: o.signer?.fingerprint ?? null,
    batches: report.batches,
    counts: writer.counts,
    firstAt: report.firstAt,
    lastAt: report.lastAt,
    seconds: Math.round((performance.now() - started) / 10) / 100,
    bytes: statSync(o.file).size,
    sample: writer.sample,
  };
}

/** Where `generatedTrailFile` keeps its trails (under the OS temp dir; each 1M-unit file is a few GB). */
export const TRAIL_CACHE_DIR = join(tmpdir(), 'station-trail-cache');

/**
 * A signed trail of `units` units from `seed` (default options, signer `trailSigner(seed)`), generated once and
 * kept in TRAIL_CACHE_DIR, keyed by units, seed, the audit schema version and TRAIL_GENERATOR_VERSION, so the test
 * suite and the bench share one 1,000,000-unit file instead of each making its own.
 *
 * The file is shared: callers must not modify it (no append, no AuditStore writes, no UPDATE). Reading it, verify
 * and `AuditStore.open` + `close` are fine. A caller that needs to write copies it first (copyFileSync: there is no
 * -wal file beside it once closed). Generation writes to a temporary name and renames, so a half-written file is
 * never found, and two processes asking at once both end with the same (deterministic) file.
 */
export async function generatedTrailFile(
  units: number,
  seed = 1,
): Promise<GeneratedTrail & { cached: boolean }> {
  // The schema's text, not only its version: an index added to a migration still in development changes the file.
  const schema = createHash('sha256').update(MIGRATIONS.join('\n')).digest('hex').slice(0, 12);
  const tag = `schema${SCHEMA_VERSION}-${schema}-gen${TRAIL_GENERATOR_VERSION}`;
  const file = join(TRAIL_CACHE_DIR, `trail-${units}u-seed${seed}-${tag}.sqlite`);
  const reportFile = `${file}.json`;
  if (existsSync(file) && existsSync(reportFile)) {
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as GeneratedTrail;
    return { ...report, file, cached: true };
  }
  mkdirSync(TRAIL_CACHE_DIR, { recursive: true });
  // Files of older schema or generator versions are never read again: do not leave gigabytes behind.
  // Nor the half-written files of a generation killed hours ago (a live one is minutes old).
  for (const name of readdirSync(TRAIL_CACHE_DIR)) {
    const path = join(TRAIL_CACHE_DIR, name);
    const stale = name.endsWith('.tmp') && Date.now() - statSync(path).mtimeMs > 2 * HOUR;
    if (name.startsWith('trail-') && (!name.includes(tag) || stale)) rmSync(path, { force: true });
  }
  const temporary = `${file}.${process.pid}-${Date.now()}.tmp`;
  try {
    const report = await generateTrail({ file: temporary, units, seed, signer: trailSigner(seed) });
    renameSync(temporary, file);
    const result = { ...report, file };
    writeFileSync(`${reportFile}.${process.pid}.tmp`, JSON.stringify(result, null, 2));
    renameSync(`${reportFile}.${process.pid}.tmp`, reportFile);
    return { ...result, cached: false };
  } finally {
    removeDatabase(temporary);
  }
}
