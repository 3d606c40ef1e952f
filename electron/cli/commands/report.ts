/**
 * `station report`: a batch's signed export (units.csv, units.json, the CFX UnitsTested message, the PDF a QA lead
 * signs, and manifest.json) from the station's audit file, read-only; and `station report verify DIR`, which checks
 * such a folder. Exit codes: 0 done / intact, 1 failed (which file, what), 2 usage or something missing.
 *
 * The reports module (ECharts, playwright-core) is loaded only when a report command runs, so other commands do
 * not pay for it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { describeLoadFailure, loadStationConfig, STATION_CONFIG_ENV } from '../../../station-config/index';
import { loadStationSigner, type TrailSigner } from '../../audit/index';
import type { ReportPhase } from '../../reports/index';
import { CliError, EXIT_FAILURE, EXIT_USAGE, printJson, printProgress } from '../cli-output';
import { stationSecrets } from '../station-options';

interface ReportCliOptions {
  batch?: string;
  db?: string;
  config?: string;
  data?: string;
  secretsDir?: string;
  format: string;
  out?: string;
  shifts?: string;
  verifyTrail?: boolean;
  json?: boolean;
}

interface VerifyCliOptions {
  db?: string;
  expectKey?: string;
  json?: boolean;
}

const reports = () => import('../../reports/index');

/** A ReportError as the CLI reports it: something missing or mistyped is a usage error (2), else a failure (1). */
async function asCliError(error: unknown): Promise<unknown> {
  const { ReportError } = await reports();
  if (error instanceof ReportError)
    return new CliError(error.message, error.isUsage ? EXIT_USAGE : EXIT_FAILURE);
  return error;
}

/** The audit file and station: --db, else the config's database (--config, $STATION_CONFIG, else the sandbox). */
function resolveStation(options: { db?: string; config?: string }): { db: string; stationId?: string } {
  if (options.db !== undefined && options.config === undefined) return { db: options.db };
  const loaded = loadStationConfig(options.config);
  if (!loaded.ok) throw new CliError(describeLoadFailure(loaded).join('\n'), EXIT_USAGE);
  return { db: options.db ?? loaded.paths.databaseFile, stationId: loaded.config.station.id };
}

/** The station's identity key, where a station with this data folder keeps it; never printed, only its fingerprint. */
async function stationSigner(options: ReportCliOptions, db: string): Promise<TrailSigner> {
  const beside = join(dirname(db), 'secrets');
  const store = stationSecrets({
    ...(options.secretsDir !== undefined && { secretsDir: options.secretsDir }),
    ...(options.data !== undefined ? { data: options.data } : existsSync(beside) && { data: dirname(db) }),
  });
  const signer = await loadStationSigner(store, { create: false });
  if (!signer) {
    throw new CliError(
      `no station identity key in ${store.dir}: a report is signed with the key of the station that wrote the trail; give its --secrets-dir (or --data)`,
      EXIT_USAGE,
    );
  }
  return signer;
}

