/**
 * The config checker: every problem of a config at once, each with its JSON path, what is wrong and an example of
 * what is right. Three passes, merged into one list in document order:
 *   1. structure (the zod schema);
 *   2. policy (secrets in plain text, the public default network, plain-HTTP backends, MQTT TTL limits, sandbox
 *      parts in production), run on the raw value so it reports even when the structure is broken;
 *   3. consistency between fields (unique ids, scan fields that some format fills, ...), run on the parsed config
 *      once the structure is right, because it needs typed values.
 * It never throws: any JSON value, however strange, comes back as a list of problems.
 */
import { z } from 'zod';
import {
  compileScanPattern,
  configuredPortPath,
  isSecretName,
  MQTT_TTL_MAX_SECONDS,
  MQTT_TTL_MIN_SECONDS,
  SCAN_FIELDS,
  scanPatternGroups,
  stationConfigSchema,
  type StationConfig,
} from './schema';

export interface ConfigProblem {
  /** JSON path of the offending value, e.g. `$.recipes[0].network.id`. */
  path: string;
  /** What is wrong, in words an IT person acts on. Never contains a secret value. */
  problem: string;
  /** An example of what is right. */
  example: string;
}

export type CheckResult =
  { valid: true; config: StationConfig; problems: [] } | { valid: false; problems: ConfigProblem[] };

type PathKey = string | number;

// ---- exact texts (tests pin them) -------------------------------------------------------------------------

export const PLAIN_TEXT_SECRET_PROBLEM =
  'holds a plain-text secret; secrets must be referenced from the secret store, never written in the config';
export const PLAIN_TEXT_SECRET_EXAMPLE = '"apiKeySecret": "backend-api-key"';
export const DEFAULT_NETWORK_PROBLEM =
  "the vendor's public default network (id 0, key 00..1f) is insecure; create a network for production";
export const DEFAULT_NETWORK_EXAMPLE = '"network": { "create": true, "name": "acme-line-1" }';
export const INSECURE_URL_PROBLEM =
  'must use https:// unless the backend is on this machine (localhost, 127.0.0.0/8, ::1); ' +
  'otherwise the API key crosses the network in clear text';
export const INSECURE_URL_EXAMPLE = '"https://api.infuse-iot.com"';
export const MQTT_TTL_PROBLEM = `MQTT token TTL must be between ${MQTT_TTL_MIN_SECONDS} and ${MQTT_TTL_MAX_SECONDS} seconds (the limits of the Infuse cloud)`;
export const MQTT_TTL_EXAMPLE = '3600';
export const SANDBOX_BACKEND_IN_PRODUCTION_PROBLEM =
  'a production station cannot use the built-in sandbox backend; its devices exist nowhere else';
export const VIRTUAL_BOARDS_IN_PRODUCTION_PROBLEM =
  'virtual boards are for the sandbox; a production station provisions real boards only';

// ---- public entry points --------------------------------------------------------------------------------

export function checkStationConfig(value: unknown): CheckResult {
  try {
    return checkUnsafe(value);
  } catch (error) {
    // Defence in depth: the passes are written not to throw, but a checker that crashes on a strange file would
    // leave IT with a stack trace instead of a message.
    return {
      valid: false,
      problems: [
        {
          path: '$',
          problem: `could not be checked (${error instanceof Error ? error.message : String(error)})`,
          example: 'a config object such as station-config/sandbox.json',
        },
      ],
    };
  }
}

/** One line per problem, as `station config check` and the app show them. */
export function formatProblem(problem: ConfigProblem): string {
  return `${problem.path}: ${problem.problem} (e.g. ${problem.example})`;
}

export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

// ---- the passes ---------------------------------------------------------------------------------------------

function checkUnsafe(value: unknown): CheckResult {
  const problems: ConfigProblem[] = [];
  const parsed = stationConfigSchema.safeParse(value);
  const policy = policyProblems(value);
  const policyPaths = new Set(policy.map((p) => p.path));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const problem of issueProblems(issue, value)) {
        // A plain-text secret under an unknown key is reported once, as the secret it is.
        if (!policyPaths.has(problem.path)) problems.push(problem);
      }
    }
  }
  problems.push(...policy);
  if (parsed.success) problems.push(...consistencyProblems(parsed.data));
  const unique = dedupe(problems);
  if (unique.length === 0 && parsed.success) return { valid: true, config: parsed.data, problems: [] };
  return { valid: false, problems: inDocumentOrder(unique, value) };
}

