/**
 * When the client may repeat a call, and how long it waits first. A small policy of our own rather than
 * axios-retry: the rules (which POSTs are safe, Retry-After with a cap, a total time budget) are few, and keeping
 * them as pure functions lets the tests pin each decision without a server.
 */

export interface RetryPolicy {
  /** Total HTTP attempts including the first; 1 disables retries. */
  maxAttempts: number;
  /** Backoff before retry n (1-based) is uniform in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))]: "full jitter". */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the call fails at once as rate limited / unavailable. */
  maxRetryAfterMs: number;
  /** No retry starts once this much time has passed since the first attempt, whatever maxAttempts says. */
  budgetMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 2_000,
  maxRetryAfterMs: 10_000,
  budgetMs: 30_000,
};

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * POSTs whose repetition cannot create anything twice: key derivation is a pure function of stored state, and a
 * second MQTT token only supersedes the first. Creating POSTs (/device, /organisation, /board, /network) are never
 * retried; the resolve helpers make creation safe by looking up first.
 */
const REPEATABLE_POSTS = new Set([
  '/key/sharedSecret',
  '/key/sharedSecret/device',
  '/key/derived/device',
  '/mqtt/token',
]);

export function isRepeatable(method: string, template: string): boolean {
  const upper = method.toUpperCase();
  if (upper === 'GET' || upper === 'HEAD') return true;
  return upper === 'POST' && REPEATABLE_POSTS.has(template);
}

/** How one attempt ended, as far as retrying cares. */
export type AttemptOutcome =
  { kind: 'response'; status: number; retryAfterMs?: number } | { kind: 'timeout' } | { kind: 'network' };

export function isTransient(outcome: AttemptOutcome): boolean {
  if (outcome.kind !== 'response') return true;
  return outcome.status === 429 || outcome.status >= 500;
}

export function backoffDelayMs(
  retryNumber: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retryNumber - 1));
  return Math.floor(random() * ceiling);
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 10.2.3); undefined when absent or unparseable. */
export function parseRetryAfterMs(header: string | undefined, now: Date = new Date()): number | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/**
 * Whether attempt `attempt` (1-based) should be followed by another, and after how long. A server's Retry-After
 * wins over our backoff (it knows its own load) unless it is longer than we are willing to wait.
 */
export function decideRetry(input: {
  method: string;
  template: string;
  attempt: number;
  elapsedMs: number;
  outcome: AttemptOutcome;
  policy: RetryPolicy;
  random?: () => number;
}): RetryDecision {
  const { policy, outcome } = input;
  if (!isRepeatable(input.method, input.template) || !isTransient(outcome)) return { retry: false };
  if (input.attempt >= policy.maxAttempts) return { retry: false };
  let delayMs = backoffDelayMs(input.attempt, policy, input.random);
  if (outcome.kind === 'response' && outcome.retryAfterMs !== undefined) {
    if (outcome.retryAfterMs > policy.maxRetryAfterMs) return { retry: false };
    delayMs = outcome.retryAfterMs;
  }
  if (input.elapsedMs + delayMs >= policy.budgetMs) return { retry: false };
  return { retry: true, delayMs };
}
