/**
 * The real Electron app, bundled, on the sandbox station: the window opens with the product's title and the page
 * has `window.stationBridge`, which reaches the station. Needs the Electron binary (`npm ci` without
 * ELECTRON_SKIP_BINARY_DOWNLOAD, or `npx install-electron`) and a display; skipped where there is no binary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, type ElectronApplication } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface StartScript {
  electronBinary(root?: string): string | null;
}
interface AppBundle {
  buildAppBundle(options?: { quiet?: boolean }): Promise<{ main: string; preload: string }>;
}
/** The build scripts are plain .mjs: imported untyped, typed here. */
const importBuildScript = async <T>(name: string): Promise<T> =>
  (await import(/* @vite-ignore */ new URL(`../../../build/${name}`, import.meta.url).href)) as T;

const binary = (await importBuildScript<StartScript>('start.mjs')).electronBinary();

describe('Electron app', () => {
  let app: ElectronApplication | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    await app?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it.skipIf(binary === null)(
    binary === null
      ? 'smoke test skipped: Electron binary not installed here'
      : 'opens its window on the sandbox station, with the bridge in the page',
    async () => {
      await (await importBuildScript<AppBundle>('app-bundle.mjs')).buildAppBundle({ quiet: true });
      dataDir = mkdtempSync(join(tmpdir(), 'station-electron-'));
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(process.env)) {
        if (value !== undefined && key !== 'STATION_CONFIG' && key !== 'STATION_KIOSK') env[key] = value;
      }
      app = await _electron.launch({
        executablePath: binary!,
        // Chromium refuses to run as root with its sandbox (CI containers): only then, and only for this test.
        args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), ROOT, '--data', dataDir],
        env,
        timeout: 60_000,
      });
      const window = await app.firstWindow({ timeout: 60_000 });
      await window.waitForLoadState('domcontentloaded');
      const title = await app.evaluate(
        ({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.getTitle() ?? '',
      );
      expect(title).toContain('Infuse Provisioning Station');
      expect(window.url()).toBe('app://station/index.html');
      const bridge = await window.evaluate(() => {
        const value = (globalThis as { stationBridge?: Record<string, unknown> }).stationBridge;
        return value ? Object.keys(value).sort() : null;
      });
      expect(bridge).toEqual(['execute', 'subscribe']);
      const status = await window.evaluate(async () => {
        const bridge = (
          globalThis as unknown as {
            stationBridge: { execute(c: string, i: unknown): Promise<{ ok: boolean }> };
          }
        ).stationBridge;
        return bridge.execute('station.status', {});
      });
      expect(status.ok).toBe(true);
    },
    120_000,
  );
});
