// voice-end-call/react as a React 19 app uses it: the packed tarball installed into a
// throw-away project (under target/, so react, react-dom and vite resolve from this repo's
// node_modules), a small app without JSX (tests/consumers/react-app) under StrictMode, run by
// Vite 7's dev server (development: StrictMode mounts, cleans up and mounts every effect)
// and as a production build, in headless Chromium against the stand-in API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createServer } from 'vite';
import { startStandin } from './support/standin.mjs';
import { startStaticServer } from './support/static-server.mjs';
import { launchChromium } from './support/chromium.mjs';
import { unusedPort } from './support/net.mjs';
import { settledRecords, waitFor } from './support/records.mjs';
import { installTarball, packTarball } from './support/tarball.mjs';

const ROOT = process.cwd();
const WORK = path.join(ROOT, 'target/consumers/react');
const APP = path.join(WORK, 'app');
let standin, browser;

before(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(APP, { recursive: true });
  installTarball(APP, packTarball(WORK), { name: 'react-consumer' });
  cpSync('tests/consumers/react-app', APP, { recursive: true });
  standin = await startStandin({ preflightDelayMs: 100 });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await standin?.close();
});

const ends = (call) => standin.state.records({ callId: call.call_id });
const asTracked = (call) => ({ callId: call.call_id, endToken: call.end_token, baseUrl: standin.url });

/** Waits until the view of `call` shows `status`; returns its error text. */
async function statusOf(page, call, status) {
  const shown = () => page.evaluate((id) => {
    const view = document.querySelector(`#call[data-call-id="${id}"]`);
    return view && { status: view.dataset.status, error: view.querySelector('#error').textContent };
  }, call.call_id);
  try {
    await page.waitForFunction(
      ([id, wanted]) => document.querySelector(`#call[data-call-id="${id}"]`)?.dataset.status === wanted,
      [call.call_id, status],
      { timeout: 15_000 },
    );
  } catch (error) {
    throw new Error(`expected status '${status}', the view shows ${JSON.stringify(await shown())}`, { cause: error });
  }
  return (await shown()).error;
}

// Two task turns of the page: a deferred end scheduled before this call has run by then.
const afterPendingTasks = (page) =>
  page.evaluate(async () => {
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  });

const tracked = (page) => page.evaluate(() => window.lib.trackedCalls());

/**
 * The whole lifetime, on one page at `url` (StrictMode wraps the app in both modes):
 * A mounts while init() is pending, B mounts after it resolved and then moves in the tree,
 * C opts out, D hangs up, F and G hang up and fail, E is still shown when the tab closes.
 */
