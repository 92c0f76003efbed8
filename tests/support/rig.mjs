// The set-up of the Chromium-only suites: the stand-in API, a static server for the pages,
// and headless Chromium, closed together.
import { startStandin } from './standin.mjs';
import { startStaticServer } from './static-server.mjs';
import { launchChromium } from './chromium.mjs';
import { createRelay, toNodeHandler } from '../../dist/relay.js';

/** Where startE2ePageRig's pages server mounts the relay (dist/relay.js, as built). */
export const RELAY_PATH = '/relay/end-call';

/**
 * Start the three. `pagesOptions` are startStaticServer's options, or a function of the
 * stand-in returning them; `standinOptions` are startStandin's, `chromium` launchChromium's
 * ({ args, bfcache }). If one fails to start, the ones already started are closed.
 * @returns {Promise<{standin: object, pages: object, browser: import('playwright-core').Browser,
 *   close: () => Promise<void>}>}
 */
export async function startChromiumRig(pagesOptions, { standinOptions, chromium = {} } = {}) {
  const started = [];
  const close = async () => {
    for (const part of started.reverse()) await part.close();
  };
  try {
    const standin = await startStandin(standinOptions);
    started.push(standin);
    const pages = await startStaticServer(
      typeof pagesOptions === 'function' ? pagesOptions(standin) : pagesOptions,
    );
    started.push(pages);
    const browser = await launchChromium(chromium.args, { bfcache: chromium.bfcache });
    started.push(browser);
    return { standin, pages, browser, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The rig of the suites that drive tests/e2e/page.html: the built package (/dist/) and the page
 * (/e2e/) served on `origin`, http://localhost:<port>, the relay on RELAY_PATH of that origin,
 * and the stand-in API on 127.0.0.1 — another origin, so every end is a cross-origin request
 * with a CORS preflight, as against the real API. `options` as startChromiumRig's.
 */
export async function startE2ePageRig(options) {
  const pages = (standin) => ({
    host: 'localhost',
    mounts: { '/dist/': 'dist', '/e2e/': 'tests/e2e' },
    routes: { [RELAY_PATH]: toNodeHandler(createRelay({ apiBaseUrl: standin.url })) },
  });
  const rig = await startChromiumRig(pages, options);
  return { ...rig, origin: rig.pages.url.replace('127.0.0.1', 'localhost') };
}

/** Close a Playwright tab like a user (beforeunload runs), and wait until it is really gone:
 *  with runBeforeUnload, page.close() returns before the page has closed. */
export async function closeTab(page) {
  const closed = new Promise((resolve) => page.once('close', resolve));
  await page.close({ runBeforeUnload: true });
  await closed;
}
