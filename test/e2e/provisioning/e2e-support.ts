/**
 * End-to-end helpers: run the real `station provision` CLI as its own process group (virtual boards on socat PTYs,
 * the sandbox HTTP server and the SQLite audit file all live inside it), then read what it left on disk: the
 * sandbox's SQLite data, the virtual boards' flash files and the audit trail.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect } from 'vitest';
import { verifyAuditChain } from '../../../electron/audit';
import {
  deriveInterfaceKey,
  deriveSignKey,
  secretFingerprint,
  x25519KeyPairFromPrivate,
  x25519SharedSecret,
} from '../../../firmware-protocol';
import type { FlashImage } from '../../../firmware-protocol/virtual-board';
import { STATION_BIN, runStation } from '../../support/cli';

export interface ProvisionRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  summary?: Summary;
}

export interface Summary {
  batchId: string;
  passed: number;
  failed: number;
  units: Array<{
    mcuId: string | null;
    deviceId: string | null;
    outcome: string;
    failedStep?: string;
    errorCode?: string;
    message?: string;
  }>;
}

/** A fresh data folder, removed after the file's tests. */
export function useDataDirs() {
  const dirs: string[] = [];
  afterAll(() => {
    if (process.env.KEEP_E2E_DIRS) return;
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return (label: string) => {
    const dir = mkdtempSync(join(tmpdir(), `station-e2e-${label}-`));
    dirs.push(dir);
    return dir;
  };
}

let runCounter = 0;

/**
 * `station provision --sim N --data DIR --json ...`, to completion (or to its own SIGKILL). Its stdout and stderr
 * are kept as log files under DIR/logs (what an operator would redirect), so the secret scan covers them. The CLI
 * runs as a process-group leader and the group is killed afterwards: socat children a SIGKILLed station leaves
 * behind go with it.
 */
export async function provision(
  dir: string,
  options: {
    sim?: number;
    args?: string[];
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    /** SIGKILL the CLI from outside as soon as it has printed this many progress lines on stderr. */
    killAtStderrLine?: number;
  } = {},
): Promise<ProvisionRun> {
  const args = [
    'provision',
    '--sim',
    String(options.sim ?? 1),
    '--batch',
    `e2e-${++runCounter}`,
    '--operator',
    'e2e-tester',
    '--data',
    dir,
    '--json',
    ...(options.args ?? []),
  ];
  // The sandbox config unless the test names one: never a developer's own STATION_CONFIG.
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (!options.env?.STATION_CONFIG) delete env.STATION_CONFIG;
  const child = spawn(process.execPath, [STATION_BIN, ...args], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    const lines = stderr.split('\n').length - 1;
    if (options.killAtStderrLine !== undefined && lines >= options.killAtStderrLine) child.kill('SIGKILL');
  });
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  writeFileSync(join(logs, `run-${runCounter}.stdout.log`), stdout);
  writeFileSync(join(logs, `run-${runCounter}.stderr.log`), stderr);
  if (timedOut) throw new Error(`station provision did not finish in ${timeoutMs} ms; stderr:\n${stderr}`);
  let summary: Summary | undefined;
  const jsonLine = stdout.split('\n').find((line) => line.startsWith('{'));
  if (jsonLine) summary = JSON.parse(jsonLine) as Summary;
  return { code, signal, stdout, stderr, ...(summary && { summary }) };
}

/** `station audit verify --db FILE --json`, the real command. */
export async function verifyCli(
  dir: string,
): Promise<{ code: number | null; result: Record<string, unknown> }> {
  const run = await runStation(['audit', 'verify', '--db', join(dir, 'station.sqlite'), '--json']);
  return { code: run.code, result: JSON.parse(run.stdout) as Record<string, unknown> };
}

/**
 * The chain verifies. With `cli` the real `station audit verify` runs (a process, ~1 s); without, the same verifier
 * runs in-process, which keeps the many intermediate checks cheap.
 */
export async function expectChainIntact(dir: string, options: { cli?: boolean } = {}): Promise<number> {
  if (!options.cli) {
    const result = verifyAuditChain(join(dir, 'station.sqlite'));
    expect(result, JSON.stringify(result)).toMatchObject({ ok: true });
    return result.ok ? result.events : -1;
  }
  const { code, result } = await verifyCli(dir);
  expect(result, JSON.stringify(result)).toMatchObject({ ok: true });
  expect(code).toBe(0);
  return result.events as number;
}

function readOnly<T>(file: string, work: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return work(db);
  } finally {
    db.close();
  }
}

export interface SandboxDevice {
  device_id: string;
  mcu_id: string;
  soc: string;
  device_public_key: string | null;
}

export function sandboxDevices(dir: string): SandboxDevice[] {
  if (!existsSync(join(dir, 'sandbox.sqlite'))) return [];
  return readOnly(join(dir, 'sandbox.sqlite'), (db) =>
    db.prepare('SELECT device_id, mcu_id, soc, device_public_key FROM devices').all(),
  ) as SandboxDevice[];
}

