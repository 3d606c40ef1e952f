/**
 * The station config schema: the structure of one station's config file, as zod 4 schemas with a description and
 * an example on every field. The examples feed three readers: editors (through the generated JSON Schema), the
 * checker (every problem it reports shows "an example of what is right" taken from here) and the production
 * template. Rules that span several fields, and the production policy, live in check.ts: zod skips an object's
 * refinements when any of its fields is wrong, and the checker must report every problem at once.
 */
import { z } from 'zod';
import { DEFAULT_BAUD_RATE, KEY_INTERFACES, MAX_NETWORK_ID, KNOWN_SOCS } from '../firmware-protocol/index';
import { validRange } from 'semver';
import { RE2JS, RE2JSSyntaxException } from 're2js';

export const CONFIG_VERSION = 1;

export { KNOWN_SOCS };

/**
 * Secrets a config may reference by name. The config never holds a value: the station reads it from its secret
 * store. Network keys that are kept on the station (rather than fetched from the backend) use the
 * `network-key-<label>` family, so one station can serve recipes with different networks.
 */
export const FIXED_SECRET_NAMES = ['backend-api-key'] as const;
export const NETWORK_KEY_SECRET_PATTERN = /^network-key-[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
export function isSecretName(name: string): boolean {
  return (FIXED_SECRET_NAMES as readonly string[]).includes(name) || NETWORK_KEY_SECRET_PATTERN.test(name);
}

/** Fields a scanned label can fill; named groups of the scanning patterns must be among these. */
export const SCAN_FIELDS = [
  'serialNumber',
  'workOrder',
  'productCode',
  'hardwareRevision',
  'batchCode',
  'macAddress',
  'imei',
  'customerReference',
] as const;
export type ScanField = (typeof SCAN_FIELDS)[number];

/** Station fields a metadata value may copy (`station:<field>`). */
export const STATION_METADATA_FIELDS = ['id', 'name', 'line', 'site'] as const;

export const MQTT_TTL_MIN_SECONDS = 60;
export const MQTT_TTL_MAX_SECONDS = 86400;

// Every field carries a description (shown by editors) and one example (shown by the checker next to a problem).
function doc<T extends z.ZodType>(schema: T, description: string, example: unknown): T {
  return schema.meta({ description, examples: [example] });
}

const slug = (what: string) =>
  z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9._-]{0,63}$/,
      `${what} must be 1 to 64 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
const text = (max: number) => z.string().trim().min(1).max(max);
const uuid = z.uuid({ error: 'must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6' });

function isTimeZone(name: string): boolean {
  try {
    // Intl knows the IANA database the runtime ships; a name it rejects would fail at every timestamp.
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const hex4 = z.string().regex(/^[0-9a-fA-F]{4}$/, 'must be 4 hex digits without "0x", as lsusb shows it');

// ---- station --------------------------------------------------------------------------------------------

export const stationSection = doc(
  z.strictObject({
    id: doc(slug('a station id'), 'Stable id of this station; recorded on every unit.', 'line1-station2'),
    name: doc(text(100), 'Name operators and reports show.', 'Line 1 / Station 2'),
    line: doc(text(100), 'Production line the station stands on.', 'Line 1').optional(),
    site: doc(text(100), 'Factory or site.', 'Acme Shenzhen').optional(),
    timezone: doc(
      z.string().refine(isTimeZone, 'must be an IANA time zone name'),
      'IANA time zone used for shift and batch reports (timestamps are stored in UTC).',
      'Europe/Berlin',
    ),
    dataDir: doc(
      text(4096),
      'Folder for the station data. Relative paths resolve against the config file folder; "~/" is the home folder.',
      '/var/lib/infuse-station',
    ),
    databaseFile: doc(
      text(4096),
      'SQLite file of the audit trail; relative to dataDir.',
      'station.sqlite',
    ).default('station.sqlite'),
    logDir: doc(text(4096), 'Folder of the daily log files; relative to dataDir.', 'logs').default('logs'),
  }),
  'Who and where this station is, and where its data lives.',
  {
    id: 'line1-station2',
    name: 'Line 1 / Station 2',
    timezone: 'Europe/Berlin',
    dataDir: '/var/lib/infuse-station',
  },
);

// ---- backend --------------------------------------------------------------------------------------------

const secretReference = z
  .string()
  .refine(
    isSecretName,
    `must name a secret the station knows: ${FIXED_SECRET_NAMES.join(', ')} or network-key-<label>`,
  );

const callBudget = {
  timeoutMs: doc(
    z.number().int().min(1000).max(120_000),
    'Timeout of one backend request in milliseconds.',
    15000,
  ).default(15000),
  retries: doc(
    z.number().int().min(0).max(10),
    'Retries of an idempotent request after a timeout or a 5xx answer.',
    3,
  ).default(3),
  concurrency: doc(z.number().int().min(1).max(32), 'Most backend requests in flight at once.', 4).default(4),
};

/**
 * Whether a unit creates its device before looking it up. One round trip less per unit, but only safe with a
 * backend that refuses a second device for the same chip with 409: the sandbox does; the Infuse cloud does not
 * document it, so a remote backend looks up first unless the deployment knows better.
 */
const createDeviceFirst = (byDefault: boolean) =>
  doc(
    z.boolean(),
    'POST /device before looking the chip up (one backend round trip less per unit). Only for a backend that ' +
      'answers 409 to a second device for the same soc + mcuId; otherwise a chip could get two devices.',
    byDefault,
  ).default(byDefault);

/** How the API key travels; the backend client implements each (electron/backend/infuse-client.ts). */
export const AUTH_MODES = ['x-api-key-bearer', 'authorization-bearer', 'authorization-apikey'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export const backendSection = doc(
  z.discriminatedUnion('mode', [
    z.strictObject({
      mode: doc(z.literal('sandbox'), 'Start the built-in sandbox backend; no URL or key needed.', 'sandbox'),
      ...callBudget,
      // The sandbox refuses a duplicate chip (electron/sandbox/README.md), so creating first is safe there.
      createDeviceFirst: createDeviceFirst(true),
    }),
    z.strictObject({
      mode: doc(z.literal('remote'), 'Use the Infuse cloud or a customer proxy.', 'remote'),
      baseUrl: doc(
        z.string().refine(isHttpUrl, 'must be an absolute http(s) URL without query, fragment or user name'),
        'Backend base URL: the Infuse cloud or a customer proxy (a path prefix is allowed).',
        'https://api.infuse-iot.com',
      ),
      authMode: doc(
        z.enum(AUTH_MODES),
        'How the API key is sent: "x-api-key-bearer" (x-api-key: Bearer <key>, JWT-style keys starting "ey"), ' +
          '"authorization-apikey" (Authorization: ApiKey <key>, IAM keys starting "ik"), ' +
          'or "authorization-bearer" (Authorization: Bearer <key>).',
        'x-api-key-bearer',
      ),
      apiKeySecret: doc(
        secretReference,
        'Name of the API key in the secret store (never the key itself).',
        'backend-api-key',
      ).default('backend-api-key'),
      ...callBudget,
      createDeviceFirst: createDeviceFirst(false),
    }),
  ]),
  'The provisioning backend.',
  { mode: 'remote', baseUrl: 'https://api.infuse-iot.com', authMode: 'x-api-key-bearer' },
);

export function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    url.search === '' &&
    url.hash === '' &&
    url.username === '' &&
    url.password === ''
  );
}

// ---- slots ----------------------------------------------------------------------------------------------

const slotName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}$/,
    'a slot name is 1 to 32 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit',
  );

export const configuredPort = doc(
  z.union([
    text(4096),
    z.strictObject({
      name: doc(slotName, 'Slot name operators see.', 'left-1'),
      path: doc(text(4096), 'Serial port path.', '/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0'),
    }),
  ]),
  'A serial port path (the slot is named slot-N in list order), or {"name", "path"}.',
  { name: 'left-1', path: '/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0' },
);

/** The path of a configured port, whether written as a string or as {name, path}. */
export function configuredPortPath(port: string | { name: string; path: string }): string {
  return typeof port === 'string' ? port : port.path;
}

export const usbFilter = doc(
  z.strictObject({
    vendorId: doc(hex4, 'USB vendor id (hex, compared case-insensitively).', '1915'),
    productId: doc(hex4, 'USB product id (hex, compared case-insensitively).', 'c00a'),
    serialNumber: doc(
      text(128),
      'Only the adapter with this USB serial number (optional).',
      '000683123456',
    ).optional(),
    name: doc(
      slotName,
      'Slot name operators see for the adapter this filter pins (needs serialNumber); otherwise the slot is named after the adapter serial number or its port.',
      'left-1',
    ).optional(),
  }),
  'A USB filter: a port whose adapter matches is a slot, found again when it is plugged in.',
  { vendorId: '1915', productId: 'c00a' },
);

export const slotsSection = doc(
  z.strictObject({
    discovery: doc(
      z.strictObject({
        ports: doc(z.array(configuredPort), 'Explicit serial ports, one slot each.', [
          '/dev/serial/by-id/usb-SEGGER_J-Link_000683123456-if00',
        ]).default([]),
        usb: doc(z.array(usbFilter), 'USB filters; matching ports come and go with hot-plug.', [
          { vendorId: '1915', productId: 'c00a' },
        ]).default([]),
      }),
      'How boards are found: explicit ports, USB filters, or both.',
      { usb: [{ vendorId: '1915', productId: 'c00a' }] },
    ).default({ ports: [], usb: [] }),
    baudRate: doc(z.number().int().min(1200).max(4_000_000), 'Serial baud rate.', DEFAULT_BAUD_RATE).default(
      DEFAULT_BAUD_RATE,
    ),
    maxConcurrent: doc(
      z.number().int().min(1).max(32),
      'Most slots provisioning at once (default: every slot; backend.concurrency protects the backend).',
      16,
    ).optional(),
    start: doc(
      z.enum(['on-plug', 'on-scan']),
      '"on-plug" starts a slot when a board appears; "on-scan" waits for its label to be scanned.',
      'on-plug',
    ).default('on-plug'),
    virtualBoards: doc(
      z.strictObject({
        count: doc(z.number().int().min(1).max(32), 'How many virtual boards.', 4).default(4),
        soc: doc(z.enum(KNOWN_SOCS), 'SoC the virtual boards report.', 'nRF52840').default('nRF52840'),
      }),
      'Sandbox only: virtual boards on PTY pairs instead of hardware.',
      { count: 4, soc: 'nRF52840' },
    ).optional(),
  }),
  'Slots: where boards are plugged in and how provisioning starts.',
  { discovery: { usb: [{ vendorId: '1915', productId: 'c00a' }] }, start: 'on-plug' },
);

// ---- recipes --------------------------------------------------------------------------------------------

const byIdOrName = (what: string, exampleName: string) =>
  z
    .strictObject({
      id: doc(uuid, `Id of the ${what}.`, '3fa85f64-5717-4562-b3fc-2c963f66afa6').optional(),
      name: doc(text(200), `Name of the ${what}, looked up on the backend.`, exampleName).optional(),
    })
    .refine((value) => (value.id === undefined) !== (value.name === undefined), {
      message: `give exactly one of "id" or "name" of the ${what}`,
    });

export const networkSection = doc(
  z
    .strictObject({
      id: doc(
        z.number().int().min(0).max(MAX_NETWORK_ID),
        'An existing network by its 24-bit network id.',
        4660,
      ).optional(),
      keySecret: doc(
        secretReference,
        'Take the network key from this station secret instead of the backend (optional).',
        'network-key-line-1',
      ).optional(),
      create: doc(
        z.literal(true),
        'Create the network by name on first use (the backend makes its key), or reuse it when it exists.',
        true,
      ).optional(),
      name: doc(text(200), 'Name of the network to create or reuse.', 'acme-line-1').optional(),
    })
    .refine(
      (value) =>
        value.id !== undefined
          ? value.create === undefined && value.name === undefined
          : value.create === true && value.name !== undefined && value.keySecret === undefined,
      { message: 'give either "id" (an existing network) or "create": true with a "name", not both' },
    )
    .nullable(),
  'The network the device joins, or null for none.',
  { create: true, name: 'acme-line-1' },
);

export const credentialsSection = doc(
  z.strictObject({
    deviceId: doc(z.literal(true), 'The device id is always written.', true).default(true),
    cloudPublicKey: doc(z.boolean(), 'Write the cloud public key.', true),
    network: doc(z.boolean(), 'Write the network id and key (needs "network").', true),
    mqttToken: doc(
      z
        .strictObject({
          ttlSeconds: doc(
            z.number().int(),
            `MQTT token lifetime in seconds (${MQTT_TTL_MIN_SECONDS} to ${MQTT_TTL_MAX_SECONDS}).`,
            3600,
          ),
        })
        .nullable(),
      'Write an MQTT token with this lifetime, or null for none.',
      { ttlSeconds: 3600 },
    ).default(null),
    derivedKey: doc(
      z
        .strictObject({ interface: doc(z.enum(KEY_INTERFACES), 'Interface of the derived key.', 'serial') })
        .nullable(),
      'Write a derived device key for one interface, or null for none.',
      { interface: 'serial' },
    ).default(null),
  }),
  'Which credentials the station writes to the board.',
  { cloudPublicKey: true, network: true, mqttToken: null, derivedKey: null },
);

export const metadataField = doc(
  z.strictObject({
    name: doc(text(64), 'Metadata field name sent with POST /device.', 'Serial Number'),
    from: doc(
      z
        .string()
        .regex(
          /^(?:scan:[A-Za-z]+|station:(?:id|name|line|site)|const:.+)$/,
          'must be "scan:<field>", "station:id|name|line|site" or "const:<value>"',
        ),
      'Where the value comes from: a scanned field, a station field, or a constant.',
      'scan:serialNumber',
    ),
    required: doc(z.boolean(), 'Refuse to provision a unit without this value (default true).', true).default(
      true,
    ),
  }),
  'One metadata field sent with POST /device.',
  { name: 'Serial Number', from: 'scan:serialNumber', required: true },
);

const firmwareRange = z.string().refine((value) => validRange(value) !== null, {
  message:
    'must be a semver range such as ">=1.4.0 <2" or "1.4.2"; use {"exact": "..."} for other version strings',
});
export const firmwareRule = doc(
  z.union([
    firmwareRange,
    z.strictObject({ exact: doc(text(100), 'A version string compared literally.', '2024.05-rc1') }),
  ]),
  'A semver range ("1.4.x", ">=1.4.0 <2", "*") or {"exact": "<version string>"}.',
  '>=1.4.0 <2',
);

export const communicationCheckSection = doc(
  z.discriminatedUnion('mode', [
    z.strictObject({ mode: doc(z.literal('off'), 'No communication check.', 'off') }),
    z.strictObject({
      mode: doc(
        z.enum(['state', 'last-route']),
        '"state": the device state must be newer than this run; "last-route": its last route must be.',
        'state',
      ),
      withinSeconds: doc(
        z.number().int().min(1).max(3600),
        'How long to wait for the device to show up.',
        120,
      ),
    }),
  ]),
  'Prove the device reached the cloud after provisioning.',
  { mode: 'state', withinSeconds: 120 },
);

export const recipeSection = doc(
  z.strictObject({
    id: doc(slug('a recipe id'), 'Stable id of the recipe; recorded on every unit.', 'sensor-v2'),
    name: doc(text(100), 'Name operators pick.', 'Sensor v2'),
    product: doc(text(100), 'Product this recipe makes.', 'Acme Sensor v2'),
    organisation: doc(byIdOrName('organisation', 'Acme'), 'Organisation the devices belong to.', {
      name: 'Acme',
    }),
    board: doc(
      byIdOrName('board profile', 'acme-sensor-v2'),
      'Board profile of the devices (by id or name).',
      { name: 'acme-sensor-v2' },
    ),
    soc: doc(
      z.enum(KNOWN_SOCS),
      'SoC of the board profile; a board reporting another SoC is refused.',
      'nRF52840',
    ),
    network: networkSection,
    credentials: credentialsSection,
    metadata: doc(z.array(metadataField), 'Metadata fields sent with POST /device.', [
      { name: 'Serial Number', from: 'scan:serialNumber', required: true },
    ]).default([]),
    allowedFirmware: doc(z.array(firmwareRule).min(1), 'Firmware versions this recipe accepts.', [
      '>=1.4.0 <2',
    ]),
    mcuIdByteOrder: doc(
      z.enum(['as-reported', 'reversed']),
      'Byte order of the mcuId sent to the backend: as the board reports it, or reversed.',
      'as-reported',
    ).default('as-reported'),
    finish: doc(
      z.strictObject({
        lock: doc(z.boolean(), 'Lock the board after a verified write.', false),
        reboot: doc(z.boolean(), 'Reboot the board at the end.', true),
      }),
      'What happens after a verified write.',
      { lock: false, reboot: true },
    ).default({ lock: false, reboot: true }),
    communicationCheck: communicationCheckSection.default({ mode: 'off' }),
  }),
  'A recipe: how one product is provisioned.',
  { id: 'sensor-v2', name: 'Sensor v2' },
);

// ---- scanning -------------------------------------------------------------------------------------------

/**
 * A scanning pattern compiled for the linear-time engine. The config states patterns as JavaScript regular
 * expressions (Unicode mode), but JavaScript's engine backtracks: a pattern such as `(a+)+` takes exponential
 * time on a long label, and a label is whatever the operator scans. So patterns run on RE2 (re2js), which matches
 * in time linear in the label, and the JavaScript features RE2 cannot express are refused when the config is checked.
 */
export interface ScanPattern {
  /** Whether the whole text matches. */
  test(text: string): boolean;
  /** The named groups of a whole-text match (undefined for a group that took no part), or null for no match. */
  match(text: string): Record<string, string | undefined> | null;
  /** Named groups in the order they open in the pattern. */
  readonly groups: readonly string[];
}

/** Why a pattern cannot be used, and an example of what can. */
export interface ScanPatternProblem {
  problem: string;
  /** Absent when the schema's own example of a pattern says it best. */
  example?: string;
}

export const SCAN_PATTERN_SYNTAX_PROBLEM = 'must be a valid regular expression';
const LINEAR_TIME_REASON =
  'scan patterns are matched in linear time (RE2), which has no lookarounds or backreferences';
const LOOKAROUND_EXAMPLE =
  '"SN:(?<serialNumber>[A-Z0-9]{10})", matching the text a lookaround would only have looked at';
const BACKREFERENCE_EXAMPLE =
  '"(?<batchCode>[A-Z]{2})-[A-Z]{2}", repeating what the group matches instead of referring back to it';

/** Compiles a scanning pattern as the station uses it: anchored to the whole scan, with Unicode semantics. */
export function compileScanPattern(pattern: string): ScanPattern {
  const compiled = analyseScanPattern(pattern);
  if ('problem' in compiled) throw new Error(`scanning pattern ${compiled.problem}`);
  return compiled;
}

export function scanPatternProblem(pattern: string): ScanPatternProblem | null {
  const compiled = analyseScanPattern(pattern);
  return 'problem' in compiled ? compiled : null;
}

export function scanPatternError(pattern: string): string | null {
  return scanPatternProblem(pattern)?.problem ?? null;
}

export function scanPatternGroups(pattern: string): string[] {
  const compiled = analyseScanPattern(pattern);
  return 'problem' in compiled ? [] : [...compiled.groups];
}

// matchScan compiles on every scan, and the checker on every check; a config holds a handful of patterns, and the
// bound keeps a stream of distinct patterns (a fuzzer, an editor checking as one types) from growing it forever.
const MAX_CACHED_SCAN_PATTERNS = 128;
const scanPatternCache = new Map<string, ScanPattern | ScanPatternProblem>();

function analyseScanPattern(pattern: string): ScanPattern | ScanPatternProblem {
  const cached = scanPatternCache.get(pattern);
  if (cached) return cached;
  const result = analyseUncached(pattern);
  if (scanPatternCache.size >= MAX_CACHED_SCAN_PATTERNS) {
    const oldest = scanPatternCache.keys().next();
    if (!oldest.done) scanPatternCache.delete(oldest.value);
  }
  scanPatternCache.set(pattern, result);
  return result;
}

function analyseUncached(pattern: string): ScanPattern | ScanPatternProblem {
  // JavaScript's parser (never its matcher) still decides what is well-formed, so the patterns the config
  // documents keep their meaning; compiling a RegExp does no matching and takes time linear in the pattern.
  try {
    new RegExp(pattern, 'u');
  } catch {
    return { problem: SCAN_PATTERN_SYNTAX_PROBLEM };
  }
  const translated = translateToRe2(pattern);
  if ('problem' in translated) return translated;
  let re2: RE2JS;
  try {
    re2 = RE2JS.compile(translated.source);
  } catch (error) {
    const detail =
      error instanceof RE2JSSyntaxException
        ? `${error.getDescription()}${error.getPattern() ? `: ${error.getPattern()}` : ''}`
        : error instanceof Error
          ? error.message
          : String(error);
    return {
      problem: `uses syntax that the linear-time engine for scan patterns (RE2) does not support (${detail})`,
    };
  }
  const groups = Object.entries(re2.namedGroups())
    .sort(([, a], [, b]) => a - b)
    .map(([name]) => name);
  return {
    groups,
    test: (text) => re2.testExact(text),
    match: (text) => {
      const matcher = re2.matcher(text);
      // matches() anchors at both ends, as the config promises: the whole scan, not a part of it.
      if (!matcher.matches()) return null;
      const out: Record<string, string | undefined> = {};
      for (const name of groups) out[name] = matcher.group(name) ?? undefined;
      return out;
    },
  };
}

// What JavaScript's `.` and `\s` match in Unicode mode; RE2's `.` also matches \r, \u2028 and \u2029, and its
// `\s` is ASCII only.
const JS_DOT = '[^\\n\\r\\x{2028}\\x{2029}]';
const JS_SPACE_MEMBERS =
  '\\t\\n\\x{b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';
const UNICODE_PROPERTY_PREFIX = /^(?:Script|sc|General_Category|gc)=/;

/**
 * Rewrites a pattern that JavaScript accepts (Unicode mode) into RE2 syntax with the same meaning, or names the
 * JavaScript feature RE2 lacks. Runs after JavaScript's parser accepted the pattern, so escapes and classes are
 * well-formed here.
 */
function translateToRe2(pattern: string): { source: string } | ScanPatternProblem {
  let out = '';
  let inClass = false;
  let i = 0;
  const hex4At = (from: number) => /^[0-9A-Fa-f]{4}$/.test(pattern.slice(from, from + 4));
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && /[1-9]/.test(next)) {
        const digits = /^\d+/.exec(pattern.slice(i + 1))?.[0] ?? next;
        return backreference(`\\${digits}`);
      }
      if (!inClass && next === 'k') {
        const end = pattern.indexOf('>', i);
        return backreference(end > i ? pattern.slice(i, end + 1) : '\\k');
      }
      if (next === 'u') {
        if (pattern[i + 2] === '{') {
          const end = pattern.indexOf('}', i);
          out += `\\x{${pattern.slice(i + 3, end)}}`;
          i = end + 1;
          continue;
        }
        let code = parseInt(pattern.slice(i + 2, i + 6), 16);
        i += 6;
        // Unicode mode joins an escaped surrogate pair into the one code point it encodes.
        if (code >= 0xd800 && code <= 0xdbff && pattern.startsWith('\\u', i) && hex4At(i + 2)) {
          const low = parseInt(pattern.slice(i + 2, i + 6), 16);
          if (low >= 0xdc00 && low <= 0xdfff) {
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
            i += 6;
          }
        }
        out += `\\x{${code.toString(16)}}`;
        continue;
      }
      if (next === 'c') {
        out += `\\x{${(pattern.charCodeAt(i + 2) % 32).toString(16)}}`;
        i += 3;
        continue;
      }
      if (next === '0') {
        out += '\\x{0}';
        i += 2;
        continue;
      }
      if (next === 's' || next === 'S') {
        // Inside a class `\S` keeps RE2's ASCII meaning: a class cannot hold the complement of a list.
        if (inClass) out += next === 's' ? JS_SPACE_MEMBERS : '\\S';
        else out += next === 's' ? `[${JS_SPACE_MEMBERS}]` : `[^${JS_SPACE_MEMBERS}]`;
        i += 2;
        continue;
      }
      if (inClass && next === 'b') {
        out += '\\x{8}';
        i += 2;
        continue;
      }
      if ((next === 'p' || next === 'P') && pattern[i + 2] === '{') {
        const end = pattern.indexOf('}', i);
        out += `\\${next}{${pattern.slice(i + 3, end).replace(UNICODE_PROPERTY_PREFIX, '')}}`;
        i = end + 1;
        continue;
      }
      // Every other escape (\d, \w, \b, \xHH, \n, \. and the other escaped punctuation) means the same in RE2.
      const width = (pattern.codePointAt(i + 1) ?? 0) > 0xffff ? 2 : 1;
      out += pattern.slice(i, i + 1 + width);
      i += 1 + width;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      // RE2 reads `[:alpha:]` inside a class as a POSIX class; in JavaScript it is just those characters.
      out += ch === '[' ? '\\[' : ch;
      i += 1;
      continue;
    }
    if (ch === '[') {
      // JavaScript's empty class matches nothing and its negation anything; RE2 would read `]` as a member.
      if (pattern.startsWith('[]', i)) {
        out += '[^\\x{0}-\\x{10FFFF}]';
        i += 2;
      } else if (pattern.startsWith('[^]', i)) {
        out += '[\\x{0}-\\x{10FFFF}]';
        i += 3;
      } else {
        inClass = true;
        const opening = pattern.startsWith('[^', i) ? '[^' : '[';
        out += opening;
        i += opening.length;
      }
      continue;
    }
    if (ch === '(' && pattern[i + 1] === '?') {
      const lookaround = /^\(\?(?:=|!|<=|<!)/.exec(pattern.slice(i, i + 4))?.[0];
      if (lookaround) {
        const kind = {
          '(?=': 'a lookahead',
          '(?!': 'a negative lookahead',
          '(?<=': 'a lookbehind',
          '(?<!': 'a negative lookbehind',
        }[lookaround];
        return {
          problem: `uses ${kind} "${lookaround}...)", but ${LINEAR_TIME_REASON}`,
          example: LOOKAROUND_EXAMPLE,
        };
      }
    }
    if (ch === '.') {
      out += JS_DOT;
      i += 1;
      continue;
    }
    out += ch;
    i += 1;
  }
  return { source: out };
}

function backreference(text: string): ScanPatternProblem {
  return {
    problem: `uses a backreference "${text}", but ${LINEAR_TIME_REASON}`,
    example: BACKREFERENCE_EXAMPLE,
  };
}

export const scanFormat = doc(
  z.strictObject({
    name: doc(text(64), 'Name of the label format.', 'serial-label'),
    pattern: doc(
      z
        .string()
        .min(1)
        .superRefine((value, ctx) => {
          const problem = scanPatternProblem(value);
          // The checker shows the example carried in params, since one fixed example cannot fit every refusal.
          if (problem)
            ctx.addIssue({ code: 'custom', message: problem.problem, params: { example: problem.example } });
        }),
      'Regular expression a whole scan must match; named groups fill the fields listed in "fills".',
      'SN:(?<serialNumber>[A-Z0-9]{10})',
    ),
    fills: doc(z.array(z.enum(SCAN_FIELDS)).min(1), 'Fields this format fills (its named groups).', [
      'serialNumber',
    ]),
    example: doc(text(500), 'A scan this format accepts; checked against the pattern.', 'SN:AB12345678'),
  }),
  'One label format a scan may take.',
  {
    name: 'serial-label',
    pattern: 'SN:(?<serialNumber>[A-Z0-9]{10})',
    fills: ['serialNumber'],
    example: 'SN:AB12345678',
  },
);

export const DEFAULT_BAD_SCAN_MESSAGE = 'That label was not recognised. Scan the serial-number label again.';

export const scanningSection = doc(
  z.strictObject({
    formats: doc(z.array(scanFormat), 'Label formats, tried in order; the first that matches wins.', [
      { name: 'serial-label', pattern: 'SN:(?<serialNumber>[A-Z0-9]{10})', fills: ['serialNumber'] },
    ]).default([]),
    badScanMessage: doc(
      text(300),
      'What the operator sees when a scan matches no format.',
      DEFAULT_BAD_SCAN_MESSAGE,
    ).default(DEFAULT_BAD_SCAN_MESSAGE),
  }),
  'Label scanning.',
  { formats: [], badScanMessage: DEFAULT_BAD_SCAN_MESSAGE },
);

// ---- the whole config -----------------------------------------------------------------------------------

export const stationConfigSchema = z
  .strictObject({
    $schema: doc(
      z.string(),
      'Path or URL of the JSON Schema, for editors.',
      '../schema/station-config.schema.json',
    ).optional(),
    configVersion: doc(
      z.literal(CONFIG_VERSION),
      'Version of this config format, so a newer station can migrate an older file.',
      CONFIG_VERSION,
    ),
    environment: doc(
      z.enum(['production', 'sandbox']),
      '"production" enables the production policy; "sandbox" is bannered SANDBOX everywhere.',
      'production',
    ),
    station: stationSection,
    backend: backendSection,
    slots: slotsSection,
    recipes: doc(z.array(recipeSection).min(1), 'Recipes, one per product.', [{ id: 'sensor-v2' }]),
    scanning: scanningSection.default({ formats: [], badScanMessage: DEFAULT_BAD_SCAN_MESSAGE }),
    audit: doc(
      z.strictObject({
        checkpointEvery: doc(
          z.number().int().min(1).max(100_000),
          'The station signs its trail (a checkpoint) after this many events, at every batch close and at shutdown.',
          100,
        ).default(100),
        expectedKeyFingerprint: doc(
          z.string().regex(/^ed25519:[0-9a-f]{32}$/, 'must be a fingerprint as `station identity` prints it'),
          "The station's registered identity key (`station identity` prints it): the station refuses to run with another key, and `audit verify` checks against it.",
          'ed25519:4f3a9c0e2b7d1a6f5e8c3b2a1d0f9e8c',
        ).optional(),
      }),
      "The audit trail's signatures.",
      { checkpointEvery: 100 },
    ).default({ checkpointEvery: 100 }),
    accounts: doc(
      z.strictObject({
        idleLogoutMinutes: doc(
          z
            .number()
            .int()
            .min(1)
            .max(24 * 60),
          'Minutes without a command after which the person logged in is logged out.',
          15,
        ).default(15),
      }),
      'People at the station: accounts live in the station database, not here.',
      { idleLogoutMinutes: 15 },
    ).default({ idleLogoutMinutes: 15 }),
    central: doc(
      z.strictObject({
        url: doc(
          z
            .string()
            .regex(
              /^postgres(?:ql)?:\/\/[^:@/\s]+@[^@/\s]+\/[^\s]+$/,
              'must be postgres://USER@HOST[:PORT]/DATABASE, without a password: the password is the secret central-database-password',
            ),
          'The central PostgreSQL database the station ships its audit trail to (add ?sslmode=verify-full for TLS). The password is the secret central-database-password.',
          'postgres://station@db.example.com:5432/infuse?sslmode=verify-full',
        ),
        intervalMs: doc(
          z.number().int().min(200).max(600_000),
          'How often the station looks for events to ship, in milliseconds.',
          2000,
        ).default(2000),
      }),
      "Ship the station's audit trail to a central database; the station provisions on when it is unreachable and catches up when it is back.",
      { url: 'postgres://station@db.example.com:5432/infuse?sslmode=verify-full' },
    ).optional(),
    firstAdmin: doc(
      z.strictObject({ name: doc(text(100), 'User name of the first administrator.', 'it-admin') }),
      'The first administrator, created when the database is new (operators and roles are data, not config).',
      { name: 'it-admin' },
    ).optional(),
  })
  .meta({
    title: 'Infuse provisioning station config',
    description:
      'One file per station. Secrets are referenced by name from the secret store, never written here.',
  });

export type StationConfig = z.infer<typeof stationConfigSchema>;
export type StationConfigInput = z.input<typeof stationConfigSchema>;
export type Recipe = StationConfig['recipes'][number];
export type BackendConfig = StationConfig['backend'];
export type SlotsConfig = StationConfig['slots'];
export type ScanningConfig = StationConfig['scanning'];
export type FirmwareRule = Recipe['allowedFirmware'][number];

/** The JSON Schema editors use; generated from the zod schema (npm run gen:config-schema writes it to disk). */
export function stationConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(stationConfigSchema, { io: 'input', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}
