/**
 * Reading a config file: `.jsonc` files may hold comments and trailing commas, every other file is strict JSON.
 * Syntax errors and duplicate keys become problems with line:column (a JSON reader keeps the last of two equal
 * keys without a word, which is exactly the silent mistake a config must not allow). The result is a value, not a
 * thrown error, so the CLI and the app show the same messages.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { findShippedFile } from './shipped-files';
import { createScanner, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { checkStationConfig, formatProblem, jsonPath, type CheckResult, type ConfigProblem } from './check';
import type { StationConfig } from './schema';

/** The built-in default: a sandbox station with its own backend and virtual boards. */
export const SANDBOX_CONFIG_PATH = findShippedFile(join('station-config', 'sandbox.json'));

export const STATION_CONFIG_ENV = 'STATION_CONFIG';
/** A station config is a few kilobytes; anything this large is the wrong file. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/**
 * A real config nests under 8 levels. The parser, the tree walk below and zod all recurse once per level, so a
 * file nested tens of thousands deep (well within MAX_CONFIG_BYTES) would overflow the stack instead of being
 * refused with a message.
 */
export const MAX_CONFIG_DEPTH = 64;
export const TOO_DEEP_PROBLEM = `nested deeper than ${MAX_CONFIG_DEPTH} levels: a station config is at most a few levels deep`;

export type ConfigSource = { kind: 'file' | 'default-sandbox'; path: string };

export interface StationPaths {
  dataDir: string;
  databaseFile: string;
  logDir: string;
}

export type LoadResult =
  | { ok: true; source: ConfigSource; config: StationConfig; paths: StationPaths }
  | { ok: false; source: ConfigSource; reason: 'invalid'; problems: ConfigProblem[] }
  | { ok: false; source: ConfigSource; reason: 'unreadable'; message: string };

export interface TextCheckOptions {
  /** Allow comments and trailing commas (the `.jsonc` flavour). */
  jsonc: boolean;
}

export function isJsoncFile(file: string): boolean {
  return extname(file).toLowerCase() === '.jsonc';
}

/** Parses config text, reporting syntax errors and duplicate keys as problems; the value is absent on a syntax error. */
export function parseConfigText(
  text: string,
  options: TextCheckOptions,
): { value?: unknown; problems: ConfigProblem[] } {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (source.trim() === '') {
    return {
      problems: [{ path: '$', problem: 'the file is empty', example: 'station-config/sandbox.json' }],
    };
  }
  if (nestingExceeds(source, MAX_CONFIG_DEPTH)) {
    return { problems: [{ path: '$', problem: TOO_DEEP_PROBLEM, example: 'station-config/sandbox.json' }] };
  }
  const errors: ParseError[] = [];
  const tree = parseTree(source, errors, {
    disallowComments: !options.jsonc,
    allowTrailingComma: options.jsonc,
    allowEmptyContent: false,
  });
  const first = errors[0];
  if (first || !tree) {
    // Only the first error: after it the parser is guessing, and its follow-on errors mislead.
    const { line, column } = lineColumn(source, first?.offset ?? 0);
    const code = first ? printParseErrorCode(first.error) : 'ValueExpected';
    return {
      problems: [
        {
          path: '$',
          problem: `JSON syntax error at ${line}:${column}: ${SYNTAX_TEXTS[code] ?? code}`,
          example:
            code === 'InvalidCommentToken' ? 'rename the file to .jsonc to allow comments' : SYNTAX_EXAMPLE,
        },
      ],
    };
  }
  return { value: nodeValue(tree), problems: duplicateKeyProblems(tree, source) };
}

/** Syntax, duplicate keys, then the full check: the problems of a config text. */
export function checkConfigText(text: string, options: TextCheckOptions): CheckResult {
  const parsed = parseConfigText(text, options);
  if (!('value' in parsed)) return { valid: false, problems: parsed.problems };
  const checked = checkStationConfig(parsed.value);
  if (parsed.problems.length === 0) return checked;
  return { valid: false, problems: [...parsed.problems, ...checked.problems] };
}

export type FileCheck = { ok: true; result: CheckResult } | { ok: false; message: string };

/** Reads and checks one file; `ok: false` when the file cannot be read at all (the message names it and why). */
export function checkConfigFile(file: string): FileCheck {
  const path = resolve(file);
  let text: string;
  try {
    const stat = statSync(path);
    if (stat.isDirectory())
      return { ok: false, message: `cannot read config file ${path}: it is a directory` };
    if (stat.size > MAX_CONFIG_BYTES) {
      return {
        ok: false,
        message: `cannot read config file ${path}: it is ${stat.size} bytes; a station config is a few kilobytes`,
      };
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, message: `cannot read config file ${path}: ${describeFsError(error)}` };
  }
  return { ok: true, result: checkConfigText(text, { jsonc: isJsoncFile(path) }) };
}

/**
 * The config the app and the headless CLI run with: the given file, else $STATION_CONFIG, else the built-in
 * sandbox default. Never throws; an invalid or unreadable config comes back with the reason, and the station must
 * refuse to provision with it.
 */