export function sandboxMeta(dir: string): Record<string, string> {
  const rows = readOnly(join(dir, 'sandbox.sqlite'), (db) =>
    db.prepare('SELECT key, value FROM meta').all(),
  ) as Array<{ key: string; value: string }>;
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

export function sandboxNetworkKeys(dir: string): string[] {
  return (
    readOnly(join(dir, 'sandbox.sqlite'), (db) => db.prepare('SELECT key FROM networks').all()) as Array<{
      key: string;
    }>
  ).map((r) => r.key);
}

export function boardImages(dir: string): FlashImage[] {
  const boards = join(dir, 'boards');
  if (!existsSync(boards)) return [];
  return readdirSync(boards)
    .filter((f) => /^board-\d+\.json$/.test(f))
    .sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]))
    .map((f) => JSON.parse(readFileSync(join(boards, f), 'utf8')) as FlashImage);
}

export function writeBoardImage(dir: string, index: number, image: FlashImage): void {
  mkdirSync(join(dir, 'boards'), { recursive: true });
  writeFileSync(join(dir, 'boards', `board-${index}.json`), JSON.stringify(image, null, 2) + '\n', {
    mode: 0o600,
  });
}

export interface AuditUnit {
  id: string;
  batch_id: string;
  mcu_id: string | null;
  device_id: string | null;
  state: string;
  last_step: string | null;
  error_code: string | null;
  attempt: number;
}

export interface AuditEventRow {
  seq: number;
  unit_id: string | null;
  kind: string;
  step: string | null;
  outcome: string | null;
  details: Record<string, unknown>;
}

export function auditUnits(dir: string): AuditUnit[] {
  if (!existsSync(join(dir, 'station.sqlite'))) return [];
  return readOnly(join(dir, 'station.sqlite'), (db) =>
    db.prepare('SELECT * FROM units ORDER BY started_at, id').all(),
  ) as AuditUnit[];
}

export function auditEvents(dir: string, unitId?: string): AuditEventRow[] {
  const rows = readOnly(join(dir, 'station.sqlite'), (db) =>
    unitId === undefined
      ? db.prepare('SELECT seq, unit_id, kind, step, outcome, details FROM events ORDER BY seq').all()
      : db
          .prepare(
            'SELECT seq, unit_id, kind, step, outcome, details FROM events WHERE unit_id = ? ORDER BY seq',
          )
          .all(unitId),
  ) as Array<Omit<AuditEventRow, 'details'> & { details: string }>;
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}

/**
 * A unit's record is complete: started, every step that began also finished (passed, failed or skipped), and the
 * unit closed with an outcome. Returns the closing event.
 */
export function expectCompleteRecord(dir: string, unitId: string): AuditEventRow {
  const events = auditEvents(dir, unitId);
  expect(events[0]?.kind).toBe('unit.started');
  const last = events.at(-1)!;
  expect(last.kind).toBe('unit.finished');
  expect(['passed', 'failed']).toContain(last.outcome);
  const started = events.filter((e) => e.kind === 'step.started').map((e) => e.step);
  const finished = events.filter((e) => e.kind === 'step.finished').map((e) => e.step);
  if (last.details.errorCode === 'INTERRUPTED') {
    // A crash cut the step in progress; reconciliation closed the unit naming that step.
    expect(started.slice(0, finished.length)).toEqual(finished);
    expect(started.length - finished.length).toBeLessThanOrEqual(1);
    expect(last.details.message).toEqual(expect.stringContaining('interrupted'));
  } else {
    expect(finished).toEqual(started);
  }
  return last;
}

/** The one unit record of a single-board run (the latest attempt for that chip). */
export function latestUnitFor(dir: string, mcuId: string): AuditUnit {
  const units = auditUnits(dir).filter((u) => u.mcu_id === mcuId);
  expect(units.length).toBeGreaterThan(0);
  return units.at(-1)!;
}

/**
 * What the "Done means" asks of a provisioned board, checked from the outside: exactly one device for its
 * chip in the sandbox, the board's flash holds that device id and the credentials the cloud would derive, X25519
 * agrees both ways (board private x cloud public == cloud private x board public), and the audit record of its
 * last unit passed with the same device id and a verified proof.
 */
