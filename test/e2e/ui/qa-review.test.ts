/**
 * QA review in the operator app, in Chromium against `station serve` (sandbox): a batch runs (four PASS, one board
 * whose flash refuses COMMIT), then QA logs in, finds the failed unit by its mcuId, reads the failed step (error
 * code, the operator's message, the backend's status codes), signs it reviewed with the PIN (a wrong PIN signs
 * nothing), adds a note, is told when the record changed under the signing dialog, and verifies the chain. An
 * operator is offered none of it, and the station refuses them anyway.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  expectAccessible,
  logInWithKeypad,
  pageProblems,
  runBatchWithOneFailure,
  scan,
  shot,
  useServedStationPage,
  type FinishedBatch,
} from '../../support/browser';
import type { ServedClient } from '../../support/served-client';

let station: ServedClient;
let page: Page;
let batch: FinishedBatch;
useServedStationPage('station-ui-qa-', (served, opened) => {
  station = served;
  page = opened;
});

beforeAll(async () => {
  batch = await runBatchWithOneFailure(station, 'QA review batch');
  expect(batch.failed.mcuId).toMatch(/^[0-9a-f]{16}$/);
}, 60_000);

const step = (name: string) => page.locator(`[data-step="${name}"]`);

describe('QA review in the operator app', () => {
  it('offers an operator no review or dashboard, and the station refuses them', async () => {
    // The batch was run as the demo operator: the page shows their station screen.
    await page.getByTestId('logged-in').waitFor();
    await expect(page.getByTestId('logged-in').textContent()).resolves.toBe('Demo operator (operator)');
    expect(await page.getByRole('navigation', { name: 'Screens' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Review' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Dashboard' }).count()).toBe(0);
    // Even with the address of the review screen, an operator gets the station screen.
    await page.evaluate("window.location.hash = '#/review'");
    await page.getByRole('button', { name: 'Open batch' }).waitFor();
    expect(await page.getByTestId('units-count').count()).toBe(0);
    expect(await station.execute('units.query', {})).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await station.execute('unit.detail', { unitId: batch.failed.unitId })).toMatchObject({
      ok: false,
      code: 'FORBIDDEN',
    });
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
  });

  it(
    'finds the failed unit, reads its failure, signs it reviewed, adds a note and verifies the chain',
    { timeout: 90_000 },
    async () => {
      await logInWithKeypad(page, 'qa', '3333');
      // QA lands on Review; a QA-only person runs nothing on the line, so there is no Station tab.
      const nav = page.getByRole('navigation', { name: 'Screens' });
      await expect(nav.getByRole('link').allTextContents()).resolves.toEqual(['Review', 'Dashboard']);
      expect(await nav.getByRole('link', { name: 'Review' }).getAttribute('aria-current')).toBe('page');
      await page.getByText('5 units', { exact: true }).waitFor();
      await page.getByTestId('chain-status').getByText('✓ intact').waitFor();
      expect(await page.locator('.unit-row').count()).toBe(5);
      // Newest first: the failed unit ran last.
      expect(await page.locator('.unit-row').first().getAttribute('data-unit-id')).toBe(batch.failed.unitId);
      await shot(page, 'review-table');
      await expectAccessible(page, 'review table');

      // The outcome filter: the station filters, the page shows what it sent.
      await page.getByLabel('Outcome').selectOption('failed');
      await page.getByText('1 unit', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page.getByText('5 units', { exact: true }).waitFor();

      // A scan on this screen searches (the start of an mcuId is enough).
      await scan(page, batch.failed.mcuId);
      await page.getByText('1 unit', { exact: true }).waitFor();
      expect(await page.getByLabel('Search', { exact: true }).inputValue()).toBe(batch.failed.mcuId);
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page.getByText('5 units', { exact: true }).waitFor();

      // Search by the first characters of the mcuId typed into the box; Enter on the row opens it.
      await page.getByLabel('Search', { exact: true }).fill(batch.failed.mcuId.slice(0, 6));
      await page.getByLabel('Search', { exact: true }).press('Enter');
      await page.getByText('1 unit', { exact: true }).waitFor();
      const row = page.getByRole('button', { name: batch.failed.mcuId, exact: true });
      expect((await page.locator('.unit-row').textContent()) ?? '').toContain(batch.failed.code);
      await row.focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: `Unit ${batch.failed.mcuId}` }).waitFor();

      // The failed step: its error code and the operator's message; the backend calls with their status codes.
      const failedStep = step('write-credentials');
      await failedStep.waitFor();
      const failedText = (await failedStep.textContent()) ?? '';
      expect(failedText).toContain('FAIL');
      expect(failedText).toContain(batch.failed.code);
      expect(failedText).toContain(batch.failed.message);
      expect(failedText).toContain('flash write failed');
      expect(await failedStep.getByText(batch.failed.message).isVisible()).toBe(true);
      const deviceRecord = (await step('device-record').textContent()) ?? '';
      // One round trip for a new board: POST /device, then the keys and the token side by side.
      expect(deviceRecord).toMatch(/POST \/device 201 \d+ ms/);
      expect(deviceRecord).not.toContain('GET /device/soc');
      expect(await step('device-record').getByText('201', { exact: true }).isVisible()).toBe(true);
      const keyAgreement = (await step('key-agreement').textContent()) ?? '';
      for (const endpoint of ['/key/sharedSecret/device', '/key/derived/device', '/mqtt/token'])
        expect(keyAgreement).toContain(`POST ${endpoint} 20`);
      expect(await page.getByText('Fingerprints only').isVisible()).toBe(true);
      await shot(page, 'unit-detail');
      await failedStep.scrollIntoViewIfNeeded();
      await shot(page, 'unit-detail-failed-step');
      await expectAccessible(page, 'unit detail');

      // Sign reviewed: a wrong PIN first shows the station's refusal and signs nothing.
      await page.getByRole('button', { name: 'Sign reviewed' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText('reviewed: I have looked at this unit').waitFor();
      const hash = (await dialog.getByTestId('sign-record-hash').getAttribute('title')) ?? '';
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(await dialog.getByTestId('sign-record-hash').textContent()).toBe(`${hash.slice(0, 16)}…`);
      await dialog.getByLabel('PIN of Demo QA').fill('9999');
      await shot(page, 'sign-dialog');
      await expectAccessible(page, 'sign dialog');
      await dialog.getByRole('button', { name: 'Sign', exact: true }).click();
      await dialog.getByRole('alert').getByText('That PIN is not yours: nothing was signed').waitFor();
      expect(await dialog.getByLabel('PIN of Demo QA').inputValue()).toBe('');
      await shot(page, 'sign-wrong-pin');
      const unsigned = await station.execute('unit.detail', { unitId: batch.failed.unitId });
      expect(unsigned.ok && unsigned.detail.signatures).toEqual([]);

      await dialog.getByLabel('PIN of Demo QA').fill('3333');
      await dialog.getByLabel('Reason or comment (optional)').fill('flash fault, board scrapped');
      await dialog.getByRole('button', { name: 'Sign', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      const signature = page.getByTestId('signature');
      await signature.getByText('✓ valid').waitFor();
      expect(await signature.textContent()).toContain('Demo QA signed: reviewed');
      expect(await signature.textContent()).toContain('flash fault, board scrapped');
      expect(await signature.textContent()).toContain('record unchanged since');

      // A note: a new event, so the signature now says the record changed after it.
      await page.getByRole('button', { name: 'Add note' }).click();
      await page.getByRole('dialog').getByLabel('Note').fill('Board set aside in the red bin, tray 4.');
      await page.getByRole('dialog').getByRole('button', { name: 'Add note' }).click();
      await page.getByTestId('note').getByText('Board set aside in the red bin, tray 4.').waitFor();
      await signature.getByText('record changed since: 1 later event').waitFor();

      // The record changes while the signing dialog is open (a colleague's note): the station refuses the
      // signature, the page reloads the record and says so.
      await page.getByRole('button', { name: 'Sign reviewed' }).click();
      await page.getByRole('dialog').getByLabel('PIN of Demo QA').fill('3333');
      expect(
        await station.execute('unit.note', { unitId: batch.failed.unitId, text: 'meanwhile' }),
      ).toMatchObject({ ok: true });
      await page.getByRole('dialog').getByRole('button', { name: 'Sign', exact: true }).click();
      await page.getByText('The record changed since it was shown to you').waitFor();
      await page.getByTestId('note').getByText('meanwhile').waitFor();
      expect(await page.getByTestId('signature').count()).toBe(1);

      // Verify now: the whole chain, walked again on the station.
      const chain = page.getByTestId('chain-status');
      await chain.getByRole('button', { name: 'Verify now' }).click();
      await chain.getByText('full check').waitFor();
      expect(await chain.textContent()).toContain('intact');
      expect(await chain.textContent()).toMatch(/intact: \d+ events/);
      expect(await chain.textContent()).toContain('by qa');
      await shot(page, 'chain-status');

      // Back to the list: the row says reviewed.
      await page.getByRole('button', { name: 'Back to the list' }).click();
      await page.getByText('1 unit', { exact: true }).waitFor();
      await page.locator(`[data-unit-id="${batch.failed.unitId}"] .reviewed-yes`).waitFor();
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page.getByLabel('Reviewed').selectOption('no');
      await page.getByText('4 units', { exact: true }).waitFor();
      await page.getByLabel('Reviewed').selectOption('yes');
      await page.getByText('1 unit', { exact: true }).waitFor();

      // Void a unit that passed: reason and PIN, in a dialog that looks as final as it is.
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page.getByText('5 units', { exact: true }).waitFor();
      const passed = page.locator('.unit-row').nth(1);
      const passedId = (await passed.getAttribute('data-unit-id')) ?? '';
      await passed.click();
      await page.getByRole('button', { name: 'Void unit' }).click();
      const voiding = page.getByRole('dialog');
      await voiding.getByText('A voided unit no longer counts as made').waitFor();
      await voiding.getByLabel('Reason (required)').fill('label printed twice, board re-run as a new unit');
      await voiding.getByLabel('PIN of Demo QA').fill('3333');
      await shot(page, 'void-dialog');
      await expectAccessible(page, 'void dialog');
      await voiding.getByRole('button', { name: 'Void unit' }).click();
      await voiding.waitFor({ state: 'detached' });
      await page.locator('.detail-head').getByText('VOIDED').waitFor();
      expect(await page.getByRole('button', { name: 'Void unit' }).isDisabled()).toBe(true);
      expect(await page.getByText('label printed twice, board re-run as a new unit').count()).toBeGreaterThan(
        0,
      );
      await page.getByRole('button', { name: 'Back to the list' }).click();
      await page.locator(`[data-unit-id="${passedId}"]`).getByText('VOIDED').waitFor();
      expect(pageProblems(page)).toEqual([]);
    },
  );
});
