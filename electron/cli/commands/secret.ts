/**
 * `station secret set NAME` (value from standard input only) and `station secret status`: manage the headless
 * station's secrets without ever printing one. Values never come from argv: they would stay in shell history and
 * be visible to every user in the process list.
 */
import type { Command } from 'commander';
import {
  decodeNetworkKeySecret,
  EnvFileSecretStore,
  isNetworkKeySecretName,
  normaliseSecretValue,
  SecretBytes,
  SecretStoreError,
  secretEnvVar,
  type SecretStatus,
} from '../../secrets/index';
import { promptHidden, readStdin } from '../hidden-input';
import { CliError, EXIT_FAILURE, EXIT_USAGE, printJson, printProgress } from '../cli-output';

/** API keys are a few hundred bytes; a megabyte on stdin is the wrong input. */
const MAX_SECRET_BYTES = 64 * 1024;

export function registerSecretCommands(program: Command): void {
  const secret = program
    .command('secret')
    .description('store secrets and show which exist (never their values)');

  secret
    .command('set')
    .description('store a secret, read from standard input (pipe it; a terminal prompts without echo)')
    .argument('<name>', 'secret name, e.g. backend-api-key')
    .argument('[value...]')
    // Unknown options land in [value...] instead of a commander error that would echo them (e.g. --key=SECRET).
    .allowUnknownOption()
    .option(
      '--secrets-dir <dir>',
      'secrets directory (default $STATION_SECRETS_DIR, else ~/.config/infuse-station/secrets)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (name: string, value: string[], options: { secretsDir?: string; json?: boolean }) => {
      if (value.length > 0) {
        throw new CliError(
          `secret values are not taken from the command line (shell history and the process list would keep them); ` +
            `pipe the value instead: printf '%s' "$VALUE" | station secret set ${name}`,
          EXIT_USAGE,
        );
      }
      const store = new EnvFileSecretStore({ dir: options.secretsDir });
      const raw = process.stdin.isTTY
        ? await promptHidden(`value for ${name} (not echoed): `)
        : await readStdin(MAX_SECRET_BYTES, 'a secret value');
      try {
        const normalised = normaliseSecretValue(name, raw);
        // Refused now, at the keyboard, rather than when a batch that needs the key fails to open.
        assertValueFits(name, normalised);
        await store.set(name, normalised);
        const fingerprint = SecretBytes.fromText(normalised, name).fingerprint;
        const location = store.filePath(name);
        if (options.json) printJson({ name, location, fingerprint });
        else process.stdout.write(`stored ${name} in ${location} (fingerprint ${fingerprint})\n`);
        if (store.envOverrides(name)) {
          printProgress(
            `note: ${secretEnvVar(name)} is set in this environment and takes precedence over the file`,
          );
        }
      } catch (error) {
        throw asCliError(error);
      }
    });

  secret
    .command('status')
    .description('list each known secret, where it comes from (env, file, missing) and its fingerprint')
    .option(
      '--secrets-dir <dir>',
      'secrets directory (default $STATION_SECRETS_DIR, else ~/.config/infuse-station/secrets)',
    )
    .option('--json', 'print {"secretsDir", "secrets"} as JSON')
    .action(async (options: { secretsDir?: string; json?: boolean }) => {
      const store = new EnvFileSecretStore({ dir: options.secretsDir });
      let statuses: SecretStatus[];
      try {
        statuses = await store.list();
      } catch (error) {
        throw asCliError(error);
      }
      if (options.json) {
        printJson({ secretsDir: store.dir, secrets: statuses });
      } else {
        process.stdout.write(`secrets directory: ${store.dir}\n`);
        for (const s of statuses) {
          const where = s.location ? `  ${s.location}` : '';
          const fingerprint = s.fingerprint ? `  fingerprint ${s.fingerprint}` : '';
          process.stdout.write(`${s.name}  ${s.source}${where}${fingerprint}\n`);
          if (s.problem) process.stdout.write(`  unusable: ${s.problem}\n`);
        }
      }
      const unusable = statuses.filter((s) => s.problem);
      if (unusable.length > 0) {
        throw new CliError(
          `${unusable.length} secret(s) unusable: ${unusable.map((s) => s.name).join(', ')}`,
          EXIT_FAILURE,
        );
      }
    });
}

/** Throws SecretStoreError when a secret of a known kind does not hold a value of that kind. */
function assertValueFits(name: string, value: string): void {
  if (!isNetworkKeySecretName(name)) return;
  const stored = SecretBytes.fromText(value, name);
  try {
    decodeNetworkKeySecret(name, stored).wipe();
  } finally {
    stored.wipe();
  }
}

function asCliError(error: unknown): unknown {
  return error instanceof SecretStoreError ? new CliError(error.message, EXIT_FAILURE) : error;
}
