// The page-side IO of the library, as the Rust side (src/) decides it: the relay beacons of an
// unload, sent by a plain `pagehide` listener before anything else runs (first, below); then,
// in sections, the end request's shape and its time budget, what a leave and an answer say,
// promises, and the page (window, origin, listeners, timers, console). Nothing here decides
// what is sent or when, and nothing here throws into the wasm: what may throw comes back as a
// value ([ok, value] pairs, or the error).
// (One file for all, not one each: the wasm-bindgen test runner's page load stalled now and
// then — 1 run in 2, measured over 12 — with a fourth snippet file for it to serve.)
//
// The relay beacons: src/page.rs decides which calls they are for (every armed call that no
// fetchLater holds, while a relay is set: what an online unload sends) and publishes them
// here, with their bodies built ahead of time, whenever its state changes.
//
// Why a plain listener of its own: in a closing Firefox tab the library's beacon was mostly
// lost when its own (wasm) listener sent it (bench:delivery, Firefox tab close / context
// close, N=20: 4/20 and 4/20 — also with the body built at track time and the beacon the
// first thing that listener did: 4/20 and 6/20), while a plain page beaconing first got
// 20/20. From this listener: 20/20 and 20/20. (With this listener present but idle and the
// library's listener beaconing through `beacon` below: 19/20 and 16/20 — so the order is not
// the whole story; Firefox's mechanism is not understood. This is the variant measured best.)
// This listener is added when this module is evaluated (when the package is imported), in the
// capture phase, so it runs before the library's own `pagehide` listener, which `init()` adds
// later and which then takes the calls sent here as sent (and fetches those whose beacon was
// refused).

let relayUrl = null;
let pending = [];
// Whether the published calls have orphan-recovery records (js/locks.js) to delete.
let recorded = false;
let sent = [];
let refused = [];

// Queue `body` for `url`; whether the browser took it (it refuses past its beacon quota, and
// throws where there is no sendBeacon).
export function beacon(url, body) {
  try {
    return globalThis.navigator.sendBeacon(url, body) === true;
  } catch {
    return false;
  }
}

// What an unload sends now: the relay URL (or null) and the calls as [callId, endToken, ...],
// whose bodies are built here and now, so that the listener only sends; `withRecords`:
// whether those calls have recovery records (src/page.rs: while `recover` is on).
export function publishBeacons(url, calls, withRecords) {
  relayUrl = url;
  pending = calls.map(([id, token]) => [id, relayBody(id, token)]);
  recorded = withRecords;
}

// The key of a call's orphan-recovery record: the twin of js/locks.js's PREFIX (the shell's
// files import nothing from each other; tests/recover.test.mjs's "deferred off, relay, another
// tab open" test fails if the two differ).
const RECORD = 'voice-end-call:live:v1:';

// What the unload being handled beaconed: callId → true (queued) or false (refused).
let taken = new Map();

// Take the calls of the last unload (sent and refused), for `beaconed`, and forget them here;
// whether there were any.
export function takeBeaconed() {
  taken = new Map([...sent.map((id) => [id, true]), ...refused.map((id) => [id, false])]);
  sent = [];
  refused = [];
  return taken.size > 0;
}

// For a call of the unload taken last: 0 no beacon, 1 queued, 2 refused.
export function beaconed(callId) {
  const queued = taken.get(callId);
  return queued === undefined ? 0 : queued ? 1 : 2;
}

function onPageHide(event) {
  if (event.persisted || !relayUrl || globalThis.navigator.onLine === false) return;
  const calls = pending;
  pending = [];
  for (const [id, body] of calls) {
    // Its recovery record goes first: one left behind by a page that beaconed makes another
    // tab of the origin end the call a second time (seen once in the e2e suite: Firefox,
    // relay, "Leave page?" accepted). Deleted first, a page stopped in between loses the end
    // instead, as on every other path ("deleted before anything is sent"). Storage denied:
    // there is no record either.
    try {
      if (recorded) localStorage.removeItem(RECORD + id);
    } catch {}
    // Counted as sent before the call: a closing Firefox tab can stop this script inside
    // sendBeacon, uncatchably, after the beacon was queued (measured: it arrived, and the
    // library's listener, which still ran, sent it again). A refusal takes it back.
    sent.push(id);
    if (!beacon(relayUrl, body)) refused.push(sent.pop());
  }
}

let listening = false;

