import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BACKEND_ERROR_CODES, BackendError, operatorText, unwrap, fail, ok } from '../../../electron/backend';

describe('operator texts (verbatim)', () => {
  it.each([
    [
      operatorText.unreachable('connection refused', 3),
      "Cannot reach the provisioning backend (connection refused) after 3 attempts. Check the station's network connection and the backend URL in the station config, then retry the unit.",
    ],
    [
      operatorText.timeout(10_000, 1),
      "The provisioning backend did not answer within 10000 ms (1 attempt). Check the station's network connection, then retry the unit; if it keeps happening, ask IT to check the backend.",
    ],
    [
      operatorText.unauthorized(),
      "The provisioning backend rejected the station's API key. Ask IT to check the API key stored for this station and the auth header mode in the station config.",
    ],
    [
      operatorText.forbidden('no access to board'),
      'The station\'s API key is not allowed to do this: "no access to board". Ask IT to grant the key access to this organisation and resource.',
    ],
    [
      operatorText.forbidden(),
      "The station's API key is not allowed to do this. Ask IT to grant the key access to this organisation and resource.",
    ],
    [
      operatorText.notFound(),
      'The provisioning backend has no such record. Check the ids in the recipe or work order.',
    ],
    [
      operatorText.conflict(),
      'The provisioning backend already has a record with this identity. Look the record up instead of creating it again; if it belongs to another unit, set this board aside for QA.',
    ],
    [
      operatorText.badRequest(),
      "The provisioning backend refused the request as invalid. Check the recipe and the board's identity; report it to engineering if it repeats.",
    ],
    [
      operatorText.rateLimited(3),
      "The provisioning backend is limiting the station's request rate and 3 attempts did not get through. Wait a minute, then retry the unit.",
    ],
    [
      operatorText.unavailable(1),
      "The provisioning backend is unavailable (1 attempt). Wait a few minutes and retry the unit; if it persists, ask IT to check the backend's status.",
    ],
    [
      operatorText.badResponse('the body is not valid JSON'),
      'The provisioning backend sent a reply the station cannot use (the body is not valid JSON). Retry the unit; if it repeats, report it to engineering with this message.',
    ],
    [
      operatorText.socMismatch('Tracker', 'nRF9151', 'nRF52840'),
      'Board profile "Tracker" is for SoC nRF9151, but this recipe expects nRF52840. Choose the matching board profile in the recipe.',
    ],
    [
      operatorText.invalidArgument('Network key must be 32 bytes, got 16'),
      'Network key must be 32 bytes, got 16. Fix the value in the recipe or station config.',
    ],
  ])('%s', (actual, expected) => {
    expect(actual).toBe(expected);
  });
});

describe('BackendError', () => {
  const error = new BackendError({
    code: 'BACKEND_FORBIDDEN',
    endpoint: 'POST /device',
    httpStatus: 403,
    apiCode: 403,
    apiMessage: 'no access',
    attempts: 1,
    operatorMessage: operatorText.forbidden('no access'),
  });

  it('carries the stable fields, with a message that names code, endpoint and status', () => {
    expect(error.message).toBe(
      'BACKEND_FORBIDDEN POST /device (HTTP 403): The station\'s API key is not allowed to do this: "no access". Ask IT to grant the key access to this organisation and resource.',
    );
    expect(error).toBeInstanceOf(Error);
    expect(error.cause).toBeUndefined();
    expect(BACKEND_ERROR_CODES).toContain(error.code);
  });

  it('renders the same safe fields in JSON and inspect', () => {
    const json = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(
      [
        'apiCode',
        'apiMessage',
        'attempts',
        'code',
        'endpoint',
        'httpStatus',
        'message',
        'name',
        'operatorMessage',
      ].sort(),
    );
    expect(inspect(error)).toContain('"code":"BACKEND_FORBIDDEN"');
  });

  it('unwrap returns the value or throws the error', () => {
    expect(unwrap(ok(5))).toBe(5);
    expect(() => unwrap(fail(error))).toThrow(error);
  });
});
