// Soak: 10,000 track/untrack/end cycles in one Chromium page, against the stand-in API on
// another loopback origin (page on localhost, API on 127.0.0.1: every end is a CORS request,
// preflighted, like production). Asserts that the beforeunload listener comes and goes with the
// tracked calls (pagehide and pageshow are added once by init()), that wasm memory stops growing after warm-up, that nothing
// rejects unhandled, and that every end request the API received was the expected one, once.
//
// Each cycle (tests/soak/soak.js), up to CONCURRENCY cycles in flight:
//   A  every cycle: trackCall, trackCall again (token replacement, raw connection-details
//      shape), untrackCall (true, then false), endCall without a token ('not-tracked'):
//      nothing is sent
//   B  even cycles: trackCall with a stale token, again with the real one, endCall: 200 (so
//      the replacing token is the one sent); a second endCall while it is in flight returns
//      the same promise; trackCall while it is in flight throws 'config'
//   C  odd cycles: a call never tracked, endCall with options.endToken: 200
//   D  1 cycle in 20: tracked with a wrong token, endCall: 401 (final: not retried, forgotten)
//   U  1 cycle in 20 (another one): endCall of an id the API does not know: 404
// The page counts window listeners with a spy installed before the package loads
// (tests/soak/spy.js) and reads wasm memory from the live instance's exports.
//
// SOAK_CYCLES (default 10000), SOAK_CONCURRENCY (default 50), SOAK_DEFERRED=0 (fetchLater off;
// default on, as in the package) and SOAK_MIX (see MIX) change the run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startChromiumRig } from './support/rig.mjs';
import { settledRecords } from './support/records.mjs';

const CYCLES = Number(process.env.SOAK_CYCLES || 10_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY || 50);
const DEFERRED = process.env.SOAK_DEFERRED !== '0';
// Which cycles end a call, and how: every k-th cycle (0: never). Each real end costs a CORS
// preflight plus a keepalive POST, which dominates the run time (on 2 loaded cores: ~1.5 ms
// per cycle without an end, ~5-10 ms per end), so every cycle ends exactly one call, B and C
// alternating, and 1 cycle in 10 adds a failing one.
const MIX = JSON.parse(process.env.SOAK_MIX || '{"b":2,"c":2,"d":20,"unknown":20}');
const BATCH = 1000; // cycles per page.evaluate; memory is sampled between batches
const WARM_UP = 1000; // the "after warm-up" sample
// Allowed wasm memory growth from the warm-up sample to the end. Memory grows in 64 KiB pages
// and never shrinks, so the figure is the allocator's high-water mark: once the working set
// (at most CONCURRENCY cycles in flight) has been reached, a leak-free build does not grow.
// 4 pages (256 KiB) leaves room for allocator fragmentation while still failing a leak of
// ~30 bytes per cycle over the remaining 9,000 cycles (one leaked call id is about that).
const GROWTH_BOUND_BYTES = 4 * 64 * 1024;

let rig, standin, pages, browser;

before(async () => {
  rig = await startChromiumRig({
    host: 'localhost',
    mounts: { '/dist/': 'dist', '/soak/': 'tests/soak' },
  });
  ({ standin, pages, browser } = rig);
});

after(() => rig?.close());

const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;

/** Mint the calls of cycles [from, to). Ids are remembered for the record check. */
function mintBatch(from, to, ids) {
  const mint = () => {
    const call = standin.state.mintCall();
    return { id: call.call_id, token: call.end_token };
  };
  const cycles = [];
  for (let n = from; n < to; n++) {
    const every = (k, offset) => k > 0 && n % k === offset % k;
    const cycle = {
      n,
      a: mint(),
      b: every(MIX.b, 0) ? mint() : null,
      c: every(MIX.c, 1) ? mint() : null,
      d: every(MIX.d, 3) ? mint() : null,
      unknown: every(MIX.unknown, 13) ? `call_unknown_${n}` : null,
    };
    ids.untracked.push(cycle.a.id);
    for (const call of [cycle.b, cycle.c]) if (call) ids.ended.push(call.id);
    if (cycle.d) ids.unauthorized.push(cycle.d.id);
    if (cycle.unknown) ids.unknown.push(cycle.unknown);
    cycles.push(cycle);
  }
  return cycles;
}

