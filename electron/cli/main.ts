import { Command, CommanderError } from 'commander';
import { CliError, EXIT_FAILURE, EXIT_USAGE, printError } from './cli-output';
import { registerAccountsCommands } from './commands/accounts';
import { registerAuditCommands } from './commands/audit';
import { registerBoardCommands } from './commands/board';
import { registerCentralCommands } from './commands/central';
import { registerConfigCommands } from './commands/config';
import { registerIdentityCommand } from './commands/identity';
import { registerProvisionCommand } from './commands/provision';
import { registerReportCommands } from './commands/report';
import { registerRunCommand } from './commands/run';
import { registerServeCommand } from './commands/serve';
import { registerSandboxCommand } from './commands/sandbox';
import { registerSecretCommands } from './commands/secret';
import { registerSimCommands } from './commands/sim';
import { registerUnitsCommands } from './commands/units';
import { SOFTWARE_VERSION } from '../station';

/** Each capability adds its commands here; the registrars live in ./commands, one file per command group. */
const registrars: Array<(program: Command) => void> = [
  registerBoardCommands,
  registerSimCommands,
  registerSandboxCommand,
  registerProvisionCommand,
  registerRunCommand,
  registerServeCommand,
  registerAccountsCommands,
  registerIdentityCommand,
  registerConfigCommands,
  registerSecretCommands,
  registerAuditCommands,
  registerUnitsCommands,
  registerReportCommands,
  registerCentralCommands,
];

export function buildProgram(): Command {
  const program = new Command('station')
    .description('Infuse IoT provisioning station')
    .version(SOFTWARE_VERSION, '-V, --version', 'print the station software version')
    .showHelpAfterError()
    .exitOverride();
  for (const register of registrars) register(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code; never calls process.exit itself. */
export async function runStationCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version output are successes; everything else commander reports is a usage error.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof CliError) {
      printError(error.message);
      return error.exitCode;
    }
    printError(`unexpected error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_FAILURE;
  }
}
