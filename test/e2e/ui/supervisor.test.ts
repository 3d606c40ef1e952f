/**
 * The supervisor's dashboard in the operator app, in Chromium against `station serve` (sandbox): a batch runs
 * (four PASS, one board whose flash refuses COMMIT) and is closed; the supervisor opens its dashboard, sees the
 * counts and yields the batch had, previews the report, exports the PDF and downloads it from the page (real PDF
 * bytes), and releases the batch with the PIN, which the dashboard then shows, also after a reload.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  expectAccessible,
  logInWithKeypad,
  pageProblems,
  runBatchWithOneFailure,
  shot,
  useServedStationPage,
  type FinishedBatch,
} from '../../support/browser';
import type { ServedClient } from '../../support/served-client';

let station: ServedClient;
let page: Page;
let batch: FinishedBatch;
useServedStationPage('station-ui-supervisor-', (served, opened) => {
  station = served;
  page = opened;
});

beforeAll(async () => {
  batch = await runBatchWithOneFailure(station, 'Supervisor batch');
}, 60_000);

/** A tile's value by its label. */
const tile = (label: string) =>
  page.locator('.tile', { has: page.getByText(label, { exact: true }) }).locator('.tile-value');

describe("the supervisor's dashboard", () => {
  it(
    'shows the batch, previews the report, exports and downloads the PDF, releases the batch',
    { timeout: 90_000 },
    async () => {
      await page.getByRole('button', { name: 'Log out' }).click();
      await logInWithKeypad(page, 'supervisor', '2222');
      // A supervisor runs the line too: they land on the station screen, with tabs for the other two.
      const nav = page.getByRole('navigation', { name: 'Screens' });
      await expect(nav.getByRole('link').allTextContents()).resolves.toEqual([
        'Station',
        'Review',
        'Dashboard',
      ]);
      expect(await nav.getByRole('link', { name: 'Station' }).getAttribute('aria-current')).toBe('page');
      await page.locator('[data-slot="slot-1"]').waitFor();
      await shot(page, 'supervisor-station');

      await nav.getByRole('link', { name: 'Dashboard' }).click();
      await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
      await page.getByRole('heading', { name: batch.name, level: 2 }).waitFor();
      expect(await page.getByLabel('Batch', { exact: true }).inputValue()).toBe(batch.batchId);
      expect(page.url()).toContain(`#/dashboard/${batch.batchId}`);
      await expect(page.getByTestId('batch-state').textContent()).resolves.toBe('CLOSED');

      // The numbers of the batch that ran: 4 passed, 1 failed, all on their first attempt.
      await expect(tile('passed').textContent()).resolves.toBe('4');
      await expect(tile('failed').textContent()).resolves.toBe('1');
      await expect(tile('first-pass yield').textContent()).resolves.toBe('80.0 %');
      await expect(tile('yield').textContent()).resolves.toBe('80.0 %');
      expect(await tile('median unit time').textContent()).toMatch(/\d+(\.\d+)? (ms|s)$/);
      const failures = page.locator('section', {
        has: page.getByRole('heading', { name: 'Failures by cause' }),
      });
      expect(await failures.textContent()).toContain(batch.failed.code);
      expect(await failures.textContent()).toContain('100.0 %');
      const perSlot = page.locator('section', { has: page.getByRole('heading', { name: 'Per slot' }) });
      expect(await perSlot.locator('tbody tr').count()).toBe(4);
      const stats = await station.execute('batch.dashboard', { batchId: batch.batchId });
      expect(stats.ok && stats.stats.counts).toMatchObject({ units: 5, passed: 4, failed: 1 });
      await shot(page, 'dashboard');
      await expectAccessible(page, 'dashboard');

      // The report as it will print, styled (its CSS applied without breaking the page's CSP).
      await page.getByRole('button', { name: 'Preview report' }).click();
      const frame = page.locator('iframe.report-frame');
      await frame.waitFor();
      await page.waitForFunction(
        `(() => {
          const doc = document.querySelector('iframe.report-frame')?.contentDocument;
          return !!doc && doc.adoptedStyleSheets.length === 2 && !!doc.querySelector('h1');
        })()`,
      );
      const report = await page.evaluate<{ title: string; color: string; svgs: number }>(`(() => {
        const doc = document.querySelector('iframe.report-frame').contentDocument;
        const h1 = doc.querySelector('h1');
        return { title: h1.textContent, color: getComputedStyle(h1).color, svgs: doc.querySelectorAll('svg').length };
      })()`);
      expect(report.title).toContain(`Batch report: ${batch.name}`);
      expect(report.color).not.toBe('rgb(0, 0, 0)');
      expect(report.svgs).toBeGreaterThan(0);
      await frame.scrollIntoViewIfNeeded();
      await shot(page, 'report-preview');
      // The report's styles went in through the CSSOM: the page's CSP refused nothing, nothing logged an error.
      expect(pageProblems(page)).toEqual([]);
      // axe cannot run inside a frame without scripts (it would log each refusal): the preview goes first.
      await page.getByRole('button', { name: 'Hide preview' }).click();
      await frame.waitFor({ state: 'detached' });

      // Export the PDF: the station writes it with its signed manifest; the page offers the bytes for download.
      await page.getByRole('button', { name: 'Export PDF' }).click();
      const result = page.getByTestId('export-result');
      await result.waitFor({ timeout: 30_000 });
      expect(await result.textContent()).toContain('report.pdf');
      expect(await result.textContent()).toContain('manifest.json');
      expect(await result.textContent()).toContain(`${station.dataDir}/reports/`);
      const link = page.getByRole('link', { name: 'Download report.pdf' });
      expect(await link.getAttribute('download')).toBe('report.pdf');
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      expect(download.suggestedFilename()).toBe('report.pdf');
      const bytes = readFileSync(await download.path());
      expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      await result.scrollIntoViewIfNeeded();
      await shot(page, 'export-result');
      await expectAccessible(page, 'export result');

      // Release: a signature with the PIN; the dashboard shows the batch released.
      await page.getByRole('button', { name: 'Release batch' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText('released: this batch is complete').waitFor();
      expect(await dialog.textContent()).toContain('4 passed, 1 failed');
      await dialog.getByLabel('PIN of Demo supervisor').fill('2222');
      await dialog.getByLabel('Reason or comment (optional)').fill('reviewed with QA, flash fault scrapped');
      await shot(page, 'release-dialog');
      await expectAccessible(page, 'release dialog');
      await dialog.getByRole('button', { name: 'Release batch' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByText(/^✓ Released by Demo supervisor at \d{4}-\d\d-\d\d/).waitFor();
      await expect(page.getByTestId('batch-state').textContent()).resolves.toBe('RELEASED');
      expect(await page.getByRole('button', { name: 'Release batch' }).count()).toBe(0);
      expect(await station.execute('batch.release', { batchId: batch.batchId, pin: '2222' })).toMatchObject({
        ok: false,
        code: 'ALREADY_SIGNED',
      });
      await page.locator('.batch-line').scrollIntoViewIfNeeded();
      await shot(page, 'released');

      // After a reload the dashboard still says released, and by whom (the batch numbers carry it).
      await page.reload();
      await page.getByRole('heading', { name: batch.name, level: 2 }).waitFor();
      await page.getByText(/^✓ Released by Demo supervisor at \d{4}-\d\d-\d\d/).waitFor();
      await expect(page.getByTestId('batch-state').textContent()).resolves.toBe('RELEASED');
      expect(pageProblems(page)).toEqual([]);
    },
  );

  it(
    "closes a batch short of its target only with a reason and the supervisor's PIN, as a signature",
    { timeout: 90_000 },
    async () => {
      // Still logged in as the supervisor from the test above.
      await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Station' }).click();
      await page.getByRole('button', { name: 'Open batch' }).click();
      await page.getByLabel('Batch name').fill('Short batch');
      await page.getByLabel('Target quantity (optional)').fill('100');
      await page.getByRole('dialog').getByRole('button', { name: 'Open batch' }).click();
      await station.waitFor(
        'the short batch open, nothing running',
        (s) =>
          s.batch?.name === 'Short batch' &&
          s.slots.every((slot) => slot.state !== 'running' && slot.state !== 'queued'),
        60_000,
      );
      await page.getByRole('button', { name: 'Close batch' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText(/closing short needs a supervisor's reason and signature/).waitFor();
      await dialog.getByLabel('Reason').fill('Customer cut the order');
      await dialog.getByLabel('Your PIN (signs the short close)').fill('9999');
      await dialog.getByRole('button', { name: 'Close batch' }).click();
      await dialog.getByText('That PIN is not yours: nothing was signed.', { exact: false }).waitFor();
      await shot(page, 'close-short-wrong-pin');
      await dialog.getByLabel('Your PIN (signs the short close)').fill('2222');
      await dialog.getByRole('button', { name: 'Close batch' }).click();
      await dialog.waitFor({ state: 'detached' });
      await station.waitFor('the batch closed', (s) => s.batch === null || s.batch.name !== 'Short batch');
      const db = new Database(station.databaseFile, { readonly: true });
      try {
        const signature = db
          .prepare(
            "SELECT operator, details FROM events WHERE kind = 'signature' AND json_extract(details, '$.meaning') = 'closed-short'",
          )
          .all() as Array<{ operator: string; details: string }>;
        expect(signature).toHaveLength(1);
        expect(signature[0]!.operator).toBe('supervisor');
        expect(JSON.parse(signature[0]!.details)).toMatchObject({
          reason: 'Customer cut the order',
          subject: { type: 'batch' },
        });
      } finally {
        db.close();
      }
      expect(pageProblems(page)).toEqual([]);
    },
  );
});
