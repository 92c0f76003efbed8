// The fault matrix, in real headless Chromium: what a manual `endCall` does when the API (or
// the network) fails in each way it can. The page (tests/faults/page.html + page.js) is on one
// loopback origin, the stand-in API on another (127.0.0.1, another port: cross-origin, so
// every end request is CORS-preflighted, and same-site, so the page's cookie would go along
// unless `credentials: 'omit'`).
//
// Each row is one test on a fresh page. It tracks a call, injects the fault with
// `standin.state.addFault`, ends the call, and asserts:
//   - the EndCallError's kind, status and (422) detail, or the resolved EndCallResponse;
//   - whether the call is still tracked afterwards (README: network, timeout, 429 and 5xx
//     re-arm it for page-leave ending; everything else forgets it);
//   - the EXACT number of end requests (POST records) and preflights the stand-in saw, and of
//     attempts the page issued (a fetch spy: a refused connection reaches no server);
//   - every attempt is the same request: same URL, the same bearer, keepalive, no cookies;
//   - attempt discipline: every request but the last was answered with a retryable error
//     (429 or 5xx), i.e. no more requests than error answers plus one success, and never more
//     than retries + 1;
//   - no unhandled rejection and no uncaught error in the page.
// Retry policy under test (src/transport.rs): network errors, 5xx and 429 are retried up to
// `retries` (default 2) times, after 250 ms doubling backoff (half jittered) or the API's
// Retry-After, only when the wait + 200 ms fits in what is left of `timeoutMs` (one budget
// for all attempts); a timeout is final.
//
// A last test checks that nothing arrived late for any row (no stray retry, no page-leave
// send after the page closed) and prints the observed table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { unusedPort } from './support/net.mjs';
import { startChromiumRig } from './support/rig.mjs';
import { settledRecords, waitFor } from './support/records.mjs';

let rig, standin, pages, context, closedBase;
// The hung row's call, for the last test (when did the browser close its connection?).
let hungCall = null;

before(async () => {
  closedBase = `http://127.0.0.1:${await unusedPort()}`;
  rig = await startChromiumRig({ mounts: { '/dist/': 'dist', '/faults/': 'tests/faults' } });
  ({ standin, pages } = rig);
  context = await rig.browser.newContext();
});

after(async () => {
  await context?.close();
  await rig?.close();
});
const hex = (bytes = 8) => randomBytes(bytes).toString('hex');

/** The library's encoding of a call id as one path segment (all but RFC 3986 unreserved). */
function segment(id) {
  return [...Buffer.from(id, 'utf8')]
    .map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}
const endPath = (id) => `/api/v1/calls/${segment(id)}/end`;

/** Open a fresh page of the fault matrix; collects uncaught page errors from the start. */
async function openPage() {
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(`${pages.url}/faults/page.html?${new URLSearchParams({ api: standin.url })}`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 10000 });
  return { page, pageErrors };
}

// The 422 body of the spec (HTTPValidationError), as an injected fault sends it.
const SPEC_422 = [
  { loc: ['path', 'call_id'], msg: 'Call id has an invalid format', type: 'value_error' },
  { loc: ['header', 'authorization'], msg: 'field required', type: 'missing' },
];
// What the stand-in itself answers for an id outside [A-Za-z0-9_-].
const STANDIN_422 = [{ loc: ['path', 'call_id'], msg: 'call_id must match ^[A-Za-z0-9_-]{1,128}$', type: 'value_error' }];

/**
 * The rows. Fields:
 *   call: 'minted' (a real call of the stand-in, default) or a function returning an id the
 *     stand-in does not know; token: 'right' (default) or 'wrong'; base: 'standin' or 'closed';
 *   faults: addFault arguments (callId filled in); options: endCall options;
 *   expect: { ok | kind, status, detail, posts, preflights, attempts, tracked, auth };
 *   check(ctx): row-specific assertions.
 */
