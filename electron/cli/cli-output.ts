/**
 * How every `station` command talks: results as JSON on stdout (one object, or one line per item for streams),
 * progress and errors as plain lines on stderr, and an exit code a script can branch on.
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** An expected failure: printed as one line `station: <message>` with no stack trace. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export function printJson(value: unknown, pretty = false): void {
  process.stdout.write(JSON.stringify(value, null, pretty ? 2 : undefined) + '\n');
}

export function printError(message: string): void {
  process.stderr.write(`station: ${message}\n`);
}

export function printProgress(message: string): void {
  process.stderr.write(message + '\n');
}

/** Resolves on the first SIGINT or SIGTERM, so a long-running command can clean up and exit 0. */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
