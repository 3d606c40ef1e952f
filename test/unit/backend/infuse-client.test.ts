import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InfuseClient } from '../../../electron/backend';

describe('InfuseClient construction', () => {
  it('refuses a bad base URL without echoing it (it may hold credentials)', () => {
    expect(
      () => new InfuseClient({ baseUrl: 'https://user:s3cret@', apiKey: 'k', authMode: 'x-api-key-bearer' }),
    ).toThrow(new TypeError('backend baseUrl is not a valid URL'));
    expect(
      () => new InfuseClient({ baseUrl: 'ftp://example.com', apiKey: 'k', authMode: 'x-api-key-bearer' }),
    ).toThrow('backend baseUrl must be an http or https URL');
  });

  it('prints nothing about its key or configuration', () => {
    const client = new InfuseClient({
      baseUrl: 'http://127.0.0.1:1',
      apiKey: 'sbx_supersecretkey',
      authMode: 'authorization-bearer',
    });
    for (const text of [inspect(client, { depth: 10 }), JSON.stringify(client), String(client)]) {
      expect(text).not.toContain('supersecret');
    }
  });

  it('a throwing logger does not turn a call into a rejection', async () => {
    const client = new InfuseClient({
      baseUrl: 'http://127.0.0.1:9',
      apiKey: 'k',
      authMode: 'x-api-key-bearer',
      retry: { maxAttempts: 1 },
      logger: () => {
        throw new Error('logger broke');
      },
    });
    const result = await client.health();
    expect(result.ok).toBe(false);
  });
});