const ROWS = [
  {
    // First, so that Chromium's hold on the aborted request (see the last test) runs out while
    // the other rows run.
    name: 'hanging server, timeoutMs 1500',
    faults: [{ hang: true, times: 5 }],
    options: { timeoutMs: 1500 },
    expect: { kind: 'timeout', posts: 1, preflights: 1, attempts: 1, tracked: true },
    check: ({ result, records, callId }) => {
      assert.ok(result.elapsedMs >= 1400 && result.elapsedMs < 3000, `timed out after ${result.elapsedMs.toFixed(0)} ms`);
      assert.equal(result.error.hasCause, true, 'the timeout keeps its cause');
      assert.match(result.error.message, /1500 ms/);
      // The signal fired: the page-side fetch was aborted at the budget.
      assert.equal(result.attempts[0].settled, 'rejected AbortError', 'the page-side fetch was aborted');
      assert.ok(result.attempts[0].settledAt - result.attempts[0].at >= 1400, 'not before the budget');
      assert.equal(records[0].status, null, 'never answered');
      // Not closed before the budget ran out. When it closes is checked by the last test:
      // Chromium keeps an aborted keepalive request's connection open (measured: ~30 s).
      const closedAt = standin.state.records({ callId })[0].closedAt;
      assert.ok(closedAt === null || closedAt - records[0].receivedAt >= 1200, 'not closed before the abort');
      hungCall = { callId, receivedAt: records[0].receivedAt };
    },
  },
  {
    name: '500 every attempt, retries 2 (default)',
    faults: [{ status: 500, times: 10 }],
    expect: { kind: 'http', status: 500, posts: 3, preflights: 3, attempts: 3, tracked: true },
    check: ({ result, t }) => {
      assert.match(result.error.message, /\(3 attempts\)/);
      // Backoff, not a tight loop: 250 ms then 500 ms, each at least half of it (equal jitter).
      // Lower bounds only (page clock, a few ms of slack); a loaded machine may be slower.
      const gaps = result.attempts.slice(1).map((a, i) => a.at - result.attempts[i].at);
      t.diagnostic(`500 ×3: gaps between attempts ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`);
      assert.ok(gaps[0] >= 120, `first backoff ${gaps[0]} ms`);
      assert.ok(gaps[1] >= 245, `second backoff ${gaps[1]} ms`);
    },
  },
  {
    name: '500 every attempt, retries 0',
    faults: [{ status: 500, times: 10 }],
    options: { retries: 0 },
    expect: { kind: 'http', status: 500, posts: 1, preflights: 1, attempts: 1, tracked: true },
  },
  {
    // Never tracked: ended with options.endToken. Nothing to re-arm (README: it is a tracked
    // call that stays tracked), so a failure leaves nothing armed.
    name: '500 every attempt, never tracked (options.endToken)',
    track: false,
    faults: [{ status: 500, times: 10 }],
    options: { retries: 1 },
    expect: { kind: 'http', status: 500, posts: 2, preflights: 2, attempts: 2, tracked: false },
  },
  {
    name: '503 once with Retry-After: 1, then 200',
    faults: [{ status: 503, headers: { 'Retry-After': '1' }, times: 1 }],
    expect: { ok: true, posts: 2, preflights: 2, attempts: 2, tracked: false },
    check: ({ records, result, t }) => {
      assert.deepEqual(records.map((r) => r.status), [503, 200]);
      const gap = records[1].receivedAt - records[0].receivedAt;
      t.diagnostic(`Retry-After: 1 → gap between the two POSTs ${gap} ms`);
      // Behavioural: the API's 1 s was honoured (not the 250–500 ms backoff). Slack for timers.
      assert.ok(gap >= 900, `second attempt ${gap} ms after the first; Retry-After asked for 1000`);
      assert.ok(gap < 3000, `second attempt ${gap} ms after the first`);
      assert.equal(result.value.status, 'ended');
    },
  },
  {
    name: '503 with Retry-After: 30, timeoutMs 5000 (wait does not fit)',
    faults: [{ status: 503, headers: { 'Retry-After': '30' }, times: 10 }],
    options: { timeoutMs: 5000 },
    expect: { kind: 'http', status: 503, posts: 1, preflights: 1, attempts: 1, tracked: true },
    check: ({ result }) => {
      // Settled at once, well before the 5 s budget: it neither slept nor waited out the budget.
      assert.ok(result.elapsedMs < 2500, `settled after ${result.elapsedMs.toFixed(0)} ms`);
      assert.doesNotMatch(result.error.message, /attempts\)/);
    },
  },
  {
    name: '429 once, then 200',
    faults: [{ status: 429, times: 1 }],
    expect: { ok: true, posts: 2, preflights: 2, attempts: 2, tracked: false },
    check: ({ records }) => assert.deepEqual(records.map((r) => r.status), [429, 200]),
  },
  {
    name: '429 every attempt, retries 1',
    faults: [{ status: 429, times: 10 }],
    options: { retries: 1 },
    expect: { kind: 'http', status: 429, posts: 2, preflights: 2, attempts: 2, tracked: true },
    check: ({ result }) => assert.match(result.error.message, /\(2 attempts\)/),
  },
  {
    name: '401 wrong token',
    token: 'wrong',
    expect: { kind: 'http', status: 401, posts: 1, preflights: 1, attempts: 1, tracked: false, auth: 'wrong' },
  },
  {
    name: '403 (fault)',
    faults: [{ status: 403, times: 10 }],
    expect: { kind: 'http', status: 403, posts: 1, preflights: 1, attempts: 1, tracked: false },
  },
  {
    name: '404 unknown call id',
    call: () => `call_unknown_${hex()}`,
    expect: { kind: 'http', status: 404, posts: 1, preflights: 1, attempts: 1, tracked: false, auth: 'wrong' },
  },
  {
    name: '422 (fault, spec body)',
    faults: [{ status: 422, body: JSON.stringify({ detail: SPEC_422 }), times: 10 }],
    expect: { kind: 'validation', status: 422, detail: SPEC_422, posts: 1, preflights: 1, attempts: 1, tracked: false },
  },
  {
    name: '422 id outside [A-Za-z0-9_-] ("bad id/…")',
    call: () => `bad id/${hex()}`,
    expect: { kind: 'validation', status: 422, detail: STANDIN_422, posts: 1, preflights: 1, attempts: 1, tracked: false, auth: 'wrong' },
    check: ({ records, callId }) => {
      // What the library sent: the id percent-encoded as one segment, decoded intact.
      assert.match(records[0].rawPath, /^\/api\/v1\/calls\/bad%20id%2F[0-9a-f]+\/end$/);
      assert.equal(records[0].callId, callId);
    },
  },
  {
    name: '200, malformed JSON',
    faults: [{ status: 200, body: '{"call_id": "x", "status": ', times: 10 }],
    expect: { kind: 'invalid-response', status: 200, posts: 1, preflights: 1, attempts: 1, tracked: false },
    check: ({ result }) => assert.match(result.error.message, /not JSON/),
  },
  {
    name: '200, missing fields',
    faults: [{ status: 200, body: (id) => JSON.stringify({ call_id: id, status: 'ended' }), times: 10 }],
    expect: { kind: 'invalid-response', status: 200, posts: 1, preflights: 1, attempts: 1, tracked: false },
    check: ({ result }) => assert.match(result.error.message, /ended_at is missing/),
  },
  {
    name: '200, wrong types',
    faults: [
      {
        status: 200,
        body: (id) =>
          JSON.stringify({ call_id: id, status: 'ended', ended_at: '2026-11-24T04:00:00Z', actual_duration_seconds: '12', credits_used: 0.2 }),
        times: 10,
      },
    ],
    expect: { kind: 'invalid-response', status: 200, posts: 1, preflights: 1, attempts: 1, tracked: false },
    check: ({ result }) => assert.match(result.error.message, /actual_duration_seconds is not a number/),
  },
  {
    name: 'connection refused, retries 2 (default)',
    base: 'closed',
    expect: { kind: 'network', posts: 0, preflights: 0, attempts: 3, tracked: true },
    check: ({ result }) => {
      assert.equal(result.error.status, undefined);
      assert.equal(result.error.hasCause, true, 'the network error keeps its cause');
      assert.ok(result.attempts.every((a) => a.settled === 'rejected TypeError'), JSON.stringify(result.attempts));
      assert.match(result.error.message, /\(3 attempts\)/);
    },
  },
  {
    name: 'connection refused, retries 0',
    base: 'closed',
    options: { retries: 0 },
    expect: { kind: 'network', posts: 0, preflights: 0, attempts: 1, tracked: true },
  },
  {
    name: 'preflight refused, retries 2 (default)',
    faults: [{ preflight: true, times: 10 }],
    expect: { kind: 'network', posts: 0, preflights: 3, attempts: 3, tracked: true },
    check: ({ preflights }) => assert.ok(preflights.every((p) => p.refused), 'every preflight was the refused one'),
  },
  {
    name: 'preflight refused, retries 0',
    faults: [{ preflight: true, times: 10 }],
    options: { retries: 0 },
    expect: { kind: 'network', posts: 0, preflights: 1, attempts: 1, tracked: true },
  },
];

