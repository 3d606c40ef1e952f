import { InvalidArgumentError, type Command } from 'commander';
import { SOC_MCU_ID_HEX_LENGTH, decodeBase64Exact } from '../../../firmware-protocol';
import {
  DEFAULT_SIM_SOC,
  DEFAULT_WIRE_BAUD_RATE,
  FAULT_KINDS,
  parseFault,
  SocatMissingError,
  startSimulator,
  type FaultRule,
  type Simulator,
} from '../../../firmware-protocol/virtual-board';
import { CliError, printJson, printProgress, untilStopSignal } from '../cli-output';
import { positiveInteger } from './board';

function collectFault(spec: string, previous: FaultRule[]): FaultRule[] {
  const parsed = parseFault(spec);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.message);
  return [...previous, parsed.rule];
}

function soc(value: string): string {
  if (!Object.hasOwn(SOC_MCU_ID_HEX_LENGTH, value)) {
    throw new InvalidArgumentError(`unknown soc; one of ${Object.keys(SOC_MCU_ID_HEX_LENGTH).join(', ')}`);
  }
  return value;
}

function cloudKey(value: string): Buffer {
  const key = decodeBase64Exact(value, 32);
  if (!key) throw new InvalidArgumentError('expected the base64 of a 32-byte X25519 public key');
  return key;
}

function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

/** Milliseconds a board takes for something; capped so a typo does not make a board that never answers. */
export function boardMs(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > MAX_BOARD_MS)
    throw new InvalidArgumentError(`expected a whole number of milliseconds from 0 to ${MAX_BOARD_MS}`);
  return Number(value);
}

const MAX_BOARD_MS = 600_000;
const MIN_BAUD = 300;
const MAX_BAUD = 4_000_000;

export function baudRate(value: string): number {
  const rate = Number(value);
  if (!/^\d+$/.test(value) || rate < MIN_BAUD || rate > MAX_BAUD)
    throw new InvalidArgumentError(
      `expected a whole number of bits per second from ${MIN_BAUD} to ${MAX_BAUD} (e.g. 115200)`,
    );
  return rate;
}

interface SimBoardsOptions {
  count: number;
  soc?: string;
  stateDir?: string;
  ptyDir?: string;
  fault: FaultRule[];
  cloudPublicKey?: Buffer;
  delayMs?: number;
  flashMs?: number;
  bootMs?: number;
  baud?: number;
  wireModel?: boolean;
  replugMs?: number;
}

export function registerSimCommands(program: Command): void {
  const sim = program.command('sim').description('virtual hardware for tests, demos and training');
  sim
    .command('boards')
    .description(
      'start N virtual boards on PTY pairs (needs socat); prints one JSON line per board when it is ready, runs until SIGINT/SIGTERM',
    )
    .option('--count <n>', 'how many boards', positiveInteger, 1)
    .option('--soc <soc>', `board SoC (default ${DEFAULT_SIM_SOC})`, soc)
    .option('--state-dir <dir>', "keep each board's flash here, so a restart is a power cycle")
    .option('--pty-dir <dir>', 'where the PTY links go (default: a new temporary folder)')
    .option(
      '--fault <spec>',
      `arm a fault, kind[@COMMAND][=value][xN]; repeatable. Kinds: ${Object.keys(FAULT_KINDS).join(', ')}`,
      collectFault,
      [],
    )
    .option(
      '--cloud-public-key <base64>',
      'cloud public key the firmware is built with (default: the sandbox key)',
      cloudKey,
    )
    .option('--delay-ms <ms>', 'processing time per ordinary command (default 5)', boardMs)
    .option(
      '--flash-ms <ms>',
      'extra time a flash write takes: COMMIT, LOCK, FACTORY-RESET (default 20)',
      boardMs,
    )
    .option('--boot-ms <ms>', 'time from power-on or REBOOT to the boot event (default 150)', boardMs)
    .option(
      '--baud <rate>',
      `pace each serial line like a UART at this rate, 10 bits a byte, both ways (implies --wire-model)`,
      baudRate,
    )
    .option('--wire-model', `pace each serial line like a UART at ${DEFAULT_WIRE_BAUD_RATE} baud`)
    .option('--replug-ms <ms>', 'how long an unplugged board stays away (0 = for good)', nonNegativeInteger)
    .addHelpText(
      'after',
      '\nOn SIGUSR2 it prints one JSON line {"stats": {baudRate, bitsPerByte, total, boards}}: the bytes and lines\n' +
        'each board\'s serial line carried each way since start (see README "CLI").',
    )
    .action(async (options: SimBoardsOptions) => {
      const stopSignal = untilStopSignal();
      // Before the first board line: SIGUSR2's default action ends the process, and a benchmark may ask at once.
      let simulator: Simulator | undefined;
      const printStats = () => {
        if (simulator) printJson({ stats: simulator.counters() });
      };
      process.on('SIGUSR2', printStats);
      try {
        simulator = await startSimulator({
          count: options.count,
          faults: options.fault,
          ...(options.soc !== undefined && { soc: options.soc }),
          ...(options.stateDir !== undefined && { stateDir: options.stateDir }),
          ...(options.ptyDir !== undefined && { ptyDir: options.ptyDir }),
          ...(options.cloudPublicKey !== undefined && { cloudPublicKey: options.cloudPublicKey }),
          ...(options.delayMs !== undefined && { processingDelayMs: options.delayMs }),
          ...(options.flashMs !== undefined && { flashWriteDelayMs: options.flashMs }),
          ...(options.bootMs !== undefined && { bootDelayMs: options.bootMs }),
          ...((options.baud !== undefined || options.wireModel) && {
            wire: options.baud !== undefined ? { baudRate: options.baud } : {},
          }),
          ...(options.replugMs !== undefined && { replugMs: options.replugMs }),
        });
      } catch (error) {
        if (error instanceof SocatMissingError) throw new CliError(error.message);
        throw new CliError(error instanceof Error ? error.message : String(error));
      }
      for (const board of simulator.boards) {
        printJson({ path: board.path, soc: board.soc, mcuId: board.mcuId });
        board.host.onEvent((event) => printProgress(`board ${board.index} (${board.mcuId}): ${event}`));
      }
      const signal = await stopSignal;
      printProgress(`${signal}: stopping ${simulator.boards.length} virtual board(s)`);
      await simulator.stop();
      process.off('SIGUSR2', printStats);
    });
}
