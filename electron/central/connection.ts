/**
 * How the station reaches the central database: a PostgreSQL URL without a password (postgres://user@host:port/db,
 * `?sslmode=require` or `verify-full` for TLS), and the password from the station's secret store
 * (`central-database-password`), never from the URL, a config or a command line, where it would be seen.
 */
import pg from 'pg';
import { CENTRAL_DATABASE_PASSWORD_SECRET, type SecretStore } from '../secrets';

export const CENTRAL_PASSWORD_SECRET = CENTRAL_DATABASE_PASSWORD_SECRET;

export class CentralConfigError extends Error {
  override readonly name = 'CentralConfigError';
}

/** What may be shown of the URL: everything but a password (there should be none). */
export function describeCentralUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

/** Checks the URL's shape; throws CentralConfigError saying what is wrong and what to do. */
export function checkCentralUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CentralConfigError(
      'the central database URL is not a URL: give it as postgres://USER@HOST:PORT/DATABASE (add ?sslmode=require for TLS)',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new CentralConfigError(
      `the central database URL must start with postgres://, not ${parsed.protocol}//: give it as postgres://USER@HOST:PORT/DATABASE`,
    );
  }
  if (parsed.password) {
    throw new CentralConfigError(
      `the central database URL holds a password: remove it from the URL and keep it in the secret store instead (station secret set ${CENTRAL_PASSWORD_SECRET})`,
    );
  }
  if (!parsed.username) {
    throw new CentralConfigError(
      'the central database URL names no user: give it as postgres://USER@HOST:PORT/DATABASE',
    );
  }
  if (parsed.pathname.length <= 1) {
    throw new CentralConfigError(
      'the central database URL names no database: give it as postgres://USER@HOST:PORT/DATABASE',
    );
  }
  return parsed;
}

/** A pool on the central database, its password from the secret store (none is fine for trust/peer setups). */
export async function openCentralPool(
  url: string,
  secrets: SecretStore,
  options: {
    max?: number;
    applicationName?: string;
    /**
     * Every transaction starts read-only (the QA host), so a write by mistake fails; a database user with SELECT
     * rights alone is what makes writing impossible.
     */
    readOnly?: boolean;
  } = {},
): Promise<pg.Pool> {
  const parsed = checkCentralUrl(url);
  const password = await secrets.get(CENTRAL_PASSWORD_SECRET);
  // pg lets the URL's (empty) password win over a separate one: the secret goes into the URL, in memory only.
  if (password) parsed.password = encodeURIComponent(password.revealText());
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: options.max ?? 2,
    application_name: options.applicationName ?? 'infuse-station',
    connectionTimeoutMillis: 10_000,
    // A query the database never answers must not hold the shipper forever.
    query_timeout: 60_000,
    ...(options.readOnly && { options: '-c default_transaction_read_only=on' }),
  });
  // An idle connection the server dropped is an event on the pool, not a crash of the station.
  pool.on('error', () => undefined);
  return pool;
}
