// End to end in real browsers — Chromium, Firefox ESR and WebKitGTK — from one scenario list
// (tests/support/engines.mjs adapts each engine's driver). The page is on one loopback origin
// (localhost), the stand-in API on another (127.0.0.1), answering CORS preflights 500 ms late:
// with that delay a plain (non-keepalive) fetch is lost on Chromium tab close, so delivery
// there proves keepalive; in Firefox keepalive is checked on the request's init directly.
//
// Each scenario runs REPS times per engine and mode and checks every end request: exactly one
// per call, the call's own bearer, no cookies. Where the platform itself cannot deliver every
// time (Firefox closing a tab without running beforeunload, closing a whole context), the cell
// is "measured": duplicates still fail it, and the delivered count is printed and must reach
// the cell's floor (set from measured figures, over more reps than the other cells: see each
// scenario); `npm run bench:delivery` measures those cells with N=20.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStandin } from './support/standin.mjs';
import { startStaticServer } from './support/static-server.mjs';
import { e2ePageUrl } from './support/e2e-page.mjs';
import { selectedEngines } from './support/engines.mjs';
import { settledRecords } from './support/records.mjs';
import { createRelay, toNodeHandler } from '../dist/relay.js';

// settledRecords waits this delay more than its LATE_DUPLICATE_MS before counting.
const PREFLIGHT_DELAY_MS = 500;
// How long a measured cell waits for its end after the leave before the quiet period (a late
// arrival within that still counts). There the end leaves with the page or is lost with it, and
// a lost one is the common case: waiting the default 5 s for each would cost minutes. 2.5 s is
// five times the preflight delay an arriving end waits for; an end arriving later still counts
// if it comes within the quiet period that follows.
const MEASURED_ARRIVAL_MS = 2500;
const DEFAULT_REPS = { chromium: 10, firefox: 3, webkit: 3 };
const RELAY_PATH = '/relay/end-call';
// Firefox cells where the platform drops some plain sends, with the relay (see "tab close").
const RELAY_FLOOR = { reps: 10, floor: 7 };
const CONCURRENCY = { chromium: 4, firefox: 2, webkit: 1 };

let standin, pages, origin;

before(async () => {
  standin = await startStandin({ preflightDelayMs: PREFLIGHT_DELAY_MS });
  pages = await startStaticServer({
    host: 'localhost',
    mounts: { '/dist/': 'dist', '/e2e/': 'tests/e2e' },
    // The app-backend pattern: a same-origin route forwarding to the API (no preflight).
    proxy: { '/voice-proxy/': standin.url },
    // The relay mode's route: voice-end-call/relay as built, forwarding to the stand-in.
    routes: { [RELAY_PATH]: toNodeHandler(createRelay({ apiBaseUrl: standin.url })) },
  });
  origin = pages.url.replace('127.0.0.1', 'localhost');
});

after(async () => {
  await pages?.close();
  await standin?.close();
});

const blankUrl = () => `${origin}/e2e/page.html?noinit=1`;

const pageUrl = (calls, params) => e2ePageUrl(origin, standin.url, calls, params);

/** Open a tab tracking `calls` fresh calls; checks the page tracks exactly them. */
async function openTracked(openTab, { calls = 1, params = {} } = {}) {
  const minted = Array.from({ length: calls }, () => standin.state.mintCall());
  const tab = await openTab(pageUrl(minted, params));
  await tab.waitReady();
  const tracked = await tab.evaluate(() => window.lib.trackedCalls());
  assert.deepEqual([...tracked].sort(), minted.map((c) => c.call_id).sort());
  return { tab, minted };
}

/**
 * Every request well-formed, and never more than `expected` for a call (a duplicate, or a stray
 * request where none is expected, fails at once); returns how many calls got exactly
 * `expected` (fewer: not delivered).
 */
async function checkEnds(minted, expected, label, { measured = false } = {}) {
  const ids = minted.map((call) => call.call_id);
  const arrival = measured ? { arrivalMs: MEASURED_ARRIVAL_MS } : {};
  const settled = await settledRecords(standin, { callIds: ids, atLeast: expected, ...arrival });
  let exact = 0;
  for (const id of ids) {
    const records = settled.filter((record) => record.callId === id);
    // Which way each came (the page's fetch carries its Origin; the relay's does not), and
    // when: what a duplicate's diagnosis starts from.
    const ways = () => records.map((r) => `#${r.seq} ${r.origin ? `fetch from ${r.headers.referer ?? r.origin}` : 'via the relay'} at +${r.receivedAt - records[0].receivedAt} ms`).join('; ');
    assert.ok(records.length <= expected, `${label}: ${records.length} end requests for one call, ${expected} expected (duplicate or stray): ${ways()}`);
    for (const record of records) {
      assert.equal(record.method, 'POST');
      assert.equal(record.auth, 'valid', `${label}: the call's own bearer`);
      assert.equal(record.cookie, false, `${label}: no cookies`);
      assert.equal(record.status, 200);
    }
    if (records.length === expected) exact += 1;
  }
  return exact;
}

