// One interface over the three engines we can drive headless on Debian, so the e2e scenarios
// exist once: Chromium (playwright-core), Firefox ESR (puppeteer-core over WebDriver BiDi) and
// WebKitGTK (WebKitWebDriver + MiniBrowser under Xvfb, via selenium-webdriver).
//
//   const browser = await ENGINES.firefox.launch();
//   const tab = await browser.open(url);           // a new tab in the shared profile
//   await tab.evaluate((x) => ..., arg);           // runs in the page
//   await tab.close({ beforeUnload: true });       // where `can.beforeUnloadClose`
//   const { tab, open, closeContext } = await browser.openInNewContext(url);   // `can.contextClose`
//   await tab.crash();                             // `can.crash`: kills the tab's renderer
//   await browser.close();
//
// `can` lists what the engine's driver supports; scenarios that need something else are not
// run for that engine (WebDriver classic has no "close running beforeunload", no contexts, no
// dialog events for beforeunload; only Chromium's driver can crash a renderer: Firefox's
// WebDriver BiDi refuses to navigate to about:crashcontent, WebDriver classic has no crash).
import { execFileSync, spawn } from 'node:child_process';
import puppeteer from 'puppeteer-core';
import { Builder } from 'selenium-webdriver';
import { launchChromium } from './chromium.mjs';
import { sleep, waitFor } from './records.mjs';

// ---- Chromium (playwright-core) and Firefox (puppeteer-core): page-object drivers -------

function pageTab(page, { beforeUnloadOption, crashUrl }) {
  return {
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    waitReady: () => page.waitForFunction(() => window.ready === true, { timeout: 15000 }),
    navigate: (url) => page.goto(url),
    reload: () => page.reload(),
    click: (selector) => page.click(selector),
    isClosed: () => page.isClosed(),
    async close({ beforeUnload = false } = {}) {
      if (!beforeUnload) return page.close();
      const closed = new Promise((resolve) => page.once('close', resolve));
      await page.close({ [beforeUnloadOption]: true });
      await closed;
    },
    /** Kill the tab's renderer process (navigating to the browser's crash URL: the renderer
     *  crashes at once, no page event runs); resolves once the driver saw the crash. */
    async crash() {
      if (!crashUrl) throw new Error('this engine cannot crash a tab');
      const crashed = new Promise((resolve) => page.once('crash', resolve));
      page.goto(crashUrl).catch(() => {}); // rejected (aborted) by the crash itself
      await Promise.race([crashed, sleep(10000).then(() => Promise.reject(new Error(`no crash after navigating to ${crashUrl}`)))]);
    },
    /** Ask to close, running beforeunload; does not wait (the user may stay). */
    requestClose: () => page.close({ [beforeUnloadOption]: true }),
    /** Answer the next beforeunload dialog; resolves once answered. */
    answerNextDialog(accept) {
      return new Promise((resolve) =>
        page.once('dialog', async (dialog) => {
          await (accept ? dialog.accept() : dialog.dismiss());
          resolve(dialog.type());
        }),
      );
    },
  };
}

const chromium = {
  name: 'chromium',
  can: { beforeUnloadClose: true, contextClose: true, dialogs: true, sessionClose: true, crash: true },
  async launch() {
    const browser = await launchChromium();
    const shared = await browser.newContext();
    const open = async (context, url) => {
      const page = await context.newPage();
      await page.goto(url);
      return pageTab(page, { beforeUnloadOption: 'runBeforeUnload', crashUrl: 'chrome://crash' });
    };
    return {
      version: browser.version(),
      open: (url) => open(shared, url),
      /** A new context (own storage) with one tab; `open` adds tabs to it. */
      async openInNewContext(url) {
        const context = await browser.newContext();
        return { tab: await open(context, url), open: (more) => open(context, more), closeContext: () => context.close() };
      },
      close: () => browser.close(),
    };
  },
};

// Firefox sometimes discards a tab it is still creating right after other tabs closed
// (browsingContext.create fails with DiscardedBrowsingContextError; a known Marionette/BiDi
// race; it failed one CI run of this suite). Nothing of ours has run in that tab yet (it is still
// about:blank), so creating it again cannot hide a library failure; any other error, or a
// third failure, is thrown.
async function newFirefoxTab(context) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await context.newPage();
    } catch (error) {
      const discarded = /DiscardedBrowsingContextError|no such frame/.test(String(error?.message));
      if (!discarded || attempt >= 3) throw error;
      await sleep(100);
    }
  }
}

const firefox = {
  name: 'firefox',
  can: { beforeUnloadClose: true, contextClose: true, dialogs: true, sessionClose: true, crash: false },
  async launch() {
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr',
      headless: true,
    });
    const open = async (context, url) => {
      const page = await newFirefoxTab(context);
      await page.goto(url);
      return pageTab(page, { beforeUnloadOption: 'runBeforeUnload' });
    };
    return {
      version: await browser.version(),
      open: (url) => open(browser.defaultBrowserContext(), url),
      async openInNewContext(url) {
        const context = await browser.createBrowserContext();
        return { tab: await open(context, url), open: (more) => open(context, more), closeContext: () => context.close() };
      },
      close: () => browser.close(),
    };
  },
};