// Add the listener (once). Called here, at import, and again by the library just before it
// adds its own pagehide listener, in case a bundler dropped this module's top-level call
// (package.json lists this file under sideEffects, so none should).
export function listenForUnload() {
  if (listening || typeof globalThis.addEventListener !== 'function') return;
  listening = true;
  globalThis.addEventListener('pagehide', onPageHide, true);
}

listenForUnload();

// ---- The end request ----
// Rust (src/transport.rs) decides what is sent and when; the request's shape is built and
// issued here, in one place (building objects key by key from wasm costs several times the
// bytes of these lines).

// POST, bearer, no body, never the app's cookies (the token is the only credential), not
// cached.
function request(bearer, signal) {
  const init = { method: 'POST', credentials: 'omit', cache: 'no-store', headers: { Authorization: bearer } };
  if (signal) init.signal = signal;
  return init;
}

// Issue the end request now, with keepalive (it outlives the page: the reason this library
// exists). The global fetch is looked up at call time, so an app's instrumentation sees it;
// whatever a wrapper returns is adopted by a Promise. Throws when fetch throws.
function send(url, bearer, signal) {
  const init = request(bearer, signal);
  init.keepalive = true;
  return Promise.resolve(globalThis.fetch(url, init));
}

// `send`, for the wasm: [true, its promise], or [false, what fetch threw].
export function trySend(url, bearer, signal) {
  return tried(() => send(url, bearer, signal));
}

// Hand the same request to the browser's fetchLater (Chromium 135+, secure contexts):
// [AbortController, FetchLaterResult], or undefined where unsupported or refused.
export function sendLater(url, bearer) {
  try {
    const fetchLater = globalThis.fetchLater;
    if (typeof fetchLater !== 'function') return undefined;
    const controller = new AbortController();
    return [controller, fetchLater.call(globalThis, url, request(bearer, controller.signal))];
  } catch {
    return undefined;
  }
}

// Withdraw a fetchLater request (a no-op once it was sent).
export function withdraw(later) {
  later[0].abort();
}

// Whether the browser has sent a fetchLater request already.
export function activated(later) {
  return later[1]?.activated === true;
}

// ---- What the page says about a leave ----

// Whether a pagehide/pageshow event is about the back/forward cache.
export function persisted(event) {
  return event.persisted === true;
}

// Whether a beforeunload listener asked the browser to confirm the leave: preventDefault(), a
// non-empty returnValue (or one returned from onbeforeunload), or the legacy
// `returnValue = false` (a synthetic Event's returnValue is a boolean).
export function cancelled(event) {
  if (event.defaultPrevented) return true;
  const value = event.returnValue;
  return typeof value === 'string' ? value !== '' : value === false;
}

// navigator.onLine === false: the browser knows it has no network (true proves nothing).
export function offline() {
  return globalThis.navigator?.onLine === false;
}

// The relay's beacon body: {"callId", "endToken"} as JSON text (a beacon cannot carry
// Authorization; the relay adds it).
export function relayBody(callId, endToken) {
  return JSON.stringify({ callId, endToken });
}

// ---- The time budget of a manual end ----

// One abort timer of `ms` whose signal every attempt of an end carries: [true, {signal,
// timedOut(), remaining() (ms), stop()}], or [false, the error] where AbortController or
// setTimeout is missing.
export function budget(ms) {
  return tried(() => startBudget(ms));
}

function startBudget(ms) {
  const controller = new AbortController();
  const deadline = Date.now() + ms;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, ms);
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    remaining: () => deadline - Date.now(),
    stop: () => clearTimeout(timer),
  };
}

// ---- Reading an answer ----
// Rust (src/transport.rs) decides what an answer means for the call (retry, re-arm, which
// error); here the answer is read: its status, its body, the spec's fields.

// What one attempt of an end came to, once the body that carries the verdict is read. Never
// rejects; one of:
//   [0, status, response]    a 2xx whose body is an EndCallResponse (in camelCase)
//   [1, status, detail]      a 422: the body's `detail` array ([] when not the spec's shape)
//   [2, status, why]         a 2xx whose body is not an EndCallResponse: why not
//   [3, status, retryAfter]  any other status: its Retry-After header, or null
//   [4, 0, cause]            no answer: the request failed (or a fetch wrapper resolved with
//                            something that is no Response)
//   [5, status, cause]       a 2xx or 422 whose body could not be read
export async function outcome(fetched) {
  let status;
  let text;
  try {
    const response = await fetched;
    status = response.status;
    if (typeof status !== 'number') throw new TypeError('fetch resolved with something that is not a Response');
    if (status !== 422 && (status < 200 || status > 299)) return [3, status, response.headers.get('retry-after')];
    text = response.text();
  } catch (cause) {
    return [4, 0, cause];
  }
  let body;
  try {
    body = await text;
  } catch (cause) {
    return [5, status, cause];
  }
  if (typeof body !== 'string') body = '';
  if (status === 422) return [1, status, validationDetail(body)];
  const [ok, value] = endCallResponse(body);
  return [ok ? 0 : 2, status, value];
}

