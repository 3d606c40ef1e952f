import type { Command } from 'commander';
import {
  parseFaultFlags,
  startSandbox,
  type FaultConfigInput,
  type SandboxHandle,
  type SandboxLatencyOptions,
} from '../../sandbox';
import { CliError, EXIT_USAGE, printJson, printProgress, untilStopSignal } from '../cli-output';

interface SandboxFlags {
  port: string;
  host: string;
  data?: string;
  cloudKey: string;
  fault: string[];
  latencyMs?: string;
  jitterMs?: string;
}

const MAX_LATENCY_MS = 600_000;

/** A whole number of ms from 0 to 600000, or a usage error that names the flag. */
function milliseconds(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > MAX_LATENCY_MS)
    throw new CliError(
      `${flag} must be a whole number of ms from 0 to ${MAX_LATENCY_MS}, got "${value}"`,
      EXIT_USAGE,
    );
  return Number(value);
}

function latencyFrom(flags: SandboxFlags): SandboxLatencyOptions | undefined {
  if (flags.jitterMs !== undefined && flags.latencyMs === undefined)
    throw new CliError('--jitter-ms varies --latency-ms: give --latency-ms too', EXIT_USAGE);
  if (flags.latencyMs === undefined) return undefined;
  return {
    latencyMs: milliseconds('--latency-ms', flags.latencyMs),
    jitterMs: flags.jitterMs === undefined ? 0 : milliseconds('--jitter-ms', flags.jitterMs),
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function registerSandboxCommand(program: Command): void {
  program
    .command('sandbox')
    .description(
      'Run a local SANDBOX backend that speaks the Infuse API. Prints one JSON line ' +
        '{url, apiKey, organisationId, boardId, networkId, cloudPublicKey} once listening; stops on SIGINT/SIGTERM.',
    )
    .option('--port <port>', 'TCP port; 0 picks a free one', '0')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--data <file>', 'SQLite file that keeps the sandbox across restarts (default: in memory)')
    .option(
      '--cloud-key <kind>',
      '"default" (the published sandbox development key) or "random"; new data only',
      'default',
    )
    .option(
      '--fault <spec>',
      'inject a fault (repeatable): latency=MS | error-rate=P | status=CODE | hang | malformed, ' +
        'with options ,method=GET ,route=/key/publicKey ,times=N ,retry-after=S',
      collect,
      [],
    )
    .option(
      '--latency-ms <ms>',
      'network latency added to every Infuse API request before it is answered, e.g. 40 (default: none)',
    )
    .option(
      '--jitter-ms <ms>',
      'vary that latency uniformly by up to ± this many ms (never below 0; default 0)',
    )
    .addHelpText(
      'after',
      '\nCounters: GET /sandbox/stats (API key as usual) or SIGUSR2, which prints one JSON line {"stats": {...}}:\n' +
        'requests and their time by method and route (see electron/sandbox/README.md).',
    )
    .action(async (flags: SandboxFlags) => {
      if (!/^\d+$/.test(flags.port) || Number(flags.port) > 65_535) {
        throw new CliError(`--port must be a number from 0 to 65535, got "${flags.port}"`, EXIT_USAGE);
      }
      if (flags.cloudKey !== 'default' && flags.cloudKey !== 'random') {
        throw new CliError(`--cloud-key must be "default" or "random", got "${flags.cloudKey}"`, EXIT_USAGE);
      }
      const latency = latencyFrom(flags);
      let faults: FaultConfigInput;
      try {
        faults = parseFaultFlags(flags.fault);
      } catch (error) {
        throw new CliError(error instanceof Error ? error.message : String(error), EXIT_USAGE);
      }
      let sandbox: SandboxHandle;
      try {
        sandbox = await startSandbox({
          port: Number(flags.port),
          host: flags.host,
          ...(flags.data === undefined ? {} : { dataFile: flags.data }),
          cloudKey: flags.cloudKey === 'random' ? 'random' : 'sandbox-default',
          faults,
          ...(latency && { latency }),
        });
      } catch (error) {
        throw new CliError(
          `sandbox could not start: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      const stopped = untilStopSignal();
      const printStats = () => printJson({ stats: sandbox.stats() });
      process.on('SIGUSR2', printStats);
      printJson({
        url: sandbox.url,
        apiKey: sandbox.apiKey,
        organisationId: sandbox.organisationId,
        boardId: sandbox.boardId,
        networkId: sandbox.networkId,
        cloudPublicKey: sandbox.cloudPublicKey,
      });
      printProgress(`SANDBOX backend listening on ${sandbox.url} (not the Infuse cloud; Ctrl+C stops it)`);
      if (latency) {
        printProgress(
          `SANDBOX latency: ${latency.latencyMs} ms ± ${latency.jitterMs ?? 0} ms on every Infuse API request`,
        );
      }
      if (!isLoopback(flags.host)) {
        printProgress(`warning: --host ${flags.host} makes the SANDBOX reachable from other machines`);
      }
      const signal = await stopped;
      printProgress(`SANDBOX backend stopping (${signal})`);
      process.off('SIGUSR2', printStats);
      await sandbox.close();
    });
}
