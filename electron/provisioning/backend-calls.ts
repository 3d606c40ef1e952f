/**
 * Which backend requests a step made, with their HTTP status and time, for the unit's record (QA reads "the cloud
 * answered 409 twice, then 201"). The API client logs every request; an AsyncLocalStorage names the step a request
 * belongs to, so N slots running at once each get only their own requests. The cloud port binds every queued call
 * to its caller's context (cloud-port.ts), because a concurrency limit runs queued work from another call's context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { BackendLogEntry } from '../backend';

/** One request as the record keeps it: the path template (never ids or keys), status and timing. */
export interface BackendCall {
  method: string;
  endpoint: string;
  attempt: number;
  outcome: BackendLogEntry['outcome'];
  status?: number;
  durationMs: number;
  /** When the request started, in ms after the step started: requests that overlap ran side by side. */
  startMs?: number;
  code?: string;
}

/** A step makes a handful of requests; retries included, this bounds a record against a misbehaving loop. */
const MAX_CALLS_PER_STEP = 32;

const current = new AsyncLocalStorage<{ calls: BackendCall[]; startedAt: number }>();

/** Runs `work`, collecting the backend requests made on its behalf. */
export async function collectBackendCalls<T>(work: () => Promise<T>, into: BackendCall[]): Promise<T> {
  return current.run({ calls: into, startedAt: performance.now() }, work);
}

/** Called for every request the API client logs (when it ends); outside a collecting step it does nothing. */
export function recordBackendCall(entry: BackendLogEntry): void {
  const collecting = current.getStore();
  if (!collecting || collecting.calls.length >= MAX_CALLS_PER_STEP) return;
  const startMs = Math.max(0, Math.round(performance.now() - entry.durationMs - collecting.startedAt));
  collecting.calls.push({
    method: entry.method,
    endpoint: entry.endpoint,
    attempt: entry.attempt,
    outcome: entry.outcome,
    ...(entry.status !== undefined && { status: entry.status }),
    durationMs: Math.round(entry.durationMs),
    startMs,
    ...(entry.code !== undefined && { code: entry.code }),
  });
}
