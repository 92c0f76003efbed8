// The page of tests/faults.test.mjs. Query parameter: api=<stand-in base URL>.
// Before the package is touched it
//   - sets a first-party cookie (in scope for the stand-in: same host, another port), so
//     "no cookie on any end request" means something;
//   - wraps window.fetch with a spy that notes every end request attempt (URL, method, bearer,
//     keepalive, credentials) and how its promise settled, since a refused connection or a
//     refused preflight reaches no server;
//   - collects unhandled rejections.
// Exposes the package as window.lib and window.row(...) (one fault-matrix row); sets
// window.ready once init() and configure() are done.
import init, * as lib from '/dist/index.js';

const query = new URLSearchParams(location.search);

document.cookie = 'session=faults-s3cret; path=/';

window.unhandled = [];
addEventListener('unhandledrejection', (event) => {
  const reason = event.reason;
  window.unhandled.push(String(reason?.stack ?? reason?.message ?? reason));
});

window.attempts = [];
const originalFetch = window.fetch;
window.fetch = function spiedFetch(url, init) {
  const text = String(url instanceof Request ? url.url : url);
  if (!text.includes('/api/v1/calls/')) return originalFetch.apply(this, arguments);
  const headers = new Headers(init?.headers ?? undefined);
  const attempt = {
    url: text,
    method: init?.method ?? 'GET',
    authorization: headers.get('authorization'),
    keepalive: init?.keepalive === true,
    credentials: init?.credentials ?? null,
    hasSignal: init?.signal instanceof AbortSignal,
    at: performance.now(),
    settled: null,
    settledAt: null,
  };
  window.attempts.push(attempt);
  const promise = originalFetch.apply(this, arguments);
  promise.then(
    (response) => {
      attempt.settled = `response ${response.status}`;
      attempt.settledAt = performance.now();
    },
    (error) => {
      attempt.settled = `rejected ${error?.name ?? 'error'}`;
      attempt.settledAt = performance.now();
    },
  );
  return promise;
};

window.lib = lib;

/**
 * One fault-matrix row: optionally track the call, end it with `options`, and report the
 * outcome, whether the call is tracked afterwards, this call's fetch attempts and the
 * unhandled rejections seen so far (after a short pause, so a late one is counted).
 */
window.row = async function row({ callId, endToken, baseUrl, track = true, options }) {
  if (track) lib.trackCall(baseUrl === undefined ? { callId, endToken } : { callId, endToken, baseUrl });
  const t0 = performance.now();
  let outcome;
  try {
    const value = await lib.endCall(callId, options);
    outcome = { ok: true, value };
  } catch (error) {
    outcome = {
      ok: false,
      error: {
        isEndCallError: error instanceof lib.EndCallError,
        kind: error?.kind,
        status: error?.status,
        detail: error?.detail,
        message: error?.message,
        hasCause: error?.cause !== undefined,
      },
    };
  }
  const elapsedMs = performance.now() - t0;
  const trackedAfter = lib.trackedCalls().includes(callId);
  await new Promise((resolve) => setTimeout(resolve, 100));
  return {
    ...outcome,
    elapsedMs,
    trackedAfter,
    attempts: window.attempts.filter((a) => a.at >= t0),
    unhandled: window.unhandled.slice(),
  };
};

await init();
lib.configure({ baseUrl: query.get('api') });
document.getElementById('status').textContent = 'ready';
window.ready = true;
