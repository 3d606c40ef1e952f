/**
 * `npm start` on a machine without the Electron binary (as here): one line saying so, then the sandbox station in
 * the browser, which opens on the login screen with the demo accounts.
 */
import { spawn } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, shot } from '../../support/browser';
import { tempDir } from '../../support/temp-dirs';

let browser: Browser | undefined;
afterAll(async () => browser?.close());

describe('npm start', () => {
  it(
    'says the Electron binary is missing, serves the sandbox station and its operator app',
    { timeout: 90_000 },
    async () => {
      const home = tempDir('station-npm-start-');
      const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, PATH: process.env.PATH };
      delete env.STATION_CONFIG;
      // No browser to open here: xdg-open is pointed at a command that does nothing.
      env.BROWSER = 'true';
      const child = spawn(process.execPath, ['build/start.mjs'], {
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      try {
        const start = Date.now();
        while (!stdout.includes('"url"')) {
          if (Date.now() - start > 60_000) throw new Error(`npm start did not serve; stderr:\n${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(stdout.split('\n')[0] + stderr).toContain(
          'npm start: the Electron binary is not installed here; running the station in your browser instead (station serve --open)',
        );
        const { url } = JSON.parse(stdout.split('\n').find((line) => line.startsWith('{'))!) as {
          url: string;
        };
        browser = await launchBrowser();
        const page = await openPage(browser, url);
        await page.getByRole('heading', { name: 'Log in' }).waitFor();
        await page.getByText('Sandbox demo accounts').waitFor();
        await shot(page, 'npm-start');
        process.kill(-child.pid!, 'SIGINT');
        expect(await exited).toBe(0);
      } finally {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    },
  );
});