/** Read what the page-side spy recorded for a call (Firefox: init.keepalive). */
async function spied(browser, callId) {
  const tab = await browser.open(blankUrl());
  await tab.waitReady();
  const value = await tab.evaluate((id) => localStorage.getItem(`spy:${id}`), callId);
  await tab.close();
  return value === null ? null : JSON.parse(value);
}

/** A user's close: runs beforeunload where the driver can. */
const userClose = (engine, tab) => tab.close({ beforeUnload: engine.can.beforeUnloadClose });

// The scenario list. `expect`: end requests per call. A cell (scenario × engine) is 'all' by
// default (every rep, every call), 'tolerant' where `assert(engine)` says so (at most one rep
// lost), or 'measured' where `measured[engine]` gives its { reps, floor }: no duplicates, and at
// least `floor` of its `reps` delivered. A floor is chosen so that it fails with probability
// under 1% when the platform delivers at the lowest rate measured for that cell (binomial,
// stated at each; the three Firefox floors together: 2.4% at those lowest rates, 0.03% at the
// pooled ones), and for sure when nothing is sent. E2E_REPS changes the other cells' reps;
// E2E_MEASURED_REPS the measured cells' (to re-measure them; the floors stay as they are).
const SCENARIOS = [
  {
    name: 'tab close',
    run: (ctx) => ctx.leave((tab) => tab.close()),
    // Firefox: pagehide-only sending delivers about 40% of plain closes (a user's close runs
    // beforeunload, covered below). WebDriver's close in WebKit.
    // Measured (Firefox ESR 153.8, this cell, 2026-11-30): 7/20, 8/20, 9/17, 1/3; plain snippet
    // (notes/page-leave.md) 8/20, 5-11/20 over reruns. Lowest rate seen: 5/20 = 0.25. At 0.25,
    // P(0 of 17) = 0.75^17 = 0.75%; at the pooled 25/60 = 0.42, 0.58^17 = 0.01%.
    measured: { firefox: { reps: 17, floor: 1 } },
    // With the relay the beacon goes first (js/beacon.js): bench:delivery 2026-11-30, this
    // leave, 20/20 (4/20 for the build before, beaconing from the wasm listener; this cell ran
    // against that build: 4/10). Floor 7 of 10: at a rate of 0.9, P(below) = 1.3%; at the
    // earlier build's 0.2, P(reaching it) = 0.09%.
    relayMeasured: { firefox: RELAY_FLOOR },
  },
  {
    name: 'tab close running beforeunload',
    needs: 'beforeUnloadClose',
    run: (ctx) => ctx.leave((tab) => tab.close({ beforeUnload: true }), { spy: true }),
  },
  { name: 'navigation', run: (ctx) => ctx.leave((tab) => tab.navigate(blankUrl()), { spy: true }) },
  { name: 'reload', run: (ctx) => ctx.leave((tab) => tab.reload(), { spy: true }) },
  { name: 'two calls tracked, then close', calls: 2, run: (ctx) => ctx.leave((tab) => userClose(ctx.engine, tab)) },
  {
    name: 'endCall, then close right away: still exactly one',
    run: (ctx) =>
      ctx.leave(async (tab, minted) => {
        // Not awaited: the manual request is in flight when the page goes.
        await tab.evaluate((id) => {
          window.lib.endCall(id).catch(() => {});
        }, minted[0].call_id);
        await userClose(ctx.engine, tab);
      }),
  },
  {
    name: 'untrackCall, then close: nothing sent',
    expect: 0,
    run: (ctx) =>
      ctx.leave(async (tab, minted) => {
        assert.equal(await tab.evaluate((id) => window.lib.untrackCall(id), minted[0].call_id), true);
        await userClose(ctx.engine, tab);
      }),
  },
  {
    name: '"Leave page?" dismissed: nothing sent; then accepted: one',
    needs: 'dialogs',
    run: async ({ browser, mode, label, measured }) => {
      const { tab, minted } = await openTracked((url) => browser.open(url), { params: { ...mode.params, confirm: '1' } });
      await tab.click('#activate'); // the dialog needs a user gesture first
      const dismissed = tab.answerNextDialog(false);
      await tab.requestClose();
      assert.equal(await dismissed, 'beforeunload'); // Stay was clicked: the tab stays open
      assert.equal(await checkEnds(minted, 0, `${label} dismissed`), 1);
      assert.equal(tab.isClosed(), false);
      assert.deepEqual(await tab.evaluate(() => window.lib.trackedCalls()), [minted[0].call_id]);
      const accepted = tab.answerNextDialog(true);
      await tab.close({ beforeUnload: true });
      await accepted;
      return checkEnds(minted, 1, `${label} accepted`, { measured });
    },
    engines: ['chromium', 'firefox'],
    // After "Leave", only pagehide is left to send; a Firefox tab close cuts a preflighted
    // request off (see "tab close" there). Stay must still send nothing (in every rep).
    // Measured (Firefox ESR 153.8, this cell, 2026-11-30): 8/20, 4/20, 13/21, 1/3; plain
    // snippet (notes/page-leave.md, tab close running beforeunload, pagehide sending) 9/20.
    // Lowest rate seen: 4/20 = 0.2. At 0.2, P(0 of 21) = 0.8^21 = 0.92%; at the pooled
    // 26/64 = 0.41, 0.59^21 = 0.002%.
    measured: { firefox: { reps: 21, floor: 1 } },
    // With the relay: as "tab close" (the beacon goes first in the pagehide after "Leave").
    relayMeasured: { firefox: RELAY_FLOOR },
  },
  {
    // Closing a whole context tears its network down at once. Cross-origin, a request still
    // waiting on its preflight loses (bench: 0/20 with the 500 ms delay). Through a
    // same-origin baseUrl there is no preflight: 10/10 idle in Chromium, 19-20/20 under load.
    // This is also the suite's proof that a same-origin path such as /voice-proxy works.
    name: 'context close, same-origin baseUrl /voice-proxy',
    needs: 'contextClose',
    concurrency: 1, // closing several contexts at once loads the machine and the race
    run: async ({ browser, mode, label, measured }) => {
      const { tab, closeContext } = await browser.openInNewContext(pageUrl([], {}));
      await tab.waitReady();
      const [call] = [standin.state.mintCall()];
      const minted = [call];
      await tab.evaluate(
        ([id, token, deferred, relay]) => {
          window.lib.configure({ baseUrl: '/voice-proxy', deferred: deferred !== '0', relayUrl: relay });
          window.lib.trackCall({ callId: id, endToken: token });
        },
        [call.call_id, call.end_token, mode.params.deferred ?? '1', mode.params.relay ?? null],
      );
      await closeContext();
      const delivered = await checkEnds(minted, 1, label, { measured });
      assert.equal(standin.state.preflights().filter((p) => p.callId === call.call_id).length, 0, 'same-origin: no preflight');
      return delivered;
    },
    assert: (engine) => (engine.name === 'chromium' ? 'tolerant' : 'all'),
    // Firefox: measured (Firefox ESR 153.8, this cell, 2026-11-30) 5/20, 9/20, 9/17, 1/3; plain
    // snippet (notes/page-leave.md) 13/20 and 14/20 same-origin, 5-11/20 with a preflight.
    // Lowest rate seen: 5/20 = 0.25. At 0.25, P(0 of 17) = 0.75^17 = 0.75%; at the pooled
    // 24/60 = 0.4, 0.6^17 = 0.02%.
    measured: { firefox: { reps: 17, floor: 1 } },
    // With the relay: bench:delivery 2026-11-30, context close, 20/20 (4/20 for the build
    // before; this cell against it: 3/10); see "tab close".
    relayMeasured: { firefox: RELAY_FLOOR },
  },
  {
    // WebKit's whole-browser close: quitting the WebDriver session. The network goes down
    // with it, so this runs without the preflight delay (the bench reports it with). The
    // request races the browser's teardown: measured 49/50 and 48/50 (current and previous
    // library build, 2026-11-24), 18/20 for a plain snippet; so at most one loss of the 3,
    // like Chromium's context close. No delivery at all, or two losses, still fails.
    name: 'browser session close (no preflight delay)',
    engines: ['webkit'],
    concurrency: 1,
    noDelay: true,
    assert: () => 'tolerant',
    run: async ({ browser, label }) => {
      const call = standin.state.mintCall();
      const { tab, quit } = await browser.openInNewSession(pageUrl([call]));
      await tab.waitReady();
      await quit();
      return checkEnds([call], 1, label);
    },
  },
];

