// Bad input, in headless Chromium against the built package (dist/) and the stand-in API.
//
// Every input-handling entry point (trackCall, endCall, untrackCall, configure) gets every class
// of bad input: ids that are empty, 10 KB long, '.', '..', with lone surrogates; tokens with
// CR/LF/NUL and other characters that are not header-safe; non-strings, null, Symbols, BigInts,
// arrays; objects whose getters throw, Proxies whose traps throw; configure/endCall options with
// prototype-polluting keys. Each must be refused with an EndCallError of kind 'config' whose
// message names the input and the problem (endCall: a rejected promise, never a throw), and
// nothing may reach fetch/fetchLater or the stand-in, nor be tracked, untracked or re-tokened.
// The cases live in tests/badinput/page.js (most of them cannot cross the driver boundary).
//
// Unusual but valid ids (spaces, Unicode, 'a/b?c#d%', '%2e%2e', '../x', control characters…)
// must be sent as exactly one percent-encoded path segment with no query.
//
// Then 1,000 seeded mixed bad calls (BADINPUT_SEED to replay another seed), after which a good
// call still ends manually and another by closing the page: nothing was poisoned. And the
// outbox (ends stored in localStorage, read back by init()) is input too: malformed storage and
// entries are dropped unsent.
//
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startChromiumRig } from './support/rig.mjs';
import { settledRecords } from './support/records.mjs';

const SEED = Number(process.env.BADINPUT_SEED || 20261124);
const FUZZ_COUNT = 1000;

const repoPath = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));

let rig, standin, browser, origin;
const contexts = new Set();

before(async () => {
  rig = await startChromiumRig({
    host: 'localhost',
    mounts: { '/dist/': repoPath('dist'), '/badinput/': repoPath('tests/badinput') },
  });
  ({ standin, browser } = rig);
  // Page on localhost, API on 127.0.0.1: cross-origin, so every end is preflighted and a
  // stray request would show up as a preflight too.
  origin = rig.pages.url.replace('127.0.0.1', 'localhost');
});

after(async () => {
  for (const context of contexts) await context.close();
  await rig?.close();
});

/**
 * A page with the package loaded and the stand-in configured as baseUrl, in `context` or a new
 * one (each test has its own, so that localStorage — where the package's outbox lives — is not
 * shared). Closing the page is a tab close; the context stays until `closeContext` (closing a
 * context tears its network down before cross-origin ends get out).
 */
async function openPage({ context, before } = {}) {
  if (!context) {
    context = await browser.newContext();
    contexts.add(context);
  }
  const page = await context.newPage();
  if (before) await page.addInitScript(before.fn, before.arg);
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${origin}/badinput/page.html`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 15000 });
  await page.evaluate((api) => window.lib.configure({ baseUrl: api }), standin.url);
  const closeContext = async () => {
    contexts.delete(context);
    await context.close();
  };
  return { page, pageErrors, context, closeContext };
}

async function trackGoodCall(page) {
  const call = standin.state.mintCall();
  const id = await page.evaluate(([callId, endToken]) => window.lib.trackCall({ callId, endToken }), [call.call_id, call.end_token]);
  assert.equal(id, call.call_id);
  return call;
}

/** Everything the stand-in saw (end requests and preflights), to compare before/after. */
const traffic = () => ({ records: standin.state.records().length, preflights: standin.state.preflights().length });

async function assertNothingSentSince(mark, what) {
  // Nothing is expected: settledRecords waits its quiet period for a stray request.
  const records = await settledRecords(standin, { since: mark.records, atLeast: 0 });
  const now = traffic();
  assert.deepEqual(
    records.map((r) => `${r.method} ${r.rawPath}${r.query === null ? '' : `?${r.query}`}`),
    [],
    `${what}: end requests reached the stand-in`,
  );
  assert.equal(now.preflights, mark.preflights, `${what}: preflights reached the stand-in`);
}

async function assertPageHealthy(page, pageErrors, what) {
  const spy = await page.evaluate(() => ({ unhandled: window.spy.unhandled, errors: window.spy.errors }));
  assert.deepEqual(spy.unhandled, [], `${what}: unhandled rejections`);
  assert.deepEqual(spy.errors, [], `${what}: uncaught errors`);
  assert.deepEqual(pageErrors, [], `${what}: page errors`);
}

/** One task after init() resolved, when the outbox replay (a 0 ms timer init() set) has run. */
const afterReplay = (page) => page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));

function assertGoodEnd(record, callId, what) {
  assert.equal(record.method, 'POST', what);
  assert.equal(record.auth, 'valid', `${what}: the call's own bearer`);
  assert.equal(record.rawPath, `/api/v1/calls/${callId}/end`, what);
  assert.equal(record.query, null, what);
  assert.equal(record.status, 200, what);
}

