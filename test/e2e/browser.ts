/**
 * Headless Chromium (Debian's package) driven by playwright-core, for end-to-end tests and
 * screenshots. Never downloads a browser.
 */
import { existsSync } from 'node:fs';
import { after, before } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { buildIfStale } from '../helpers.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install -y chromium)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * One Chromium for the tests of a file: launched before the first, closed after the last; the
 * build runs first when stale, for the pages' /assets/js/rules.js.
 */
export function useChromium(): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    buildIfStale();
    browser = await launchChromium();
  });
  after(() => browser?.close());
  return () => {
    if (!browser) throw new Error('Chromium is not running');
    return browser;
  };
}
