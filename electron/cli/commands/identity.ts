/**
 * `station identity`: the station's public identity key and its fingerprint, for a customer or a central system to
 * register (and for `audit verify --expect-key`). Made on first use; the private key stays in the secret store.
 */
import type { Command } from 'commander';
import { loadStationSigner } from '../../audit';
import { STATION_KEY_SECRET } from '../../secrets';
import { printJson } from '../cli-output';
import { stationSecrets } from '../station-options';

export function registerIdentityCommand(program: Command): void {
  program
    .command('identity')
    .description("print the station's identity key (public key and fingerprint), making it on first use")
    .option('--data <dir>', 'the station data folder (its identity key is in DIR/secrets)')
    .option('--secrets-dir <dir>', 'secrets folder for the headless secret store')
    .option('--json', 'print {"fingerprint", "publicKey", "algorithm"} as JSON')
    .action(async (options: { data?: string; secretsDir?: string; json?: boolean }) => {
      const store = stationSecrets(options);
      const signer = await loadStationSigner(store, { create: true });
      const identity = {
        algorithm: 'ed25519',
        fingerprint: signer!.fingerprint,
        publicKey: signer!.publicKey.toString('base64'),
      };
      if (options.json) printJson(identity);
      else {
        process.stdout.write(
          `${identity.fingerprint}\npublic key (ed25519, base64): ${identity.publicKey}\nprivate key: secret "${STATION_KEY_SECRET}" in ${store.dir}\n`,
        );
      }
    });
}
