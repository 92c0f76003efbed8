// The set-up of the Chromium-only suites: the stand-in API, a static server for the pages,
// and headless Chromium, closed together.
import { startStandin } from './standin.mjs';
import { startStaticServer } from './static-server.mjs';
import { launchChromium } from './chromium.mjs';

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
