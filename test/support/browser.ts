import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

// Real Chromium for the browser tests (playwright-core drives Debian's chromium; nothing is ever downloaded).
// Rules:
// - The browser is /usr/bin/chromium. When it is missing the test FAILS (never skips) with the command that
//   installs it; CI installs it before the tests (.ci/run).
// - Pages run as a person's browser would: CSP enforced (no bypassCSP), JavaScript on, a fixed light colour scheme
//   and an 800×700 viewport so screenshots are reproducible.
// - Content-Security-Policy violations are read from what the browser reports on the console ("Refused to … because
//   it violates the following Content Security Policy directive …"), for every page of a context.
// - Screenshots are written only when CUSTOS_SCREENSHOTS names a directory (relative to the working directory):
//   `CUSTOS_SCREENSHOTS=docs/images npx vitest run test/signin/browser.test.ts` regenerates the docs images; a plain
//   test run writes nothing.

export const CHROMIUM_PATH = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}; the browser tests need it: apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

export async function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 800, height: 700 }, colorScheme: 'light', locale: 'en-GB', bypassCSP: false });
}

/** Every console message mentioning a Content Security Policy, from every page of the context, as they come. */
export function watchCspReports(context: BrowserContext): string[] {
  const reports: string[] = [];
  context.on('console', (msg) => {
    if (/content security policy/i.test(msg.text())) reports.push(`${msg.type()}: ${msg.text()}`);
  });
  return reports;
}

/** Writes `<CUSTOS_SCREENSHOTS>/<name>` when the variable is set; does nothing otherwise. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.CUSTOS_SCREENSHOTS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.resolve(dir, name), animations: 'disabled', caret: 'hide' });
}

// The DOM is not in this project's type libraries (lib es2023): the two functions below run in the page and reach
// it through globalThis.

/** A computed style property of the element the locator finds (e.g. 'background-color'). */
export async function computedStyle(locator: Locator, property: string): Promise<string> {
  return locator.evaluate((el, prop) => (globalThis as any).getComputedStyle(el).getPropertyValue(prop) as string, property);
}

/** Waits until the element the locator finds has the keyboard focus (autofocus is applied after the page loads). */
export async function waitForFocus(locator: Locator, timeout = 20_000): Promise<void> {
  const handle = await locator.elementHandle({ timeout });
  await locator.page().waitForFunction((el) => (globalThis as any).document.activeElement === el, handle, { timeout });
  await handle?.dispose();
}
