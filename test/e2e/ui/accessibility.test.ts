/**
 * Every screen of the operator app through axe (no serious or critical violation), and the main flow done with the
 * keyboard alone: log in, open a batch, scan, retry, log out, without touching the mouse.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  pageProblems,
  scan,
  scanWithKeyboard,
  shot,
  waitSlotState,
  useServedStationPage,
} from '../../support/browser';
import type { ServedClient } from '../../support/served-client';

let station: ServedClient;
let page: Page;
useServedStationPage('station-ui-a11y-', (served, opened) => {
  station = served;
  page = opened;
});

async function expectAccessible(name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`),
    `axe on ${name}`,
  ).toEqual([]);
}

/** Presses Tab until the focused element matches, as a keyboard user would (at most 40 presses). */
async function tabTo(description: string, matches: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if (await matches()) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${description}`);
}

// Evaluated in the page (strings, since this test's own types have no DOM).
const focusedText = () => page.evaluate<string>("document.activeElement?.textContent?.trim() ?? ''");
const focusedName = () => page.evaluate<string>("document.activeElement?.getAttribute('name') ?? ''");

describe('the operator app for everyone', () => {
  it(
    'has no serious or critical axe violations on any screen, and works with the keyboard alone',
    { timeout: 120_000 },
    async () => {
      // Log in: the id field has focus first; Tab to the PIN; Enter logs in.
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      await expectAccessible('login');
      expect(await focusedName()).toBe('operatorId');
      await page.keyboard.type('operator', { delay: 80 });
      await tabTo('the PIN field', async () => (await focusedName()) === 'pin');
      await page.keyboard.type('1111', { delay: 80 });
      await page.keyboard.press('Enter');
      await page.getByTestId('logged-in').waitFor();
      await expectAccessible('station without a batch');

      // Open a batch: Tab to the button, Enter, type, Escape closes, open again and submit with Enter.
      await tabTo('Open batch', async () => (await focusedText()) === 'Open batch');
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').waitFor();
      await expectAccessible('open-batch dialog');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await tabTo('Open batch', async () => (await focusedText()) === 'Open batch');
      await page.keyboard.press('Enter');
      await page.keyboard.type('keyboard batch', { delay: 90 });
      await tabTo('the recipe', async () => (await focusedName()) === 'recipe');
      await page.keyboard.press('ArrowDown');
      await tabTo("the dialog's Open batch", async () => (await focusedText()) === 'Open batch');
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      for (const name of ['slot-1', 'slot-2', 'slot-3', 'slot-4'])
        await waitSlotState(page, name, 'waiting-for-scan');
      await expectAccessible('slots waiting for their labels');

      // Scans: the scanner is a keyboard too.
      for (const n of [1, 2, 3, 4]) await scan(page, `SN:KEYB00000${n}`);
      await waitSlotState(page, 'slot-4', 'passed');
      for (const name of ['slot-1', 'slot-2', 'slot-3']) await waitSlotState(page, name, 'passed');
      await expectAccessible('four PASS');
      await shot(page, 'keyboard-four-pass');

      // A failure and its actions, by keyboard: Skip opens its dialog, Escape closes it, Retry runs again.
      expect(await station.execute('sim.unplug', { slot: 'slot-2' })).toMatchObject({ ok: true });
      await waitSlotState(page, 'slot-2', 'empty');
      expect(
        await station.execute('sim.replug', { slot: 'slot-2', faults: ['drop-reply@CHALLENGE x3'] }),
      ).toMatchObject({ ok: true });
      await waitSlotState(page, 'slot-2', 'waiting-for-scan');
      await scan(page, 'SN:KEYB000005');
      await waitSlotState(page, 'slot-2', 'failed');
      await expectAccessible('a failed slot');
      await tabTo('Skip', async () => (await focusedText()) === 'Skip');
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').waitFor();
      await expectAccessible('skip dialog');
      await page.keyboard.press('Escape');
      await tabTo('Retry', async () => (await focusedText()) === 'Retry');
      await page.keyboard.press('Enter');
      await waitSlotState(page, 'slot-2', 'passed');

      // Settings and logging out, by keyboard.
      await tabTo('Settings', async () => (await focusedText()) === 'Settings');
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').waitFor();
      await expectAccessible('settings dialog');
      await page.keyboard.press('Escape');
      await tabTo('Log out', async () => (await focusedText()) === 'Log out');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      expect(pageProblems(page)).toEqual([]);
    },
  );

  it('a person typing is not a scanner: slow typing into a field stays in the field', async () => {
    await page.getByLabel('Operator id').fill('');
    await page.getByLabel('Operator id').focus();
    await page.keyboard.type('SN:SLOWTYPED1', { delay: 120 });
    await page.keyboard.press('Tab');
    expect(await page.getByLabel('Operator id').inputValue()).toBe('SN:SLOWTYPED1');
    // A fast burst into the same field is a scan: taken out of the field and sent to the station.
    // Playwright sends each key as its own round trip to Chromium; on a loaded machine a burst can come out slower
    // than a scanner's (25 ms a key on average), so a burst that was not taken for a scan is typed again.
    for (let attempt = 1; ; attempt++) {
      await page.getByLabel('Operator id').fill('');
      await page.getByLabel('Operator id').focus();
      await scanWithKeyboard(page, 'sn-lower.case/1');
      const scanned = await page
        .getByText('Log in first')
        .waitFor({ timeout: 3000 })
        .then(() => true)
        .catch(() => false);
      if (scanned) break;
      if (attempt === 3) throw new Error('a fast burst was never taken for a scan');
    }
    expect(await page.getByLabel('Operator id').inputValue()).toBe('');
    // The PIN field is the one place a fast burst stays what it is: typed into the field.
    await page.getByLabel('PIN', { exact: true }).focus();
    await page.keyboard.type('24681357', { delay: 0 });
    expect(await page.getByLabel('PIN', { exact: true }).inputValue()).toBe('24681357');
  });
});