export function expectProvisioned(dir: string, board: FlashImage): void {
  const devices = sandboxDevices(dir).filter((d) => d.mcu_id === board.identity.mcuId);
  expect(devices, `devices for ${board.identity.mcuId}`).toHaveLength(1);
  const device = devices[0]!;
  expect(board.credentials?.deviceId).toBe(device.device_id);

  const meta = sandboxMeta(dir);
  const cloud = x25519KeyPairFromPrivate(Buffer.from(meta.cloud_private_key!, 'base64'));
  const boardKeys = x25519KeyPairFromPrivate(Buffer.from(board.identity.devicePrivateKey, 'base64'));
  if (device.device_public_key !== null)
    expect(device.device_public_key).toBe(boardKeys.publicKey.toString('base64'));
  const cloudSide = x25519SharedSecret(cloud.privateKey, boardKeys.publicKey);
  const boardSide = x25519SharedSecret(boardKeys.privateKey, cloud.publicKey);
  expect(cloudSide.equals(boardSide)).toBe(true);
  expect(board.credentials?.cloudPublicKey).toBe(cloud.publicKey.toString('base64'));
  expect(sandboxNetworkKeys(dir)).toContain(board.credentials?.networkKey);
  expect(board.credentials?.mqttToken).toMatch(/^sbx_mqtt_/);
  const derived = Buffer.from(board.credentials!.derivedKey!, 'base64');
  const today = Math.floor((Date.now() / 1000 - 315_964_800 + 18) / 86_400);
  const matches = [today - 1, today, today + 1].some((day) =>
    deriveInterfaceKey(cloudSide, 'serial', day).equals(derived),
  );
  expect(matches, 'board derived key = HKDF(shared secret, GPS day, "serial")').toBe(true);

  const unit = latestUnitFor(dir, board.identity.mcuId);
  expect(unit.state).toBe('passed');
  expect(unit.device_id).toBe(device.device_id);
  const verify = auditEvents(dir, unit.id).find((e) => e.kind === 'step.finished' && e.step === 'verify');
  expect(verify?.outcome).toBe('passed');
  expect((verify?.details.measurements as Record<string, unknown>).signProofOk).toBe(true);
  expect((verify?.details.measurements as Record<string, unknown>).derivedProofOk).toBe(true);
  // The record names exactly what the board holds: the fingerprints written equal those of its flash.
  const written = auditEvents(dir, unit.id).find(
    (e) => e.kind === 'step.finished' && e.step === 'write-credentials',
  )?.details.measurements as Record<string, unknown>;
  const c = board.credentials!;
  expect(written).toMatchObject({
    deviceId: c.deviceId,
    networkId: c.networkId,
    networkKeyFp: secretFingerprint(Buffer.from(c.networkKey!, 'base64')),
    mqttTokenFp: secretFingerprint(c.mqttToken!),
    derivedKeyFp: secretFingerprint(derived),
    cloudPublicKey: c.cloudPublicKey,
  });
}

/** Every secret of a run, as the scan looks for it. */
export function runSecrets(dir: string): Map<string, Buffer> {
  const secrets = new Map<string, Buffer>();
  const meta = sandboxMeta(dir);
  secrets.set('sandbox api key', Buffer.from(meta.api_key!));
  secrets.set('sandbox cloud private key', Buffer.from(meta.cloud_private_key!, 'base64'));
  for (const [i, key] of sandboxNetworkKeys(dir).entries())
    secrets.set(`network key ${i}`, Buffer.from(key, 'base64'));
  // The station's identity key: it signs the trail and must never be in it.
  const stationKey = join(dir, 'secrets', 'station-signing-key');
  if (existsSync(stationKey))
    secrets.set('station signing key', Buffer.from(readFileSync(stationKey, 'utf8').trim(), 'base64'));
  const cloud = x25519KeyPairFromPrivate(Buffer.from(meta.cloud_private_key!, 'base64'));
  for (const board of boardImages(dir)) {
    const id = board.identity.mcuId;
    const priv = Buffer.from(board.identity.devicePrivateKey, 'base64');
    secrets.set(`${id} device private key`, priv);
    const shared = x25519SharedSecret(priv, cloud.publicKey);
    secrets.set(`${id} shared secret`, shared);
    secrets.set(`${id} sign key`, deriveSignKey(shared));
    const c = board.credentials;
    if (c?.networkKey) secrets.set(`${id} network key`, Buffer.from(c.networkKey, 'base64'));
    if (c?.mqttToken) secrets.set(`${id} mqtt token`, Buffer.from(c.mqttToken));
    if (c?.derivedKey) secrets.set(`${id} derived key`, Buffer.from(c.derivedKey, 'base64'));
  }
  return secrets;
}

/** The encodings a secret could leak in: raw bytes, hex (both cases), base64 and base64url. */
export function encodings(secret: Buffer): Array<[string, Buffer]> {
  const b64 = secret.toString('base64');
  const forms: Array<[string, Buffer]> = [
    ['raw', secret],
    ['hex', Buffer.from(secret.toString('hex'))],
    ['HEX', Buffer.from(secret.toString('hex').toUpperCase())],
    ['base64', Buffer.from(b64.replace(/=+$/, ''))],
    ['base64url', Buffer.from(secret.toString('base64url'))],
  ];
  // A text secret (API key, MQTT token) is also looked for as the text itself, which `raw` already is.
  return forms;
}