// ---- pass 1: zod issues as problems -----------------------------------------------------------------------

function issueProblems(issue: z.core.$ZodIssue, root: unknown): ConfigProblem[] {
  const path = issue.path.filter((k): k is PathKey => typeof k === 'string' || typeof k === 'number');
  const actual = valueAt(root, path);
  const example = () => exampleAt(root, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(root, path);
      return issue.keys.map((key) => {
        const suggestion = closest(key, known);
        return {
          path: jsonPath([...path, key]),
          problem: `is not a known setting${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
          example: known.length > 0 ? `one of the settings here: ${known.join(', ')}` : 'remove it',
        };
      });
    }
    case 'invalid_type':
      if (actual === undefined) return [{ path: jsonPath(path), problem: 'is required', example: example() }];
      return [
        {
          path: jsonPath(path),
          problem: `must be ${describeExpected(issue.expected)}, not ${describeValue(actual)}`,
          example: example(),
        },
      ];
    case 'invalid_value': {
      const allowed =
        issue.values.length === 1
          ? JSON.stringify(issue.values[0])
          : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      return [
        {
          path: jsonPath(path),
          problem: actual === undefined ? `is required; must be ${allowed}` : `must be ${allowed}`,
          example: example(),
        },
      ];
    }
    case 'invalid_union': {
      if ('discriminator' in issue && Array.isArray((issue as { options?: unknown }).options)) {
        const options = (issue as { options: unknown[] }).options.map((v) => JSON.stringify(v)).join(', ');
        return [
          {
            path: jsonPath(path),
            problem: actual === undefined ? `is required; one of ${options}` : `must be one of ${options}`,
            example: example(),
          },
        ];
      }
      return [{ path: jsonPath(path), problem: 'matches none of the allowed forms', example: example() }];
    }
    case 'too_small':
    case 'too_big':
      return [{ path: jsonPath(path), problem: sizeProblem(issue), example: example() }];
    case 'invalid_format':
      // Every format and refinement in schema.ts carries its own message.
      return [{ path: jsonPath(path), problem: issue.message, example: example() }];
    case 'custom': {
      // A refusal of a scan pattern names what to write instead, which the field's one example cannot.
      const own: unknown = issue.params?.example;
      return [
        { path: jsonPath(path), problem: issue.message, example: typeof own === 'string' ? own : example() },
      ];
    }
    default:
      return [{ path: jsonPath(path), problem: issue.message, example: example() }];
  }
}

function sizeProblem(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const bound = Number(
    small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum,
  );
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'string':
      if (small && bound === 1) return 'must not be empty';
      return small ? `must be at least ${bound} characters` : `must be at most ${bound} characters`;
    case 'array':
      if (small && bound === 1) return 'must list at least one item';
      return small ? `must list at least ${bound} items` : `must list at most ${bound} items`;
    default:
      if (small) return inclusive ? `must be at least ${bound}` : `must be greater than ${bound}`;
      return inclusive ? `must be at most ${bound}` : `must be less than ${bound}`;
  }
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'int':
      return 'a whole number';
    case 'array':
      return 'a list';
    case 'object':
      return 'an object';
    case 'boolean':
      return 'true or false';
    default:
      return `a ${expected}`;
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number')
    return Number.isInteger(value) ? 'a whole number' : 'a number with a fraction';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

// ---- examples from the schema ------------------------------------------------------------------------------

type AnySchema = z.core.$ZodType;
interface Def {
  type: string;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  innerType?: AnySchema;
  in?: AnySchema;
  options?: readonly AnySchema[];
  discriminator?: string;
}
const defOf = (schema: AnySchema): Def => schema._zod.def as unknown as Def;

/** Peels wrappers (optional, default, nullable, pipe), collecting the first example met on the way. */
function unwrap(schema: AnySchema): { core: AnySchema; example: unknown } {
  let current = schema;
  let example: unknown;
  for (let i = 0; i < 16; i++) {
    const meta = z.globalRegistry.get(current);
    if (example === undefined && meta && Array.isArray(meta.examples) && meta.examples.length > 0) {
      example = meta.examples[0];
    }
    const def = defOf(current);
    const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (!inner) break;
    current = inner;
  }
  return { core: current, example };
}

/** The schema node at a path, choosing union members by the data where it can. */
function schemaAt(root: unknown, path: readonly PathKey[]): AnySchema | undefined {
  let schema: AnySchema | undefined = stationConfigSchema;
  for (let i = 0; i < path.length && schema; i++) {
    const key = path[i];
    let { core } = unwrap(schema);
    let def = defOf(core);
    if (def.type === 'union' && def.options) {
      const data = valueAt(root, path.slice(0, i));
      core = pickUnionOption(def, data, key) ?? core;
      core = unwrap(core).core;
      def = defOf(core);
    }
    if (def.type === 'object' && typeof key === 'string') schema = def.shape?.[key];
    else if (def.type === 'array' && typeof key === 'number') schema = def.element;
    else schema = undefined;
  }
  return schema;
}

function pickUnionOption(def: Def, data: unknown, key: PathKey | undefined): AnySchema | undefined {
  const options = def.options ?? [];
  const objects = options.filter((o) => defOf(unwrap(o).core).type === 'object');
  if (def.discriminator && isRecord(data)) {
    const wanted = data[def.discriminator];
    for (const option of objects) {
      const shape = defOf(unwrap(option).core).shape ?? {};
      const disc = shape[def.discriminator];
      if (disc && z.safeParse(disc, wanted).success) return option;
    }
  }
  // Otherwise the last object form that has the key: unions list the simplest form first, the richer one last.
  const withKey = objects.filter(
    (o) => typeof key === 'string' && defOf(unwrap(o).core).shape?.[key] !== undefined,
  );
  return withKey[withKey.length - 1] ?? objects[0];
}

function exampleAt(root: unknown, path: readonly PathKey[]): string {
  const schema = schemaAt(root, path);
  const example = schema ? unwrap(schema).example : undefined;
  if (example === undefined) return 'see station-config/examples/production.template.jsonc';
  return JSON.stringify(example);
}

function knownKeysAt(root: unknown, path: readonly PathKey[]): string[] {
  const schema = schemaAt(root, path);
  if (!schema) return [];
  let { core } = unwrap(schema);
  let def = defOf(core);
  if (def.type === 'union') {
    core = unwrap(pickUnionOption(def, valueAt(root, path), undefined) ?? core).core;
    def = defOf(core);
  }
  return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

/** Suggests a known key for a typo: same letters ignoring case and separators, or at most 2 edits away. */
function closest(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    if (norm(candidate) === norm(key)) return candidate;
    const d = editDistance(norm(key), norm(candidate));
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3 || a.length > 64 || b.length > 64) return 99;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 99;
}

// ---- pass 2: policy on the raw value -------------------------------------------------------------------------

// Field names whose string value can only be a secret. References end in "Secret" and name a store entry instead.
const SECRET_KEY_NAMES =
  /^(?:api[-_]?key|key|network[-_]?key|token|mqtt[-_]?token|access[-_]?token|password|passwd|secret|shared[-_]?secret|derived[-_]?key|private[-_]?key|client[-_]?secret)$/i;

/** Whether a string looks like key material: a JWT-style Infuse key, an IAM key, or base64 of 32 key bytes. */
export function looksLikeSecretValue(value: string): boolean {
  // JWTs start with base64url of '{"', i.e. "eyJ"; a truncated one (no dots) is still a key.
  if (/^eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}(?:\.[A-Za-z0-9_-]*)?$/.test(value)) return true;
  if (/^eyJ[A-Za-z0-9_-]{30,}$/.test(value)) return true;
  if (/^ik_[A-Za-z0-9_-]{16,}$/.test(value)) return true;
  if (/^[A-Za-z0-9+/]{43}=$/.test(value) && Buffer.from(value, 'base64').length === 32) return true;
  return false;
}

const MAX_WALK_DEPTH = 64;

function policyProblems(root: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  walkStrings(root, (path, key, value) => {
    // A "...Secret" field holding a store name is a reference (the point of the design), not a secret.
    if (typeof key === 'string' && /Secret$/.test(key) && isSecretName(value)) return;
    const secretField = typeof key === 'string' && SECRET_KEY_NAMES.test(key) && value.length > 0;
    if (secretField || looksLikeSecretValue(value)) {
      problems.push({
        path: jsonPath(path),
        problem: PLAIN_TEXT_SECRET_PROBLEM,
        example: PLAIN_TEXT_SECRET_EXAMPLE,
      });
    }
  });

  const config = isRecord(root) ? root : {};
  const production = config.environment === 'production';
  const backend = isRecord(config.backend) ? config.backend : {};
  if (typeof backend.baseUrl === 'string' && URL.canParse(backend.baseUrl)) {
    const url = new URL(backend.baseUrl);
    if (url.username !== '' || url.password !== '') {
      problems.push({
        path: '$.backend.baseUrl',
        problem: PLAIN_TEXT_SECRET_PROBLEM,
        example: PLAIN_TEXT_SECRET_EXAMPLE,
      });
    } else if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      problems.push({
        path: '$.backend.baseUrl',
        problem: INSECURE_URL_PROBLEM,
        example: INSECURE_URL_EXAMPLE,
      });
    }
  }
  if (production && backend.mode === 'sandbox') {
    problems.push({
      path: '$.backend.mode',
      problem: SANDBOX_BACKEND_IN_PRODUCTION_PROBLEM,
      example: '"remote"',
    });
  }
  const slots = isRecord(config.slots) ? config.slots : {};
  if (production && slots.virtualBoards !== undefined) {
    problems.push({
      path: '$.slots.virtualBoards',
      problem: VIRTUAL_BOARDS_IN_PRODUCTION_PROBLEM,
      example: 'remove "virtualBoards" and list real ports or USB filters in "discovery"',
    });
  }

  const recipes = Array.isArray(config.recipes) ? config.recipes : [];
  recipes.forEach((recipe: unknown, index) => {
    if (!isRecord(recipe)) return;
    const network = recipe.network;
    if (production && isRecord(network) && network.id === 0) {
      problems.push({
        path: jsonPath(['recipes', index, 'network', 'id']),
        problem: DEFAULT_NETWORK_PROBLEM,
        example: DEFAULT_NETWORK_EXAMPLE,
      });
    }
    const credentials = isRecord(recipe.credentials) ? recipe.credentials : {};
    const mqtt = credentials.mqttToken;
    if (isRecord(mqtt) && typeof mqtt.ttlSeconds === 'number') {
      const ttl = mqtt.ttlSeconds;
      if (!(ttl >= MQTT_TTL_MIN_SECONDS && ttl <= MQTT_TTL_MAX_SECONDS)) {
        problems.push({
          path: jsonPath(['recipes', index, 'credentials', 'mqttToken', 'ttlSeconds']),
          problem: MQTT_TTL_PROBLEM,
          example: MQTT_TTL_EXAMPLE,
        });
      }
    }
  });
  return problems;
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  // WHATWG URL parsing has already normalised IPv4 forms such as 127.1 to dotted quads.
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Visits every string value with its path and the key it sits under; iterative, so deep nesting cannot overflow. */
function walkStrings(
  root: unknown,
  visit: (path: PathKey[], key: PathKey | undefined, value: string) => void,
): void {
  const stack: Array<{ value: unknown; path: PathKey[] }> = [{ value: root, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') visit(path, path[path.length - 1], value);
    else if (path.length >= MAX_WALK_DEPTH) continue;
    else if (Array.isArray(value))
      value.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
    else if (isRecord(value))
      for (const [k, v] of Object.entries(value)) stack.push({ value: v, path: [...path, k] });
  }
}

// ---- pass 3: consistency of a structurally valid config ------------------------------------------------------

function consistencyProblems(config: StationConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: PathKey[], problem: string, example: string) =>
    problems.push({ path: jsonPath(path), problem, example });

  // Scanning formats: groups and fills agree, examples match, names are unique.
  const filled = new Set<string>();
  const formatNames = new Map<string, number>();
  config.scanning.formats.forEach((format, i) => {
    const first = formatNames.get(format.name);
    if (first !== undefined)
      add(
        ['scanning', 'formats', i, 'name'],
        `repeats the name of $.scanning.formats[${first}]`,
        '"serial-label-2"',
      );
    else formatNames.set(format.name, i);
    const groups = scanPatternGroups(format.pattern);
    if (groups.length === 0) {
      add(
        ['scanning', 'formats', i, 'pattern'],
        'has no named group, so a scan would fill no field',
        '"SN:(?<serialNumber>[A-Z0-9]{10})"',
      );
    }
    for (const group of groups) {
      if (!(SCAN_FIELDS as readonly string[]).includes(group)) {
        add(
          ['scanning', 'formats', i, 'pattern'],
          `names group "${group}", which is not a known field (${SCAN_FIELDS.join(', ')})`,
          '"SN:(?<serialNumber>[A-Z0-9]{10})"',
        );
      } else if (!format.fills.includes(group as (typeof SCAN_FIELDS)[number])) {
        add(
          ['scanning', 'formats', i, 'fills'],
          `does not list "${group}", which the pattern fills`,
          JSON.stringify([...groups]),
        );
      }
    }
    format.fills.forEach((field, j) => {
      if (!groups.includes(field)) {
        add(
          ['scanning', 'formats', i, 'fills', j],
          `"${field}" has no named group (?<${field}>...) in the pattern`,
          JSON.stringify(field),
        );
      }
      filled.add(field);
    });
    if (!compileScanPattern(format.pattern).test(format.example)) {
      add(
        ['scanning', 'formats', i, 'example'],
        'does not match the pattern (the whole scan must match)',
        '"SN:AB12345678" for the pattern "SN:(?<serialNumber>[A-Z0-9]{10})"',
      );
    }
  });
  if (config.slots.start === 'on-scan' && config.scanning.formats.length === 0) {
    add(
      ['slots', 'start'],
      'is "on-scan" but no scanning format is defined',
      '"on-plug", or add a format to "scanning.formats"',
    );
  }

  // Slots: some way to find boards, each port once, virtual boards only against the sandbox.
  const { discovery, virtualBoards } = config.slots;
  if (discovery.ports.length === 0 && discovery.usb.length === 0 && !virtualBoards) {
    add(
      ['slots', 'discovery'],
      'finds no boards: list serial ports or USB filters',
      '{ "usb": [{ "vendorId": "1915", "productId": "c00a" }] }',
    );
  }
  const seenPorts = new Map<string, number>();
  const seenNames = new Map<string, number>();
  discovery.ports.forEach((port, i) => {
    const path = configuredPortPath(port);
    const first = seenPorts.get(path);
    if (first !== undefined)
      add(['slots', 'discovery', 'ports', i], `repeats $.slots.discovery.ports[${first}]`, 'each port once');
    else seenPorts.set(path, i);
    if (typeof port !== 'string') {
      const named = seenNames.get(port.name);
      if (named !== undefined)
        add(
          ['slots', 'discovery', 'ports', i, 'name'],
          `repeats the slot name of $.slots.discovery.ports[${named}]`,
          'a name of its own for each slot',
        );
      else seenNames.set(port.name, i);
    }
  });
  discovery.usb.forEach((filter, i) => {
    if (filter.name !== undefined && filter.serialNumber === undefined)
      add(
        ['slots', 'discovery', 'usb', i, 'name'],
        'names a slot but the filter has no serialNumber, so it may match several adapters',
        '{ "vendorId": "1915", "productId": "c00a", "serialNumber": "000683123456", "name": "left-1" }',
      );
  });
  if (virtualBoards && config.backend.mode !== 'sandbox') {
    add(
      ['slots', 'virtualBoards'],
      'virtual boards only run against the sandbox backend; they would create fake devices in a real cloud',
      '"backend": { "mode": "sandbox" }',
    );
  }
  if (virtualBoards && !config.recipes.some((r) => r.soc === virtualBoards.soc)) {
    add(
      ['slots', 'virtualBoards', 'soc'],
      `is "${virtualBoards.soc}" but no recipe makes a board with that SoC`,
      JSON.stringify(config.recipes[0]?.soc ?? 'nRF52840'),
    );
  }

  // Recipes.
  const recipeIds = new Map<string, number>();
  config.recipes.forEach((recipe, r) => {
    const first = recipeIds.get(recipe.id);
    if (first !== undefined)
      add(['recipes', r, 'id'], `repeats the id of $.recipes[${first}]`, '"sensor-v3"');
    else recipeIds.set(recipe.id, r);

    if (recipe.credentials.network && recipe.network === null) {
      add(
        ['recipes', r, 'credentials', 'network'],
        'is true but the recipe has no network; set "network" or make this false',
        'false',
      );
    }
    if (!recipe.credentials.network && recipe.network !== null) {
      add(
        ['recipes', r, 'network'],
        'is set but credentials.network is false, so it would never be written; set credentials.network to true or this to null',
        'null',
      );
    }

    const names = new Map<string, number>();
    recipe.metadata.forEach((field, m) => {
      const firstName = names.get(field.name);
      if (firstName !== undefined)
        add(
          ['recipes', r, 'metadata', m, 'name'],
          `repeats the name of $.recipes[${r}].metadata[${firstName}]`,
          '"Hardware Revision"',
        );
      else names.set(field.name, m);
      const [source, rest] = splitOnce(field.from, ':');
      if (source === 'scan') {
        if (!(SCAN_FIELDS as readonly string[]).includes(rest)) {
          add(
            ['recipes', r, 'metadata', m, 'from'],
            `names scan field "${rest}", which is not a known field (${SCAN_FIELDS.join(', ')})`,
            '"scan:serialNumber"',
          );
        } else if (!filled.has(rest)) {
          add(
            ['recipes', r, 'metadata', m, 'from'],
            `reads scan field "${rest}", which no scanning format fills`,
            `a format in "scanning.formats" with "fills": ["${rest}"]`,
          );
        }
      }
      if (
        source === 'station' &&
        (rest === 'line' || rest === 'site') &&
        config.station[rest] === undefined
      ) {
        add(
          ['recipes', r, 'metadata', m, 'from'],
          `reads station.${rest}, which the config does not set`,
          `"station": { "${rest}": "..." }`,
        );
      }
    });
  });
  return problems;
}

// ---- helpers ---------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(root: unknown, path: readonly PathKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (Array.isArray(current) && typeof key === 'number') current = current[key];
    else if (isRecord(current) && typeof key === 'string' && Object.hasOwn(current, key))
      current = current[key];
    else return undefined;
  }
  return current;
}

function splitOnce(value: string, separator: string): [string, string] {
  const at = value.indexOf(separator);
  return at < 0 ? [value, ''] : [value.slice(0, at), value.slice(at + 1)];
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.problem}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Orders problems as their values appear in the file. A problem about a missing value sorts at the end of its
 * parent object (where one would add it), keeping the schema's order among siblings.
 */
function inDocumentOrder(problems: ConfigProblem[], root: unknown): ConfigProblem[] {
  const start = new Map<string, number>();
  const end = new Map<string, number>();
  let counter = 0;
  // Iterative pre-order walk; an "exit" marker records the index of a node's last descendant.
  const stack: Array<{ value: unknown; path: PathKey[]; exit?: string }> = [{ value: root, path: [] }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.exit !== undefined) {
      end.set(item.exit, counter - 1);
      continue;
    }
    const key = jsonPath(item.path);
    start.set(key, counter++);
    stack.push({ value: undefined, path: item.path, exit: key });
    if (item.path.length >= MAX_WALK_DEPTH) continue;
    const children: Array<{ value: unknown; path: PathKey[] }> = [];
    if (Array.isArray(item.value))
      item.value.forEach((v, i) => children.push({ value: v, path: [...item.path, i] }));
    else if (isRecord(item.value)) {
      for (const [k, v] of Object.entries(item.value)) children.push({ value: v, path: [...item.path, k] });
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  const rank = (path: string): number => {
    const found = start.get(path);
    if (found !== undefined) return found;
    let p = path;
    for (;;) {
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) return counter;
      p = p.slice(0, cut);
      const parentEnd = end.get(p);
      if (parentEnd !== undefined) return parentEnd + 0.5;
    }
  };
  return problems
    .map((problem, index) => ({ problem, index, rank: rank(problem.path) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map((entry) => entry.problem);
}
