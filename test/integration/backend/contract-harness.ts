/**
 * Contract testing for the backend suites: a sandbox that checks its own replies (onSend hook) and a client whose
 * every exchange is checked against the in-repo OpenAPI file (request body and response). Tests call
 * `expectClean()` after each case; a test that breaks a reply on purpose takes the violations it expects first.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import {
  InfuseClient,
  OpenApiContract,
  type BackendError,
  type BackendResult,
  type InfuseClientOptions,
} from '../../../electron/backend';
import { startSandbox, type SandboxHandle, type SandboxOptions } from '../../../electron/sandbox';

export interface ClientViolation {
  side: 'request' | 'response';
  endpoint: string;
  status: number;
  errors: string[];
}

export interface Harness {
  sandbox: SandboxHandle;
  client: InfuseClient;
  newClient(overrides?: Partial<InfuseClientOptions>): InfuseClient;
  violations: ClientViolation[];
  exchanges: number;
  /** Remove and return the client-side violations recorded so far. */
  takeViolations(): ClientViolation[];
  expectClean(): void;
  close(): Promise<void>;
}

export async function startHarness(
  sandboxOptions: SandboxOptions = {},
  clientOptions: Partial<InfuseClientOptions> = {},
): Promise<Harness> {
  const contract = OpenApiContract.load();
  const sandbox = await startSandbox({ contractCheck: true, ...sandboxOptions });
  const harness: Harness = {
    sandbox,
    violations: [],
    exchanges: 0,
    client: undefined as unknown as InfuseClient,
    newClient(overrides = {}) {
      return new InfuseClient({
        baseUrl: sandbox.url,
        apiKey: sandbox.apiKey,
        authMode: 'x-api-key-bearer',
        timeoutMs: 5_000,
        retry: { baseDelayMs: 5, maxDelayMs: 20 },
        ...clientOptions,
        ...overrides,
        onExchange: (exchange) => {
          harness.exchanges++;
          const endpoint = `${exchange.method} ${exchange.template}`;
          const request = contract.validateRequestBody(
            exchange.method,
            exchange.template,
            exchange.requestBody,
          );
          if (!request.ok) {
            harness.violations.push({
              side: 'request',
              endpoint,
              status: exchange.status,
              errors: request.errors,
            });
          }
          const response = contract.validateResponse(
            exchange.method,
            exchange.template,
            exchange.status,
            exchange.responseBody,
          );
          if (!response.ok) {
            harness.violations.push({
              side: 'response',
              endpoint,
              status: exchange.status,
              errors: response.errors,
            });
          }
          overrides.onExchange?.(exchange);
        },
      });
    },
    takeViolations() {
      return harness.violations.splice(0);
    },
    expectClean() {
      expect(harness.violations, 'client-side OpenAPI violations').toEqual([]);
      expect(sandbox.contractViolations, 'sandbox-side OpenAPI violations').toEqual([]);
    },
    close: () => sandbox.close(),
  };
  harness.client = harness.newClient();
  return harness;
}

/** A fresh 16-hex mcuId per call, so tests sharing a sandbox never collide. */
export function freshMcuId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * One harness per test file: started before the file's tests, its faults cleared and its contract checked after
 * each test, closed at the end. `started` receives it (the suites keep it in a module variable).
 */
export function useHarness(started: (harness: Harness) => void, sandboxOptions: SandboxOptions = {}): void {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness(sandboxOptions);
    started(harness);
  });
  afterEach(() => {
    harness?.sandbox.faults.clear();
    harness?.expectClean();
  });
  afterAll(async () => {
    await harness?.close();
  });
}

/** The error of a result the test expects to have failed. */
export function errorOf<T>(result: BackendResult<T>): BackendError {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}
