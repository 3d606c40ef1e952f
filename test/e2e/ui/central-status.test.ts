/**
 * The operator screen's status bar says how far the station's record has reached the central database: here the database cannot be
 * reached (nothing listens on its port), so the chip says offline, the tooltip says why and that provisioning
 * goes on, and units still pass. 32 slots at 1920x1080 with a long batch name, the most crowded screen: nothing
 * may scroll or be pushed off it, and the station's name stays whole. Screenshot under test-results/ui/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, logInWithKeypad, openPage, shot, waitSlotState } from '../../support/browser';
import { freePort, ServedClient } from '../../support/served-client';
import { writeScenarioConfig } from '../../support/station-client';
import { tempDir } from '../../support/temp-dirs';

let station: ServedClient;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const dir = tempDir('station-ui-central-');
  const file = writeScenarioConfig(dir, 32);
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  // A port nothing listens on: the central database is "down" from the start.
  config.central = { url: `postgres://station@127.0.0.1:${await freePort()}/central`, intervalMs: 500 };
  writeFileSync(file, JSON.stringify(config, null, 2));
  station = await ServedClient.open(file, join(dir, 'data'));
  browser = await launchBrowser();
  page = await openPage(browser, station.pageUrl);
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await station?.close();
});

describe('the central database in the status bar', () => {
  it('says offline, with events waiting, while units pass', { timeout: 120_000 }, async () => {
    await logInWithKeypad(page, 'operator', '1111');
    const chip = page.getByTestId('central-status');
    await expect.poll(() => chip.textContent(), { timeout: 30_000 }).toMatch(/^Central: offline/);
    expect(await chip.getAttribute('title')).toMatch(
      /^Audit record shipped to postgres:\/\/station@127\.0\.0\.1:\d+\/central\. .*ECONNREFUSED.*the station keeps provisioning.*Provisioning does not wait for it\.$/,
    );
    await page.getByRole('button', { name: 'Open batch' }).click();
    await page.getByLabel('Batch name').fill('Offline week 49, sensors for the north hall');
    await page.getByRole('dialog').getByRole('button', { name: 'Open batch' }).click();
    await waitSlotState(page, 'slot-1', 'passed', 60_000);
    await waitSlotState(page, 'slot-2', 'passed', 60_000);
    await shot(page, 'central-offline');
    const fits = await page.evaluate(`(() => {
      const banner = document.querySelector('header.banner');
      const logout = [...banner.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Log out');
      const chip = document.querySelector('[data-testid="central-status"]').getBoundingClientRect();
      return {
        pageScrolls: document.documentElement.scrollWidth > window.innerWidth
          || document.documentElement.scrollHeight > window.innerHeight,
        bannerOverflows: banner.scrollWidth > banner.clientWidth,
        logoutRight: logout.getBoundingClientRect().right,
        chipWidth: chip.width,
        width: window.innerWidth,
        stationCut: (() => {
          const name = banner.querySelector('.banner-station');
          return name.scrollWidth > name.clientWidth;
        })(),
        batchWidth: banner.querySelector('.banner-batch').getBoundingClientRect().width,
      };
    })()`);
    // The station's name stays whole (an operator at a row of stations must see which one this is); the long
    // batch name gives way, but keeps a few letters.
    expect(fits).toMatchObject({ pageScrolls: false, bannerOverflows: false, stationCut: false });
    const { logoutRight, chipWidth, width, batchWidth } = fits as {
      logoutRight: number;
      chipWidth: number;
      width: number;
      batchWidth: number;
    };
    expect(batchWidth).toBeGreaterThan(100);
    expect(logoutRight).toBeLessThanOrEqual(width);
    expect(chipWidth).toBeGreaterThan(100);
    expect(station.state().central).toMatchObject({ state: 'down', centralSeq: null });
  });
});
