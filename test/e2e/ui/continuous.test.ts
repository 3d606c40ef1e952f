/**
 * Continuous mode in the operator app: four boards PASS; a board swapped in a slot runs by itself; a failure that
 * is safe to retry shows FAIL with its message and a Retry that works; one that is not shows "Call supervisor" and
 * a supervisor's approval works; a reload mid-run shows the same state; the host killed and restarted mid-run, the
 * page says the connection is lost and reconnects by itself.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  logInWithKeypad,
  pageProblems,
  shot,
  slot,
  waitSlotState,
  useServedStationPage,
} from '../../support/browser';
import type { ServedClient } from '../../support/served-client';

let station: ServedClient;
let page: Page;
useServedStationPage('station-ui-continuous-', (served, opened) => {
  station = served;
  page = opened;
});

/** The physical act: the board in `name` pulled, the next one plugged in (with faults), as the line does it. */
async function swapBoard(name: string, faults: string[] = []): Promise<void> {
  expect(await station.execute('sim.unplug', { slot: name })).toMatchObject({ ok: true });
  await waitSlotState(page, name, 'empty');
  expect(await station.execute('sim.replug', { slot: name, faults })).toMatchObject({ ok: true });
}

describe('continuous mode in the operator app', () => {
  it(
    'passes four, runs the next board by itself, retries, escalates, survives a reload and a host restart',
    { timeout: 180_000 },
    async () => {
      await logInWithKeypad(page, 'operator', '1111');
      await page.getByRole('button', { name: 'Open batch' }).click();
      await page.getByLabel('Batch name').fill('UI continuous');
      await page.getByRole('dialog').getByRole('button', { name: 'Open batch' }).click();
      for (const name of ['slot-1', 'slot-2', 'slot-3', 'slot-4']) await waitSlotState(page, name, 'passed');
      await shot(page, 'continuous-four-pass');

      // The next board starts by itself.
      const before = await slot(page, 'slot-1').textContent();
      await swapBoard('slot-1');
      await waitSlotState(page, 'slot-1', 'passed');
      expect(await slot(page, 'slot-1').textContent()).not.toBe(before);

      // A retry-safe failure: FAIL, the station's message, Retry.
      await swapBoard('slot-2', ['drop-reply@CHALLENGE x3']);
      await waitSlotState(page, 'slot-2', 'failed');
      const failed = (await slot(page, 'slot-2').textContent()) ?? '';
      expect(failed).toContain('FAIL');
      expect(failed).toContain('did not answer CHALLENGE');
      await shot(page, 'fail-retry-safe');
      await slot(page, 'slot-2').getByRole('button', { name: 'Retry' }).click();
      await waitSlotState(page, 'slot-2', 'passed');

      // Not safe to retry: the operator calls a supervisor, who approves with PIN and reason.
      await swapBoard('slot-3', ['storage-fail@COMMIT x1']);
      await waitSlotState(page, 'slot-3', 'failed');
      expect(await slot(page, 'slot-3').getByRole('button', { name: 'Retry' }).count()).toBe(0);
      await shot(page, 'fail-call-supervisor');
      await slot(page, 'slot-3').getByRole('button', { name: 'Call supervisor' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Supervisor id').fill('supervisor');
      await dialog.getByLabel('Supervisor PIN').fill('2222');
      await dialog.getByLabel('Reason').fill('board re-seated, flash checked');
      await shot(page, 'supervisor-approval');
      await dialog.getByRole('button', { name: 'Approve and retry' }).click();
      await waitSlotState(page, 'slot-3', 'passed');

      // A reload mid-run shows the same state.
      await swapBoard('slot-4', ['delay-reply@VERIFY=3000 x1']);
      await waitSlotState(page, 'slot-4', 'running');
      await page.reload();
      await page.getByTestId('logged-in').waitFor();
      expect(await page.locator('[data-slot="slot-4"]').getAttribute('data-state')).toBe('running');
      for (const name of ['slot-1', 'slot-2', 'slot-3']) {
        expect(await slot(page, name).getAttribute('data-state')).toBe('passed');
      }
      await shot(page, 'reloaded-mid-run');
      await waitSlotState(page, 'slot-4', 'passed');

      // The host killed mid-unit and started again: the page says so, then reconnects by itself.
      await swapBoard('slot-4', ['delay-reply@VERIFY=3000 x1']);
      await station.crashDuring('slot-4', 'verify');
      await page.getByText('Connection to the station lost').waitFor();
      await shot(page, 'connection-lost');
      await station.restart();
      await page.getByRole('heading', { name: 'Log in' }).waitFor({ timeout: 30_000 });
      await page.getByText('Connection to the station is back.').waitFor();
      await shot(page, 'reconnected');
      await logInWithKeypad(page, 'operator', '1111');
      await waitSlotState(page, 'slot-4', 'passed', 40_000);
      await shot(page, 'carried-on');
      expect(
        pageProblems(page).filter((p) => !p.includes('WebSocket') && !p.includes('Failed to load')),
      ).toEqual([]);
    },
  );
});
