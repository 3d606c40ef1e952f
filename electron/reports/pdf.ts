/**
 * Printing the report's HTML to PDF. The report code only knows `PdfPrinter`; headless it is Debian's Chromium
 * driven by playwright-core (never a downloaded browser), and the Electron app can pass a printer built on
 * `webContents.printToPDF`, which takes the same header and footer templates.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Playwright from 'playwright-core';
import { messageOf, ReportError } from './errors';

export interface PdfPrintOptions {
  /** Chromium header/footer templates (`pageNumber` / `totalPages` spans are filled in per page). */
  headerTemplate: string;
  footerTemplate: string;
}

/** HTML in, PDF bytes out. A printer that ignores the options (`(html) => ...`) is a PdfPrinter too. */
export type PdfPrinter = (html: string, options: PdfPrintOptions) => Promise<Buffer>;

export const CHROMIUM_PATH_ENV = 'CHROMIUM_PATH';
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** The page margins the header and footer are drawn in; the same as the report's `@page` rule. */
export const PDF_MARGIN = { top: '17mm', bottom: '16mm', left: '13mm', right: '13mm' };

export interface ChromiumOptions {
  executablePath?: string;
  timeoutMs?: number;
}

/** One headless Chromium with one page, started at once; prints once, and must be closed either way. */
export interface ChromiumSession {
  print: PdfPrinter;
  close(): Promise<void>;
}

/**
 * Starts Chromium now, so its start-up (about half a second) can overlap with reading the trail. playwright-core is
 * loaded through `require` on first use: its CommonJS entry loads in a third of the time of its ES module wrapper,
 * and commands that print nothing never pay for it.
 */
export function startChromium(options: ChromiumOptions = {}): ChromiumSession {
  const executablePath = options.executablePath ?? process.env[CHROMIUM_PATH_ENV] ?? DEFAULT_CHROMIUM;
  const timeout = options.timeoutMs ?? 60_000;
  const failed = (error: unknown) =>
    error instanceof ReportError
      ? error
      : new ReportError('REPORT_PDF_FAILED', `Chromium could not print the PDF: ${messageOf(error)}`, {
          cause: error,
        });
  let browser: Playwright.Browser | null = null;
  const ready: Promise<Playwright.Page> = (async () => {
    if (!existsSync(executablePath)) {
      throw new ReportError(
        'REPORT_PDF_FAILED',
        `cannot print the PDF: no Chromium at ${executablePath} (install Debian's chromium, set $${CHROMIUM_PATH_ENV}, or leave pdf out of --format)`,
      );
    }
    const { chromium } = createRequire(import.meta.url)('playwright-core') as typeof Playwright;
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'], timeout });
    return browser.newPage();
  })();
  // Until print() awaits it, a failed start must not surface as an unhandled rejection.
  ready.catch(() => undefined);
  return {
    async print(html, page) {
      try {
        const tab = await ready;
        // The page is self-contained (no network, no script): parsed is ready.
        await tab.setContent(html, { waitUntil: 'domcontentloaded', timeout });
        const pdf = await tab.pdf({
          format: 'A4',
          printBackground: true,
          displayHeaderFooter: true,
          headerTemplate: page.headerTemplate,
          footerTemplate: page.footerTemplate,
          margin: PDF_MARGIN,
        });
        return Buffer.from(pdf);
      } catch (error) {
        throw failed(error);
      }
    },
    async close() {
      await ready.catch(() => undefined);
      await (browser as Playwright.Browser | null)?.close().catch(() => undefined);
    },
  };
}

/** A printer on headless Chromium: one browser per print, closed after it, so nothing lingers in a CLI run. */
export function chromiumPdfPrinter(options: ChromiumOptions = {}): PdfPrinter {
  return async (html, page) => {
    const session = startChromium(options);
    try {
      return await session.print(html, page);
    } finally {
      await session.close();
    }
  };
}