async function lifetime(url, { strictEffects }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // Chromium logs each failed answer of the stand-in (the faults injected below).
    if (message.location().url.startsWith(standin.url)) return;
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  const [a, b, c, d, e, f, g] = Array.from({ length: 7 }, () => standin.state.mintCall());
  try {
    const query = new URLSearchParams({ api: standin.url, callId: a.call_id, endToken: a.end_token });
    await page.goto(`${url}?${query}`);

    // Mount, init() pending: the hook awaits it, then tracks; nothing sent, no error.
    assert.equal(await statusOf(page, a, 'tracked'), '');
    assert.deepEqual(await tracked(page), [a.call_id]);
    assert.equal(await page.evaluate(() => window.appEffects), strictEffects ? 2 : 1, 'StrictMode double effects');

    // A real unmount (the app switches view): exactly one end.
    await page.evaluate(() => window.show({}));
    assert.equal((await waitFor(() => ends(a).length === 1 && ends(a), 'A ended on unmount'))[0].auth, 'valid');
    assert.deepEqual(await tracked(page), []);

    // Mount with init() resolved: StrictMode's mount → cleanup → mount ends nothing.
    await page.evaluate((call) => window.show({ call }), asTracked(b));
    assert.equal(await statusOf(page, b, 'tracked'), '');
    await afterPendingTasks(page);
    assert.deepEqual(await tracked(page), [b.call_id], 'B still tracked after the double effect');
    assert.equal(ends(b).length, 0, 'nothing sent for B while it is shown');

    // The same call moved elsewhere in the tree in one commit (unmount + mount): kept.
    await page.evaluate((call) => window.show({ call, layout: 'moved' }), asTracked(b));
    await page.waitForSelector('#moved #call');
    assert.equal(await statusOf(page, b, 'tracked'), '');
    await afterPendingTasks(page);
    assert.deepEqual(await tracked(page), [b.call_id], 'B still tracked after moving');
    assert.equal(ends(b).length, 0, 'nothing sent for B when it moved');

    // endOnUnmount: false. Switching from B to C unmounts B (one end); unmounting C untracks it.
    await page.evaluate((call) => window.show({ call, endOnUnmount: false }), asTracked(c));
    assert.equal(await statusOf(page, c, 'tracked'), '');
    await waitFor(() => ends(b).length === 1, 'B ended when the view switched to C');
    await page.evaluate(() => window.show({}));
    await waitFor(async () => (await tracked(page)).length === 0, 'C untracked on unmount');

    // hangUp: one end, status 'ended'; unmounting afterwards sends nothing more.
    await page.evaluate((call) => window.show({ call }), asTracked(d));
    assert.equal(await statusOf(page, d, 'tracked'), '');
    await page.click('#hangup');
    assert.equal(await statusOf(page, d, 'ended'), '');
    assert.equal(ends(d).length, 1, 'D ended by hangUp');
    await page.evaluate(() => window.show({}));
    await page.waitForSelector('#home');
    await afterPendingTasks(page);

    // A hang-up that fails with 503 (each attempt): the call stays tracked, the error shows;
    // the unmount then ends it (one more request). One refused with 404: 'failed', untracked,
    // and its unmount sends nothing.
    standin.state.addFault({ callId: f.call_id, status: 503, times: 3 });
    await page.evaluate((call) => window.show({ call }), asTracked(f));
    assert.equal(await statusOf(page, f, 'tracked'), '');
    await page.click('#hangup');
    await page.waitForFunction(() => document.querySelector('#error')?.textContent !== '');
    assert.match(await statusOf(page, f, 'tracked'), /^http: /);
    assert.equal(ends(f).length, 3, 'F: the first attempt and 2 retries');
    standin.state.addFault({ callId: g.call_id, status: 404 });
    await page.evaluate((call) => window.show({ call }), asTracked(g));
    await waitFor(() => ends(f).length === 4, 'F ended on unmount after its failed hang-up');
    assert.equal(await statusOf(page, g, 'tracked'), '');
    await page.click('#hangup');
    assert.match(await statusOf(page, g, 'failed'), /^http: /);
    assert.deepEqual(await tracked(page), []);

    // Tab close with E shown (G unmounts): E's end (sent on pagehide with everything still
    // tracked) marks that the close has been handled; it adds nothing for the others.
    await page.evaluate((call) => window.show({ call }), asTracked(e));
    assert.equal(await statusOf(page, e, 'tracked'), '');
    await page.close();
    // E's end arrives, then the quiet period: a late duplicate of any call would be counted.
    await settledRecords(standin, { callIds: [e.call_id] });
    assert.deepEqual(
      [a, b, c, d, e, f, g].map((call) => ends(call).length),
      [1, 1, 0, 1, 1, 4, 1],
      'ends per call: A unmount, B switch, C opted out, D hangUp, E tab close, F 3 failed + unmount, G refused',
    );
    assert.deepEqual(problems, [], 'no page errors, React warnings or failed ends');
  } finally {
    await context.close();
  }
}

test('React 19 StrictMode, Vite 7 dev server: mount tracks, unmount ends once, opt-out untracks, hangUp ends', async () => {
  const server = await createServer({
    root: APP,
    configFile: false, // zero configuration, as a new project has it
    logLevel: 'warn',
    clearScreen: false,
    // Vite takes port 0 as "the default, 5173"; a free port keeps it off other runs' servers
    // (and it moves on by itself if that port is taken meanwhile).
    server: { host: 'localhost', port: await unusedPort() },
  });
  await server.listen();
  try {
    await lifetime(server.resolvedUrls.local[0], { strictEffects: true });
  } finally {
    await server.close();
  }
});

test('React 19, Vite 7 production build: the same lifetime', async () => {
  // A child process, with NODE_ENV as a production build has it: the dev server has set
  // process.env.NODE_ENV to 'development' in this one, and Vite builds follow it.
  const env = { ...process.env, NODE_ENV: 'production' };
  await new Promise((resolve, reject) =>
    execFile(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: APP, env }, (error, stdout, stderr) =>
      error ? reject(new Error(`vite build failed: ${stdout}${stderr}`)) : resolve(),
    ),
  );
  const server = await startStaticServer({ host: 'localhost', mounts: { '/': path.join(APP, 'dist') } });
  try {
    await lifetime(`${server.url}/index.html`, { strictEffects: false });
  } finally {
    await server.close();
  }
});
