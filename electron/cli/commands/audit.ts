/**
 * `station audit verify [--db FILE | --config FILE] [--json]`: the check QA runs on a station's audit file (or a
 * copy of it). Exit 0 intact, 1 tampered (naming the first bad event), 2 when the file is missing or not an audit
 * trail, or when no --db is given and the station config does not load.
 */
import type { Command } from 'commander';
import { describeLoadFailure, loadStationConfig, STATION_CONFIG_ENV } from '../../../station-config/index';
import { AuditOpenError, verifyAuditChain } from '../../audit/index';
import { CliError, EXIT_FAILURE, EXIT_USAGE, printJson } from '../cli-output';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('inspect a station audit trail');

  audit
    .command('verify')
    .description('re-walk the hash chain of an audit file (read-only) and report the first altered event')
    .option('--db <file>', "the audit SQLite file (default: the station config's database file)")
    .option(
      '--config <file>',
      `station config whose database to verify when --db is not given (default $${STATION_CONFIG_ENV}, else the sandbox)`,
    )
    .option('--json', 'print the result as one JSON object')
    .action((options: { db?: string; config?: string; json?: boolean }) => {
      const db = options.db ?? configuredDatabase(options.config);
      let result;
      try {
        result = verifyAuditChain(db);
      } catch (error) {
        if (error instanceof AuditOpenError) throw new CliError(error.message, EXIT_USAGE);
        throw error;
      }
      if (options.json) {
        printJson(result);
      } else if (result.ok) {
        const span = result.firstAt === null ? '(empty)' : `${result.firstAt} .. ${result.lastAt}`;
        process.stdout.write(
          `intact: ${plural(result.events, 'event')}, last hash ${result.lastHash.slice(0, 16)}, ${span}\n`,
        );
      } else {
        process.stdout.write(`TAMPERED: ${result.message}\n`);
      }
      if (!result.ok) throw new CliError(`${db}: the audit trail failed verification`, EXIT_FAILURE);
    });
}

/** The audit file the station writes with this config: what QA means by "this station's audit trail". */
function configuredDatabase(file: string | undefined): string {
  const loaded = loadStationConfig(file);
  if (!loaded.ok) throw new CliError(describeLoadFailure(loaded).join('\n'), EXIT_USAGE);
  return loaded.paths.databaseFile;
}
