/**
 * Faults the sandbox can inject so the client's timeouts, retries and error texts meet real failures: latency,
 * a random 503 rate, a fixed status on a route (optionally for the next N calls), a route that never answers, and
 * a 200 whose body is not JSON. Set at start (CLI `--fault`, `startSandbox({ faults })`) or at run time
 * (`/sandbox/faults`, or the FaultController the sandbox hands back).
 */
import { z } from 'zod';

export const faultActionSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('status'),
    status: z.number().int().min(100).max(599),
    /** Replaces the default `{code, message}` body; lets a test serve a schema-breaking 200. */
    body: z.unknown().optional(),
    retryAfterSeconds: z.number().int().min(0).optional(),
  }),
  z.object({ kind: z.literal('hang') }),
  z.object({ kind: z.literal('malformed') }),
]);

export const faultRuleSchema = z.object({
  /** HTTP method or '*'. */
  method: z.string().default('*'),
  /** OpenAPI path template as the sandbox routes it (e.g. `/device/soc/{soc}/mcuId/{mcuId}`) or '*'. */
  route: z.string().default('*'),
  action: faultActionSchema,
  /** Apply to this many matching calls, then disappear; absent = every call. */
  times: z.number().int().min(1).optional(),
});

export const faultConfigSchema = z.object({
  latencyMs: z.number().int().min(0).max(600_000).default(0),
  errorRate: z.number().min(0).max(1).default(0),
  rules: z.array(faultRuleSchema).default([]),
});

export type FaultAction = z.infer<typeof faultActionSchema>;
export type FaultRule = z.infer<typeof faultRuleSchema>;
export type FaultConfig = z.infer<typeof faultConfigSchema>;
export type FaultConfigInput = z.input<typeof faultConfigSchema>;
export type FaultRuleInput = z.input<typeof faultRuleSchema>;

export interface FaultDecision {
  latencyMs: number;
  action?: FaultAction;
}

export class FaultController {
  #config: FaultConfig;
  readonly #random: () => number;

  constructor(initial: FaultConfigInput = {}, random: () => number = Math.random) {
    this.#config = faultConfigSchema.parse(initial);
    this.#random = random;
  }

  get(): FaultConfig {
    return structuredClone(this.#config);
  }

  /** Replace the whole configuration (what PUT /sandbox/faults does). */
  set(config: FaultConfigInput): void {
    this.#config = faultConfigSchema.parse(config);
  }

  addRule(rule: FaultRuleInput): void {
    this.#config.rules.push(faultRuleSchema.parse(rule));
  }

  clear(): void {
    this.#config = faultConfigSchema.parse({});
  }

  /** What to do to this call; consumes one use of a counted rule. The first matching rule wins. */
  decide(method: string, route: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: this.#config.latencyMs };
    const index = this.#config.rules.findIndex(
      (rule) =>
        (rule.method === '*' || rule.method.toUpperCase() === method.toUpperCase()) &&
        (rule.route === '*' || rule.route === route),
    );
    const rule = this.#config.rules[index];
    if (rule) {
      decision.action = rule.action;
      if (rule.times !== undefined) {
        rule.times -= 1;
        if (rule.times <= 0) this.#config.rules.splice(index, 1);
      }
      return decision;
    }
    if (this.#config.errorRate > 0 && this.#random() < this.#config.errorRate) {
      decision.action = { kind: 'status', status: 503 };
    }
    return decision;
  }
}

/**
 * One `--fault` flag: `latency=MS`, `error-rate=P`, or an action with options, comma separated:
 * `status=503,method=GET,route=/key/publicKey,times=1,retry-after=2`, `hang,route=/health`, `malformed,method=GET`.
 */
export function parseFaultFlag(text: string): FaultConfigInput {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const fields = new Map<string, string>();
  let head: string | undefined;
  for (const [i, part] of parts.entries()) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (i === 0) head = key;
    if (fields.has(key)) throw new Error(`fault "${text}": "${key}" given twice`);
    fields.set(key, value);
  }
  const number = (key: string): number => {
    const raw = fields.get(key) ?? '';
    const value = Number(raw);
    if (raw === '' || !Number.isFinite(value)) throw new Error(`fault "${text}": ${key} needs a number`);
    return value;
  };
  const allowOnly = (allowed: string[]): void => {
    for (const key of fields.keys()) {
      if (!allowed.includes(key)) throw new Error(`fault "${text}": unknown option "${key}"`);
    }
  };

  let config: FaultConfigInput;
  switch (head) {
    case 'latency':
      allowOnly(['latency']);
      config = { latencyMs: number('latency') };
      break;
    case 'error-rate':
      allowOnly(['error-rate']);
      config = { errorRate: number('error-rate') };
      break;
    case 'status':
    case 'hang':
    case 'malformed': {
      allowOnly([head, 'method', 'route', 'times', 'retry-after']);
      const action: FaultAction =
        head === 'status'
          ? {
              kind: 'status',
              status: number('status'),
              ...(fields.has('retry-after') ? { retryAfterSeconds: number('retry-after') } : {}),
            }
          : { kind: head };
      config = {
        rules: [
          {
            method: fields.get('method') ?? '*',
            route: fields.get('route') ?? '*',
            action,
            ...(fields.has('times') ? { times: number('times') } : {}),
          },
        ],
      };
      break;
    }
    default:
      throw new Error(
        `fault "${text}": start with latency=MS, error-rate=P, status=CODE, hang or malformed (options: method=, route=, times=, retry-after=)`,
      );
  }
  const parsed = faultConfigSchema.partial().safeParse(config);
  if (!parsed.success) {
    throw new Error(
      `fault "${text}": ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  }
  return config;
}

/** Several `--fault` flags folded into one configuration (rules keep their order). */
export function parseFaultFlags(flags: string[]): FaultConfigInput {
  const merged: { latencyMs?: number; errorRate?: number; rules: FaultRuleInput[] } = { rules: [] };
  for (const flag of flags) {
    const one = parseFaultFlag(flag);
    if (one.latencyMs !== undefined) merged.latencyMs = one.latencyMs;
    if (one.errorRate !== undefined) merged.errorRate = one.errorRate;
    merged.rules.push(...(one.rules ?? []));
  }
  return merged;
}
