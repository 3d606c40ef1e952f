/**
 * The app's own command-line options, a subset of the CLI's station options with the same names: `--config F`
 * (else $STATION_CONFIG, else the sandbox config), `--data DIR`, and `--kiosk` (or STATION_KIOSK=1). Anything
 * else on the command line is Chromium's or Electron's (`--no-sandbox`, `--enable-logging`, the app path) and is
 * left alone rather than refused.
 */
export interface AppArgs {
  config?: string;
  data?: string;
  kiosk: boolean;
}

export const KIOSK_ENV = 'STATION_KIOSK';

export function parseAppArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): AppArgs {
  const args: AppArgs = { kiosk: env[KIOSK_ENV] === '1' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? splitOnce(arg) : [arg, undefined];
    if (name === '--kiosk') {
      args.kiosk = inline === undefined || inline !== 'false';
    } else if (name === '--config' || name === '--data') {
      const value = inline ?? argv[i + 1];
      if (inline === undefined) i++;
      if (value !== undefined && value !== '') args[name === '--config' ? 'config' : 'data'] = value;
    }
  }
  return args;
}

function splitOnce(arg: string): [string, string] {
  const at = arg.indexOf('=');
  return [arg.slice(0, at), arg.slice(at + 1)];
}