// Chromium runs both modes: deferred off (every end is our keepalive fetch) and on (the
// default: Chromium's fetchLater carries it). Firefox and WebKit have no fetchLater: the
// default configuration is what runs there, and it must behave as keepalive.
// Every engine also runs with configure({ relayUrl }) (deferred off in Chromium, so that the
// relay carries every page-leave end there too): each such end is a sendBeacon to RELAY_PATH
// on the pages' origin, which forwards it with the bearer. 3 reps a cell (the relay path is
// the same in every scenario; the default modes cover the scenarios), except where measured.
const RELAY = { name: 'relay', params: { relay: RELAY_PATH }, reps: 3 };
const MODES = {
  chromium: [
    { name: 'keepalive (deferred off)', params: { deferred: '0' } },
    { name: 'fetchLater (deferred on)', params: {} },
    { name: 'relay (deferred off)', params: { deferred: '0', relay: RELAY_PATH }, reps: 3 },
  ],
  firefox: [{ name: 'default', params: {} }, RELAY],
  webkit: [{ name: 'default', params: {} }, RELAY],
};

/** Runs `once(rep)` REPS times, `concurrency` at a time; returns the results. */
async function repeat(reps, concurrency, once) {
  const results = [];
  for (let i = 0; i < reps; i += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, reps - i) }, (_, j) => i + j);
    results.push(...(await Promise.all(batch.map((rep) => once(rep)))));
  }
  return results;
}