// The spec's fields of an EndCallResponse: [name, what it must be, its camelCase name].
const isText = (value) => typeof value === 'string';
const FIELDS = [
  ['call_id', isText, 'a string', 'callId'],
  ['status', isText, 'a string', 'status'],
  ['ended_at', (value) => isText(value) && isDateTime(value), 'an ISO 8601 date-time string', 'endedAt'],
  ['actual_duration_seconds', Number.isFinite, 'a number', 'actualDurationSeconds'],
  ['credits_used', Number.isFinite, 'a number', 'creditsUsed'],
];

// A 2xx body: [true, {callId, status, endedAt, actualDurationSeconds, creditsUsed}], or
// [false, why not] naming the first field that is wrong.
export function endCallResponse(body) {
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [false, 'it is not JSON'];
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return [false, 'it is not a JSON object'];
  const response = {};
  for (const [name, check, expected, camel] of FIELDS) {
    const value = parsed[name];
    if (!check(value)) return [false, `${name} ${value === undefined ? 'is missing' : `is not ${expected}`}`];
    response[camel] = value;
  }
  return [true, response];
}

// RFC 3339 / ISO 8601 date-time: YYYY-MM-DDTHH:MM:SS[.frac][Z|±HH:MM], fields in range. The
// offset is optional because Python servers serialize naive datetimes without one; refusing
// those would report a call that did end as a failure.
export function isDateTime(text) {
  return /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)?$/.test(text);
}

// A 422 body's detail array, or [] when the body is not the spec's shape.
function validationDetail(body) {
  try {
    const detail = JSON.parse(body)?.detail;
    return Array.isArray(detail) ? detail : [];
  } catch {
    return [];
  }
}

// ---- Promises ----

// A new promise with its resolve and reject: [promise, resolve, reject].
export function promiseWithResolvers() {
  let resolve;
  let reject;
  const promise = new Promise((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return [promise, resolve, reject];
}

// Keep a promise nobody awaits from surfacing as an unhandled rejection.
export function ignore(promise) {
  promise.catch(() => {});
}

// Calls `then([true, value])` or `then([false, reason])` once, in a later microtask.
export function whenSettled(promise, then) {
  promise.then(
    (value) => then([true, value]),
    (reason) => then([false, reason]),
  );
}

// ---- The page ----
// What the wasm calls on the page never throws into it: a failure comes back as a value.

// [true, f()], or [false, what it threw] (js/errors.js has its twin: the shell's files import
// nothing from each other; src/promise.rs's `pair` reads both).
function tried(f) {
  try {
    return [true, f()];
  } catch (error) {
    return [false, error];
  }
}

// Call `f(value)` (a promise's resolve or reject, a callback), whatever it throws.
export function settle(f, value) {
  try {
    f(value);
  } catch {}
}

// Add (`add`) or remove a capture-phase listener: undefined, or what addEventListener threw
// (a host page may have patched it).
export function listen(target, kind, listener, add) {
  try {
    if (add) target.addEventListener(kind, listener, true);
    else target.removeEventListener(kind, listener, true);
  } catch (error) {
    return error ?? null;
  }
  return undefined;
}

// setTimeout(f, ms): its handle, or undefined where timers are unavailable (it threw).
export function later(f, ms) {
  try {
    return setTimeout(f, ms);
  } catch {
    return undefined;
  }
}

// clearTimeout(handle).
export function cancelLater(handle) {
  try {
    clearTimeout(handle);
  } catch {}
}

// console.warn(message); a host page may make console methods throw.
export function warn(message) {
  try {
    console.warn(message);
  } catch {}
}


// The window whose pagehide ends calls; undefined in Node and workers.
export function pageWindow() {
  return typeof window === 'object' && window !== null ? window : undefined;
}

// location.origin in lowercase; undefined where there is none.
export function pageOrigin() {
  const origin = globalThis.location?.origin;
  return typeof origin === 'string' ? origin.toLowerCase() : undefined;
}
