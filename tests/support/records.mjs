// Waiting in the node suites: one `sleep`, one `waitFor` (poll a condition with a deadline that
// fails with a clear message) and one `settledRecords` (the stand-in's end requests once the
// expected ones arrived and a late duplicate had its chance).
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const POLL_MS = 25;

/**
 * Poll `check` (sync or async) until it returns a truthy value, and return that value. Throws
 * "timed out after N ms waiting for <what>" once `timeoutMs` has passed (`what`: a string, or
 * a function giving one then, e.g. with what was seen instead).
 */
export async function waitFor(check, what, { timeoutMs = 5000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(POLL_MS);
  }
}

// How long the API may take to see an end request after the page left: a keepalive POST and
// its CORS preflight on loopback take tens of ms; a loaded 2-core CI machine, seconds.
const ARRIVAL_MS = 5000;

// The quiet period after the expected requests arrived (or, when none is expected, after the
// leave), so that a late duplicate — or a stray request — is seen before the test counts. The
// duplicates the suites guard against leave in the same page-leave as the first end
// (beforeunload and pagehide both sending, fetchLater plus keepalive) or on a retry after the
// first backoff (250 ms, half jittered); each waits for the stand-in's preflight delay like the
// first. So: that delay (added by settledRecords) + 250 ms backoff + room for a loaded
// machine's scheduling = 1000 ms.
export const LATE_DUPLICATE_MS = 1000;

/** The quiet period for this stand-in: LATE_DUPLICATE_MS plus its preflight delay (read from
 *  its configuration, which configure({}) returns unchanged). */
const quietMs = (standin) => LATE_DUPLICATE_MS + standin.state.configure({}).preflightDelayMs;

/**
 * The stand-in's end requests for `callIds` (all requests when omitted), once settled: waits up
 * to `arrivalMs` until `atLeast` have arrived for each id (or `atLeast` in all when no ids),
 * then the quiet period (see LATE_DUPLICATE_MS) more. If they do not arrive in time, returns what did (the caller's count
 * assertion says what is missing; measured cells count it as not delivered). `since` skips the
 * first records (a mark taken with `standin.state.records().length`).
 * @returns {Promise<object[]>} the records, in arrival order
 */
export async function settledRecords(standin, { callIds, atLeast = 1, since = 0, arrivalMs = ARRIVAL_MS } = {}) {
  const read = () => {
    const all = standin.state.records().slice(since);
    return callIds ? all.filter((r) => callIds.includes(r.callId)) : all;
  };
  const arrived = (records) =>
    callIds ? callIds.every((id) => records.filter((r) => r.callId === id).length >= atLeast) : records.length >= atLeast;
  const deadline = Date.now() + arrivalMs;
  while (!arrived(read()) && Date.now() < deadline) await sleep(POLL_MS);
  await sleep(quietMs(standin));
  return read();
}