/**
 * The module still works: a good call tracked now ends manually (resolves, one valid request),
 * and closing the page ends another one and the sentinel (tracked before the bad calls) exactly
 * once each — the sentinel with its own token, so no bad call re-tokened it.
 */
async function assertGoodCallsStillEnd(page, pageErrors, sentinel) {
  const manual = await trackGoodCall(page);
  const response = await page.evaluate((id) => window.lib.endCall(id), manual.call_id);
  assert.equal(response.callId, manual.call_id);
  assert.equal(response.status, 'ended');
  const manualRecords = standin.state.records({ callId: manual.call_id });
  assert.equal(manualRecords.length, 1, 'manual end: one request');
  assertGoodEnd(manualRecords[0], manual.call_id, 'manual end');

  const onClose = await trackGoodCall(page);
  assert.deepEqual(
    [...(await page.evaluate(() => window.lib.trackedCalls()))].sort(),
    [sentinel.call_id, onClose.call_id].sort(),
    'tracked before closing: the sentinel and the new call',
  );
  await assertPageHealthy(page, pageErrors, 'before closing');
  await page.close();
  const closeRecords = await settledRecords(standin, { callIds: [onClose.call_id, sentinel.call_id] });
  for (const [call, what] of [
    [onClose, 'call tracked after the bad calls, ended by closing the page'],
    [sentinel, 'sentinel tracked before the bad calls, ended by closing the page'],
  ]) {
    const records = closeRecords.filter((record) => record.callId === call.call_id);
    assert.equal(records.length, 1, `${what}: exactly one request`);
    assertGoodEnd(records[0], call.call_id, what);
  }
  assert.equal(standin.state.records({ callId: manual.call_id }).length, 1, 'the manually ended call is not sent again');
}

test('every bad input class: typed config error naming the problem; nothing sent, tracked or poisoned', async (t) => {
  const { page, pageErrors, closeContext } = await openPage();
  const sentinel = await trackGoodCall(page);
  const mark = traffic();
  const result = await page.evaluate((id) => window.badinput.runCatalog({ sentinel: id }), sentinel.call_id);
  t.diagnostic(`${result.count} cases: ${JSON.stringify(result.byFn)}`);
  assert.deepEqual(result.problems, []);
  assert.ok(result.count >= 300, `the catalog has ${result.count} cases`);
  for (const fn of ['trackCall', 'endCall', 'untrackCall', 'configure']) assert.ok(result.byFn[fn] >= 20, `${fn}: ${result.byFn[fn]} cases`);
  assert.equal(result.typedConfig, result.count, 'every case: an EndCallError of kind config');
  await assertNothingSentSince(mark, 'bad inputs');
  await assertGoodCallsStillEnd(page, pageErrors, sentinel);
  await closeContext();
});

test(
  'Proxies whose ownKeys/getOwnPropertyDescriptor traps throw, revoked Proxies: typed config errors, endCall rejects',
  async () => {
    const { page, closeContext } = await openPage();
    const sentinel = await trackGoodCall(page);
    const mark = traffic();
    const result = await page.evaluate((id) => window.badinput.runCatalog({ sentinel: id, group: 'traps' }), sentinel.call_id);
    try {
      assert.ok(result.count >= 6);
      assert.deepEqual(result.problems, []);
      await assertNothingSentSince(mark, 'Proxy-trap inputs');
    } finally {
      await page.evaluate((id) => window.lib.untrackCall(id), sentinel.call_id);
      await closeContext();
    }
  },
);

