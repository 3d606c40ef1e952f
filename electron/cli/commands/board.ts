import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_BAUD_RATE } from '../../../firmware-protocol';
import { toProvisioningError } from '../../provisioning/index';
import { BoardSession, listSerialPorts, SerialLink, SerialLinkError } from '../../serial';
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
}
