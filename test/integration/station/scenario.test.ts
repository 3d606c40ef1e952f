/**
 * The station service scenario against the in-process Station (the same story runs against `station serve` in
 * test/e2e/station/scenario-served.test.ts).
 */
import { join } from 'node:path';
import { afterEach, describe, it } from 'vitest';
import { InProcessClient, writeScenarioConfig } from '../../support/station-client';
import { expectCleanStreams, runStationScenario } from '../../support/station-scenario';
import { tempDir } from '../../support/temp-dirs';

let client: InProcessClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

describe('the station service, in process', () => {
  it(
    'runs the whole scenario: people, continuous slots, retries, a power cut, scans, cancel, the target',
    { timeout: 180_000 },
    async () => {
      const dir = tempDir('station-scenario-');
      client = await InProcessClient.open(writeScenarioConfig(dir), join(dir, 'data'));
      await runStationScenario(client);
      expectCleanStreams(client);
    },
  );
});
