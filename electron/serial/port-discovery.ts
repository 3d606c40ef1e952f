/**
 * Which serial ports have boards on them. USB ports come from SerialPort.list(), polled and diffed for hot-plug;
 * PTYs and other non-USB paths never appear there, so configured paths are watched by existence instead.
 */
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SerialPort } from 'serialport';

export interface PortInfo {
  path: string;
  /** Stable identity: the USB serial number when the port has one, else the path. */
  key: string;
  source: 'usb' | 'configured';
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
  locationId?: string;
  pnpId?: string;
}

export interface UsbFilter {
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
}

type ListedPort = Awaited<ReturnType<typeof SerialPort.list>>[number];

/** VID/PID as 4 lowercase hex digits whatever the OS reports ("0x2FE3", "2fe3", "2FE3"). */
export function normalizeUsbId(id: string): string {
  return id.trim().toLowerCase().replace(/^0x/, '').padStart(4, '0');
}

function toPortInfo(port: ListedPort): PortInfo {
  const info: PortInfo = {
    path: port.path,
    key: port.serialNumber ? `usb:${port.serialNumber}` : port.path,
    source: 'usb',
  };
  if (port.manufacturer) info.manufacturer = port.manufacturer;
  if (port.serialNumber) info.serialNumber = port.serialNumber;
  if (port.vendorId) info.vendorId = normalizeUsbId(port.vendorId);
  if (port.productId) info.productId = normalizeUsbId(port.productId);
  if (port.locationId) info.locationId = port.locationId;
  if (port.pnpId) info.pnpId = port.pnpId;
  return info;
}

/**
 * Ports the OS knows. On Linux, serialport asks udevadm; containers and minimal images often lack it, so the
 * same facts are then read from sysfs rather than failing.
 */
export async function listSerialPorts(): Promise<PortInfo[]> {
  try {
    return (await SerialPort.list()).map(toPortInfo);
  } catch (error) {
    if (process.platform === 'linux' && existsSync('/sys/class/tty')) return listSerialPortsFromSysfs();
    throw new Error(`Could not list serial ports: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const USB_SERIAL_NAME = /^tty(?:ACM|USB)\d+$/;

function readAttribute(dir: string, name: string): string | undefined {
  try {
    const value = readFileSync(join(dir, name), 'utf8').trim();
    return value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

/** USB CDC-ACM and USB-serial adapters found under `<sysfsRoot>/class/tty`, with their USB identity. */
export function listSerialPortsFromSysfs(sysfsRoot = '/sys', devRoot = '/dev'): PortInfo[] {
  const ttyClass = join(sysfsRoot, 'class', 'tty');
  const ports: PortInfo[] = [];
  for (const name of readdirSync(ttyClass)
    .filter((n) => USB_SERIAL_NAME.test(n))
    .sort()) {
    let dir: string;
    try {
      dir = realpathSync(join(ttyClass, name, 'device'));
    } catch {
      continue;
    }
    // Walk up from the interface to the USB device, which carries idVendor/idProduct/serial.
    while (dir.startsWith(sysfsRoot) && readAttribute(dir, 'idVendor') === undefined) dir = dirname(dir);
    const info: PortInfo = { path: join(devRoot, name), key: join(devRoot, name), source: 'usb' };
    const vendorId = readAttribute(dir, 'idVendor');
    const productId = readAttribute(dir, 'idProduct');
    const serialNumber = readAttribute(dir, 'serial');
    const manufacturer = readAttribute(dir, 'manufacturer');
    if (vendorId) info.vendorId = normalizeUsbId(vendorId);
    if (productId) info.productId = normalizeUsbId(productId);
    if (manufacturer) info.manufacturer = manufacturer;
    if (serialNumber) {
      info.serialNumber = serialNumber;
      info.key = `usb:${serialNumber}`;
    }
    ports.push(info);
  }
  return ports;
}

export function matchesUsbFilter(port: PortInfo, filter: UsbFilter): boolean {
  const same = (a: string | undefined, b: string | undefined, normalize: (s: string) => string) =>
    b === undefined || (a !== undefined && normalize(a) === normalize(b));
  return (
    same(port.vendorId, filter.vendorId, normalizeUsbId) &&
    same(port.productId, filter.productId, normalizeUsbId) &&
    same(port.serialNumber, filter.serialNumber, (s) => s.trim().toLowerCase())
  );
}

export interface PortWatcherOptions {
  pollMs?: number;
  /** USB ports matching any filter are reported; with no filters, no USB port is. */
  usbFilters?: UsbFilter[];
  /** Paths reported while they exist (PTYs, fixed /dev/serial/by-path links). */
  configuredPaths?: string[];
  /** Injected in unit tests. */
  lister?: () => Promise<PortInfo[]>;
  exists?: (path: string) => boolean;
}

export interface PortWatcherEvents {
  attached: [PortInfo];
  detached: [PortInfo];
  error: [Error];
}

export class PortWatcher extends EventEmitter<PortWatcherEvents> {
  private readonly ports = new Map<string, PortInfo>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private readonly options: Required<PortWatcherOptions>;

  constructor(options: PortWatcherOptions = {}) {
    super();
    this.options = {
      pollMs: options.pollMs ?? 1000,
      usbFilters: options.usbFilters ?? [],
      configuredPaths: options.configuredPaths ?? [],
      lister: options.lister ?? listSerialPorts,
      exists: options.exists ?? existsSync,
    };
  }

  /** Poll once now, then every pollMs. Resolves after the first poll, so `current()` is filled. */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.pollMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  current(): PortInfo[] {
    return [...this.ports.values()];
  }

  /** One scan and diff; concurrent calls share the scan in progress. */
  poll(): Promise<void> {
    this.polling ??= this.scan().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async scan(): Promise<void> {
    let usb: PortInfo[] = [];
    if (this.options.usbFilters.length > 0) {
      try {
        usb = (await this.options.lister()).filter((p) =>
          this.options.usbFilters.some((f) => matchesUsbFilter(p, f)),
        );
      } catch (error) {
        // Keep the last known set: a failed listing is not every board unplugged at once.
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
        return;
      }
    }
    const seen = new Map<string, PortInfo>();
    for (const port of usb) seen.set(port.key, port);
    for (const path of this.options.configuredPaths) {
      if (this.options.exists(path)) seen.set(path, { path, key: path, source: 'configured' });
    }
    for (const [key, port] of this.ports) {
      const now = seen.get(key);
      if (!now || now.path !== port.path) {
        this.ports.delete(key);
        this.emit('detached', port);
      }
    }
    for (const [key, port] of seen) {
      if (!this.ports.has(key)) {
        this.ports.set(key, port);
        this.emit('attached', port);
      }
    }
  }
}
