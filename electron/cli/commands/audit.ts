/**
 * `station audit verify`: the check QA runs on a station's audit file (or a copy of it): the chain, the
 * signatures against the key it should carry (not only the one written inside), the anchors kept outside it, the
 * triggers and the views. Exit 0 intact, 1 tampered (naming what and where), 2 when the file is missing or not an
 * audit trail, or when no --db is given and the station config does not load.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { describeLoadFailure, loadStationConfig, STATION_CONFIG_ENV } from '../../../station-config/index';
import { AuditOpenError, loadStationSigner, verifyAuditChain } from '../../audit/index';
import { stationSecrets } from '../station-options';
import { CliError, EXIT_FAILURE, EXIT_USAGE, printJson } from '../cli-output';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

interface VerifyCliOptions {
  db?: string;
  config?: string;
  json?: boolean;
  expectKey?: string;
  anchor: Array<{ seq: number; hash: string }>;
  anchors?: string;
  secretsDir?: string;
}

function anchorArg(value: string, previous: Array<{ seq: number; hash: string }>) {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(value.trim());
  if (!match)
    throw new InvalidArgumentError('expected SEQ:HASH, the seq and the 64-hex hash of a checkpoint');
  return [...previous, { seq: Number(match[1]), hash: match[2]! }];
}

/** Anchors from a file: `SEQ:HASH` lines, or the station log's JSON lines (its audit.checkpoint entries). */
export function readAnchors(file: string): Array<{ seq: number; hash: string }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read the anchors file ${file}: ${error instanceof Error ? error.message : String(error)}`,
      EXIT_USAGE,
    );
  }
  const anchors: Array<{ seq: number; hash: string }> = [];
  for (const line of text.split('\n')) {
    const plain = /^(\d+):([0-9a-f]{64})$/.exec(line.trim());
    if (plain) {
      anchors.push({ seq: Number(plain[1]), hash: plain[2]! });
      continue;
    }
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { event?: unknown; seq?: unknown; hash?: unknown };
      if (
        entry.event === 'audit.checkpoint' &&
        typeof entry.seq === 'number' &&
        typeof entry.hash === 'string'
      )
        anchors.push({ seq: entry.seq, hash: entry.hash });
    } catch {
      // Not a log line of ours.
    }
  }
  return anchors;
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('inspect a station audit trail');

  audit
    .command('verify')
    .description(
      'check an audit file (read-only): the hash chain, the signatures against the expected key, anchors, the views',
    )
    .option('--db <file>', "the audit SQLite file (default: the station config's database file)")
    .option(
      '--config <file>',
      `station config whose database to verify when --db is not given (default $${STATION_CONFIG_ENV}, else the sandbox)`,
    )
    .option(
      '--expect-key <fingerprint>',
      "the station key the checkpoints must be signed with (default: the config's audit.expectedKeyFingerprint, else this station's own key)",
    )
    .option(
      '--anchor <seq:hash>',
      'a checkpoint recorded elsewhere that the trail must still hold; repeatable',
      anchorArg,
      [],
    )
    .option(
      '--anchors <file>',
      'anchors from a file: SEQ:HASH lines, or a station log (its audit.checkpoint lines)',
    )
    .option('--secrets-dir <dir>', "where this station's identity key is (to verify against it)")
    .option('--json', 'print the result as one JSON object')
    .action(async (options: VerifyCliOptions) => {
      // With --db the config only supplies a registered key, so one that does not load is ignored.
      const loaded =
        options.db === undefined
          ? loadConfig(options.config)
          : options.config !== undefined
            ? loadedOrNull(options.config)
            : null;
      const db = options.db ?? loaded!.paths.databaseFile;
      const expected = await expectedKey(options, loaded, db);
      const anchors = [
        ...options.anchor,
        ...(options.anchors !== undefined ? readAnchors(options.anchors) : []),
        // The last checkpoint the station itself verified, kept beside the database.
        ...verifiedAnchor(`${db}.verified`),
      ];
      let result;
      try {
        result = verifyAuditChain(db, { ...(expected && { expectKey: expected.key }), anchors });
      } catch (error) {
        if (error instanceof AuditOpenError) throw new CliError(error.message, EXIT_USAGE);
        throw error;
      }
      if (options.json) {
        printJson(result);
      } else if (result.ok) {
        const span = result.firstAt === null ? '(empty)' : `${result.firstAt} .. ${result.lastAt}`;
        const signed =
          result.keySource === 'none'
            ? ''
            : `; ${plural(result.checkpoints, 'checkpoint')} signed by ${result.signedBy} (${
                result.keySource === 'expected'
                  ? expected!.source
                  : 'the key written in the trail only: pass --expect-key'
              })${result.unsignedTail > 0 ? `, ${plural(result.unsignedTail, 'event')} after the last one` : ''}`;
        const anchored = result.anchorsChecked > 0 ? `; ${plural(result.anchorsChecked, 'anchor')} held` : '';
        process.stdout.write(
          `intact: ${plural(result.events, 'event')}, last hash ${result.lastHash.slice(0, 16)}, ${span}${signed}${anchored}\n`,
        );
      } else {
        process.stdout.write(`TAMPERED: ${result.message}\n`);
      }
      if (!result.ok) throw new CliError(`${db}: the audit trail failed verification`, EXIT_FAILURE);
    });
}

/** The `{seq, hash}` JSON the station keeps beside its database. */
function verifiedAnchor(file: string): Array<{ seq: number; hash: string }> {
  if (!existsSync(file)) return [];
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as { seq?: unknown; hash?: unknown };
    return typeof value.seq === 'number' && typeof value.hash === 'string'
      ? [{ seq: value.seq, hash: value.hash }]
      : [];
  } catch {
    return [];
  }
}

async function expectedKey(
  options: VerifyCliOptions,
  loaded: ReturnType<typeof loadConfig> | null,
  db: string,
): Promise<{ key: { fingerprint: string } | { publicKey: Buffer }; source: string } | null> {
  if (options.expectKey !== undefined) {
    if (!/^ed25519:[0-9a-f]{32}$/.test(options.expectKey))
      throw new CliError(
        '--expect-key takes a fingerprint as `station identity` prints it (ed25519:…)',
        EXIT_USAGE,
      );
    return { key: { fingerprint: options.expectKey }, source: 'the expected key' };
  }
  const registered = loaded?.config.audit.expectedKeyFingerprint;
  if (registered) return { key: { fingerprint: registered }, source: "the config's registered key" };
  // The station's own key, where a station with this data folder keeps it.
  const beside = join(dirname(db), 'secrets');
  const store = stationSecrets({
    ...(options.secretsDir !== undefined && { secretsDir: options.secretsDir }),
    ...(existsSync(beside) && { data: dirname(db) }),
  });
  try {
    const signer = await loadStationSigner(store, { create: false });
    return signer ? { key: { publicKey: signer.publicKey }, source: "this station's own key" } : null;
  } catch {
    return null;
  }
}

function loadedOrNull(file: string) {
  const loaded = loadStationConfig(file);
  return loaded.ok ? loaded : null;
}

function loadConfig(file: string | undefined) {
  const loaded = loadStationConfig(file);
  if (!loaded.ok) throw new CliError(describeLoadFailure(loaded).join('\n'), EXIT_USAGE);
  return loaded;
}
