import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PortWatcher,
  listSerialPortsFromSysfs,
  matchesUsbFilter,
  normalizeUsbId,
  type PortInfo,
} from '../../../electron/serial';

const usbPort = (path: string, serialNumber?: string): PortInfo => ({
  path,
  key: serialNumber ? `usb:${serialNumber}` : path,
  source: 'usb',
  vendorId: '2fe3',
  productId: '0100',
  ...(serialNumber && { serialNumber }),
});

describe('USB filters', () => {
  it('compare VID/PID/serial case-insensitively and with or without 0x', () => {
    expect(normalizeUsbId('0x2FE3')).toBe('2fe3');
    expect(normalizeUsbId('1d')).toBe('001d');
    const port = usbPort('/dev/ttyACM0', 'ABC123');
    expect(matchesUsbFilter(port, { vendorId: '0x2FE3', productId: '0100' })).toBe(true);
    expect(matchesUsbFilter(port, { vendorId: '2fe3', serialNumber: 'abc123' })).toBe(true);
    expect(matchesUsbFilter(port, { vendorId: '1915' })).toBe(false);
    expect(matchesUsbFilter({ ...port, serialNumber: undefined }, { serialNumber: 'abc123' })).toBe(false);
  });
});

describe('PortWatcher', () => {
  it('reports attach and detach by diffing polls, keyed by USB serial number', async () => {
    let listed: PortInfo[] = [
      usbPort('/dev/ttyACM0', 'A1'),
      { ...usbPort('/dev/ttyACM1', 'B2'), vendorId: '1915' },
    ];
    const present = new Set(['/tmp/pty-a']);
    const watcher = new PortWatcher({
      usbFilters: [{ vendorId: '2FE3' }],
      configuredPaths: ['/tmp/pty-a', '/tmp/pty-b'],
      lister: async () => listed,
      exists: (path) => present.has(path),
    });
    const events: string[] = [];
    watcher.on('attached', (p) => events.push(`+${p.path}`));
    watcher.on('detached', (p) => events.push(`-${p.path}`));
    await watcher.poll();
    expect(events).toEqual(['+/dev/ttyACM0', '+/tmp/pty-a']);

    // Same board re-enumerated under another path: one detach, one attach.
    listed = [usbPort('/dev/ttyACM2', 'A1')];
    present.add('/tmp/pty-b');
    present.delete('/tmp/pty-a');
    events.length = 0;
    await watcher.poll();
    expect(events.sort()).toEqual(['+/dev/ttyACM2', '+/tmp/pty-b', '-/dev/ttyACM0', '-/tmp/pty-a'].sort());
    expect(
      watcher
        .current()
        .map((p) => p.path)
        .sort(),
    ).toEqual(['/dev/ttyACM2', '/tmp/pty-b']);
  });

  it('keeps the known ports when listing fails, and says why', async () => {
    let fail = false;
    const watcher = new PortWatcher({
      usbFilters: [{ vendorId: '2fe3' }],
      lister: async () => {
        if (fail) throw new Error('udev went away');
        return [usbPort('/dev/ttyACM0', 'A1')];
      },
    });
    const errors: string[] = [];
    watcher.on('error', (e) => errors.push(e.message));
    await watcher.poll();
    fail = true;
    await watcher.poll();
    expect(errors).toEqual(['udev went away']);
    expect(watcher.current()).toHaveLength(1);
  });
});

describe('sysfs fallback listing', () => {
  const root = mkdtempSync(join(tmpdir(), 'sysfs-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds ttyACM ports and their USB identity', () => {
    const usbDevice = join(root, 'devices', 'pci0000:00', 'usb1', '1-1');
    const iface = join(usbDevice, '1-1:1.0');
    mkdirSync(iface, { recursive: true });
    writeFileSync(join(usbDevice, 'idVendor'), '2FE3\n');
    writeFileSync(join(usbDevice, 'idProduct'), '0100\n');
    writeFileSync(join(usbDevice, 'serial'), 'E1A2B3\n');
    writeFileSync(join(usbDevice, 'manufacturer'), 'Embeint\n');
    const ttyClass = join(root, 'class', 'tty');
    mkdirSync(join(ttyClass, 'ttyACM0'), { recursive: true });
    symlinkSync(iface, join(ttyClass, 'ttyACM0', 'device'));
    mkdirSync(join(ttyClass, 'tty1'), { recursive: true });
    expect(listSerialPortsFromSysfs(root, '/dev')).toEqual([
      {
        path: '/dev/ttyACM0',
        key: 'usb:E1A2B3',
        source: 'usb',
        vendorId: '2fe3',
        productId: '0100',
        manufacturer: 'Embeint',
        serialNumber: 'E1A2B3',
      },
    ]);
  });
});
