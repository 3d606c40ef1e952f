/**
 * QA's query figures, the station's (review-bench.ts) and the central record's (central-qa.ts) alike: each shape
 * runs `repeats` times; per shape p50/p95/max, and the p95 over every run of every shape.
 */
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
const round = (n: number) => Math.round(n * 10) / 10;

export interface ShapeFigures {
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export class QueryTimer {
  private readonly all: number[] = [];
  readonly perShape: Record<string, ShapeFigures> = {};

  constructor(private readonly repeats: number) {}

  /** Runs one shape `repeats` times (awaiting it when it returns a promise). */
  async time(name: string, work: () => unknown): Promise<void> {
    const samples: number[] = [];
    for (let i = 0; i < this.repeats; i += 1) {
      const start = performance.now();
      await work();
      samples.push(performance.now() - start);
    }
    samples.sort((a, b) => a - b);
    this.all.push(...samples);
    this.perShape[name] = {
      p50Ms: round(quantile(samples, 0.5)),
      p95Ms: round(quantile(samples, 0.95)),
      maxMs: round(samples.at(-1)!),
    };
  }

  /** The p95 over every run so far, in ms (one decimal). */
  get p95Ms(): number {
    return round(
      quantile(
        [...this.all].sort((a, b) => a - b),
        0.95,
      ),
    );
  }
}
