/**
 * `station audit verify --db FILE [--json]`: the check QA runs on a station's audit file (or a copy of it).
 * Exit 0 intact, 1 tampered (naming the first bad event), 2 when the file is missing or not an audit trail.
 */
import type { Command } from 'commander';
import { AuditOpenError, verifyAuditChain } from '../../audit/index';
import { CliError, EXIT_FAILURE, EXIT_USAGE, printJson } from '../cli-output';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('inspect a station audit trail');

  audit
    .command('verify')
    .description('re-walk the hash chain of an audit file (read-only) and report the first altered event')
    .requiredOption('--db <file>', 'the audit SQLite file')
    .option('--json', 'print the result as one JSON object')
    .action((options: { db: string; json?: boolean }) => {
      let result;
      try {
        result = verifyAuditChain(options.db);
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
      if (!result.ok) throw new CliError(`${options.db}: the audit trail failed verification`, EXIT_FAILURE);
    });
}
