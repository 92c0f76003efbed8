// Back/forward cache round trip in real Chromium (Playwright disables the cache by default;
// we keep it on, and serve pages without Cache-Control: no-store, which would make them
// ineligible). Entering the cache ends the call once; coming back reports it as ended.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startChromiumRig } from './support/rig.mjs';
import { settledRecords } from './support/records.mjs';

const REPS = Number(process.env.BFCACHE_REPS || 5);
let rig, standin, pages, browser;

before(async () => {
  rig = await startChromiumRig(
    { host: 'localhost', mounts: { '/dist/': 'dist', '/e2e/': 'tests/e2e' }, headers: { 'cache-control': 'no-cache' } },
    { standinOptions: { preflightDelayMs: 500 }, chromium: { bfcache: true } },
  );
  ({ standin, pages, browser } = rig);
});

after(() => rig?.close());

for (const deferred of ['0', '1']) {
  test(`bfcache round trip (deferred ${deferred === '1' ? 'on' : 'off'}): ended once, reported on return (x${REPS})`, async () => {
    // One context for the reps: closing a page is then a tab close, where the browser sends a
    // deferred (fetchLater) request left armed (a browser.newPage() page takes its own context,
    // and such a request, down with it).
    const context = await browser.newContext();
    const calls = [];
    for (let rep = 0; rep < REPS; rep++) {
      const call = standin.state.mintCall();
      calls.push(call);
      const page = await context.newPage();
      const query = new URLSearchParams({ api: standin.url, calls: `${call.call_id}:${call.end_token}`, deferred });
      await page.goto(`${pages.url}/e2e/page.html?${query}`);
      await page.waitForFunction(() => window.ready === true);
      await page.evaluate(() => {
        window.ended = [];
        window.lib.onCallEnded((event) => window.ended.push(event));
        window.stillTheSameDocument = true;
      });
      await page.goto(`${pages.url}/e2e/page.html?noinit=1`);
      await page.goBack({ waitUntil: 'commit' });
      await page.waitForFunction(() => window.stillTheSameDocument === true && window.ended.length > 0);
      const records = await settledRecords(standin, { callIds: [call.call_id] }); // and a late duplicate
      const state = await page.evaluate(() => ({ ended: window.ended, tracked: window.lib.trackedCalls() }));
      // One report (a second one, or a second request, had the quiet period above to show). Which path sent it is a race on navigation: the uncancelled beforeunload's
      // send (reported at once, the page might have stayed) or pagehide's on entering the cache
      // (reported on return). With deferred on, beforeunload leaves the call to pagehide.
      assert.equal(state.ended.length, 1, `rep ${rep}: reported once`);
      assert.equal(state.ended[0].callId, call.call_id);
      assert.ok(
        deferred === '1' ? state.ended[0].via === 'pagehide' : ['beforeunload', 'pagehide'].includes(state.ended[0].via),
        `rep ${rep}: via ${state.ended[0].via}`,
      );
      assert.deepEqual(state.tracked, []);
      assert.equal(records.length, 1, `rep ${rep}: exactly one end request`);
      assert.equal(records[0].auth, 'valid');
      await page.close();
    }
    // Closing the pages later sends nothing more: one quiet period for all of them.
    const afterClose = await settledRecords(standin, { callIds: calls.map((c) => c.call_id), atLeast: 0 });
    await context.close();
    assert.equal(afterClose.length, calls.length, 'closing later sends nothing more');
  });
}
