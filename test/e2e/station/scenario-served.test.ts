/**
 * The station service scenario against `station serve`: real HTTP, a real WebSocket that is dropped and resumed,
 * and a SIGKILL of the host mid-unit (the same story as test/integration/station/scenario.test.ts).
 */
import { join } from 'node:path';
import { afterEach, describe, it } from 'vitest';
import { ServedClient } from '../../support/served-client';
import { writeScenarioConfig } from '../../support/station-client';
import { expectCleanStreams, runStationScenario } from '../../support/station-scenario';
import { tempDir } from '../../support/temp-dirs';

let client: ServedClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

describe('the station service, over station serve', () => {
  it(
    'runs the whole scenario: people, continuous slots, retries, a SIGKILL, scans, cancel, the target',
    { timeout: 240_000 },
    async () => {
      const dir = tempDir('station-served-');
      client = await ServedClient.open(writeScenarioConfig(dir), join(dir, 'data'));
      await runStationScenario(client);
      expectCleanStreams(client);
    },
  );
});