test(`soak: ${CYCLES} track/untrack/end cycles in one page (${CONCURRENCY} in flight)`, { timeout: 10 * 60_000 }, async (t) => {
  const started = Date.now();
  standin.state.reset();
  // A context that outlives the page: closing the page at the end is then a tab close, where
  // the browser sends any fetchLater still armed (with browser.newPage() the page's own
  // context goes down with it, and such a request is not sent).
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  const consoleMessages = [];
  page.on('pageerror', (error) => {
    if (!/soak-probe/.test(String(error))) pageErrors.push(String(error)); // set-up's own probe
  });
  page.on('console', (message) => {
    // The browser logs every non-2xx answer ("Failed to load resource: … 401"); those are the
    // provoked 401/404s. Anything else from the page or the package is kept.
    if (!['error', 'warning'].includes(message.type())) return;
    if (/Failed to load resource/.test(message.text())) return;
    consoleMessages.push(`${message.type()}: ${message.text()}`);
  });
  await page.goto(`${pages.url}/soak/index.html`);
  await page.waitForFunction(() => window.ready === true);

  // --- set-up: the spy and the memory reading are proven before they are relied on.
  const setup = await page.evaluate((args) => window.soak.setup(...args), [standin.url, DEFERRED]);
  assert.deepEqual(setup.probes, { unhandledRejections: ['Error: soak-probe rejection'], errors: ['Uncaught Error: soak-probe error'] }, 'the recorders see a provoked rejection and error');
  assert.deepEqual(setup.selfTest.seen, [1, 1, 2, 3, 2, 2, 0], 'spy dedupes (type, callback, capture) like the browser');
  assert.equal(setup.selfTest.invocations, 1, 'the browser agrees: one registration for the same listener added twice');
  // Importing the package adds one pagehide listener (js/beacon.js: an unload's relay beacons,
  // sent before anything else; it does nothing without a relay).
  assert.deepEqual(setup.selfTest.after, { pagehide: 1, beforeunload: 0, pageshow: 0 });
  assert.deepEqual(setup.beforeInit, { pagehide: 1, beforeunload: 0, pageshow: 0 });
  // The library's pagehide and pageshow are added by init() and stay (they cost nothing; added
  // early, pagehide runs before the app's own listeners); beforeunload only while a call is
  // tracked.
  const idle = { pagehide: 2, beforeunload: 0, pageshow: 1 };
  assert.deepEqual(setup.afterInit, idle, 'init() adds pagehide and pageshow, once');
  assert.equal(setup.sameObject, true, 'the wasm-bindgen init returns the cached exports');
  assert.equal(setup.isMemory, true, 'exports.memory is a WebAssembly.Memory');
  assert.equal(setup.hasTrackCall, true);
  assert.deepEqual(setup.stillTracked, ['probe_setup'], 'reading the exports did not re-instantiate the module');
  assert.deepEqual(setup.whileTracked, { pagehide: 2, beforeunload: 1, pageshow: 1 }, 'spy sees the listeners while a call is tracked');
  assert.equal(setup.untracked, true);
  assert.deepEqual(setup.afterUntrack, idle, 'spy sees beforeunload removed');
  t.diagnostic(`fetchLater in this page: ${setup.fetchLaterSupported ? 'yes' : 'no'}; deferred option ${DEFERRED ? 'on (the default)' : 'off'}`);

  // --- the cycles, in batches; memory sampled after each.
  const ids = { untracked: [], ended: [], unauthorized: [], unknown: [] };
  const samples = [{ cycles: 0, memoryBytes: setup.memoryBytes, externrefs: setup.externrefs }];
  const totals = { resolved2xx: 0, expected2xx: 0, posts: 0, listenersSeenWhileTracked: 0, rejections: {} };
  const maxCounts = { pagehide: 0, beforeunload: 0, pageshow: 0 };
  let slowestEndMs = 0;
  for (let from = 0; from < CYCLES; from += BATCH) {
    const to = Math.min(CYCLES, from + BATCH);
    const cycles = mintBatch(from, to, ids);
    const batchStarted = Date.now();
    const result = await page.evaluate(([c, k]) => window.soak.runBatch(c, k), [cycles, CONCURRENCY]);
    const label = `cycles ${from}-${to - 1}`;
    assert.equal(result.anomalyCount, 0, `${label}: ${result.anomalyCount} anomalies, e.g.\n${result.anomalies.join('\n')}`);
    assert.equal(result.cycles, to - from, `${label}: every cycle completed`);
    assert.deepEqual(result.trackedAfter, [], `${label}: nothing tracked after the batch`);
    assert.deepEqual(result.countsAfter, idle, `${label}: no beforeunload left, pagehide and pageshow once`);
    totals.resolved2xx += result.resolved2xx;
    totals.expected2xx += result.expected2xx;
    totals.posts += result.posts;
    totals.listenersSeenWhileTracked += result.listenersSeenWhileTracked;
    for (const [kind, n] of Object.entries(result.rejections)) totals.rejections[kind] = (totals.rejections[kind] ?? 0) + n;
    for (const type of Object.keys(maxCounts)) maxCounts[type] = Math.max(maxCounts[type], result.maxCounts[type]);
    samples.push({ cycles: to, memoryBytes: result.memoryBytes, externrefs: result.externrefs, ms: Date.now() - batchStarted });
    slowestEndMs = Math.max(slowestEndMs, result.slowestEndMs);
  }
  const cyclesElapsed = Date.now() - started;

  // --- memory figures, printed before any assertion can stop the test (asserted below).
  const warm = samples.find((s) => s.cycles >= Math.min(WARM_UP, CYCLES));
  const last = samples.at(-1);
  const memoryLine =
    `wasm memory: start ${kib(samples[0].memoryBytes)}, after ${warm.cycles} ${kib(warm.memoryBytes)}, ` +
    `after ${last.cycles} ${kib(last.memoryBytes)} (growth after warm-up ${last.memoryBytes - warm.memoryBytes} bytes; ` +
    `bound ${kib(GROWTH_BOUND_BYTES)})`;
  const trend = samples.map((s) => `${s.cycles}:${kib(s.memoryBytes)}/${s.externrefs}`).join(' ');
  t.diagnostic(memoryLine);
  t.diagnostic(`per batch (cycles:memory/externref table slots): ${trend}`);
  t.diagnostic(
    `batch times (s): ${samples.slice(1).map((s) => (s.ms / 1000).toFixed(1)).join(' ')}; slowest successful endCall ${slowestEndMs.toFixed(0)} ms`,
  );
  console.log(`soak: ${memoryLine}`);

  // Every end request the page sent has arrived, then the quiet period: a late duplicate would
  // show, and unhandled rejections (reported a task after the microtask checkpoint) are in.
  const records = await settledRecords(standin, { atLeast: totals.posts });
  const figures = await page.evaluate(() => window.soak.figures());

  // --- page-side outcomes.
  assert.equal(totals.expected2xx, ids.ended.length);
  assert.equal(totals.resolved2xx, totals.expected2xx, 'every expected end resolved with the API answer');
  assert.equal(figures.endedEvents.manual, totals.resolved2xx, 'onCallEnded told once per successful endCall');
  assert.equal(figures.endedEvents.other, 0);
  const expectedRejections = { 'not-tracked': CYCLES, 'http 401': ids.unauthorized.length, 'http 404': ids.unknown.length };
  for (const [key, n] of Object.entries(expectedRejections)) if (n === 0) delete expectedRejections[key];
  assert.deepEqual(totals.rejections, expectedRejections, 'every rejection was an expected one');
  assert.deepEqual(figures.tracked, [], 'trackedCalls() is empty');
  assert.deepEqual(figures.counts, idle, 'listener counts back to idle');
  assert.equal(totals.listenersSeenWhileTracked, CYCLES, 'exactly two pagehide (import, init) and one beforeunload listener while tracked');
  assert.ok(maxCounts.pagehide === 2 && maxCounts.beforeunload === 1, `never more than two pagehide, one beforeunload: ${JSON.stringify(maxCounts)}`);
  assert.equal(maxCounts.pageshow, 1, 'pageshow once, from init()');
  assert.equal(figures.withOptions, 0, 'the package passes only the capture flag (the spy model holds)');
  assert.ok(figures.adds.beforeunload > 0, `beforeunload listeners were added (${figures.adds.beforeunload})`);
  assert.equal(figures.adds.beforeunload, figures.removes.beforeunload, 'beforeunload: every add removed');
  for (const type of ['pagehide', 'pageshow']) {
    assert.deepEqual([figures.adds[type], figures.removes[type]], [1, 0], `${type}: added once by init(), never removed`);
  }
  assert.deepEqual(figures.unhandledRejections, [], `no unhandled rejections (${figures.unhandledRejectionCount})`);
  assert.deepEqual(figures.errors, [], `no error events (${figures.errorCount})`);
  assert.deepEqual(pageErrors, [], 'no uncaught page errors');
  assert.deepEqual(consoleMessages, [], 'no console errors or warnings beyond the browser logging the provoked 401/404s');

  // --- what the API received: every POST expected, once.
  assert.equal(records.length, totals.posts, 'stand-in records == end requests sent');
  assert.equal(records.length, ids.ended.length + ids.unauthorized.length + ids.unknown.length);
  const byId = new Map();
  for (const record of records) {
    assert.equal(record.method, 'POST');
    assert.equal(record.cookie, false);
    assert.equal(record.duplicate, false, `duplicate end of ${record.callId}`);
    byId.set(record.callId, [...(byId.get(record.callId) ?? []), record]);
  }
  const expectOne = (list, status, auth, what) => {
    for (const id of list) {
      const got = byId.get(id) ?? [];
      assert.equal(got.length, 1, `${what} ${id}: ${got.length} end requests`);
      assert.equal(got[0].status, status, `${what} ${id}: status`);
      assert.equal(got[0].auth, auth, `${what} ${id}: bearer`);
    }
  };
  expectOne(ids.ended, 200, 'valid', 'ended call');
  expectOne(ids.unauthorized, 401, 'wrong', 'wrong-token call (401 is not retried)');
  expectOne(ids.unknown, 404, 'wrong', 'unknown call');
  for (const id of ids.untracked) assert.equal(byId.has(id), false, `untracked call ${id} was sent`);
  assert.equal(records.filter((r) => r.status >= 200 && r.status < 300).length, ids.ended.length, '2xx count');
  t.diagnostic(`${records.length} end requests (${ids.ended.length} × 200, ${ids.unauthorized.length} × 401, ${ids.unknown.length} × 404); listeners added ${figures.adds.pagehide} pagehide / ${figures.adds.beforeunload} beforeunload`);

  t.diagnostic(
    `fetchLater: ${figures.fetchLater.supported ? `${figures.fetchLater.calls} calls, refused ${JSON.stringify(figures.fetchLater.refused)}` : 'not supported'}`,
  );
  // Every deferred request was withdrawn (at most a few are armed at once): a refusal would
  // mean withdrawn requests keep holding the browser's deferred quota.
  assert.deepEqual(figures.fetchLater.refused, {}, 'fetchLater never refused');

  // --- memory: no growth after warm-up beyond GROWTH_BOUND_BYTES.
  assert.ok(
    last.memoryBytes <= warm.memoryBytes + GROWTH_BOUND_BYTES,
    `wasm memory grew after warm-up: ${memoryLine}`,
  );

  // --- leaving: nothing is armed, so closing the page sends nothing (a fetchLater that was
  // not withdrawn would be sent by the browser now).
  const closed = page.waitForEvent('close');
  await page.close({ runBeforeUnload: true });
  await closed;
  const afterClose = await settledRecords(standin, { since: records.length, atLeast: 0 });
  await context.close();
  assert.deepEqual(afterClose, [], 'closing the page sent nothing more');

  const elapsed = Date.now() - started;
  t.diagnostic(`elapsed: ${(cyclesElapsed / 1000).toFixed(1)} s for the cycles, ${(elapsed / 1000).toFixed(1)} s in all`);
  console.log(`soak: elapsed: ${(cyclesElapsed / 1000).toFixed(1)} s cycles, ${(elapsed / 1000).toFixed(1)} s total`);
});

test('memory reading control: tracking 5,000 calls at once shows in wasm memory', async (t) => {
  const page = await browser.newPage();
  await page.goto(`${pages.url}/soak/index.html`);
  await page.waitForFunction(() => window.ready === true);
  const control = await page.evaluate((args) => window.soak.memoryControl(...args), [standin.url, 5000]);
  t.diagnostic(
    `control: ${kib(control.before)} before, ${kib(control.whileTracked.memoryBytes)} with 5,000 calls tracked, ${kib(control.after)} after untracking (memory never shrinks)`,
  );
  assert.equal(control.whileTracked.tracked, 5000);
  assert.deepEqual(control.whileTracked.counts, { pagehide: 2, beforeunload: 1, pageshow: 1 });
  assert.ok(control.whileTracked.memoryBytes >= control.before + 256 * 1024, "the figure moves with the package's allocations");
  assert.equal(control.tracked, 0);
  assert.deepEqual(control.counts, { pagehide: 2, beforeunload: 0, pageshow: 1 });
  await page.close();
});
