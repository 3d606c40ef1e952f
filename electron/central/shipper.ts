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
import { EVENT_COLUMNS, eventChainVerifier, keyFingerprint, type EventRow } from '../audit';
import { migrateCentral } from './schema';

/** Who the station is, as its config's `station` section says (the central database shows it per station). */
export interface StationRegistration {
  id: string;
  name?: string | undefined;
  site?: string | undefined;
  line?: string | undefined;
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

interface IngestResult {
  ok: boolean;
  refused?: boolean;
  firstBadSeq?: number;
  reason?: string;
  headSeq?: number;
}

export class TrailShipper {
  private readonly local: Database.Database;
  private readonly eventsAfter: Database.Statement<[number, number], EventRow>;
  private readonly eventAt: Database.Statement<[number], EventRow>;
  private readonly lastSeq: Database.Statement<[], { seq: number | null }>;
  /** Migrated and registered: done once per shipper, not every round. */
  private ready = false;

  constructor(
    private readonly options: {
      databaseFile: string;
      station: StationRegistration;
      /** The station's Ed25519 public key: registered once, every later checkpoint must verify with it. */
      publicKey: Buffer;
      pool: pg.Pool;
      /** Events per ingest transaction. */
      batchSize?: number;
    },
  ) {
    // Read-only beside the running station (WAL: readers never block its writes).
    this.local = new Database(options.databaseFile, { readonly: true, fileMustExist: true });
    this.eventsAfter = this.local.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
    );
    this.eventAt = this.local.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = ?`);
    this.lastSeq = this.local.prepare('SELECT max(seq) AS seq FROM events');
  }

  close(): void {
    this.local.close();
  }

  /** The last seq of the station's own trail. */
  localSeq(): number {
    return this.lastSeq.get()?.seq ?? 0;
  }

  /** Ships everything the trail holds now; throws CentralRefusedError, LocalTrailError or the database's error. */
  async shipPending(): Promise<ShipResult> {
    const client = await this.options.pool.connect();
    try {
      if (!this.ready) {
        await migrateCentral(client);
        await this.register(client);
        this.ready = true;
      }
      const registered = await this.registration(client);
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
      for (;;) {
        const rows = this.eventsAfter.all(head, batchSize);
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

  /** Registers the station with its key, unless its id is registered already (then `registration` checks it). */
  private async register(client: pg.PoolClient): Promise<void> {
    const { station, publicKey } = this.options;
    await client.query(
      `INSERT INTO central_stations (station_id, public_key, public_key_fp, name, site, line)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (station_id) DO NOTHING`,
      [
        station.id,
        publicKey.toString('base64'),
        keyFingerprint(publicKey),
        station.name ?? null,
        station.site ?? null,
        station.line ?? null,
      ],
    );
  }

  /** The station as registered: its key must be this station's, and it must not be refused. Returns its head. */
  private async registration(
    client: pg.PoolClient,
  ): Promise<{ headSeq: number; headHash: string; publicKey: Buffer }> {
    const { station } = this.options;
    const fingerprint = keyFingerprint(this.options.publicKey);
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
  private checkBeforeShipping(rows: EventRow[], head: number, publicKey: Buffer): void {
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

  private localRow(seq: number): EventRow | undefined {
    return this.eventAt.get(seq);
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
          .filter((row): row is EventRow => row !== undefined);
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