/** What each row observed, for the final table and the late-request check. */
const observed = [];

for (const row of ROWS) {
  test(`fault: ${row.name}`, async (t) => {
    const { expect } = row;
    const minted = row.call ? null : standin.state.mintCall();
    const callId = minted ? minted.call_id : row.call();
    const endToken = row.token === 'wrong' || !minted ? `et_wrong_${hex(16)}` : minted.end_token;
    const base = row.base === 'closed' ? closedBase : standin.url;
    for (const fault of row.faults ?? []) {
      const body = typeof fault.body === 'function' ? fault.body(callId) : fault.body;
      standin.state.addFault({ ...fault, body, callId });
    }

    const { page, pageErrors } = await openPage();
    try {
      const result = await page.evaluate((args) => window.row(args), {
        callId,
        endToken,
        baseUrl: row.base === 'closed' ? closedBase : undefined,
        track: row.track !== false,
        options: row.track === false ? { ...row.options, endToken } : row.options,
      });
      const records = standin.state.records({ callId }).sort((a, b) => a.seq - b.seq);
      const preflights = standin.state.preflights({ callId });
      observed.push({
        row: row.name,
        callId,
        outcome: result.ok ? 'resolved' : result.error.kind,
        status: result.ok ? 200 : result.error.status ?? '-',
        posts: records.length,
        preflights: preflights.length,
        attempts: result.attempts.length,
        tracked: result.trackedAfter,
        ms: Math.round(result.elapsedMs),
      });
      t.diagnostic(
        `${row.name}: ${result.ok ? 'resolved' : `${result.error.kind} ${result.error.status ?? ''}`} · POSTs ${records.length} · preflights ${preflights.length} · attempts ${result.attempts.length} · tracked ${result.trackedAfter} · ${result.elapsedMs.toFixed(0)} ms`,
      );

      // The outcome.
      if (expect.ok) {
        assert.equal(result.ok, true, `resolves: ${JSON.stringify(result.error)}`);
        assert.deepEqual(Object.keys(result.value).sort(), ['actualDurationSeconds', 'callId', 'creditsUsed', 'endedAt', 'status']);
        assert.equal(result.value.callId, callId);
      } else {
        assert.equal(result.ok, false, `rejects: ${JSON.stringify(result.value)}`);
        assert.equal(result.error.isEndCallError, true, 'an EndCallError');
        assert.equal(result.error.kind, expect.kind, result.error.message);
        assert.equal(result.error.status, expect.status, `status (${result.error.message})`);
        if (expect.kind === 'validation') assert.deepEqual(result.error.detail, expect.detail);
        else assert.equal(result.error.detail, undefined, 'detail only for 422');
        assert.ok(!result.error.message.includes(endToken), 'no token in the message');
      }
      assert.equal(result.trackedAfter, expect.tracked, expect.tracked ? 'stays tracked (re-armed)' : 'forgotten');

      // Exact counts.
      assert.equal(records.length, expect.posts, `POSTs: ${JSON.stringify(records.map((r) => r.status))}`);
      assert.equal(preflights.length, expect.preflights, 'preflights');
      assert.equal(result.attempts.length, expect.attempts, 'attempts issued by the page');
      const retries = row.options?.retries ?? 2;
      assert.ok(result.attempts.length <= retries + 1, 'never more than retries + 1 attempts');

      // Every attempt is the same request.
      const url = `${base}${endPath(callId)}`;
      for (const attempt of result.attempts) {
        assert.equal(attempt.url, url);
        assert.equal(attempt.method, 'POST');
        assert.equal(attempt.authorization, `Bearer ${endToken}`);
        assert.equal(attempt.keepalive, true);
        assert.equal(attempt.credentials, 'omit');
        assert.equal(attempt.hasSignal, true, 'abortable (timeoutMs)');
      }
      for (const record of records) {
        assert.equal(record.method, 'POST');
        assert.equal(record.rawPath, endPath(callId));
        assert.equal(record.query, null);
        assert.equal(record.callId, callId);
        assert.equal(record.auth, expect.auth ?? 'valid', 'the same bearer');
        assert.equal(record.cookie, false, 'no cookies');
        assert.equal(record.origin, pages.url);
      }
      for (const preflight of preflights) {
        assert.equal(preflight.path, endPath(callId));
        assert.equal(preflight.requestMethod, 'POST');
        assert.match(preflight.requestHeaders ?? '', /authorization/);
      }

      // Attempt discipline: every request but the last was answered with a retryable error, so
      // no more requests than error answers plus one success.
      const errorAnswers = records.filter((r) => r.status !== null && (r.status < 200 || r.status >= 300)).length;
      const successes = records.filter((r) => r.status >= 200 && r.status < 300).length;
      assert.ok(successes <= 1, 'at most one success');
      assert.ok(records.length <= errorAnswers + 1, `records ${records.length} ≤ error answers ${errorAnswers} + 1`);
      for (const record of records.slice(0, -1)) {
        assert.ok(record.status === 429 || record.status >= 500, `only 429/5xx are retried (got ${record.status})`);
      }

      await row.check?.({ result, records, preflights, callId, t });

      assert.deepEqual(result.unhandled, [], 'no unhandled rejection in the page');
      assert.deepEqual(pageErrors, [], 'no uncaught error in the page');
    } finally {
      // Withdraw a re-armed call (and its deferred request) so closing the page sends nothing.
      await page.evaluate((id) => window.lib.untrackCall(id), callId).catch(() => {});
      await page.close();
    }
  });
}