// ---- WebKit (WebDriver classic) ---------------------------------------------------------

const MINIBROWSER = process.env.MINIBROWSER_PATH || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

async function startWebKitDriver() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  // Its own process group, so that stopping it also stops Xvfb and the browsers.
  const child = spawn('xvfb-run', ['-a', 'WebKitWebDriver', `--port=${port}`], { stdio: 'ignore', detached: true });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(() => fetch(`${url}/status`).then((r) => r.ok, () => false), 'WebKitWebDriver', { timeoutMs: 15000 });
  return { url, stop: () => { try { process.kill(-child.pid, 'SIGTERM'); } catch {} } };
}

/** The installed WebKitGTK's version (Debian package), e.g. 2.50.6; '?' if unknown. The
 *  browser itself only reports AppleWebKit/605.1.15 in its user agent. */
function webKitGtkVersion() {
  try {
    const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libwebkit2gtk-4.1-0'], { encoding: 'utf8' });
    return version.split('-')[0] || '?';
  } catch {
    return '?';
  }
}

async function webKitSession(driverUrl) {
  const capabilities = {
    browserName: 'MiniBrowser',
    'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
  };
  // Session creation hangs forever without a display: give it a limit.
  return Promise.race([
    new Builder().usingServer(driverUrl).withCapabilities(capabilities).build(),
    sleep(30000).then(() => Promise.reject(new Error('WebKit session creation timed out'))),
  ]);
}

function webDriverTab(session, handle, home, { onClose } = {}) {
  let closed = false;
  const focus = () => session.switchTo().window(handle);
  return {
    async evaluate(fn, arg) {
      await focus();
      return session.executeAsyncScript(
        `const done = arguments[arguments.length - 1];
         Promise.resolve((${fn.toString()})(arguments[0])).then(done, (e) => done({ __error: String(e) }));`,
        arg,
      );
    },
    async waitReady() {
      await focus();
      await waitFor(() => session.executeScript('return window.ready === true'), 'page ready', { timeoutMs: 15000 });
    },
    async navigate(url) {
      await focus();
      await session.get(url);
    },
    async reload() {
      await focus();
      await session.navigate().refresh();
    },
    async click(selector) {
      await focus();
      await session.executeScript(`document.querySelector(${JSON.stringify(selector)}).click()`);
    },
    isClosed: () => closed,
    async close() {
      await focus();
      await session.close();
      closed = true;
      await session.switchTo().window(home);
      onClose?.();
    },
  };
}

const webkit = {
  name: 'webkit',
  // WebDriver classic: no close running beforeunload, no contexts, no beforeunload dialogs.
  // "Closing the browser session" (quit) is this engine's whole-browser close.
  can: { beforeUnloadClose: false, contextClose: false, dialogs: false, sessionClose: true, crash: false },
  async launch() {
    const driver = await startWebKitDriver();
    const session = await webKitSession(driver.url).catch((error) => {
      driver.stop(); // else its Xvfb and driver outlive this process
      throw error;
    });
    // The first window stays open as "home", so closing a test tab never ends the session.
    const home = await session.getWindowHandle();
    let queue = Promise.resolve(); // WebDriver runs one command at a time: serialize tabs
    const serialized = (fn) => {
      const run = queue.then(fn, fn);
      queue = run.catch(() => {});
      return run;
    };
    const browser = {
      version: `WebKitGTK ${webKitGtkVersion()} (MiniBrowser)`,
      open: (url) =>
        serialized(async () => {
          await session.switchTo().window(home);
          await session.switchTo().newWindow('tab');
          const handle = await session.getWindowHandle();
          await session.get(url);
          const tab = webDriverTab(session, handle, home);
          // Serialize every later command of this tab too.
          return Object.fromEntries(Object.entries(tab).map(([k, f]) => [k, k === 'isClosed' ? f : (...a) => serialized(() => f(...a))]));
        }),
      /** A whole new browser (its own driver: one session per driver) with one tab;
       *  quit() closes the browser session. */
      async openInNewSession(url) {
        const ownDriver = await startWebKitDriver();
        try {
          const own = await webKitSession(ownDriver.url);
          await own.get(url);
          const tab = webDriverTab(own, await own.getWindowHandle(), null);
          return {
            tab,
            async quit() {
              try {
                await own.quit();
              } finally {
                ownDriver.stop();
              }
            },
          };
        } catch (error) {
          ownDriver.stop();
          throw error;
        }
      },
      async close() {
        await session.quit().catch(() => {});
        driver.stop();
      },
    };
    return browser;
  },
};

export const ENGINES = { chromium, firefox, webkit };

/** Engines selected by E2E_ENGINES (comma-separated), default all three. */
export function selectedEngines() {
  const names = (process.env.E2E_ENGINES || 'chromium,firefox,webkit').split(',').map((s) => s.trim());
  return names.map((name) => {
    if (!ENGINES[name]) throw new Error(`unknown engine ${name} in E2E_ENGINES`);
    return ENGINES[name];
  });
}
