/**
 * `station accounts init`: the first administrator of a new station (the config's firstAdmin), PIN from stdin.
 * Further accounts are made by that administrator in the app or through the station API (accounts.create).
 */
import type { Command } from 'commander';
import { AuditOpenError, AuditStore } from '../../audit';
import { AccountStore } from '../../people';
import { describeLoadFailure, loadStationConfig } from '../../../station-config';
import { CliError, EXIT_USAGE, printJson } from '../cli-output';
import { readHiddenValue } from '../hidden-input';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';

export function registerAccountsCommands(program: Command): void {
  const accounts = program.command('accounts').description('people who use the station');
  accounts
    .command('init')
    .description(
      "create the config's firstAdmin (PIN or password from stdin); only on a station with no accounts",
    )
    .option('--config <file>', 'station config (default: $STATION_CONFIG, else the sandbox config)')
    .option('--data <dir>', 'the station data folder (as for provision/run/serve --data)')
    .option('--json', 'print the account as JSON')
    .action(async (options: { config?: string; data?: string; json?: boolean }) => {
      const loaded = loadStationConfig(options.config);
      if (!loaded.ok) throw new CliError(describeLoadFailure(loaded).join('\n'), EXIT_USAGE);
      const name = loaded.config.firstAdmin?.name;
      if (!name) {
        throw new CliError(
          `${loaded.source.path} names no firstAdmin: add "firstAdmin": { "name": "it-admin" } to the config`,
          EXIT_USAGE,
        );
      }
      const pin = await readHiddenValue(`PIN or password for ${name} (not echoed): `, 1024, 'a PIN');
      const file =
        options.data !== undefined ? join(options.data, 'station.sqlite') : loaded.paths.databaseFile;
      if (options.data !== undefined) mkdirSync(options.data, { recursive: true });
      let store: AuditStore;
      try {
        store = AuditStore.open(file, { stationId: loaded.config.station.id });
      } catch (error) {
        if (error instanceof AuditOpenError) throw new CliError(error.message);
        throw error;
      }
      try {
        const result = await new AccountStore(store).initFirstAdmin(name, pin);
        if (!result.ok) throw new CliError(`${result.code}: ${result.message}`);
        if (options.json) printJson(result.account);
        else process.stdout.write(`created ${name} (${result.account.roles.join(', ')}) in ${file}\n`);
      } finally {
        store.close();
      }
    });
}