test('configure with prototype-polluting keys: config error naming the key, no pollution, previous options in force', async () => {
  const { page, pageErrors, closeContext } = await openPage();
  await page.evaluate((api) => window.lib.configure({ baseUrl: api, deferred: true, beforeUnload: true, timeoutMs: 5000 }), standin.url);
  const mark = traffic();
  const attempts = await page.evaluate(() => {
    // Each object sets valid options first (another baseUrl, deferred off): a partial apply
    // would show in where the next call goes and whether it uses fetchLater.
    const other = '"baseUrl": "http://127.0.0.2:9", "deferred": false, "timeoutMs": 1';
    const list = [
      ['__proto__', () => JSON.parse(`{${other}, "__proto__": {"polluted": 1, "baseUrl": "http://127.0.0.3:9"}}`)],
      ['__proto__', () => ({ baseUrl: 'http://127.0.0.2:9', deferred: false, ['__proto__']: { polluted: 1 } })],
      ['constructor', () => JSON.parse(`{${other}, "constructor": {"prototype": {"polluted": 1}}}`)],
      ['constructor', () => ({ baseUrl: 'http://127.0.0.2:9', deferred: false, constructor: { prototype: { polluted: 1 } } })],
      ['prototype', () => JSON.parse(`{${other}, "prototype": {"polluted": 1}}`)],
      ['__defineSetter__', () => JSON.parse(`{${other}, "__defineSetter__": {"polluted": 1}}`)],
    ];
    return list.map(([key, make]) => {
      try {
        window.lib.configure(make());
        return { key, threw: false };
      } catch (error) {
        return { key, threw: true, endCallError: error instanceof window.lib.EndCallError, kind: error.kind, message: String(error.message) };
      }
    });
  });
  for (const attempt of attempts) {
    assert.equal(attempt.threw, true, `configure with ${attempt.key} was accepted`);
    assert.equal(attempt.endCallError, true, `${attempt.key}: ${attempt.message}`);
    assert.equal(attempt.kind, 'config', attempt.key);
    assert.ok(attempt.message.includes(`unknown option "${attempt.key}"`), `names the key: ${attempt.message}`);
  }
  assert.deepEqual(await page.evaluate(() => window.badinput.pollution()), []);
  assert.equal(await page.evaluate(() => ({}).polluted), undefined);
  assert.equal(await page.evaluate(() => Object.prototype.polluted), undefined);

  // endCall and trackCall with the same keys: refused (endCall) or ignored (trackCall reads
  // only its own keys, so an own "__proto__" data property carries no baseUrl).
  const endAttempt = await page.evaluate(() =>
    window.lib.endCall('call_proto', JSON.parse('{"endToken": "et_x", "__proto__": {"baseUrl": "http://127.0.0.2:9"}}')).then(
      () => ({ settled: 'resolved' }),
      (error) => ({ settled: 'rejected', kind: error.kind, message: error.message }),
    ),
  );
  assert.equal(endAttempt.settled, 'rejected');
  assert.equal(endAttempt.kind, 'config');
  assert.match(endAttempt.message, /unknown option "__proto__"/);
  await assertNothingSentSince(mark, 'polluting options');

  // The previous options are in force: deferred still on (trackCall hands the request to
  // fetchLater), baseUrl still the stand-in (the URL, and endCall reaching it).
  assert.equal(await page.evaluate(() => typeof window.fetchLater), 'function', 'this Chromium has fetchLater');
  const call = standin.state.mintCall();
  const armed = await page.evaluate(([callId, endToken]) => {
    const before = window.spy.fetchLater.length;
    const json = `{"callId": ${JSON.stringify(callId)}, "endToken": ${JSON.stringify(endToken)}, "__proto__": {"baseUrl": "http://127.0.0.2:9"}}`;
    window.lib.trackCall(JSON.parse(json));
    return window.spy.fetchLater.slice(before);
  }, [call.call_id, call.end_token]);
  assert.deepEqual(armed, [`${standin.url}/api/v1/calls/${call.call_id}/end`], 'deferred and baseUrl unchanged');
  const response = await page.evaluate((id) => window.lib.endCall(id), call.call_id);
  assert.equal(response.callId, call.call_id);
  const records = standin.state.records({ callId: call.call_id });
  assert.equal(records.length, 1);
  assertGoodEnd(records[0], call.call_id, 'end after the refused configure');
  assert.deepEqual(await page.evaluate(() => window.badinput.pollution()), []);
  await assertPageHealthy(page, pageErrors, 'after polluting options');
  await closeContext();
});

