/**
 * QA review on a big history: the units query (first page and a page deep in the history, under each filter and
 * search) on a generated trail of `units` units (default 1,000,000, cached between runs, see trail-generator.ts),
 * and a unit's detail. Each query shape runs `repeats` times; the figure is the p95 over every run of every shape.
 */
import { statSync } from 'node:fs';
import { encodeCursor, openReviewDb, queryUnits, unitDetail, unitFacets } from '../../electron/review';
import type { UnitQuery } from '../../electron/station-api';
import { generatedTrailFile } from '../support/trail-generator';
import { QueryTimer } from './query-timer';

export async function reviewBench(options: { units: number; repeats?: number }) {
  const repeats = options.repeats ?? 20;
  const generationStart = performance.now();
  const trail = await generatedTrailFile(options.units);
  const generationSeconds = (performance.now() - generationStart) / 1000;
  const db = openReviewDb(trail.file);
  try {
    const failed = trail.sample.failed!;
    const batch = trail.batches[Math.floor(trail.batches.length / 2)]!;
    const errorCode = Object.keys(trail.counts.byErrorCode).sort()[0]!;
    const mid = new Date((Date.parse(trail.firstAt) + Date.parse(trail.lastAt)) / 2).toISOString();
    const shapes: Array<[string, UnitQuery]> = [
      ['all', {}],
      ['state=failed', { state: 'failed' }],
      ['errorCode', { errorCode }],
      ['operator', { operator: failed.operator! }],
      ['slot', { slot: 3 }],
      ['batch', { batchId: batch.id }],
      ['recipe', { recipeId: batch.recipeId }],
      ['recipe+failed', { recipeId: batch.recipeId, state: 'failed' }],
      ['reviewed=false', { reviewed: false }],
      ['time window', { from: mid, to: new Date(Date.parse(mid) + 8 * 3_600_000).toISOString() }],
      ['search mcuId', { search: failed.mcuId! }],
      ['search mcuId prefix', { search: failed.mcuId!.slice(0, 6) }],
      ['search serial', { search: failed.serialNumber! }],
      ['search device id', { search: failed.deviceId! }],
    ];
    const deep = db
      .prepare(
        'SELECT started_at AS startedAt, id FROM units ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?',
      )
      .get(Math.floor(options.units / 2)) as { startedAt: string; id: string };
    const timer = new QueryTimer(repeats);
    for (const [name, filter] of shapes) await timer.time(name, () => queryUnits(db, { filter, limit: 50 }));
    await timer.time('page 50% deep', () => queryUnits(db, { limit: 50, cursor: encodeCursor(deep) }));
    await timer.time('unit detail', () => unitDetail(db, failed.unitId));
    await timer.time('facets', () => unitFacets(db));
    const p95 = timer.p95Ms;
    return {
      name: 'review',
      inputs: {
        units: options.units,
        events: trail.events,
        repeats,
        pageSize: 50,
        shapes: shapes.length + 3,
      },
      database: {
        bytes: statSync(trail.file).size,
        generatedSeconds: round(trail.seconds),
        cached: trail.cached,
      },
      setupSeconds: round(generationSeconds),
      queryP95Ms: p95,
      target: { queryP95Ms: 50, met: p95 < 50 },
      perShape: timer.perShape,
    };
  } finally {
    db.close();
  }
}

const round = (n: number) => Math.round(n * 10) / 10;
