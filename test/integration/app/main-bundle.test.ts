/**
 * The bundled Electron main process (dist/app/main.cjs) on a real sandbox station, in plain Node with a recording
 * stand-in for 'electron' (fake-electron-main.mjs): the bundle loads, the window is created with Electron's
 * security settings, the session refuses permissions, devices, remote requests and navigation, the page is served
 * with the CSP, the IPC bridge answers the app's frame and refuses others, and quitting closes the station. What
 * only a real Electron can show (the window itself, the preload in a sandboxed renderer) is the e2e smoke test's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HARNESS = fileURLToPath(new URL('./fake-electron-main.mjs', import.meta.url));

interface Report {
  privilegedSchemes: Array<{ scheme: string; privileges: Record<string, boolean> }> | null;
  windowOptions: {
    title: string;
    kiosk: boolean;
    fullscreen: boolean;
    webPreferences: Record<string, unknown>;
  } | null;
  loadedUrl: string | null;
  menu: unknown;
  errors: string[];
  ipcChannels: string[];
  checks: Record<string, unknown>;
  quit: boolean;
  exitCode: number;
}

interface AppBundle {
  buildAppBundle(options?: { quiet?: boolean }): Promise<{ main: string; preload: string }>;
}

let bundle: string;
const temps: string[] = [];

beforeAll(async () => {
  const build = (await import(
    /* @vite-ignore */ new URL('../../../build/app-bundle.mjs', import.meta.url).href
  )) as AppBundle;
  bundle = (await build.buildAppBundle({ quiet: true })).main;
}, 60_000);

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function runMain(args: string[], env: Record<string, string> = {}): Report {
  const data = mkdtempSync(join(tmpdir(), 'app-main-'));
  temps.push(data);
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== 'STATION_CONFIG' && key !== 'STATION_KIOSK') childEnv[key] = value;
  }
  const result = spawnSync(process.execPath, [HARNESS, bundle, ROOT, '--data', data, ...args], {
    cwd: ROOT,
    env: { ...childEnv, ...env },
    encoding: 'utf8',
    timeout: 90_000,
  });
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  if (!line.startsWith('{')) throw new Error(`no report (status ${result.status}): ${result.stderr}`);
  return JSON.parse(line) as Report;
}

describe('the bundled main process, with a stand-in for Electron', () => {
  let report: Report;

  beforeAll(() => {
    report = runMain(['--kiosk']);
  }, 90_000);

  it('opens the station, loads the app page, and quits cleanly after closing the station', () => {
    expect(report.errors).toEqual([]);
    expect(report.loadedUrl).toBe('app://station/index.html');
    expect(report.checks.status).toEqual({ ok: true, station: 'Sandbox station', slots: 4 });
    expect(report.quit).toBe(true);
    expect(report.exitCode).toBe(0);
  });

  it('creates the window with the security checklist', () => {
    expect(report.windowOptions?.title).toContain('Infuse Provisioning Station');
    expect(report.windowOptions?.webPreferences).toMatchObject({
      preload: join(ROOT, 'dist', 'app', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('kiosk: fullscreen, no menu, no developer tools', () => {
    expect(report.windowOptions).toMatchObject({ kiosk: true, fullscreen: true });
    expect(report.windowOptions?.webPreferences.devTools).toBe(false);
    expect(report.menu).toBeNull();
  });

  it('serves the page from a standard, secure app:// scheme with the CSP header', () => {
    expect(report.privilegedSchemes).toEqual([
      { scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) },
    ]);
    expect(report.checks.protocol).toMatchObject({ scheme: 'app', status: 200 });
    expect((report.checks.protocol as { csp: string }).csp).toContain("default-src 'none'");
    expect(report.checks.traversal).toBe(404);
  });

  it('refuses every permission, device and serial-port chooser; blocks remote and file requests', () => {
    expect(report.checks).toMatchObject({
      permissionRequest: false,
      permissionCheck: false,
      devicePermission: false,
      serialPort: { prevented: true, picked: '' },
      blocked: [true, true, true, true],
      allowed: [false, false],
    });
  });

  it('denies new windows and navigation', () => {
    expect(report.checks.windowOpen).toEqual({ action: 'deny' });
    expect(report.checks.navigationPrevented).toBe(true);
  });

  it('bridges IPC: the app frame reaches the station and gets the stream; a foreign frame is refused', () => {
    expect(report.ipcChannels).toEqual(['station:execute', 'station:subscribe', 'station:unsubscribe']);
    expect(report.checks.foreign).toMatchObject({ ok: false, code: 'FORBIDDEN_SENDER' });
    expect(report.checks.unknown).toBe('UNKNOWN_COMMAND');
    expect(report.checks.subscribe).toEqual({ ok: true });
    expect(report.checks.firstStreamMessage).toBe('snapshot');
  });
});

describe('the bundled main process with a config it cannot use', () => {
  it('says why in an error box and exits 1 without a window', () => {
    const report = runMain(['--config', join(ROOT, 'package.json')]);
    expect(report.exitCode).toBe(1);
    expect(report.windowOptions).toBeNull();
    expect(report.errors.join('\n')).toMatch(/station config is not usable: .*problems? in/s);
  }, 90_000);
});
