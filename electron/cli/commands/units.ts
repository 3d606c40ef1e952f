/**
 * `station units list` and `station units show`: QA review for people without the UI, over the station's audit
 * file (read-only, so it is safe on a running station or on a copy). The same queries the Review screen runs.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { describeLoadFailure, loadStationConfig, STATION_CONFIG_ENV } from '../../../station-config/index';
import {
  openReviewDb,
  queryUnits,
  ReviewOpenError,
  unitDetail,
  UnitQueryError,
  type ReviewDb,
} from '../../review/index';
import type { UnitDetail, UnitQuery, UnitRow } from '../../station-api/index';
import { UNIT_STATE_FILTERS } from '../../station-api/index';
import { CliError, EXIT_FAILURE, EXIT_USAGE, printJson } from '../cli-output';

interface CommonOptions {
  db?: string;
  config?: string;
  json?: boolean;
}

interface ListOptions extends CommonOptions {
  from?: string;
  to?: string;
  batch?: string;
  state?: UnitQuery['state'];
  error?: string;
  operator?: string;
  slot?: number;
  recipe?: string;
  reviewed?: boolean;
  search?: string;
  limit: number;
  cursor?: string;
  all?: boolean;
}

function intArg(name: string, min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} is a whole number from ${min} to ${max}`);
    return n;
  };
}

function yesNo(value: string): boolean {
  if (/^(yes|true|1)$/i.test(value)) return true;
  if (/^(no|false|0)$/i.test(value)) return false;
  throw new InvalidArgumentError('say yes or no');
}

function stateArg(value: string): UnitQuery['state'] {
  if ((UNIT_STATE_FILTERS as readonly string[]).includes(value)) return value as UnitQuery['state'];
  throw new InvalidArgumentError(`one of ${UNIT_STATE_FILTERS.join(', ')}`);
}

function openDb(options: CommonOptions): ReviewDb {
  let file = options.db;
  if (file === undefined) {
    const loaded = loadStationConfig(options.config);
    if (!loaded.ok) throw new CliError(describeLoadFailure(loaded).join('\n'), EXIT_USAGE);
    file = loaded.paths.databaseFile;
  }
  try {
    return openReviewDb(file);
  } catch (error) {
    if (error instanceof ReviewOpenError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
}

/** A batch given by name (the most recent of that name) or id. */
function batchIdOf(db: ReviewDb, nameOrId: string): string {
  const row = db
    .prepare<{ value: string }, { id: string }>(
      'SELECT id FROM batches WHERE id = @value OR name = @value ORDER BY (id = @value) DESC, opened_at DESC LIMIT 1',
    )
    .get({ value: nameOrId });
  if (!row) throw new CliError(`there is no batch named or with id "${nameOrId}" in this trail`, EXIT_USAGE);
  return row.id;
}

const COLUMNS: Array<[string, (u: UnitRow) => string]> = [
  ['started (UTC)', (u) => u.startedAt.slice(0, 19).replace('T', ' ')],
  ['unit', (u) => u.id],
  ['mcuId', (u) => u.mcuId ?? '-'],
  ['serial', (u) => u.serialNumber ?? '-'],
  ['batch', (u) => u.batchName],
  ['slot', (u) => (u.slot === null ? '-' : String(u.slot))],
  ['operator', (u) => u.operator ?? '-'],
  ['state', (u) => u.state.toUpperCase()],
  ['error', (u) => u.errorCode ?? ''],
  ['time', (u) => (u.durationMs === null ? '' : `${(u.durationMs / 1000).toFixed(1)} s`)],
  ['reviewed', (u) => (u.reviewedAt ? 'yes' : '')],
];

/** Control characters from a scanned label or a board never reach the terminal as such. */
// eslint-disable-next-line no-control-regex
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f]/g, '?');

