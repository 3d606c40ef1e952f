import { InvalidArgumentError, type Command } from 'commander';
import { SOC_MCU_ID_HEX_LENGTH, decodeBase64Exact } from '../../../firmware-protocol';
import {
  DEFAULT_SIM_SOC,
  FAULT_KINDS,
  parseFault,
  SocatMissingError,
  startSimulator,
  type FaultRule,
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

interface SimBoardsOptions {
  count: number;
  soc?: string;
  stateDir?: string;
  ptyDir?: string;
  fault: FaultRule[];
  cloudPublicKey?: Buffer;
  delayMs?: number;
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
    .option('--delay-ms <ms>', 'processing time per command', nonNegativeInteger)
    .option('--replug-ms <ms>', 'how long an unplugged board stays away (0 = for good)', nonNegativeInteger)
    .action(async (options: SimBoardsOptions) => {
      const stopSignal = untilStopSignal();
      let simulator;
      try {
        simulator = await startSimulator({
          count: options.count,
          faults: options.fault,
          ...(options.soc !== undefined && { soc: options.soc }),
          ...(options.stateDir !== undefined && { stateDir: options.stateDir }),
          ...(options.ptyDir !== undefined && { ptyDir: options.ptyDir }),
          ...(options.cloudPublicKey !== undefined && { cloudPublicKey: options.cloudPublicKey }),
          ...(options.delayMs !== undefined && { processingDelayMs: options.delayMs }),
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
    });
}
