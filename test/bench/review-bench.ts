/**
 * QA review on a big history: the units query (first page and a page deep in the history, under each filter and
 * search) on a generated trail of `units` units (default 1,000,000, cached between runs, see trail-generator.ts),
 * and a unit's detail. Each query shape runs `repeats` times; the figure is the p95 over every run of every shape.
 */
import { statSync } from 'node:fs';
import { encodeCursor, openReviewDb, queryUnits, unitDetail, unitFacets } from '../../electron/review';
import type { UnitQuery } from '../../electron/station-api';
import { generatedTrailFile } from '../support/trail-generator';

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;

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
    const all: number[] = [];
    const perShape: Record<string, { p50Ms: number; p95Ms: number; maxMs: number }> = {};
    const time = (name: string, work: () => unknown) => {
      const samples: number[] = [];
      for (let i = 0; i < repeats; i += 1) {
        const start = performance.now();
        work();
        samples.push(performance.now() - start);
      }
      samples.sort((a, b) => a - b);
      all.push(...samples);
      perShape[name] = {
        p50Ms: round(quantile(samples, 0.5)),
        p95Ms: round(quantile(samples, 0.95)),
        maxMs: round(samples.at(-1)!),
      };
    };
    for (const [name, filter] of shapes) time(name, () => queryUnits(db, { filter, limit: 50 }));
    time('page 50% deep', () => queryUnits(db, { limit: 50, cursor: encodeCursor(deep) }));
    time('unit detail', () => unitDetail(db, failed.unitId));
    time('facets', () => unitFacets(db));
    all.sort((a, b) => a - b);
    const p95 = quantile(all, 0.95);
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
      queryP95Ms: round(p95),
      target: { queryP95Ms: 50, met: p95 < 50 },
      perShape,
    };
  } finally {
    db.close();
  }
}

const round = (n: number) => Math.round(n * 10) / 10;
