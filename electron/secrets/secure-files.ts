/**
 * Owner-only files for secrets: a 0700 directory of 0600 files, each read through a descriptor opened without
 * following symlinks and checked with fstat (so the file checked is the file read). Anything group/other-accessible
 * or owned by someone else is refused with the exact command that fixes it, instead of being used "just this once".
 * Windows has no POSIX modes; there the checks are skipped and the OS ACLs of the profile folder apply.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SecretStoreError } from './secret-store';

export interface FileOwner {
  uid: number;
  user: string;
}

export function currentOwner(): FileOwner | null {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return null;
  return { uid: process.getuid(), user: userInfo().username };
}

/** Quotes a path for a shell command line only when it needs it. */
export function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

const octal = (mode: number) => '0' + (mode & 0o777).toString(8).padStart(3, '0');

function checkOwnerAndMode(
  what: string,
  path: string,
  stat: Stats,
  owner: FileOwner | null,
  wanted: number,
): void {
  if (!owner) return;
  if (stat.uid !== owner.uid) {
    throw new SecretStoreError(
      'wrong-owner',
      `${what} ${path} is owned by uid ${stat.uid}, not by ${owner.user} (uid ${owner.uid}); ` +
        `run: chown ${owner.user} ${shellQuote(path)}`,
    );
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new SecretStoreError(
      'insecure-permissions',
      `${what} ${path} is accessible by group or others (mode ${octal(stat.mode)}); ` +
        `run: chmod ${wanted.toString(8)} ${shellQuote(path)}`,
    );
  }
}

/** Checks the directory; false when it does not exist (no secrets yet). */
export function checkSecretsDir(dir: string, owner: FileOwner | null = currentOwner()): boolean {
  let stat: Stats;
  try {
    stat = statSync(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw ioError(`cannot read secrets directory ${dir}`, error);
  }
  if (!stat.isDirectory()) {
    throw new SecretStoreError('not-a-regular-file', `secrets directory ${dir} is not a directory`);
  }
  checkOwnerAndMode('secrets directory', dir, stat, owner, 0o700);
  return true;
}

/** Reads a secret file; undefined when it does not exist. Checks the directory first. */
export function readSecretFile(
  dir: string,
  file: string,
  owner: FileOwner | null = currentOwner(),
): Buffer | undefined {
  if (!checkSecretsDir(dir, owner)) return undefined;
  const path = join(dir, file);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') {
      throw new SecretStoreError(
        'not-a-regular-file',
        `secret file ${path} is a symbolic link; replace it with the file itself`,
      );
    }
    throw ioError(`cannot read secret file ${path}`, error);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new SecretStoreError('not-a-regular-file', `secret file ${path} is not a regular file`);
    checkOwnerAndMode('secret file', path, stat, owner, 0o600);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes a secret file atomically (temp file, fsync, rename), 0600 in a 0700 directory it creates if needed. */
export function writeSecretFile(
  dir: string,
  file: string,
  data: Buffer,
  owner: FileOwner | null = currentOwner(),
): string {
  if (!checkSecretsDir(dir, owner)) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw ioError(`cannot create secrets directory ${dir}`, error);
    }
    checkSecretsDir(dir, owner);
  }
  const path = join(dir, file);
  const temp = join(dir, `.${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o600);
    // The umask can only narrow the mode, but be explicit: this file must be 0600 whatever the umask says.
    if (owner) fchmodSync(fd, 0o600);
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // The temp file may not exist; the original error is the one to report.
    }
    throw ioError(`cannot write secret file ${path}`, error);
  }
  return path;
}

/** File names in the directory (empty when it does not exist); checks the directory like a read does. */
export function listSecretFiles(dir: string, owner: FileOwner | null = currentOwner()): string[] {
  if (!checkSecretsDir(dir, owner)) return [];
  return readdirSync(dir).filter((name) => !name.startsWith('.'));
}

function errorCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
}

function ioError(prefix: string, error: unknown): SecretStoreError {
  if (error instanceof SecretStoreError) return error;
  const code = errorCode(error);
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : error instanceof Error
        ? error.message
        : String(error);
  return new SecretStoreError('io', `${prefix}: ${why}`);
}
