/**
 * `station central verify`: re-walks every station's chain as the central database holds it, with the same walk
 * as `station audit verify` (every hash recomputed, every link, every checkpoint's signature against the key the
 * station registered), a page at a time, and checks the station's recorded head is the chain's end.
 */
import type pg from 'pg';
import { eventChainVerifier, type VerifyResult } from '../audit';

export interface StationVerdict {
  stationId: string;
  publicKeyFp: string;
  site: string | null;
  line: string | null;
  result: VerifyResult;
  /** The central database refused the station's later events (its file differs from what was shipped). */
  refused: { seq: number; reason: string } | null;
}

const PAGE = 5000;

export async function verifyCentral(pool: pg.Pool, onlyStation?: string): Promise<StationVerdict[]> {
  const { rows: stations } = await pool.query<{
    station_id: string;
    public_key: string;
    public_key_fp: string;
    site: string | null;
    line: string | null;
    head_seq: string;
    head_hash: string;
    refused_seq: string | null;
    refused_reason: string | null;
  }>(
    `SELECT station_id, public_key, public_key_fp, site, line, head_seq, head_hash, refused_seq, refused_reason
       FROM central_stations WHERE $1::text IS NULL OR station_id = $1 ORDER BY station_id`,
    [onlyStation ?? null],
  );
  const verdicts: StationVerdict[] = [];
  for (const station of stations) {
    const verifier = eventChainVerifier(Buffer.from(station.public_key, 'base64'));
    let after = 0;
    let result: VerifyResult | null = null;
    for (;;) {
      const { rows } = await pool.query(
        `SELECT seq::integer AS seq, event_id::text AS event_id, at, station_id, operator, batch_id, unit_id, slot,
                step, kind, outcome, details, supersedes::integer AS supersedes, prev_hash, hash
           FROM central_events WHERE station_id = $1 AND seq > $2 ORDER BY central_events.seq LIMIT ${PAGE}`,
        [station.station_id, after],
      );
      for (const row of rows) {
        const problem = verifier.push(row);
        if (problem) {
          result = problem;
          break;
        }
      }
      if (result || rows.length < PAGE) break;
      after = (rows.at(-1) as { seq: number }).seq;
    }
    result ??= verifier.finish();
    if (result.ok && (result.events !== Number(station.head_seq) || result.lastHash !== station.head_hash)) {
      result = {
        ok: false,
        firstBadSeq: Math.min(result.events, Number(station.head_seq)) + 1,
        reason: 'deleted',
        message: `the station's recorded head (seq ${station.head_seq}) is not the end of its chain (seq ${result.events}): events were removed or added behind the ingest`,
      };
    }
    verdicts.push({
      stationId: station.station_id,
      publicKeyFp: station.public_key_fp,
      site: station.site,
      line: station.line,
      result,
      refused:
        station.refused_reason === null
          ? null
          : { seq: Number(station.refused_seq), reason: station.refused_reason },
    });
  }
  return verdicts;
}
