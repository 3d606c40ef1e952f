/**
 * The station's operational log: one JSON line per event (pino), one file per UTC day in the config's log folder,
 * readable by the station's user and group only. It says what the station did (steps, backend calls, batches),
 * never a secret: nothing secret is ever logged, and the redaction below is the second line of defence.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** Field names that could carry a secret if a future call site slipped; pino replaces their values. */
export const REDACTED_PATHS = [
  'apiKey',
  '*.apiKey',
  'key',
  '*.key',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'sharedSecret',
  '*.sharedSecret',
  'derivedKey',
  '*.derivedKey',
  'networkKey',
  '*.networkKey',
  'mqttToken',
  '*.mqttToken',
  'authorization',
  '*.authorization',
  'headers',
  '*.headers',
  'pin',
  '*.pin',
];

export function logFileName(day: Date): string {
  return `station-${day.toISOString().slice(0, 10)}.log`;
}

/** Appends each line to the file of the day it is written, switching files at UTC midnight. */
class DailyFileStream extends Writable {
  private day = '';
  private file: WriteStream | undefined;

  constructor(
    private readonly dir: string,
    private readonly now: () => Date,
  ) {
    super();
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const today = logFileName(this.now());
    if (today !== this.day || !this.file) {
      this.file?.end();
      this.day = today;
      this.file = createWriteStream(join(this.dir, today), { flags: 'a', mode: 0o640 });
    }
    this.file.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.file) return callback();
    this.file.end(() => callback());
  }
}

export interface StationLog {
  logger: Logger;
  close(): Promise<void>;
}

export function openStationLog(options: {
  dir: string;
  stationId: string;
  level?: string;
  now?: () => Date;
}): StationLog {
  const stream = new DailyFileStream(options.dir, options.now ?? (() => new Date()));
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { station: options.stationId },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    stream,
  );
  return {
    logger,
    close: () => new Promise((resolve) => stream.end(() => resolve())),
  };
}
