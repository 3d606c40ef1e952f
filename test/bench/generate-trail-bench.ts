/**
 * How long the trail generator (test/support/trail-generator.ts) takes to write a signed trail of `units` units,
 * and how big the file is: the cost of the fixture the QA query tests and benchmarks run on (1,000,000 units).
 * A fresh file every time (not the generatedTrailFile cache, which would measure nothing), in the OS temp dir,
 * removed afterwards. The generator writes with synchronous=OFF, so a disk costs little more than tmpfs here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTrail, trailSigner } from '../support/trail-generator';

export async function generateTrailBench(options: { units: number }): Promise<{
  benchmark: 'generate-trail';
  units: number;
  events: number;
  checkpoints: number;
  seconds: number;
  bytes: number;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'station-trail-bench-'));
  try {
    const trail = await generateTrail({
      file: join(dir, 'trail.sqlite'),
      units: options.units,
      seed: 1,
      signer: trailSigner(1),
    });
    return {
      benchmark: 'generate-trail',
      units: trail.units,
      events: trail.events,
      checkpoints: trail.checkpoints,
      seconds: trail.seconds,
      bytes: trail.bytes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
