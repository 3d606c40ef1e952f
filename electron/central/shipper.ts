/**
 * Ships a station's audit trail to the central database: the trail is its own outbox. Where to go on from is the
 * central head of this station's chain, read back each round, so a shipper killed at any point (before, during or
 * after a commit) resends from there: an event already received is recognised by its hash and skipped, nothing
 * is received twice and nothing is skipped. Each batch is checked before it goes (hashes, links, and every
 * checkpoint's signature against the key the station registered centrally), and `central_ingest` keeps only what
 * continues the chain it holds (schema.ts).
 */
import Database from 'better-sqlite3';
import type pg from 'pg';
import { eventChainVerifier, keyFingerprint } from '../audit';
import { migrateCentral } from './schema';

export interface StationRegistration {
  id: string;
  name?: string;
  site?: string;
  line?: string;
  /** The station's Ed25519 public key: registered once, every later checkpoint must verify with it. */
  publicKey: Buffer;
}

export interface ShipResult {
  /** Events the central database took in this round. */
  shipped: number;
  /** The last seq the central database holds for this station. */
  centralSeq: number;
  /** The last seq of the station's own trail. */
  localSeq: number;
  /** Events still to ship. */
  behind: number;
}

/** The central database refuses this station: its chain does not continue, or another key registered its id. */
export class CentralRefusedError extends Error {
  override readonly name = 'CentralRefusedError';
  constructor(
    message: string,
    readonly firstBadSeq: number | null,
  ) {
    super(message);
  }
}

/** The station's own trail fails its check: nothing of it is shipped past the bad event. */
export class LocalTrailError extends Error {
  override readonly name = 'LocalTrailError';
  constructor(
    message: string,
    readonly firstBadSeq: number,
  ) {
    super(message);
  }
}

interface LocalRow {
  seq: number;
  event_id: string;
  at: string;
  station_id: string;
  operator: string | null;
  batch_id: string | null;
  unit_id: string | null;
  slot: number | null;
  step: string | null;
  kind: string;
  outcome: string | null;
  details: string;
  supersedes: number | null;
  prev_hash: string;
  hash: string;
}

const COLUMNS =
  'seq, event_id, at, station_id, operator, batch_id, unit_id, slot, step, kind, outcome, details, supersedes, prev_hash, hash';

interface IngestResult {
  ok: boolean;
  refused?: boolean;
  firstBadSeq?: number;
  reason?: string;
  headSeq?: number;
}

export class TrailShipper {
  private readonly local: Database.Database;
  private migrated = false;

  constructor(
    private readonly options: {
      databaseFile: string;
      station: StationRegistration;
      pool: pg.Pool;
      /** Events per ingest transaction. */
      batchSize?: number;
    },
  ) {
    // Read-only beside the running station (WAL: readers never block its writes).
    this.local = new Database(options.databaseFile, { readonly: true, fileMustExist: true });
  }

  close(): void {
    this.local.close();
  }

  /** The last seq of the station's own trail. */
  localSeq(): number {
    return (
      this.local.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM events').get()?.seq ?? 0
    );
  }