// Ids the library may refuse (with a typed error) or send, but then as one encoded segment.
const UNUSUAL_IDS = [
  'a b', ' ', 'é', 'Ünïcödé ☎', '😀', '中文', 'a/b?c#d%', '/', '?', '#', '%', '%2F', '%2e%2e', '%2E', '.%2E',
  '...', '../x', '..%2F', './', ' ..', '.. ', 'a\\b', '\\', '..\\', 'a\r\nb', 'a\0b', '\t', '\u2028', '\uFEFF',
  "!$&'()*+,;=:@", '<>"`{}|^', '．．', 'x'.repeat(1024), 'é'.repeat(512),
];

/** The record's path is /api/v1/calls/<one segment>/end, no query, and decodes to `id`. */
function assertOneSegment(record, id, what) {
  assert.equal(record.method, 'POST', what);
  assert.equal(record.query, null, `${what}: a query was added (${record.query})`);
  const match = /^\/api\/v1\/calls\/([^/?#]+)\/end$/.exec(record.rawPath);
  assert.ok(match, `${what}: path ${record.rawPath} is not one segment`);
  const segment = match[1];
  assert.match(segment, /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$/, `${what}: raw characters in ${segment}`);
  assert.ok(!/^(?:\.|%2e){1,2}$/i.test(segment), `${what}: ${segment} is a dot segment`);
  assert.equal(decodeURIComponent(segment), id, `${what}: ${segment} does not decode to the id`);
  return segment;
}

const show = (id) => JSON.stringify(id.length > 40 ? `${id.slice(0, 12)}…(${id.length})` : id);

test('unusual but valid ids: refused with a typed error, or sent as exactly one encoded segment with no query', async (t) => {
  // endCall with options.endToken (the keepalive fetch path).
  const { page, pageErrors, context, closeContext } = await openPage();
  const refused = [];
  for (const id of UNUSUAL_IDS) {
    const before = standin.state.records().length;
    const outcome = await page.evaluate(
      (callId) =>
        window.lib.endCall(callId, { endToken: 'et_unusual' }).then(
          () => ({ settled: 'resolved' }),
          (error) => ({ settled: 'rejected', endCallError: error instanceof window.lib.EndCallError, kind: error.kind, message: error.message }),
        ),
      id,
    );
    const records = standin.state.records().slice(before);
    if (outcome.settled === 'rejected' && outcome.kind === 'config') {
      refused.push(id);
      assert.equal(records.length, 0, `${show(id)} refused, yet sent`);
      continue;
    }
    // The stand-in answers 422 for ids outside its pattern: a typed 'validation' rejection.
    assert.equal(outcome.endCallError ?? true, true, `${show(id)}: ${outcome.message}`);
    assert.equal(records.length, 1, `${show(id)}: ${records.length} requests`);
    assertOneSegment(records[0], id, `endCall ${show(id)}`);
  }
  t.diagnostic(`refused with a typed error: ${refused.map(show).join(' ') || 'none'}`);
  await assertPageHealthy(page, pageErrors, 'unusual ids, endCall');
  await page.close();

  // trackCall, then closing the page (fetchLater where present, else pagehide's keepalive fetch).
  const second = await openPage({ context });
  const before = standin.state.records().length;
  const tracked = await second.page.evaluate((ids) => {
    const out = [];
    for (const id of ids) {
      try {
        out.push(window.lib.trackCall({ callId: id, endToken: 'et_unusual' }));
      } catch (error) {
        if (!(error instanceof window.lib.EndCallError) || error.kind !== 'config') throw error;
      }
    }
    return out;
  }, UNUSUAL_IDS);
  assert.deepEqual(tracked, UNUSUAL_IDS.filter((id) => !refused.includes(id)), 'trackCall refuses exactly what endCall refused');
  await assertPageHealthy(second.page, second.pageErrors, 'unusual ids, trackCall');
  await second.page.close();
  const records = await settledRecords(standin, { since: before, atLeast: tracked.length });
  assert.equal(records.length, tracked.length, 'one request per tracked id');
  const seen = records.map((record) => {
    const segment = /^\/api\/v1\/calls\/([^/?#]+)\/end$/.exec(record.rawPath)?.[1];
    assert.ok(segment, `page close: path ${record.rawPath} is not one segment`);
    const id = decodeURIComponent(segment);
    assertOneSegment(record, id, `page close ${show(id)}`);
    return id;
  });
  assert.deepEqual([...seen].sort(), [...tracked].sort(), 'each tracked id sent exactly once, as itself');
  await closeContext();
});

test(`${FUZZ_COUNT} seeded mixed bad calls, then a good call still ends manually and another on page close`, async (t) => {
  t.diagnostic(`seed ${SEED} (BADINPUT_SEED=${SEED} replays it)`);
  const { page, pageErrors, closeContext } = await openPage();
  const sentinel = await trackGoodCall(page);
  const mark = traffic();
  const started = Date.now();
  const result = await page.evaluate(([id, seed, count]) => window.badinput.fuzz({ sentinel: id, seed, count }), [sentinel.call_id, SEED, FUZZ_COUNT]);
  t.diagnostic(
    `${result.count} calls in ${Date.now() - started} ms: ${JSON.stringify(result.byFn)}; ` +
      `${result.typedConfig} typed config errors`,
  );
  assert.equal(result.count, FUZZ_COUNT);
  assert.deepEqual(result.problems.slice(0, 50), [], `${result.problems.length} problems`);
  for (const fn of ['trackCall', 'endCall', 'untrackCall', 'configure']) assert.ok(result.byFn[fn] > 0, `${fn} drawn`);
  assert.equal(result.typedConfig, result.count, 'every bad call: a typed config error');
  await assertNothingSentSince(mark, 'fuzzed bad calls');
  await assertGoodCallsStillEnd(page, pageErrors, sentinel);
  await closeContext();
});

// ---- the outbox: ends stored in localStorage by earlier pages, read back by init() ----------
// Storage is shared with every script of the origin, so what init() reads there is input too:
// malformed entries must be dropped unsent, and must not stop the good one or the module.

const OUTBOX_KEY = 'voice-end-call:outbox:v1';

/** Put `text` into the outbox before the page's scripts run. */
const seedOutbox = (text) => ({ fn: ([key, value]) => localStorage.setItem(key, value), arg: [OUTBOX_KEY, text] });

/** The page's fetches other than loading the package. */
const apiFetches = (page) => page.evaluate(() => window.spy.fetch.filter((url) => !url.includes('/dist/')));

/** An outbox entry as JSON text; `fields` are raw JSON texts (so they can hold \ud800 escapes). */
function entryText(fields) {
  return `{${Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${JSON.stringify(key)}: ${value}`)
    .join(', ')}}`;
}

function badOutboxEntries(now) {
  const json = JSON.stringify;
  let n = 0;
  const good = () => ({ callId: json(`call_outbox_bad_${++n}`), endToken: json('et_outbox'), baseUrl: json(standin.url), time: String(now) });
  const entries = ['null', '5', '"call_x"', '[]', '{}', 'true'];
  const vary = (key, values) => values.forEach((value) => entries.push(entryText({ ...good(), [key]: value })));
  vary('callId', ['""', '"."', '".."', json('x'.repeat(10 * 1024)), '42', 'null', '["c"]', '{}', undefined]);
  vary('endToken', ['""', json('SECRET\r\nX-Injected: 1'), json('SECRET\n'), json('SECRET\0'), json('SECRET ö'), json('SECRET x'), json('S'.repeat(4097)), '"et_\\ud800"', '42', 'null', undefined]);
  vary('baseUrl', [
    json('http://evil.example'), json('http://127.0.0.1.evil.example'), json('javascript:alert(1)'), json('//evil.example'),
    json('https://user:pw@evil.example'), json(`${standin.url}/?x=1`), json(`${standin.url}/#x`), json(`${standin.url}\r\nX: 1`),
    json('https://exämple.com'), '"https://evil.example/\\ud800"', '""', '42', 'null', undefined,
  ]);
  // Infinity (1e400), not a number, missing, older than the 24 h outboxTtlMs.
  vary('time', ['1e400', '"now"', 'null', '{}', undefined, String(now - 25 * 3600 * 1000)]);
  entries.push(`{"__proto__": ${entryText(good())}}`);
  return entries;
}

