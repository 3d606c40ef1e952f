/**
 * The operator app in Chromium against `station serve` (sandbox): log in on the keypad, open a batch whose units
 * wait for their label, scan four labels with a keyboard-wedge scanner, watch four slots provision in parallel to
 * PASS with their device ids; a bad scan shows its message; a scan bound to a clicked slot goes there.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  logInWithKeypad,
  pageProblems,
  scan,
  shot,
  slot,
  waitSlotState,
  useServedStationPage,
} from '../../support/browser';

let page: Page;
useServedStationPage('station-ui-labelled-', (_served, opened) => {
  page = opened;
});

describe('a labelled batch in the operator app', () => {
  it(
    'logs in, opens a batch, takes four scans and shows four PASS with device ids',
    { timeout: 90_000 },
    async () => {
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      await shot(page, 'login');
      await logInWithKeypad(page, 'operator', '1111');
      await expect(page.getByTestId('logged-in').textContent()).resolves.toBe('Demo operator (operator)');
      await shot(page, 'station-no-batch');

      await page.getByRole('button', { name: 'Open batch' }).click();
      await page.getByLabel('Batch name').fill('UI labelled');
      await page.getByLabel('Work order (optional)').fill('WO-2231');
      await page.getByLabel('Recipe').selectOption('sandbox-sensor-labelled');
      await page.getByLabel('Target quantity (optional)').fill('4');
      await shot(page, 'open-batch-dialog');
      await page.getByRole('dialog').getByRole('button', { name: 'Open batch' }).click();
      for (const name of ['slot-1', 'slot-2', 'slot-3', 'slot-4'])
        await waitSlotState(page, name, 'waiting-for-scan');
      await expect(slot(page, 'slot-1').textContent()).resolves.toContain('scan the label');
      await shot(page, 'waiting-for-scan');

      // A bad scan: the station's message, on the screen for a few seconds.
      await scan(page, 'hello-world');
      await page
        .getByText('That label was not recognised. Scan the serial-number label (SN:...) again.')
        .waitFor();
      await shot(page, 'bad-scan');

      // Clicking a slot first binds the next scan to it.
      await slot(page, 'slot-3').click();
      await expect(slot(page, 'slot-3').textContent()).resolves.toContain('the next scan goes to this slot');
      await scan(page, 'SN:UIAB000003');
      await waitSlotState(page, 'slot-3', 'running', 10_000).catch(() => undefined);
      for (const label of ['SN:UIAB000001', 'SN:UIAB000002', 'SN:UIAB000004']) await scan(page, label);
      const running = await page.locator('[data-state="running"]').count();
      expect(running).toBeGreaterThan(0);
      await shot(page, 'running');

      for (const name of ['slot-1', 'slot-2', 'slot-3', 'slot-4']) await waitSlotState(page, name, 'passed');
      await shot(page, 'four-pass');
      for (const name of ['slot-1', 'slot-2', 'slot-3', 'slot-4']) {
        const text = (await slot(page, name).textContent()) ?? '';
        expect(text).toContain('PASS');
        expect(text).toMatch(/device [0-9a-f]{16}/);
      }
      expect(await slot(page, 'slot-3').textContent()).toContain('UIAB000003');
      await expect(page.getByTestId('batch-count').textContent()).resolves.toBe('4 / 4');
      await page.getByText('target reached').waitFor();
      expect(pageProblems(page)).toEqual([]);
    },
  );
});
