// The offline outbox in real Chromium: a tab closed while the browser is offline (Playwright's
// context.setOffline: navigator.onLine false and no network) stores the end in localStorage,
// and the next page of that origin that calls init() sends it — once. A tab closed online
// stores nothing. Both with and without the deferred (fetchLater) request armed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { e2ePageUrl, initLoggingEnds } from './support/e2e-page.mjs';
import { closeTab, startE2ePageRig } from './support/rig.mjs';
import { settledRecords, waitFor } from './support/records.mjs';

const OUTBOX_KEY = 'voice-end-call:outbox:v1';
let rig, standin, browser, origin;

before(async () => {
  rig = await startE2ePageRig();
  ({ standin, browser, origin } = rig);
});

after(() => rig?.close());

const pageUrl = (calls, params) => e2ePageUrl(origin, standin.url, calls, params);

async function openTracked(context, calls, params) {
  const page = await context.newPage();
  await page.goto(pageUrl(calls, params));
  await page.waitForFunction(() => window.ready === true);
  return page;
}

/** The stored outbox, read by a page that does not load the library (so nothing replays). */
async function storedOutbox(context) {
  const page = await context.newPage();
  await page.goto(`${origin}/e2e/page.html?noinit=1`);
  const raw = await page.evaluate((key) => localStorage.getItem(key), OUTBOX_KEY);
  await page.close();
  return raw === null ? [] : JSON.parse(raw);
}

/** Offline, as the page sees it (the renderer learns it a moment after the browser). */
async function goOffline(context, page) {
  await context.setOffline(true);
  await page.waitForFunction(() => navigator.onLine === false);
}

/** The end requests for `calls` once `atLeast` arrived for each and a late one had its chance. */
const recordsAfter = (calls, atLeast) => settledRecords(standin, { callIds: calls.map((c) => c.call_id), atLeast });

for (const deferred of ['1', '0']) {
  const mode = deferred === '1' ? 'deferred on' : 'deferred off';

  test(`offline tab close stores the ends; the next init() sends each once (${mode})`, async () => {
    const context = await browser.newContext();
    try {
      const calls = [standin.state.mintCall(), standin.state.mintCall()];
      const page = await openTracked(context, calls, { deferred });
      await goOffline(context, page);
      await closeTab(page);
      await context.setOffline(false);
      assert.deepEqual(await recordsAfter(calls, 0), [], 'nothing reached the API while offline');

      const stored = await storedOutbox(context);
      assert.deepEqual(
        stored.map((e) => e.callId).sort(),
        calls.map((c) => c.call_id).sort(),
        'one entry per call, not one per page event',
      );
      for (const entry of stored) {
        const call = calls.find((c) => c.call_id === entry.callId);
        assert.deepEqual(Object.keys(entry).sort(), ['baseUrl', 'callId', 'endToken', 'time']);
        assert.equal(entry.endToken, call.end_token);
        assert.equal(entry.baseUrl, standin.url);
        assert.ok(Math.abs(Date.now() - entry.time) < 60_000, 'time is when the page was left');
      }

      // The next page of this origin: init() replays the outbox one task later.
      const next = await context.newPage();
      await next.goto(`${origin}/e2e/page.html?noinit=1`);
      await initLoggingEnds(next);
      const ended = await waitFor(
        () => next.evaluate((n) => (window.ended.length >= n ? window.ended : null), calls.length),
        'onCallEnded for each stored call',
      );
      assert.deepEqual(
        ended.map((e) => `${e.callId} ${e.via} ${e.status}`).sort(),
        calls.map((c) => `${c.call_id} outbox ended`).sort(),
      );
      const sent = await recordsAfter(calls, 1);
      for (const call of calls) {
        const records = sent.filter((record) => record.callId === call.call_id);
        assert.equal(records.length, 1, 'sent once');
        assert.equal(records[0].auth, 'valid');
        assert.equal(records[0].cookie, false);
      }
      assert.deepEqual(await next.evaluate((key) => localStorage.getItem(key), OUTBOX_KEY), null, 'emptied');

      // A second init in another page finds nothing to send.
      const third = await context.newPage();
      await third.goto(`${origin}/e2e/page.html?noinit=1`);
      await third.evaluate(() => window.init());
      // The replay runs one task after init(): wait for a later task, then for a late request.
      await third.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
      assert.equal((await recordsAfter(calls, 0)).length, calls.length, 'never twice');
    } finally {
      await context.close();
    }
  });

  test(`online tab close stores nothing (${mode})`, async () => {
    const context = await browser.newContext();
    try {
      const call = standin.state.mintCall();
      const page = await openTracked(context, [call], { deferred });
      await closeTab(page);
      assert.equal((await recordsAfter([call], 1)).length, 1);
      assert.deepEqual(await storedOutbox(context), [], 'a sent end is never stored');
    } finally {
      await context.close();
    }
  });
}

test('outbox: false stores nothing; offline the end is still attempted', async () => {
  const context = await browser.newContext();
  try {
    const call = standin.state.mintCall();
    // spy=1: the page records each end request's fetch (and its keepalive) in localStorage.
    const page = await openTracked(context, [call], { deferred: '0', spy: '1' });
    await page.evaluate(() => window.lib.configure({ outbox: false }));
    await goOffline(context, page);
    await closeTab(page);
    await context.setOffline(false);
    assert.deepEqual(await storedOutbox(context), []);
    const check = await context.newPage();
    await check.goto(`${origin}/e2e/page.html?noinit=1`);
    const spied = await check.evaluate((id) => localStorage.getItem(`spy:${id}`), call.call_id);
    assert.deepEqual(JSON.parse(spied), { keepalive: true }, 'nothing stored, so it was sent anyway');
  } finally {
    await context.close();
  }
});
