/**
 * `station config check [FILE] [--json]` and `station config effective [FILE]`: the same checker the app runs at
 * start, so IT sees exactly the messages the app would show before it refuses to provision.
 */
import type { Command } from 'commander';
import {
  checkConfigFile,
  effectiveConfig,
  formatProblem,
  loadStationConfig,
  SANDBOX_CONFIG_PATH,
  secretReferences,
  STATION_CONFIG_ENV,
  type ConfigProblem,
} from '../../../station-config/index';
import { EnvFileSecretStore, secretFingerprints } from '../../secrets/index';
import { CliError, EXIT_FAILURE, EXIT_USAGE, printJson } from '../cli-output';

function chosenFile(file: string | undefined): string {
  return file ?? (process.env[STATION_CONFIG_ENV] || SANDBOX_CONFIG_PATH);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('check and show station config files');

  config
    .command('check')
    .description('validate a station config and print every problem at once (exit 0 only when valid)')
    .argument(
      '[file]',
      `config file (.json, or .jsonc with comments); default $${STATION_CONFIG_ENV}, else the sandbox`,
    )
    .option('--json', 'print {"valid", "problems"} as JSON')
    .action((file: string | undefined, options: { json?: boolean }) => {
      const path = chosenFile(file);
      const checked = checkConfigFile(path);
      if (!checked.ok) throw new CliError(checked.message, EXIT_USAGE);
      const { result } = checked;
      if (options.json) {
        printJson({ valid: result.valid, problems: result.problems });
      } else if (result.valid) {
        const { config: c } = result;
        process.stdout.write(
          `${path}: valid (${c.environment}, ${plural(c.recipes.length, 'recipe')}, ` +
            `sha256 ${effectiveConfig(c).sha256.slice(0, 16)})\n`,
        );
      } else {
        process.stdout.write(`${path}:\n`);
        for (const problem of result.problems) process.stdout.write(`  ${formatProblem(problem)}\n`);
      }
      if (!result.valid) throw invalid(path, result.problems);
    });

  config
    .command('effective')
    .description('print the effective config (defaults filled in, secret references masked) and its SHA-256')
    .argument('[file]', `config file; default $${STATION_CONFIG_ENV}, else the sandbox`)
    .option('--secrets-dir <dir>', 'secrets directory, for the fingerprints of the referenced secrets')
    .action(async (file: string | undefined, options: { secretsDir?: string }) => {
      const loaded = loadStationConfig(file);
      if (!loaded.ok) {
        if (loaded.reason === 'unreadable') throw new CliError(loaded.message, EXIT_USAGE);
        process.stdout.write(`${loaded.source.path}:\n`);
        for (const problem of loaded.problems) process.stdout.write(`  ${formatProblem(problem)}\n`);
        throw invalid(loaded.source.path, loaded.problems);
      }
      const effective = effectiveConfig(
        loaded.config,
        await secretFingerprints(
          new EnvFileSecretStore({ dir: options.secretsDir }),
          secretReferences(loaded.config),
        ),
      );
      printJson(
        {
          source: loaded.source,
          sha256: effective.sha256,
          secrets: effective.secrets,
          config: effective.config,
        },
        true,
      );
    });
}

function invalid(path: string, problems: readonly ConfigProblem[]): CliError {
  return new CliError(
    `${plural(problems.length, 'problem')} in ${path}; the station will not provision with this config`,
    EXIT_FAILURE,
  );
}
