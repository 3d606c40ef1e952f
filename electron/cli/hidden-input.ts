/**
 * Reading a secret or a PIN the way the CLI always does: from a pipe, or typed at a terminal with echo off, never
 * from argv (shell history and the process list would keep it).
 */
import { CliError, EXIT_USAGE } from './cli-output';

export async function readStdin(maxBytes: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBytes)
      throw new CliError(`standard input is larger than ${maxBytes} bytes; not ${what}`, EXIT_USAGE);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal with echo off (raw mode), so the value never shows on screen. */
export function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new CliError('cancelled', EXIT_USAGE));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** A value from a pipe, or asked for at a terminal; one trailing newline dropped. */
export async function readHiddenValue(prompt: string, maxBytes: number, what: string): Promise<string> {
  const raw = process.stdin.isTTY ? await promptHidden(prompt) : await readStdin(maxBytes, what);
  return raw.replace(/\r?\n$/, '');
}
