/**
 * 32 slots on a 1920x1080 screen: every tile on screen without scrolling, the PASS/FAIL word still at least 48 px,
 * and a mixed grid (running, passed, failed) that reads from two metres. Screenshots under test-results/ui/.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  logInWithKeypad,
  pageProblems,
  shot,
  waitSlotState,
  useServedStationPage,
} from '../../support/browser';
import type { ServedClient } from '../../support/served-client';

const SLOTS = 32;
let station: ServedClient;
let page: Page;
useServedStationPage(
  'station-ui-layout-',
  (served, opened) => {
    station = served;
    page = opened;
  },
  SLOTS,
);

/** Box of every tile and the size of its status word, as the browser laid them out. */
async function layout(): Promise<{
  scroll: { width: number; height: number };
  tiles: Array<{ top: number; left: number; bottom: number; right: number; wordPx: number | null }>;
}> {
  return page.evaluate(`(() => {
    const tiles = [...document.querySelectorAll('[data-slot]')].map((tile) => {
      const box = tile.getBoundingClientRect();
      const word = tile.querySelector('.slot-word');
      return { top: box.top, left: box.left, bottom: box.bottom, right: box.right,
        wordPx: word ? parseFloat(getComputedStyle(word).fontSize) : null };
    });
    return { scroll: { width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight }, tiles };
  })()`);
}

describe('32 slots on one screen', () => {
  it('lays out without scrolling and keeps PASS/FAIL readable', { timeout: 240_000 }, async () => {
    await logInWithKeypad(page, 'operator', '1111');
    await page.getByRole('button', { name: 'Open batch' }).click();
    await page.getByLabel('Batch name').fill('32 slots');
    await page.getByRole('dialog').getByRole('button', { name: 'Open batch' }).click();
    await page.locator('[data-state="running"]').first().waitFor();
    await shot(page, 'grid-32-running');
    for (let i = 1; i <= SLOTS; i++) await waitSlotState(page, `slot-${i}`, 'passed', 180_000);

    // Two boards fail, so the grid shows every kind of tile at once.
    for (const [slot, fault] of [
      ['slot-6', 'storage-fail@COMMIT x1'],
      ['slot-19', 'drop-reply@CHALLENGE x3'],
    ] as const) {
      await station.execute('sim.unplug', { slot });
      await waitSlotState(page, slot, 'empty');
      await station.execute('sim.replug', { slot, faults: [fault] });
    }
    await station.execute('sim.unplug', { slot: 'slot-27' });
    await waitSlotState(page, 'slot-6', 'failed');
    await waitSlotState(page, 'slot-19', 'failed');
    await shot(page, 'grid-32-mixed');

    const { scroll, tiles } = await layout();
    expect(tiles).toHaveLength(SLOTS);
    expect(scroll.width).toBeLessThanOrEqual(1920);
    expect(scroll.height).toBeLessThanOrEqual(1080);
    for (const tile of tiles) {
      expect(tile.top).toBeGreaterThanOrEqual(0);
      expect(tile.left).toBeGreaterThanOrEqual(0);
      expect(tile.bottom).toBeLessThanOrEqual(1080);
      expect(tile.right).toBeLessThanOrEqual(1920);
      if (tile.wordPx !== null) expect(tile.wordPx).toBeGreaterThanOrEqual(48);
    }
    expect(pageProblems(page)).toEqual([]);
  });
});