export function loadStationConfig(file?: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  const chosen = file ?? (env[STATION_CONFIG_ENV] || undefined);
  const source: ConfigSource = chosen
    ? { kind: 'file', path: resolve(chosen) }
    : { kind: 'default-sandbox', path: SANDBOX_CONFIG_PATH };
  const checked = checkConfigFile(source.path);
  if (!checked.ok) return { ok: false, source, reason: 'unreadable', message: checked.message };
  if (!checked.result.valid)
    return { ok: false, source, reason: 'invalid', problems: checked.result.problems };
  const config = checked.result.config;
  return { ok: true, source, config, paths: resolveStationPaths(config, dirname(source.path)) };
}

/**
 * The lines the app shows (and the CLI prints) when it refuses a config: the reason, then every problem.
 * Kept here so both hosts say exactly the same thing.
 */
export function describeLoadFailure(result: Extract<LoadResult, { ok: false }>): string[] {
  if (result.reason === 'unreadable') return [result.message];
  const count = result.problems.length;
  return [
    `${count} problem${count === 1 ? '' : 's'} in ${result.source.path}; the station will not provision with this config`,
    ...result.problems.map((problem) => `  ${formatProblem(problem)}`),
  ];
}

/** dataDir against the config file's folder ("~/" is home); databaseFile and logDir against dataDir. */
export function resolveStationPaths(
  config: StationConfig,
  baseDir: string,
  home: string = homedir(),
): StationPaths {
  const expand = (p: string) => (p === '~' ? home : p.startsWith('~/') ? resolve(home, p.slice(2)) : p);
  const dataDir = resolve(baseDir, expand(config.station.dataDir));
  const under = (p: string) => (isAbsolute(expand(p)) ? expand(p) : resolve(dataDir, p));
  return { dataDir, databaseFile: under(config.station.databaseFile), logDir: under(config.station.logDir) };
}

// ---- helpers ---------------------------------------------------------------------------------------------

const SYNTAX_EXAMPLE = '{ "station": { "id": "line1-station2" } }';

const SYNTAX_TEXTS: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected:
    'expected a property name in double quotes (a trailing comma is allowed only in .jsonc)',
  ValueExpected: 'expected a value (a trailing comma is allowed only in .jsonc)',
  ColonExpected: 'expected ":"',
  CommaExpected: 'expected ","',
  CloseBraceExpected: 'expected "}"',
  CloseBracketExpected: 'expected "]"',
  EndOfFileExpected: 'expected the end of the file after the top-level value',
  InvalidCommentToken: 'comments are not allowed in a .json file',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'control character inside a string',
};

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

// jsonc-parser's SyntaxKind is an ambient const enum, which isolatedModules cannot read; these are its values.
const OPEN_BRACE = 1;
const CLOSE_BRACE = 2;
const OPEN_BRACKET = 3;
const CLOSE_BRACKET = 4;
const END_OF_FILE = 17;

/**
 * Whether objects and arrays nest deeper than `limit`, found with jsonc-parser's scanner: a plain loop over
 * tokens (its parser recurses), which already knows strings and comments, so a "[" inside either is not counted.
 * Unbalanced or malformed text only needs counting here; the parser reports it afterwards.
 */
function nestingExceeds(text: string, limit: number): boolean {
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let token = scanner.scan(); token !== END_OF_FILE; token = scanner.scan()) {
    if (token === OPEN_BRACE || token === OPEN_BRACKET) {
      depth++;
      if (depth > limit) return true;
    } else if ((token === CLOSE_BRACE || token === CLOSE_BRACKET) && depth > 0) {
      depth--;
    }
  }
  return false;
}

/** Builds the value from the tree; for a repeated key the last wins, as JSON.parse does (and it is reported). */
function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const property of node.children ?? []) {
        const [key, value] = property.children ?? [];
        if (key && value) {
          // defineProperty, not assignment: a "__proto__" key must stay a plain property.
          Object.defineProperty(out, String(key.value), {
            value: nodeValue(value),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}

function duplicateKeyProblems(root: Node, text: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const stack: Array<{ node: Node; path: Array<string | number> }> = [{ node: root, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (node.type === 'array')
      node.children?.forEach((child, i) => stack.push({ node: child, path: [...path, i] }));
    if (node.type !== 'object') continue;
    const seen = new Map<string, number>();
    for (const property of node.children ?? []) {
      const [key, value] = property.children ?? [];
      if (!key) continue;
      const name = String(key.value);
      const earlier = seen.get(name);
      if (earlier !== undefined) {
        const at = lineColumn(text, earlier);
        const here = lineColumn(text, key.offset);
        problems.push({
          path: jsonPath([...path, name]),
          problem: `is set twice (at ${at.line}:${at.column} and ${here.line}:${here.column}); only the last would count`,
          example: 'each setting once',
        });
      } else {
        seen.set(name, key.offset);
      }
      if (value) stack.push({ node: value, path: [...path, name] });
    }
  }
  return problems;
}

function describeFsError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