function table(units: UnitRow[]): string {
  const cells = units.map((u) => COLUMNS.map(([, cell]) => printable(cell(u))));
  const widths = COLUMNS.map(([title], i) => Math.max(title.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(COLUMNS.map(([title]) => title)), ...cells.map(line)].join('\n');
}

function showText(detail: UnitDetail): string {
  const { unit, batch } = detail;
  const out: string[] = [];
  const field = (name: string, value: string | number | null | undefined) =>
    out.push(
      `  ${`${name}:`.padEnd(16)}${value === null || value === undefined || value === '' ? '-' : printable(String(value))}`,
    );
  out.push(`Unit ${unit.id}: ${unit.state.toUpperCase()}${unit.errorCode ? ` (${unit.errorCode})` : ''}`);
  field('mcuId', unit.mcuId);
  field('soc', unit.soc);
  field('device id', unit.deviceId);
  field('serial', unit.serialNumber);
  field(
    'batch',
    `${batch.name} (${batch.id}), recipe ${batch.recipeId}${batch.workOrder ? `, work order ${batch.workOrder}` : ''}`,
  );
  field('slot', unit.slot);
  field('operator', unit.operator);
  field('started', unit.startedAt);
  field('ended', unit.endedAt);
  field('reviewed', unit.reviewedAt);
  for (const attempt of detail.attempts) {
    out.push('');
    out.push(
      `Attempt ${attempt.attempt}: ${attempt.outcome?.toUpperCase() ?? 'UNFINISHED'}, started ${attempt.startedAt} by ${attempt.operator ?? '-'} on ${attempt.slotName ?? '-'}${attempt.identity.firmwareVersion ? `, firmware ${attempt.identity.firmwareVersion}` : ''}`,
    );
    for (const step of attempt.steps) {
      const took = step.durationMs === null ? '' : ` ${step.durationMs} ms`;
      out.push(
        `  ${step.step.padEnd(20)}${(step.outcome ?? 'unfinished').toUpperCase().padEnd(11)}${step.startedAt?.slice(11, 23) ?? ''}${took}${step.errorCode ? `  ${step.errorCode}` : ''}`,
      );
      if (step.message) out.push(`      operator saw: ${printable(step.message)}`);
      for (const call of step.backend)
        out.push(
          `      backend: ${call.method} ${call.endpoint} ${call.status ?? call.outcome} ${call.durationMs} ms`,
        );
      for (const intent of step.intents) out.push(`      intent: ${printable(intent.action)}`);
      for (const line of step.boardLog) out.push(`      board: ${printable(line)}`);
    }
  }
  if (detail.fingerprints.length > 0) {
    out.push('', 'Keys (fingerprints and public keys only):');
    for (const key of detail.fingerprints) out.push(`  ${key.step} ${key.name}: ${key.value}`);
  }
  if (detail.notes.length > 0) {
    out.push('', 'Notes:');
    for (const note of detail.notes)
      out.push(`  ${note.at} ${note.operator ?? '-'}: ${printable(note.text)}`);
  }
  if (detail.corrections.length > 0) {
    out.push('', 'Corrections:');
    for (const c of detail.corrections)
      out.push(
        `  ${c.at} ${c.operator ?? '-'} corrected seq ${c.supersedes ?? '-'}: ${printable(c.reason)} ${JSON.stringify(c.set)}`,
      );
  }
  if (detail.signatures.length > 0) {
    out.push('', 'Signatures:');
    for (const s of detail.signatures)
      out.push(
        `  ${s.at} ${s.signerName} (${s.signerId ?? '-'}) ${s.meaning}${s.reason ? `: ${printable(s.reason)}` : ''} — ${s.valid ? 'valid' : `INVALID: ${s.problem}`}${s.laterEvents > 0 ? ` (record has ${s.laterEvents} later event(s))` : ''}`,
      );
  }
  out.push(
    '',
    `Chain: events ${detail.chain.firstSeq}..${detail.chain.lastSeq} (${detail.chain.events.length}), record hash ${detail.record.recordHash}`,
    detail.chain.checkpointAfter
      ? `  signed checkpoint after it: seq ${detail.chain.checkpointAfter.seq} at ${detail.chain.checkpointAfter.at}`
      : '  no signed checkpoint after it yet',
  );
  return out.join('\n');
}

export function registerUnitsCommands(program: Command): void {
  const units = program.command('units').description("review the station's units (read-only)");
  const common = (command: Command) =>
    command
      .option('--db <file>', "the audit SQLite file (default: the station config's database file)")
      .option('--config <file>', `station config (default $${STATION_CONFIG_ENV}, else the sandbox)`)
      .option('--json', 'print JSON');

  common(
    units
      .command('list')
      .description(
        'units newest first, filtered; pages with --cursor (the station pages with keyset queries)',
      )
      .option('--from <time>', 'started at or after (ISO time, e.g. 2026-12-01T06:00:00Z)')
      .option('--to <time>', 'started before (ISO time)')
      .option('--batch <name-or-id>', 'one batch (the most recent of that name)')
      .option('--state <state>', `one of ${UNIT_STATE_FILTERS.join(', ')}`, stateArg)
      .option('--error <code>', 'an error code, e.g. VERIFY_MISMATCH')
      .option('--operator <id>', 'who started the unit')
      .option('--slot <n>', 'a slot number', intArg('--slot', 0, 10_000))
      .option('--recipe <id>', 'a recipe id')
      .option('--reviewed <yes|no>', 'signed reviewed, or not yet', yesNo)
      .option('--search <text>', 'an mcuId, device id, serial or unit id, or its first 3+ characters')
      .option('--limit <n>', 'units per page (1 to 500)', intArg('--limit', 1, 500), 50)
      .option('--cursor <cursor>', 'the next page, as the previous page printed it')
      .option('--all', 'every matching unit, page after page (with --json: one JSON object per line)'),
  ).action((options: ListOptions) => {
    const db = openDb(options);
    try {
      const filter: UnitQuery = {
        ...(options.from !== undefined && { from: options.from }),
        ...(options.to !== undefined && { to: options.to }),
        ...(options.batch !== undefined && { batchId: batchIdOf(db, options.batch) }),
        ...(options.state !== undefined && { state: options.state }),
        ...(options.error !== undefined && { errorCode: options.error }),
        ...(options.operator !== undefined && { operator: options.operator }),
        ...(options.slot !== undefined && { slot: options.slot }),
        ...(options.recipe !== undefined && { recipeId: options.recipe }),
        ...(options.reviewed !== undefined && { reviewed: options.reviewed }),
        ...(options.search !== undefined && { search: options.search }),
      };
      let cursor = options.cursor;
      let first = true;
      for (;;) {
        const page = queryUnits(db, {
          filter,
          limit: options.limit,
          ...(cursor !== undefined && { cursor }),
        });
        if (options.all) {
          if (options.json) for (const unit of page.units) process.stdout.write(`${JSON.stringify(unit)}\n`);
          else if (page.units.length > 0)
            process.stdout.write(
              `${first ? table(page.units) : table(page.units).split('\n').slice(1).join('\n')}\n`,
            );
        } else if (options.json) {
          printJson(page);
        } else {
          process.stdout.write(page.units.length > 0 ? `${table(page.units)}\n` : 'no units match\n');
          const total = page.total === null ? '' : ` of ${page.total}${page.totalCapped ? '+' : ''}`;
          process.stdout.write(
            `${page.units.length}${total} units${page.next ? `; next page: --cursor ${page.next}` : ''}\n`,
          );
        }
        first = false;
        if (!options.all || !page.next) break;
        cursor = page.next;
      }
    } catch (error) {
      if (error instanceof UnitQueryError) throw new CliError(error.message, EXIT_USAGE);
      throw error;
    } finally {
      db.close();
    }
  });

  common(
    units
      .command('show')
      .argument('<id>', 'a unit id, or an mcuId, device id or serial that names exactly one unit')
      .description("one unit's whole record: attempts, steps, backend calls, board log, signatures, chain"),
  ).action((id: string, options: CommonOptions) => {
    const db = openDb(options);
    try {
      let detail = unitDetail(db, id);
      if (!detail) {
        const matches = queryUnits(db, { filter: { search: id }, limit: 2 });
        const exact = matches.units.filter(
          (u) =>
            [u.mcuId, u.deviceId, u.serialNumber].includes(id.toLowerCase()) || [u.serialNumber].includes(id),
        );
        const only =
          exact.length === 1 ? exact[0] : matches.units.length === 1 ? matches.units[0] : undefined;
        if (only) detail = unitDetail(db, only.id);
        else if (matches.units.length > 1)
          throw new CliError(
            `"${id}" matches more than one unit: run \`station units list --search ${id}\` and show one by its unit id`,
            EXIT_FAILURE,
          );
      }
      if (!detail)
        throw new CliError(
          `no unit "${id}" in this trail (try \`station units list --search\`)`,
          EXIT_FAILURE,
        );
      if (options.json) printJson(detail, true);
      else process.stdout.write(`${showText(detail)}\n`);
    } finally {
      db.close();
    }
  });
}