test('a cookie set by the page is in scope for the API (control for "no cookies")', async () => {
  const { page } = await openPage();
  try {
    const id = `cookie_control_${hex()}`;
    // A simple CORS request (no preflight) with credentials: it reaches the stand-in with the
    // page's cookie, so `cookie === false` above means credentials: 'omit' kept it off.
    await page.evaluate((url) => fetch(url, { method: 'POST', credentials: 'include' }).catch(() => null), `${standin.url}${endPath(id)}`);
    const records = standin.state.records({ callId: id });
    assert.equal(records.length, 1);
    assert.equal(records[0].cookie, true);
  } finally {
    await page.close();
  }
});

test('nothing arrives late for any row; the observed table', async (t) => {
  // Nothing more is expected: give a late retry or page-leave send its quiet period.
  await settledRecords(standin, { atLeast: 0 });
  // The timed-out request: the browser must let go of its connection. The page-side fetch was
  // aborted at 1500 ms, but Chromium keeps a keepalive request going after an abort until its
  // own keepalive limit (30 s); allow that much, and report when it happened.
  assert.ok(hungCall, 'the hanging row ran');
  const closedAt = await waitFor(
    () => standin.state.records({ callId: hungCall.callId })[0].closedAt,
    "the aborted request's connection to close (40 s after it arrived)",
    { timeoutMs: Math.max(0, hungCall.receivedAt + 40000 - Date.now()) },
  );
  const heldMs = closedAt - hungCall.receivedAt;
  t.diagnostic(`timed-out request (timeoutMs 1500): its connection closed ${heldMs} ms after it arrived`);
  for (const row of observed) {
    assert.equal(standin.state.records({ callId: row.callId }).length, row.posts, `${row.row}: no late POST`);
    assert.equal(standin.state.preflights({ callId: row.callId }).length, row.preflights, `${row.row}: no late preflight`);
  }
  assert.equal(observed.length, ROWS.length, 'every row ran');
  const header = ['row', 'outcome', 'status', 'POSTs', 'preflights', 'attempts', 'tracked', 'ms'];
  const lines = [header, ...observed.map((o) => [o.row, o.outcome, o.status, o.posts, o.preflights, o.attempts, o.tracked, o.ms])].map((cells) =>
    cells.map(String),
  );
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const line of lines) t.diagnostic(line.map((cell, i) => cell.padEnd(widths[i])).join(' | '));
});
