/**
 * `station sync --central URL [--once]`: ships this station's audit trail to the central PostgreSQL (the trail is
 * its own outbox; the central head says where to go on), and `station central verify --central URL`: re-walks
 * every station's chain there. The password comes from the secret store (`central-database-password`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadStationSigner } from '../../audit';
import {
  CentralConfigError,
  CentralRefusedError,
  checkCentralUrl,
  describeCentralUrl,
  LocalTrailError,
  openCentralPool,
  ShippingLoop,
  openTrailShipping,
  verifyCentral,
  type ShipResult,
} from '../../central';
import { CliError, EXIT_FAILURE, EXIT_USAGE, printJson, printProgress, untilStopSignal } from '../cli-output';
import { positiveInteger } from './board';
import { loadConfigOrFail, stationSecrets } from '../station-options';

interface SyncOptions {
  central: string;
  once?: boolean;
  json?: boolean;
  config?: string;
  data?: string;
  secretsDir?: string;
  batchSize?: number;
  intervalMs?: number;
}

/** Why the central database could not be reached or used, without a password or a stack. */
function problemOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const coded = typeof code === 'string' && /^[A-Z0-9]{5}$|^E[A-Z]+$/.test(code) ? `${text} (${code})` : text;
  // A TLS failure: the usual cause is the CA the URL names.
  return /certificate/i.test(text)
    ? `${coded} (check that the URL's sslrootcert names the CA that signed the database's certificate)`
    : coded;
}

function centralUrlOrFail(url: string): string {
  try {
    checkCentralUrl(url);
    return url;
  } catch (error) {
    if (error instanceof CentralConfigError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
}

async function sync(options: SyncOptions): Promise<void> {
  const url = centralUrlOrFail(options.central);
  const loaded = loadConfigOrFail(options.config);
  const databaseFile =
    options.data !== undefined ? join(options.data, 'station.sqlite') : loaded.paths.databaseFile;
  if (!existsSync(databaseFile))
    throw new CliError(
      `no audit trail at ${databaseFile}: give the station's --data folder or --config`,
      EXIT_USAGE,
    );
  const secrets = stationSecrets(options);
  const signer = await loadStationSigner(secrets, { create: false });
  if (!signer)
    throw new CliError(
      `this station has no signing key in ${secrets.dir}: run the station once (or station identity) before shipping its trail`,
      EXIT_USAGE,
    );
  let shipping;
  try {
    shipping = await openTrailShipping({
      url,
      secrets,
      databaseFile,
      station: loaded.config.station,
      publicKey: signer.publicKey,
      ...(options.batchSize !== undefined && { batchSize: options.batchSize }),
    });
  } catch (error) {
    if (error instanceof CentralConfigError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
  const { shipper, where } = shipping;
  const report = (result: ShipResult) => {
    // The loop's words for the same states (shipping-loop.ts).
    if (options.json) printJson({ state: result.behind === 0 ? 'caught-up' : 'catching-up', ...result });
    else
      printProgress(
        `shipped ${result.shipped} events to ${where}: central holds seq ${result.centralSeq} of ${result.localSeq}${result.behind > 0 ? `, ${result.behind} behind` : ''}`,
      );
  };
  try {
    if (options.once) {
      try {
        report(await shipper.shipPending());
      } catch (error) {
        if (error instanceof CentralRefusedError || error instanceof LocalTrailError)
          throw new CliError(error.message);
        throw new CliError(
          `cannot ship to the central database ${where}: ${problemOf(error)}; nothing is lost: the trail stays on the station, run this again once the database is reachable`,
        );
      }
      return;
    }
    // Until stopped (or refused): the same loop the station service runs.
    const loop = new ShippingLoop({
      shipper,
      url: where,
      ...(options.intervalMs !== undefined && { intervalMs: options.intervalMs }),
      onStatus: (status, round) => {
        if (options.json) printJson({ ...status, ...(round && { shipped: round.shipped }) });
        else if (status.state === 'down')
          printProgress(`central database ${where} unreachable: ${status.problem}`);
        else if (round) report(round);
      },
    });
    loop.start();
    await Promise.race([loop.finished, untilStopSignal()]);
    await loop.stop();
    if (loop.status.state === 'refused') throw new CliError(loop.status.problem ?? 'refused');
  } finally {
    await shipping.close();
  }
}

async function centralVerify(options: {
  central: string;
  station?: string;
  json?: boolean;
  secretsDir?: string;
  data?: string;
}) {
  const url = centralUrlOrFail(options.central);
  const pool = await openCentralPool(url, stationSecrets(options), {
    applicationName: 'infuse-station verify',
  });
  try {
    let verdicts;
    try {
      verdicts = await verifyCentral(pool, options.station);
    } catch (error) {
      throw new CliError(`cannot read the central database ${describeCentralUrl(url)}: ${problemOf(error)}`);
    }
    const failed = verdicts.filter((v) => !v.result.ok || v.refused);
    if (options.json) printJson({ ok: failed.length === 0, stations: verdicts });
    else {
      for (const v of verdicts) {
        const where = [v.site, v.line].filter(Boolean).join(' / ');
        const chain = v.result.ok
          ? `intact: ${v.result.events} events, ${v.result.checkpoints} checkpoints signed by ${v.publicKeyFp}`
          : `TAMPERED at seq ${v.result.firstBadSeq} (${v.result.reason}): ${v.result.message}`;
        process.stdout.write(`${v.stationId}${where ? ` (${where})` : ''}: ${chain}\n`);
        if (v.refused) process.stdout.write(`  refused from seq ${v.refused.seq}: ${v.refused.reason}\n`);
      }
      if (verdicts.length === 0) process.stdout.write('no station has shipped to this database yet\n');
    }
    if (failed.length > 0)
      throw new CliError(
        `${failed.length} of ${verdicts.length} stations need attention: ${failed.map((v) => v.stationId).join(', ')}`,
        EXIT_FAILURE,
      );
  } finally {
    await pool.end().catch(() => undefined);
  }
}

export function registerCentralCommands(program: Command): void {
  program
    .command('sync')
    .description(
      "ship this station's audit trail to the central PostgreSQL database, until stopped (or --once)",
    )
    .requiredOption(
      '--central <url>',
      'postgres://USER@HOST:PORT/DATABASE (?sslmode=require for TLS); password: secret central-database-password',
    )
    .option('--once', 'ship what the trail holds now, then exit')
    .option('--json', 'print each round as a JSON line')
    .option('--config <file>', 'station config (default: $STATION_CONFIG, else the sandbox config)')
    .option('--data <dir>', "the station's data folder (its station.sqlite and secrets)")
    .option('--secrets-dir <dir>', 'secrets folder for the headless secret store')
    .option('--batch-size <n>', 'events per transaction (default 500)', positiveInteger)
    .option('--interval-ms <ms>', 'how often to look for new events (default 1000)', positiveInteger)
    .action((options: SyncOptions) => sync(options));
  program
    .command('central')
    .description('the central database every station ships to')
    .command('verify')
    .description(
      "re-walk every station's chain in the central database: hashes, links, signatures by the registered keys",
    )
    .requiredOption(
      '--central <url>',
      'postgres://USER@HOST:PORT/DATABASE; password: secret central-database-password',
    )
    .option('--station <id>', 'only this station')
    .option('--json', 'print {"ok", "stations": [...]} as JSON')
    .option('--data <dir>', 'a data folder whose secrets hold the password')
    .option('--secrets-dir <dir>', 'secrets folder for the headless secret store')
    .action(
      (options: { central: string; station?: string; json?: boolean; secretsDir?: string; data?: string }) =>
        centralVerify(options),
    );
}
