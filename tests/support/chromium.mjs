// Launches Debian's Chromium through playwright-core (no tool can download a browser here).
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * @param {string[]} [extraArgs]
 * @param {{bfcache?: boolean}} [options] bfcache: keep the back/forward cache on (Playwright
 *   disables it by default with --disable-back-forward-cache).
 */
export function launchChromium(extraArgs = [], { bfcache = false } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    ignoreDefaultArgs: bfcache ? ['--disable-back-forward-cache'] : [],
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
