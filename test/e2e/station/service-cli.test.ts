/**
 * The station service from a terminal: a Ctrl-C during `station provision` (the whole foreground process group
 * gets SIGINT, as a terminal sends it), `station run` with events out and commands in, `station accounts init`,
 * `station --version`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../../electron/audit';
import type { StationEvent } from '../../../electron/station-api';
import { STATION_BIN, runStation } from '../../support/cli';
import { tempDir } from '../../support/temp-dirs';

function spawnStation(args: string[]) {
  const env = { ...process.env };
  delete env.STATION_CONFIG;
  const child = spawn(process.execPath, [STATION_BIN, ...args], {
    env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const until = async (what: string, test: () => boolean, timeoutMs = 30_000) => {
    const start = Date.now();
    while (!test()) {
      if (Date.now() - start > timeoutMs)
        throw new Error(`timed out waiting for ${what}; stderr:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const cleanup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  return { child, exited, until, cleanup, stdout: () => stdout, stderr: () => stderr };
}

describe('the station service from a terminal', () => {
  it(
    'Ctrl-C during provision: the units in progress finish their step and are recorded as cancelled',
    { timeout: 60_000 },
    async () => {
      const dir = tempDir('station-ctrl-c-');
      const run = spawnStation([
        'provision',
        '--sim',
        '2',
        '--batch',
        'ctrl-c',
        '--operator',
        'alice',
        '--data',
        dir,
        '--json',
        '--sim-fault',
        'delay-reply@VERIFY=1500',
      ]);
      try {
        await run.until(
          'both units verifying',
          () => (run.stderr().match(/verify started/g) ?? []).length === 2,
        );
        // What a terminal does on Ctrl-C: SIGINT to every process of the foreground group, socat included.
        process.kill(-run.child.pid!, 'SIGINT');
        const code = await run.exited;
        expect(code, run.stderr()).toBe(1);
        const summary = JSON.parse(run.stdout()) as {
          passed: number;
          failed: number;
          cancelled: number;
          notStarted: number;
          units: Array<{ outcome: string; errorCode?: string }>;
        };
        expect(summary).toMatchObject({ passed: 0, failed: 0, cancelled: 2, notStarted: 0 });
        expect(summary.units.map((u) => [u.outcome, u.errorCode])).toEqual([
          ['cancelled', 'CANCELLED'],
          ['cancelled', 'CANCELLED'],
        ]);
        expect(run.stderr()).toContain('interrupted: finishing the steps in progress, then stopping');
        expect(run.stderr()).toContain('slot-1 verify passed');
        expect(run.stderr()).not.toContain('SERIAL_DISCONNECTED');
        expect(run.stderr().trim().split('\n').at(-1)).toBe(
          'station: interrupted: 2 units cancelled, 0 not started',
        );
        const db = new Database(join(dir, 'station.sqlite'), { readonly: true });
        try {
          expect(db.prepare('SELECT state FROM units').pluck().all()).toEqual(['cancelled', 'cancelled']);
          expect(db.prepare("SELECT state FROM batches WHERE name = 'ctrl-c'").pluck().get()).toBe('closed');
        } finally {
          db.close();
        }
        expect(verifyAuditChain(join(dir, 'station.sqlite')).ok).toBe(true);
      } finally {
        run.cleanup();
      }
    },
  );

  it(
    'station run: events as JSON lines, commands in on stdin, stops cleanly on SIGTERM',
    { timeout: 60_000 },
    async () => {
      const dir = tempDir('station-run-');
      const run = spawnStation(['run', '--json', '--sim', '1', '--data', dir]);
      try {
        const events = () =>
          run
            .stdout()
            .split('\n')
            .filter((line) => line.startsWith('{"seq"'))
            .map((line) => JSON.parse(line) as StationEvent);
        await run.until('the slot', () => events().some((e) => e.kind === 'port.added'));
        run.child.stdin.write(
          JSON.stringify({ command: 'session.login', input: { operatorId: 'operator', pin: '1111' } }) + '\n',
        );
        run.child.stdin.write(JSON.stringify({ command: 'batch.open', input: { name: 'run-1' } }) + '\n');
        run.child.stdin.write('not json\n');
        await run.until('a unit to pass', () =>
          events().some((e) => e.kind === 'unit.finished' && e.outcome === 'passed'),
        );
        const results = run
          .stdout()
          .split('\n')
          .filter((line) => line.startsWith('{"command"') || line.startsWith('{"result"'))
          .map((line) => JSON.parse(line) as { command?: string; result: { ok: boolean; code?: string } });
        expect(results.map((r) => [r.command ?? null, r.result.ok, r.result.code ?? null])).toEqual([
          ['session.login', true, null],
          ['batch.open', true, null],
          [null, false, 'BAD_REQUEST'],
        ]);
        const seqs = events().map((e) => e.seq);
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
        process.kill(run.child.pid!, 'SIGTERM');
        expect(await run.exited).toBe(0);
        expect(events().at(-1)).toMatchObject({ kind: 'station.stopped', reason: 'the station was stopped' });
      } finally {
        run.cleanup();
      }
    },
  );

  it('station accounts init creates the first admin from a PIN on stdin, once', async () => {
    const dir = tempDir('station-accounts-');
    const config = JSON.parse(readFileSync('station-config/sandbox.json', 'utf8')) as Record<string, unknown>;
    expect(config.firstAdmin).toEqual({ name: 'admin' });
    const first = await runStation(['accounts', 'init', '--data', dir, '--json'], { input: '8642097\n' });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ operatorId: 'admin', roles: ['admin', 'supervisor'] });
    expect(first.stdout).not.toContain('8642097');
    const again = await runStation(['accounts', 'init', '--data', dir], { input: '1357913\n' });
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(
      'station: ALREADY_INITIALISED: The station already has accounts: an administrator can create more.',
    );
    const weak = await runStation(['accounts', 'init', '--data', tempDir('station-accounts-')], {
      input: '12\n',
    });
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/^station: BAD_INPUT: /);
  });

  it('station --version prints the software version', async () => {
    const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
    const run = await runStation(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(version);
  });
});
