/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser), at the operator screen's size, with a
 * screenshot helper: every browser test saves what it saw under test-results/ui/ for a person to look at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
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
