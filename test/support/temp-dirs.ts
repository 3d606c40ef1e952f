/**
 * Temp folders that remove themselves: every folder made here is deleted after the test file that made it has
 * run, so `npm test` leaves /tmp as it found it. Importing this module registers the cleanup with vitest, which
 * evaluates a test file's imports afresh per file, so each file cleans up its own folders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const created: string[] = [];

/** A new empty folder under the OS temp dir, named `<prefix>XXXXXX`, removed after this test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes every folder tempDir has made so far; for a test that wants them gone sooner. */
export function cleanupTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

afterAll(cleanupTempDirs);
