/**
 * The contract's promise to late joiners: a snapshot taken at any moment, plus the events after it, reduce to the
 * station's later snapshot. Random command sequences (logins, batches, scans, starts, retries, cancels, skips,
 * unplugs) run against a real station with virtual boards; snapshots and events cross a JSON round trip, as they
 * do on the wire.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reduceAll, type CommandName, type Snapshot, type StationEvent } from '../../../electron/station-api';
import { InProcessClient, writeScenarioConfig } from '../../support/station-client';
import { tempDir } from '../../support/temp-dirs';

let client: InProcessClient;
beforeAll(async () => {
  const dir = tempDir('station-property-');
  client = await InProcessClient.open(writeScenarioConfig(dir), join(dir, 'data'));
}, 60_000);
afterAll(async () => client?.close());

const slot = fc.constantFrom('slot-1', 'slot-2', 'slot-3', 'slot-4', 'slot-9');
const command: fc.Arbitrary<[CommandName, unknown]> = fc.oneof(
  fc.constantFrom<[CommandName, unknown]>(
    ['session.login', { operatorId: 'operator', pin: '1111' }],
    ['session.login', { operatorId: 'supervisor', pin: '2222' }],
    ['session.login', { operatorId: 'qa', pin: '3333' }],
    ['session.login', { operatorId: 'operator', pin: '0000' }],
    ['session.logout', {}],
    ['batch.close', {}],
    ['batch.close', { reason: 'shift change' }],
    ['station.status', {}],
  ),
  fc
    .record({
      name: fc.constantFrom('p-1', 'p-2', 'p-3', 'p-4'),
      recipeId: fc.constantFrom('sandbox-sensor', 'sandbox-sensor-labelled'),
      target: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    })
    .map(({ name, recipeId, target }): [CommandName, unknown] => [
      'batch.open',
      { name, recipeId, ...(target !== undefined && { targetQuantity: target }) },
    ]),
  fc
    .tuple(
      fc.constantFrom('SN:PROP000001', 'SN:PROP000002', 'SN:PROP000003', 'junk'),
      fc.option(slot, { nil: undefined }),
    )
    .map(([text, s]): [CommandName, unknown] => ['slot.scan', { text, ...(s !== undefined && { slot: s }) }]),
  slot.map((s): [CommandName, unknown] => ['slot.start', { slot: s }]),
  slot.map((s): [CommandName, unknown] => ['slot.retry', { slot: s }]),
  slot.map((s): [CommandName, unknown] => ['slot.cancel', { slot: s }]),
  slot.map((s): [CommandName, unknown] => ['slot.skip', { slot: s, reason: 'set aside in a test' }]),
  slot.map((s): [CommandName, unknown] => ['sim.unplug', { slot: s }]),
  slot.map((s): [CommandName, unknown] => ['sim.replug', { slot: s }]),
);

const roundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('reduce(snapshot, events after it) equals the later snapshot', () => {
  it(
    'for random command sequences, from snapshots taken at random moments',
    { timeout: 240_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(command, fc.integer({ min: 0, max: 120 })), { minLength: 5, maxLength: 25 }),
          fc.integer({ min: 0, max: 24 }),
          async (steps, snapshotAt) => {
            const station = client.stationForTest;
            const events: StationEvent[] = [];
            const unsubscribe = station.subscribe((event) => events.push(roundTrip(event)));
            let early: Snapshot = roundTrip(station.snapshot());
            let earlyIndex = 0;
            try {
              for (const [index, [[name, input], pauseMs]] of steps.entries()) {
                if (index === Math.min(snapshotAt, steps.length - 1)) {
                  early = roundTrip(station.snapshot());
                  earlyIndex = events.length;
                }
                const result = await station.execute(name, input);
                expect(result.ok === true || typeof result.code === 'string').toBe(true);
                await new Promise((resolve) => setTimeout(resolve, pauseMs));
              }
              const late = roundTrip(station.snapshot());
              const after = events.slice(earlyIndex).filter((e) => e.seq > early.seq && e.seq <= late.seq);
              expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => early.seq + 1 + i));
              expect(reduceAll(early, after)).toEqual(late);
            } finally {
              unsubscribe();
            }
          },
        ),
        { numRuns: 12 },
      );
      // Let the last units end, so the station closes quickly.
      await client.stationForTest.settled();
    },
  );
});