export function registerReportCommands(program: Command): void {
  const report = program
    .command('report')
    .description("write a batch's signed report (csv, json, cfx, pdf + manifest.json) from the audit trail")
    .option('--batch <name>', 'the batch: its name (the most recent batch of that name) or its id')
    .option('--db <file>', "the audit SQLite file (default: the station config's database file)")
    .option(
      '--config <file>',
      `station config whose database to read when --db is not given (default $${STATION_CONFIG_ENV}, else the sandbox)`,
    )
    .option('--data <dir>', 'the station data folder (its identity key is in DIR/secrets)')
    .option('--secrets-dir <dir>', "where the station's identity key is")
    .option('--format <list>', 'formats, comma-separated: csv, json, cfx, pdf', 'csv,json,cfx,pdf')
    .option('--out <dir>', 'a new or empty folder to write the report to')
    .option('--shifts <times>', 'UTC shift start times, comma-separated', '06:00,14:00,22:00')
    .option(
      '--verify-trail',
      'also check the whole trail (every hash and signature) and print the outcome in the PDF',
    )
    .option('--json', 'print the result as one JSON object')
    .action(async (options: ReportCliOptions) => {
      if (options.batch === undefined || options.out === undefined) {
        throw new CliError(
          'station report needs --batch NAME and --out DIR (see station report --help)',
          EXIT_USAGE,
        );
      }
      const started = performance.now();
      const { parseFormats, parseShiftStarts, writeBatchReportDetailed } = await reports();
      try {
        const formats = parseFormats(options.format);
        const shifts = parseShiftStarts(options.shifts ?? '06:00,14:00,22:00');
        const { db, stationId } = resolveStation(options);
        if (!existsSync(db)) throw new CliError(`${db}: no such file`, EXIT_USAGE);
        const signer = await stationSigner(options, db);
        const timings: Partial<Record<ReportPhase, number>> = {};
        const { manifest, stats } = await writeBatchReportDetailed({
          dbFile: db,
          batch: options.batch,
          formats,
          outDir: options.out,
          signer,
          shifts,
          ...(stationId !== undefined && { stationId }),
          ...(options.verifyTrail && { verifyTrail: true }),
          onTiming: (phase, ms) => (timings[phase] = Math.round(ms)),
        });
        if (options.json) {
          printJson({
            ok: true,
            outDir: options.out,
            batch: manifest.batch,
            stationId: manifest.stationId,
            counts: manifest.counts,
            firstPassYield: stats.firstPassYield,
            unitsPerHour: stats.unitsPerHour,
            chainHead: manifest.chainHead,
            keyFingerprint: manifest.keyFingerprint,
            files: manifest.files,
            timingsMs: timings,
          });
        } else {
          const c = manifest.counts;
          process.stdout.write(
            `batch "${manifest.batch.name}" (${manifest.batch.id}): ${c.units} units, ${c.passed} passed, ${c.failed} failed\n` +
              manifest.files
                .map((f) => `  ${join(options.out!, f.name)}  ${f.bytes} bytes  sha256 ${f.sha256}\n`)
                .join('') +
              `  ${join(options.out!, 'manifest.json')}  signed by ${manifest.keyFingerprint}, covers the trail to seq ${manifest.chainHead?.seq ?? 0}\n`,
          );
        }
        printProgress(
          `report written in ${Math.round(performance.now() - started)} ms (${JSON.stringify(timings)})`,
        );
      } catch (error) {
        throw await asCliError(error);
      }
    });

  report
    .command('verify <dir>')
    .description(
      "check a report folder: the manifest's signature, every file's hash and size, and with --db the trail",
    )
    .option(
      '--db <file>',
      'the audit trail the report was made from: it must still hold the head and the key',
    )
    .option(
      '--expect-key <fingerprint>',
      'the station key (as `station identity` prints it) the report must be signed with',
    )
    .option('--json', 'print the result as one JSON object')
    .action(async (dir: string, _options: VerifyCliOptions, command: Command) => {
      // `report` itself takes --db and --json too, and commander hands them to it even after `verify DIR`.
      const options = command.optsWithGlobals<VerifyCliOptions>();
      if (options.expectKey !== undefined && !/^ed25519:[0-9a-f]{32}$/.test(options.expectKey)) {
        throw new CliError(
          '--expect-key takes a fingerprint as `station identity` prints it (ed25519:…)',
          EXIT_USAGE,
        );
      }
      const { verifyReportDir } = await reports();
      let result;
      try {
        result = verifyReportDir(dir, {
          ...(options.db !== undefined && { dbFile: options.db }),
          ...(options.expectKey !== undefined && { expectKey: options.expectKey }),
        });
      } catch (error) {
        throw await asCliError(error);
      }
      if (options.json) {
        const { manifest, ...rest } = result;
        printJson({
          ...rest,
          batch: manifest?.batch ?? null,
          keyFingerprint: manifest?.keyFingerprint ?? null,
          chainHead: manifest?.chainHead ?? null,
        });
      } else if (result.ok) {
        const m = result.manifest!;
        process.stdout.write(
          `intact: ${result.filesChecked} file${result.filesChecked === 1 ? '' : 's'} of batch "${m.batch.name}" as signed by ${m.keyFingerprint}` +
            (result.trail
              ? `; the trail still holds seq ${m.chainHead?.seq ?? 0} and records that key`
              : '') +
            (result.unlisted.length > 0
              ? `; not covered by the manifest: ${result.unlisted.join(', ')}`
              : '') +
            '\n',
        );
      } else {
        process.stdout.write(result.problems.map((p) => `FAILED: ${p.message}\n`).join(''));
      }
      if (!result.ok) {
        const first = result.problems[0]!;
        throw new CliError(
          `${dir}: the report failed verification${first.file ? ` (${first.file})` : ''}: ${first.message}`,
          EXIT_FAILURE,
        );
      }
    });
}