test('outbox: malformed storage is dropped unsent; the good entry is sent once; the module works', async () => {
  // Storage that is not an outbox at all: nothing sent, the module works.
  for (const text of ['{{{ not JSON', '{"callId": "call_x"}', '"call_x"', 'null', '', '[' + '"x",'.repeat(5000) + '"x"]']) {
    const mark = traffic();
    const { page, pageErrors, closeContext } = await openPage({ before: seedOutbox(text) });
    await afterReplay(page);
    assert.deepEqual(await apiFetches(page), [], `outbox ${JSON.stringify(text.slice(0, 30))}: nothing fetched`);
    await assertNothingSentSince(mark, `outbox ${JSON.stringify(text.slice(0, 30))}`);
    const call = await trackGoodCall(page);
    const response = await page.evaluate((id) => window.lib.endCall(id), call.call_id);
    assert.equal(response.callId, call.call_id);
    await assertPageHealthy(page, pageErrors, 'malformed outbox');
    await closeContext();
  }

  // One good entry among every kind of bad one (and 1,000 junk values): only it is sent.
  const now = Date.now();
  const goodCall = standin.state.mintCall();
  const goodUrl = `${standin.url}/api/v1/calls/${goodCall.call_id}/end`;
  const junk = Array.from({ length: 1000 }, (_, i) => ['null', '0', '"x"', '[]', '{}', '{"callId": 1}'][i % 6]);
  const bad = badOutboxEntries(now);
  const good = entryText({ callId: JSON.stringify(goodCall.call_id), endToken: JSON.stringify(goodCall.end_token), baseUrl: JSON.stringify(standin.url), time: String(now) });
  const text = `[${[...bad.slice(0, 20), good, ...bad.slice(20), ...junk].join(', ')}]`;
  const mark = traffic();
  const { page, pageErrors, closeContext } = await openPage({ before: seedOutbox(text) });
  await afterReplay(page);
  assert.deepEqual(await apiFetches(page), [goodUrl], `only the good entry of ${bad.length} bad ones is fetched`);
  const records = await settledRecords(standin, { since: mark.records });
  assert.deepEqual(records.map((r) => r.rawPath), [`/api/v1/calls/${goodCall.call_id}/end`]);
  assertGoodEnd(records[0], goodCall.call_id, 'outbox replay');
  assert.equal(await page.evaluate((key) => localStorage.getItem(key), OUTBOX_KEY), null, 'the outbox is emptied (bad entries dropped)');
  const call = await trackGoodCall(page);
  assert.equal((await page.evaluate((id) => window.lib.endCall(id), call.call_id)).callId, call.call_id);
  await assertPageHealthy(page, pageErrors, 'outbox with bad entries');
  await closeContext();
});

test(
  'outbox: an entry whose callId has a lone surrogate is dropped, not sent for another id',
  async () => {
    const now = Date.now();
    const text = `[${entryText({ callId: '"call_lone_\\ud800"', endToken: '"et_lone"', baseUrl: JSON.stringify(standin.url), time: String(now) })}]`;
    const mark = traffic();
    const { page, closeContext } = await openPage({ before: seedOutbox(text) });
    try {
      await afterReplay(page);
      assert.deepEqual(await apiFetches(page), []);
      await assertNothingSentSince(mark, 'lone-surrogate outbox entry');
    } finally {
      await closeContext();
    }
  },
);