for (const engine of selectedEngines()) {
  const reps = Number(process.env.E2E_REPS || DEFAULT_REPS[engine.name]);
  // Launched on first use (so a filtered run works), closed after the engine's tests.
  let browser;
  let launching;
  const ensureBrowser = async (t) => {
    launching ??= engine.launch().then(async (launched) => {
      browser = launched;
      t.diagnostic(`${engine.name} ${await launched.version}`);
    });
    await launching;
  };

  for (const mode of MODES[engine.name]) {
    for (const scenario of SCENARIOS) {
      if (scenario.needs && !engine.can[scenario.needs]) continue; // not applicable: see engines.mjs
      if (scenario.engines && !scenario.engines.includes(engine.name)) continue;
      const measured = (mode.params.relay ? scenario.relayMeasured : scenario.measured)?.[engine.name];
      const kind = measured ? 'measured' : scenario.assert?.(engine) ?? 'all';
      const cellReps = measured ? Number(process.env.E2E_MEASURED_REPS || measured.reps) : process.env.E2E_REPS ? reps : mode.reps ?? reps;
      const expect = scenario.expect ?? 1;
      test(`${engine.name} / ${mode.name}: ${scenario.name} (x${cellReps})`, async (t) => {
        await ensureBrowser(t);
        if (scenario.noDelay) standin.state.configure({ preflightDelayMs: 0 });
        try {
          const outcomes = await repeat(cellReps, scenario.concurrency ?? CONCURRENCY[engine.name], async (rep) => {
            const label = `${engine.name} ${mode.name} ${scenario.name} #${rep}`;
            const ctx = {
              engine,
              browser,
              mode,
              label,
              measured: kind === 'measured',
              // Open a tracking tab, run the leave, check the ends (and the spy in Firefox).
              async leave(action, { spy = false } = {}) {
                // (Firefox's keepalive spy watches fetch; relay ends are beacons.)
                const useSpy = spy && engine.name === 'firefox' && !mode.params.relay;
                const params = { ...mode.params, ...(useSpy ? { spy: '1' } : {}) };
                const { tab, minted } = await openTracked((url) => browser.open(url), { calls: scenario.calls ?? 1, params });
                await action(tab, minted);
                const exact = await checkEnds(minted, expect, label, { measured: kind === 'measured' });
                if (!tab.isClosed()) await tab.close();
                if (useSpy && expect > 0) {
                  assert.deepEqual(await spied(browser, minted[0].call_id), { keepalive: true }, `${label}: init.keepalive`);
                }
                return exact === minted.length ? 1 : 0;
              },
            };
            return scenario.run(ctx);
          });
          const delivered = outcomes.reduce((sum, n) => sum + n, 0);
          t.diagnostic(`${engine.name} / ${mode.name}: ${scenario.name}: ${delivered}/${cellReps} as expected`);
          if (kind === 'all') assert.equal(delivered, cellReps, `${delivered}/${cellReps}`);
          else if (kind === 'tolerant') assert.ok(delivered >= cellReps - 1, `${delivered}/${cellReps} (at most one loss)`);
          else assert.ok(delivered >= measured.floor, `${delivered}/${cellReps} delivered, below the floor of ${measured.floor}`);
        } finally {
          if (scenario.noDelay) standin.state.configure({ preflightDelayMs: PREFLIGHT_DELAY_MS });
        }
      });
    }
  }

  test(`${engine.name}: manual endCall resolves to the camelCase EndCallResponse`, async (t) => {
    await ensureBrowser(t);
    const { tab, minted } = await openTracked((url) => browser.open(url));
    const response = await tab.evaluate((id) => window.lib.endCall(id), minted[0].call_id);
    assert.deepEqual(Object.keys(response).sort(), ['actualDurationSeconds', 'callId', 'creditsUsed', 'endedAt', 'status']);
    assert.equal(response.callId, minted[0].call_id);
    assert.equal(response.status, 'ended');
    assert.ok(!Number.isNaN(Date.parse(response.endedAt)));
    assert.equal(typeof response.actualDurationSeconds, 'number');
    assert.equal(typeof response.creditsUsed, 'number');
    assert.deepEqual(await tab.evaluate(() => window.lib.trackedCalls()), []);
    await tab.close();
    assert.equal(await checkEnds(minted, 1, 'after manual end, close adds nothing'), 1);
  });

  test(`${engine.name}: 401, 404 and 422 surface as typed EndCallErrors without the token`, async (t) => {
    await ensureBrowser(t);
    const tab = await browser.open(blankUrl());
    await tab.waitReady();
    await tab.evaluate(() => window.init());
    const call = standin.state.mintCall();
    const other = standin.state.mintCall();
    const outcomes = await tab.evaluate(
      async ({ call, other, api }) => {
        const { endCall, EndCallError, configure } = window.lib;
        configure({ baseUrl: api });
        const attempt = async (id, options) => {
          try {
            await endCall(id, options);
            return { resolved: true };
          } catch (error) {
            return {
              isEndCallError: error instanceof EndCallError && error instanceof Error,
              kind: error.kind,
              status: error.status,
              detail: error.detail,
              message: error.message,
            };
          }
        };
        return {
          wrongToken: await attempt(call.call_id, { endToken: other.end_token }),
          unknown: await attempt('call_000000000000000000000000', { endToken: call.end_token }),
          invalid: await attempt('not a valid id!', { endToken: call.end_token }),
        };
      },
      { call, other, api: standin.url },
    );
    for (const [name, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome.isEndCallError, true, name);
      assert.ok(!outcome.message.includes(call.end_token) && !outcome.message.includes(other.end_token), `${name}: token in message`);
    }
    assert.deepEqual([outcomes.wrongToken.kind, outcomes.wrongToken.status], ['http', 401]);
    assert.deepEqual([outcomes.unknown.kind, outcomes.unknown.status], ['http', 404]);
    assert.deepEqual([outcomes.invalid.kind, outcomes.invalid.status], ['validation', 422]);
    assert.ok(Array.isArray(outcomes.invalid.detail) && outcomes.invalid.detail.length > 0);
    assert.deepEqual(Object.keys(outcomes.invalid.detail[0]).sort(), ['loc', 'msg', 'type']);
    await tab.close();
  });

  test(`${engine.name}: before init, acting refuses with not-initialized; asking and forgetting answer (nothing is tracked)`, async (t) => {
    await ensureBrowser(t);
    const tab = await browser.open(blankUrl());
    await tab.waitReady();
    const kinds = await tab.evaluate(async () => {
      const { lib } = window;
      const kindOf = (fn) => {
        try {
          fn();
          return 'no error';
        } catch (error) {
          return error instanceof lib.EndCallError ? error.kind : 'not an EndCallError';
        }
      };
      return {
        configure: kindOf(() => lib.configure({})),
        trackCall: kindOf(() => lib.trackCall({ callId: 'a', endToken: 'b' })),
        // Only asking or forgetting answers: nothing can be tracked before init().
        untrackCall: lib.untrackCall('a'),
        trackedCalls: lib.trackedCalls(),
        endCallIfTracked: await lib.endCall('a', { ifTracked: true }),
        onCallEnded: kindOf(() => lib.onCallEnded(() => {})),
        endCall: await lib.endCall('a').then(() => 'no error', (error) => error.kind),
        initIsIdempotent: await Promise.all([window.init(), window.init()]).then(() => window.init() === window.init()),
      };
    });
    assert.deepEqual(kinds, {
      configure: 'not-initialized',
      trackCall: 'not-initialized',
      untrackCall: false,
      trackedCalls: [],
      endCallIfTracked: null,
      onCallEnded: 'not-initialized',
      endCall: 'not-initialized',
      initIsIdempotent: true,
    });
    await tab.close();
  });

  after(async () => {
    await browser?.close();
  });
}
