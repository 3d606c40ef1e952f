/**
 * Slots found by USB discovery: an adapter that matches the config's filters adds a slot when it is first plugged
 * in (named after its USB serial number, or the name a filter pins it to), is provisioned by itself, and empties
 * its slot when unplugged; plugged in again, it fills the same slot. The adapters are virtual boards on real PTYs;
 * only the OS's USB listing is replaced.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvFileSecretStore } from '../../../electron/secrets';
import type { PortInfo } from '../../../electron/serial';
import { openStation, type Station } from '../../../electron/station';
import type { Snapshot } from '../../../electron/station-api';
import { startSimulator, type Simulator } from '../../../firmware-protocol/virtual-board';
import { loadStationConfig } from '../../../station-config';
import { waitUntil } from '../../support/serial-fixtures';
import { tempDir } from '../../support/temp-dirs';

let station: Station | undefined;
let simulator: Simulator | undefined;
afterEach(async () => {
  await station?.close();
  await simulator?.stop();
  station = simulator = undefined;
});

describe('USB discovery', () => {
  it(
    'adds a slot per matching adapter, names it by serial number or pinned name, and follows unplug and replug',
    { timeout: 60_000 },
    async () => {
      const loaded = loadStationConfig(undefined, {});
      if (!loaded.ok) throw new Error('sandbox config');
      const config = structuredClone(loaded.config);
      delete config.slots.virtualBoards;
      config.slots.discovery = {
        ports: [],
        usb: [
          { vendorId: '1915', productId: 'c00a' },
          { vendorId: '1915', productId: 'c00a', serialNumber: 'JLINK-0002', name: 'left-2' },
        ],
      };
      simulator = await startSimulator({ count: 2, processingDelayMs: 2 });
      const adapter = (index: number, serialNumber: string): PortInfo => ({
        path: simulator!.boards[index]!.path,
        key: `usb:${serialNumber}`,
        source: 'usb',
        serialNumber,
        vendorId: '1915',
        productId: 'C00A'.toLowerCase(),
      });
      let plugged: PortInfo[] = [adapter(0, 'JLINK-0001'), { ...adapter(1, 'OTHER-1'), vendorId: '1366' }];
      const dir = tempDir('station-usb-');
      station = await openStation({
        config,
        paths: loaded.paths,
        secrets: new EnvFileSecretStore({ dir: join(dir, 'secrets') }),
        dataDir: dir,
        listPorts: async () => plugged,
      });
      const s = station;
      const slot = (name: string) => s.snapshot().slots.find((x) => x.name === name);
      const until = (what: string, test: (snapshot: Snapshot) => boolean) =>
        waitUntil(() => test(s.snapshot()), 20_000, what);

      // The adapter of another vendor is not a slot.
      expect(s.snapshot().slots.map((x) => [x.name, x.source, x.present])).toEqual([
        ['JLINK-0001', 'usb', true],
      ]);
      await s.execute('session.login', { operatorId: 'operator', pin: '1111' });
      await s.execute('batch.open', { name: 'usb' });
      await until('JLINK-0001 passed', () => slot('JLINK-0001')?.state === 'passed');

      plugged = [...plugged, adapter(1, 'JLINK-0002')];
      await until('left-2 passed', () => slot('left-2')?.state === 'passed');
      expect(slot('left-2')).toMatchObject({ number: 2, source: 'usb', port: simulator.boards[1]!.path });

      plugged = plugged.filter((p) => p.serialNumber !== 'JLINK-0001');
      await until('JLINK-0001 empty', () => slot('JLINK-0001')?.state === 'empty');
      expect(slot('JLINK-0001')?.present).toBe(false);

      const ports = await s.execute('ports.list', {});
      expect(ports.ok && ports.ports.map((p) => [p.slot, p.serialNumber, p.source])).toEqual([
        ['left-2', 'JLINK-0002', 'usb'],
      ]);

      // Plugged in again: the same slot, and (the board being provisioned already) it runs again by itself.
      plugged = [...plugged, adapter(0, 'JLINK-0001')];
      await until('JLINK-0001 back', () => slot('JLINK-0001')?.present === true);
      expect(s.snapshot().slots.map((x) => x.name)).toEqual(['JLINK-0001', 'left-2']);
      await until('JLINK-0001 passed again', () => slot('JLINK-0001')?.state === 'passed');
    },
  );
});
