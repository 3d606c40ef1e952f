/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser), at the operator screen's size, with a
 * screenshot helper: every browser test saves what it saw under test-results/ui/ for a person to look at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { ServedClient } from './served-client';
import { writeScenarioConfig } from './station-client';
import { tempDir } from './temp-dirs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = join('test-results', 'ui');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

export async function openPage(
  browser: Browser,
  url: string,
  size = { width: 1920, height: 1080 },
): Promise<Page> {
  const context = await browser.newContext({ viewport: size });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  (page as Page & { problems: string[] }).problems = problems;
  await page.goto(url);
  return page;
}

/** Errors the page logged (a CSP refusal, an exception); a screen that logs them is broken. */
export function pageProblems(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Logs in through the keypad, as a gloved operator would: the id typed, the PIN on the big keys. */
export async function logInWithKeypad(page: Page, operatorId: string, pin: string): Promise<void> {
  await page.getByLabel('Operator id').fill(operatorId);
  for (const digit of pin) await page.getByRole('button', { name: digit, exact: true }).click();
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('logged-in').waitFor();
}

/**
 * A keyboard-wedge scanner: the label as one burst of key events ended with Enter, delivered where the page has
 * focus. Dispatched inside the page in one go: a real scanner's keystrokes carry the time the hardware sent them,
 * while keystrokes sent one by one over the DevTools protocol (or timers in a busy page) arrive as slowly as this
 * machine happens to be.
 */
export async function scan(page: Page, text: string): Promise<void> {
  await page.evaluate(
    `((text) => {
      const target = document.activeElement ?? document.body;
      for (const key of [...text, 'Enter']) {
        target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, composed: true }));
      }
    })(${JSON.stringify(text)})`,
  );
}

/** The same scanner typing for real (trusted keystrokes, into whatever field has focus). */
export async function scanWithKeyboard(page: Page, text: string): Promise<void> {
  await page.keyboard.type(text, { delay: 0 });
  await page.keyboard.press('Enter');
}

export function slot(page: Page, name: string) {
  return page.locator(`[data-slot="${name}"]`);
}

export async function waitSlotState(
  page: Page,
  name: string,
  state: string,
  timeout = 30_000,
): Promise<void> {
  await page.locator(`[data-slot="${name}"][data-state="${state}"]`).waitFor({ timeout });
}

/**
 * For a browser test file: a `station serve` with the scenario config (virtual boards, demo accounts, a labelled
 * recipe) and one page on it, handed to `ready`, both closed after the file.
 */
export function useServedStationPage(
  prefix: string,
  ready: (station: ServedClient, page: Page) => void,
  virtualBoards = 4,
): void {
  let station: ServedClient | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    const dir = tempDir(prefix);
    station = await ServedClient.open(writeScenarioConfig(dir, virtualBoards), join(dir, 'data'));
    browser = await launchBrowser();
    page = await openPage(browser, station.pageUrl);
    ready(station, page);
  }, 90_000);
  // A failed browser test leaves what the page showed, and what it logged, for the person reading CI's output.
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail' || !page) return;
    const name = `FAILED-${prefix}${context.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`;
    await shot(page, name).catch(() => undefined);
    const text = await page
      .locator('body')
      .innerText({ timeout: 2000 })
      .catch(() => '(unreadable)');
    process.stderr.write(
      `browser test failed: screenshot ${join(SHOTS, `${name}.png`)}; page at ${page.url()}; problems: ${JSON.stringify(pageProblems(page))}; text: ${JSON.stringify(text.slice(0, 600))}\n`,
    );
  });
  afterAll(async () => {
    await browser?.close();
    await station?.close();
  });
}

/** No serious or critical axe violation on what the page shows now. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`),
    `axe on ${name}`,
  ).toEqual([]);
}

export interface FinishedBatch {
  batchId: string;
  name: string;
  /** The unit that failed: storage-fail@COMMIT, not safe to retry. */
  failed: { unitId: string; mcuId: string; code: string; message: string };
}

/**
 * A closed batch in the trail for the review screens, made through the station's API as the demo operator: four
 * boards PASS, the next board in slot-2 fails writing its credentials (its flash refuses COMMIT), the batch is
 * closed. The station has one session, so whoever was logged in on the page is the operator afterwards.
 */
export async function runBatchWithOneFailure(station: ServedClient, name: string): Promise<FinishedBatch> {
  const ok = async <T extends { ok: boolean }>(answer: Promise<T>): Promise<T> => {
    const result = await answer;
    if (!result.ok) throw new Error(`station refused: ${JSON.stringify(result)}`);
    return result;
  };
  await ok(station.execute('session.login', { operatorId: 'operator', pin: '1111' }));
  const opened = await ok(station.execute('batch.open', { name, recipeId: 'sandbox-sensor' }));
  if (!opened.ok) throw new Error('unreachable');
  // Four boards PASS, in parallel.
  await station.waitFor('four PASS', (s) => s.slots.every((slot) => slot.state === 'passed'), 60_000);
  await ok(station.execute('sim.unplug', { slot: 'slot-2' }));
  await station.waitFor('slot-2 empty', (s) =>
    s.slots.some((x) => x.name === 'slot-2' && x.state === 'empty'),
  );
  await ok(station.execute('sim.replug', { slot: 'slot-2', faults: ['storage-fail@COMMIT x1'] }));
  const failed = await station.waitFor('slot-2 FAIL', (s) =>
    s.slots.some((x) => x.name === 'slot-2' && x.state === 'failed'),
  );
  const slot2 = failed.slots.find((x) => x.name === 'slot-2')!;
  await ok(station.execute('batch.close', {}));
  return {
    batchId: opened.batchId,
    name,
    failed: {
      unitId: slot2.result!.unitId!,
      mcuId: slot2.unit?.identity?.mcuId ?? '',
      code: slot2.result!.error!.code,
      message: slot2.result!.error!.message,
    },
  };
}