  /** Ships everything the trail holds now; throws CentralRefusedError, LocalTrailError or the database's error. */
  async shipPending(): Promise<ShipResult> {
    const client = await this.options.pool.connect();
    try {
      if (!this.migrated) {
        await migrateCentral(client);
        this.migrated = true;
      }
      const registered = await this.register(client);
      let head = registered.headSeq;
      // What the central database holds must still be the station's: a file rewritten (or replaced) after it was
      // shipped is caught here, new events or not.
      if (head > 0) {
        const local = this.localRow(head);
        if (!local) {
          throw new CentralRefusedError(
            `the station's trail ends at seq ${this.localSeq()}, before what the central database already holds of it (seq ${head}): the file was replaced by an older copy or cut off; nothing is shipped`,
            this.localSeq() + 1,
          );
        }
        if (local.hash !== registered.headHash)
          await this.refused(
            client,
            {
              ok: false,
              firstBadSeq: head + 1,
              reason: `the station's file no longer holds the event the central database has at seq ${head}`,
            },
            head,
          );
      }
      let shipped = 0;
      const batchSize = this.options.batchSize ?? 500;
      const select = this.local.prepare<[number, number], LocalRow>(
        `SELECT ${COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
      );
      for (;;) {
        const rows = select.all(head, batchSize);
        if (rows.length === 0) break;
        this.checkBeforeShipping(rows, head, registered.publicKey);
        const { rows: answer } = await client.query<{ result: IngestResult }>(
          'SELECT central_ingest($1, $2::jsonb) AS result',
          [this.options.station.id, JSON.stringify(rows)],
        );
        const result = answer[0]!.result;
        if (!result.ok) await this.refused(client, result, head);
        shipped += result.headSeq! - head;
        head = result.headSeq!;
      }
      const localSeq = this.localSeq();
      return { shipped, centralSeq: head, localSeq, behind: Math.max(0, localSeq - head) };
    } finally {
      client.release();
    }
  }

  /** Registers the station once; afterwards its key must be the registered one. Returns the central head. */
  private async register(
    client: pg.PoolClient,
  ): Promise<{ headSeq: number; headHash: string; publicKey: Buffer }> {
    const { station } = this.options;
    const fingerprint = keyFingerprint(station.publicKey);
    await client.query(
      `INSERT INTO central_stations (station_id, public_key, public_key_fp, name, site, line)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (station_id) DO NOTHING`,
      [
        station.id,
        station.publicKey.toString('base64'),
        fingerprint,
        station.name ?? null,
        station.site ?? null,
        station.line ?? null,
      ],
    );
    const { rows } = await client.query<{
      public_key: string;
      public_key_fp: string;
      head_seq: string;
      head_hash: string;
      refused_seq: string | null;
      refused_reason: string | null;
    }>(
      'SELECT public_key, public_key_fp, head_seq, head_hash, refused_seq, refused_reason FROM central_stations WHERE station_id = $1',
      [station.id],
    );
    const row = rows[0]!;
    if (row.public_key_fp !== fingerprint) {
      throw new CentralRefusedError(
        `the central database has station "${station.id}" registered with key ${row.public_key_fp}, and this station signs with ${fingerprint}: two stations share an id, or this one's key was replaced; give it its own station id, or have the central database's administrator re-register it`,
        null,
      );
    }
    if (row.refused_reason !== null) {
      throw new CentralRefusedError(
        `the central database refuses station "${station.id}": ${row.refused_reason}`,
        row.refused_seq === null ? null : Number(row.refused_seq),
      );
    }
    return {
      headSeq: Number(row.head_seq),
      headHash: row.head_hash,
      publicKey: Buffer.from(row.public_key, 'base64'),
    };
  }

  /** The batch must continue the central head and check out: hashes, links, signatures by the registered key. */
  private checkBeforeShipping(rows: LocalRow[], head: number, publicKey: Buffer): void {
    const at = head > 0 ? this.localRow(head) : undefined;
    const verifier = eventChainVerifier(
      publicKey,
      at && {
        seq: at.seq,
        hash: at.hash,
        at: at.at,
        kind: at.kind,
        ...(at.kind === 'checkpoint' && { reason: String(JSON.parse(at.details).reason) }),
      },
    );
    for (const row of rows) {
      const problem = verifier.push(row);
      if (problem)
        throw new LocalTrailError(
          `the station's trail does not check out at seq ${problem.firstBadSeq}: ${problem.message}; nothing from there on is shipped (run station audit verify)`,
          problem.firstBadSeq,
        );
    }
  }

  private localRow(seq: number): LocalRow | undefined {
    return this.local.prepare<[number], LocalRow>(`SELECT ${COLUMNS} FROM events WHERE seq = ?`).get(seq);
  }

  /**
   * The central database refused the batch. When the first event did not continue its chain, the station's file
   * differs from what was shipped: find the first seq that differs (the chain makes every later one differ too,
   * so a binary search over the hashes finds it) and show the central database the pair around it, so the
   * refusal it records names that seq.
   */
  private async refused(client: pg.PoolClient, result: IngestResult, head: number): Promise<never> {
    const station = this.options.station.id;
    let message = result.reason ?? 'refused';
    let firstBadSeq = result.firstBadSeq ?? null;
    if (firstBadSeq === head + 1 && head > 0) {
      const centralHash = async (seq: number) =>
        (
          await client.query<{ hash: string }>(
            'SELECT hash FROM central_events WHERE station_id = $1 AND seq = $2',
            [station, seq],
          )
        ).rows[0]?.hash;
      let lo = 1;
      let hi = head;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if ((await centralHash(mid)) === this.localRow(mid)?.hash) lo = mid + 1;
        else hi = mid;
      }
      const differing = lo;
      if ((await centralHash(differing)) !== this.localRow(differing)?.hash) {
        const evidence = [differing - 1, differing]
          .filter((seq) => seq >= 1)
          .map((seq) => this.localRow(seq))
          .filter((row): row is LocalRow => row !== undefined);
        const { rows } = await client.query<{ result: IngestResult }>(
          'SELECT central_note_difference($1, $2::jsonb) AS result',
          [station, JSON.stringify(evidence)],
        );
        const noted = rows[0]!.result;
        if (noted.refused) {
          message = noted.reason ?? message;
          firstBadSeq = noted.firstBadSeq ?? firstBadSeq;
        }
      }
    }
    throw new CentralRefusedError(
      `the central database refuses station "${station}": ${message}`,
      firstBadSeq,
    );
  }
}
