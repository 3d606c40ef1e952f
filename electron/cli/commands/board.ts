import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_BAUD_RATE } from '../../../firmware-protocol';
import { toProvisioningError } from '../../provisioning/index';
import { BoardSession, listSerialPorts, SerialLink, SerialLinkError } from '../../serial';
import {
  PortOpenError,
  conformanceExitCode,
  formatConformanceTable,
  runConformance,
  toConformanceJson,
} from '../../board-conformance';
import { CliError, printJson } from '../cli-output';

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** Open, HELLO + IDENTIFY, close: what an operator or a script runs to see what is on a port. */
export async function identifyBoard(path: string, baudRate: number, timeoutScale: number) {
  let link: SerialLink | undefined;
  try {
    link = await SerialLink.open({ path, baudRate, timeoutScale });
    return await new BoardSession(link).identifyReport();
  } catch (error) {
    if (error instanceof SerialLinkError) {
      // The engine's translation, so a code seen here is the one the audit trail, the UI and README use.
      const { code, operatorMessage } = toProvisioningError(error, 'identify');
      throw new CliError(`${code}: ${operatorMessage}`);
    }
    throw error;
  } finally {
    await link?.close();
  }
}

export function registerBoardCommands(program: Command): void {
  const board = program.command('board').description('talk to a board on a serial port');

  board
    .command('ports')
    .description(
      'list serial ports the OS reports, as JSON (PTYs never appear here; pass their paths explicitly)',
    )
    .action(async () => {
      printJson(await listSerialPorts());
    });

  board
    .command('identify')
    .description("print a board's HELLO + IDENTIFY as one JSON object")
    .requiredOption('--port <path>', 'serial port path, e.g. /dev/ttyACM0')
    .option('--baud <rate>', 'baud rate', positiveInteger, DEFAULT_BAUD_RATE)
    .option('--timeout-scale <factor>', 'multiply every command timeout (slow links)', positiveNumber, 1)
    .action(async (options: { port: string; baud: number; timeoutScale: number }) => {
      printJson(await identifyBoard(options.port, options.baud, options.timeoutScale));
    });

  board
    .command('conformance')
    .description(
      'check a board against PROTOCOL.md from the wire: a table of PASS / FAIL / SKIPPED per check, each with ' +
        'its section; exit 0 when nothing failed, 1 otherwise. Acts as the cloud with the published development ' +
        'cloud key pair (no backend). Without flags it does not change flash',
    )
    .requiredOption('--port <path>', 'serial port path, e.g. /dev/ttyACM0')
    .option('--json', 'print one JSON object instead of the table')
    .option(
      '--destructive',
      "also write, commit and erase a test set (device id 0000c0ffee000001): ERASES the board's credentials; " +
        'a provisioned board is erased first, and the board ends blank',
    )
    .option(
      '--lock',
      'also LOCK the board (implies --destructive): IRREVERSIBLE on real hardware, the board stays locked ' +
        'with the test device id',
    )
    .option('--baud <rate>', 'baud rate', positiveInteger, DEFAULT_BAUD_RATE)
    .option(
      '--timeout-scale <factor>',
      'multiply every timeout and the boot wait (slow links)',
      positiveNumber,
      1,
    )
    .action(
      async (options: {
        port: string;
        json?: boolean;
        destructive?: boolean;
        lock?: boolean;
        baud: number;
        timeoutScale: number;
      }) => {
        let report;
        try {
          report = await runConformance({
            port: options.port,
            baudRate: options.baud,
            destructive: options.destructive === true,
            lock: options.lock === true,
            timeoutScale: options.timeoutScale,
          });
        } catch (error) {
          if (error instanceof PortOpenError) throw new CliError(`${error.code}: ${error.message}`);
          throw error;
        }
        if (options.json) printJson(toConformanceJson(report));
        else process.stdout.write(formatConformanceTable(report));
        const failed = report.summary.failed;
        // Exit 1 (the CLI's failure code) when a check failed, so a script or CI job can gate on it.
        if (conformanceExitCode(report) !== 0)
          throw new CliError(`conformance: ${failed} check${failed === 1 ? '' : 's'} failed`);
      },
    );
}
