//! What every wasm-bindgen suite (tests/web_*.rs) shares: a page harness installed before any
//! test runs, and the helpers that drive it. Included with `#[path = "support/web.rs"] mod web;`.
//!
//! The harness makes waiting a matter of conditions, not clocks:
//! - every `fetch` (the library looks it up at call time) is recorded with its promise, so
//!   "what was sent" is a synchronous count and [`settle`] can await every request's answer;
//! - `setTimeout` is a test clock: a delay of 0 runs as usual (and [`settle`] waits for it);
//!   any longer delay (retry waits, the manual end's time budget) is held until the test fires
//!   it with [`fire_next_timer`], so no test sleeps through a `Retry-After`;
//! - `addEventListener`/`removeEventListener` on `window` and `document` are counted from the
//!   start, so a listener count of 0 means none, not "none since the counter was installed".
//!
//! Every test starts with [`fresh`], which puts the library and the page back to the same
//! state, so a suite does not depend on the order its tests run in.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use voice_end_call::api::{configure, started, track_call, tracked_calls, untrack_call};

#[wasm_bindgen(inline_js = r#"
// ---- Installed when this module loads, before the library or any test runs. ----
const realFetch = globalThis.fetch;
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realAdd = EventTarget.prototype.addEventListener;
const realRemove = EventTarget.prototype.removeEventListener;
const task = () => new Promise((resolve) => realSetTimeout(resolve, 0));

// Every fetch, with a promise that settles once its answer (body included) has arrived.
const requests = [];
globalThis.fetch = function (url, init) {
  const entry = { url: String(url), init, settled: false, done: null };
  requests.push(entry);
  let promise;
  try {
    promise = realFetch.call(globalThis, url, init);
  } catch (error) {
    entry.settled = true;
    throw error;
  }
  const mark = () => { entry.settled = true; };
  entry.done = promise.then((response) => response.clone().arrayBuffer()).then(mark, mark);
  return promise;
};
export function requestMark() { return requests.length; }
export function requestsSince(mark) { return requests.slice(mark).map(({ url, init }) => ({ url, init })); }

let laterCalls = [];
if (typeof globalThis.fetchLater === 'function') {
  const realLater = globalThis.fetchLater;
  globalThis.fetchLater = function (url, init) {
    laterCalls.push({ url: String(url), init });
    return realLater.call(globalThis, url, init);
  };
}
export function hasFetchLater() { return typeof globalThis.fetchLater === 'function'; }
export function laterMark() { return laterCalls.length; }
export function laterSince(mark) { return laterCalls.slice(mark); }

// Every navigator.sendBeacon (the relay path), passed on to the real one unless a test
// makes the browser refuse it.
const beacons = [];
let refuseBeacons = false;
const realBeacon = navigator.sendBeacon?.bind(navigator);
navigator.sendBeacon = function (url, data) {
  beacons.push({ url: new URL(String(url), location.href).href, body: String(data) });
  return refuseBeacons ? false : realBeacon(url, data);
};
export function beaconMark() { return beacons.length; }
export function beaconsSince(mark) { return beacons.slice(mark); }
export function setRefuseBeacons(on) { refuseBeacons = on; }

// Orphan recovery: another page of this origin, as far as locks and storage can tell.
const RECORD = 'voice-end-call:live:v1:';
export function recordOf(id) { return localStorage.getItem(RECORD + id); }
export function recordKeys() { return Object.keys(localStorage).filter((k) => k.startsWith(RECORD)); }
export function clearRecords() { for (const k of recordKeys()) localStorage.removeItem(k); }
// Hold the call's lock as another page would, with its record stored; the returned function
// "kills" that page (lets the lock go, leaving the record) once `keep` is false, or ends the
// call properly (deletes the record first) when `keep` is true.
export async function holdAsOtherPage(id, record) {
  let release;
  const granted = new Promise((resolve) => {
    navigator.locks.request(RECORD + id, () => { resolve(); return new Promise((r) => { release = r; }); });
  });
  await granted;
  if (record !== undefined) localStorage.setItem(RECORD + id, record);
  return (endedProperly) => { if (endedProperly) localStorage.removeItem(RECORD + id); release(); };
}
export async function lockState(id) {
  const { held = [], pending = [] } = await navigator.locks.query();
  const name = RECORD + id;
  return { held: held.filter((l) => l.name === name).length, pending: pending.filter((l) => l.name === name).length };
}
// Until nobody holds or waits on the call's lock (a watcher finished with it).
export async function untilLockFree(id) {
  const deadline = performance.now() + 10000;
  for (;;) {
    const { held, pending } = await lockState(id);
    if (held === 0 && pending === 0) return;
    if (performance.now() > deadline) throw new Error(`untilLockFree: ${held} held, ${pending} waiting after 10 s`);
    await task();
  }
}
export async function untilLockState(id, held, pending) {
  const deadline = performance.now() + 10000;
  for (;;) {
    const now = await lockState(id);
    if (now.held === held && now.pending === pending) return;
    if (performance.now() > deadline) throw new Error(`untilLockState: ${now.held} held, ${now.pending} waiting after 10 s`);
    await task();
  }
}
// Until the call's record is stored (its page was granted the lock).
export async function untilRecordStored(id) {
  const deadline = performance.now() + 10000;
  while (localStorage.getItem(RECORD + id) === null) {
    if (performance.now() > deadline) throw new Error('untilRecordStored: no record after 10 s');
    await task();
  }
}
// Until `count` timers of more than 0 ms are held.
export async function untilHeldTimers(count) {
  const deadline = performance.now() + 10000;
  while (held.size < count) {
    if (performance.now() > deadline) throw new Error(`untilHeldTimers: ${held.size} of ${count} after 10 s`);
    await task();
  }
}
// Until `count` more fetches than `mark` were issued.
export async function untilRequests(mark, count) {
  const deadline = performance.now() + 10000;
  while (requests.length - mark < count) {
    if (performance.now() > deadline) throw new Error(`untilRequests: ${requests.length - mark} of ${count} after 10 s`);
    await task();
  }
}

// The test clock. Own ids, so a real timer id never reaches the page's code.
let nextId = 1;
let now = 0;
const immediate = new Map(); // id -> real timer id, for delays of 0
const held = new Map(); // id -> { due, fn, args }, for longer delays
globalThis.setTimeout = function (fn, ms, ...args) {
  const id = nextId++;
  const delay = Number(ms) > 0 ? Number(ms) : 0;
  if (delay > 0) {
    held.set(id, { due: now + delay, delay, fn, args });
  } else {
    immediate.set(id, realSetTimeout(() => { immediate.delete(id); fn(...args); }, 0));
  }
  return id;
};
globalThis.clearTimeout = function (id) {
  if (held.delete(id)) return;
  if (immediate.has(id)) { realClearTimeout(immediate.get(id)); immediate.delete(id); return; }
  realClearTimeout(id);
};
function nextHeld() {
  let best;
  for (const [id, timer] of held) {
    if (!best || timer.due < best[1].due || (timer.due === best[1].due && id < best[0])) best = [id, timer];
  }
  return best;
}
export function heldTimers() { return held.size; }
export function nextTimerDelay() { const next = nextHeld(); return next ? next[1].delay : undefined; }
// Fire the earliest held timer in a task of its own; returns the delay it was set with.
export async function fireNextTimer() {
  const next = nextHeld();
  if (!next) throw new Error('fireNextTimer: no timer is waiting');
  const [id, timer] = next;
  held.delete(id);
  now = timer.due;
  await new Promise((resolve) => realSetTimeout(() => { try { timer.fn(...timer.args); } finally { resolve(); } }, 0));
  return timer.delay;
}

// Quiet: every recorded request answered, no zero-delay timer pending, and nothing new
// started during two further tasks (continuations of the last answer run in those).
export async function settle() {
  const deadline = performance.now() + 10000;
  let quietTasks = 0;
  while (quietTasks < 2) {
    if (performance.now() > deadline) throw new Error('settle: requests or timers still pending after 10 s');
    const before = requests.length;
    const pending = requests.filter((r) => !r.settled && r.done).map((r) => r.done);
    if (pending.length > 0) await Promise.all(pending);
    await task();
    quietTasks = pending.length === 0 && immediate.size === 0 && requests.length === before ? quietTasks + 1 : 0;
  }
}

// Listener bookkeeping on window and document, from the start.
const listeners = [];
const captureOf = (options) => (typeof options === 'boolean' ? options : Boolean(options && options.capture));
EventTarget.prototype.addEventListener = function (type, fn, options) {
  if ((this === window || this === document) && fn) {
    const capture = captureOf(options);
    if (!listeners.some((l) => l.target === this && l.type === type && l.fn === fn && l.capture === capture)) {
      listeners.push({ target: this, type, fn, capture });
    }
  }
  return realAdd.call(this, type, fn, options);
};
EventTarget.prototype.removeEventListener = function (type, fn, options) {
  const capture = captureOf(options);
  const at = listeners.findIndex((l) => l.target === this && l.type === type && l.fn === fn && l.capture === capture);
  if (at >= 0) listeners.splice(at, 1);
  return realRemove.call(this, type, fn, options);
};
export function listenerCount(type) { return listeners.filter((l) => l.type === type).length; }
export function captureListenerCount(type) { return listeners.filter((l) => l.type === type && l.capture).length; }
// A host app's listener that stops every later listener, added past our counter.
export function addHostStopper(type) {
  const fn = (e) => e.stopImmediatePropagation();
  realAdd.call(window, type, fn);
  return () => realRemove.call(window, type, fn);
}

// ---- Page events. ----
export function dispatch(type) {
  const event = new Event(type, { cancelable: true });
  window.dispatchEvent(event);
  return event;
}
export function dispatchTransition(type, persisted) {
  const event = new Event(type);
  Object.defineProperty(event, 'persisted', { value: persisted });
  window.dispatchEvent(event);
}
// The tab really looks hidden (document.visibilityState and document.hidden), and the events
// fire where browsers fire them: visibilitychange and freeze on document (bubbling to window).
export function hideAndFreeze() {
  Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true });
  Object.defineProperty(document, 'hidden', { get: () => true, configurable: true });
  document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  document.dispatchEvent(new Event('freeze', { bubbles: true }));
  window.dispatchEvent(new Event('blur'));
  return document.visibilityState;
}
export function showAgain() {
  delete document.visibilityState;
  delete document.hidden;
  document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  document.dispatchEvent(new Event('resume', { bubbles: true }));
}
// A host app's "Leave page?" listener, added past our counter like any app code would be.
export function addLeaveConfirmation() {
  const fn = (e) => { e.preventDefault(); e.returnValue = 'unsaved'; };
  realAdd.call(window, 'beforeunload', fn);
  return () => realRemove.call(window, 'beforeunload', fn);
}

// ---- onCallEnded listeners. ----
// A host page's own pagehide listener as an app adds it after importing the package and
// before init(): it runs after js/beacon.js's and before the library's own. (Added a
// microtask after this module's evaluation: after the whole module graph's, the package's
// snippets included, and before the first test's init. The tests that use it check the
// order.) It records how many beacons had been sent when it ran, then calls `act` (if any).
let earlyPagehide = null;
Promise.resolve().then(() => {
  realAdd.call(window, 'pagehide', (event) => { if (earlyPagehide) earlyPagehide(event); }, true);
});
export function addHostPagehide(act) {
  const fn = (event) => { fn.seen.push(beacons.length); if (act) act(event); };
  fn.seen = [];
  earlyPagehide = fn;
  return fn;
}
export function seenBeacons(fn) { return fn.seen; }
export function removeHostPagehide(fn) { if (earlyPagehide === fn) earlyPagehide = null; }
export function recorder() {
  const events = [];
  const fn = (event) => { events.push(event); };
  fn.events = events;
  return fn;
}
export function recorded(fn) { return fn.events; }
export async function untilRecorded(fn, count) {
  const deadline = performance.now() + 10000;
  while (fn.events.length < count) {
    if (performance.now() > deadline) throw new Error(`untilRecorded: ${fn.events.length} of ${count} events after 10 s`);
    await task();
  }
}
export function thrower() { return () => { throw new Error('listener bug'); }; }

// ---- The host page misbehaving. ----
let savedLater;
export function replaceFetchLater(mode) {
  savedLater = globalThis.fetchLater;
  if (mode === 'missing') delete globalThis.fetchLater;
  else globalThis.fetchLater = () => { throw new DOMException('quota', 'QuotaExceededError'); };
}
export function restoreFetchLater() { globalThis.fetchLater = savedLater; }
let savedFetch, savedWarn, savedSetTimeout;
// A host page's fetch wrapper: calls `inside(url)` synchronously, and returns `returns`.
export function wrapFetch(inside, returnsPromise) {
  savedFetch = globalThis.fetch;
  globalThis.fetch = function (url, init) {
    inside(String(url));
    const real = savedFetch.call(globalThis, url, init);
    return returnsPromise ? real : undefined;
  };
}
export function unwrapFetch() { globalThis.fetch = savedFetch; }
export function throwingFetch(on) {
  if (on) { savedFetch = globalThis.fetch; globalThis.fetch = () => { throw new TypeError('refused'); }; }
  else globalThis.fetch = savedFetch;
}
export function throwingConsoleWarn(on) {
  if (on) { savedWarn = console.warn; console.warn = () => { throw new Error('no warnings here'); }; }
  else console.warn = savedWarn;
}
// An app's timer wrapper that passes on only the callback and the delay.
export function narrowSetTimeout(on) {
  if (on) { const inner = savedSetTimeout = globalThis.setTimeout; globalThis.setTimeout = (f, ms) => inner(f, ms); }
  else globalThis.setTimeout = savedSetTimeout;
}
// navigator.onLine is what the library reads to know it is offline.
export function fakeOffline(on) {
  if (on) Object.defineProperty(navigator, 'onLine', { get: () => false, configurable: true });
  else delete navigator.onLine;
}
const OUTBOX = 'voice-end-call:outbox:v1';
export function outboxEntries() { return JSON.parse(localStorage.getItem(OUTBOX) ?? '[]'); }
export function setOutbox(entries) { localStorage.setItem(OUTBOX, JSON.stringify(entries)); }
let savedSetItem;
export function breakStorage(on) {
  if (on) {
    savedSetItem = Storage.prototype.setItem;
    Storage.prototype.setItem = () => { throw new DOMException('full', 'QuotaExceededError'); };
  } else Storage.prototype.setItem = savedSetItem;
}
// As in a sandboxed frame or with storage blocked: reading window.localStorage throws.
export function denyStorage(on) {
  if (on) Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('denied', 'SecurityError'); }, configurable: true });
  else delete window.localStorage;
}
export function nullProtoCall(id, token) {
  const call = Object.create(null);
  call.callId = id;
  call.endToken = token;
  return call;
}
export function polluteCallKeys(on, id, token) {
  if (on) { Object.prototype.callId = id; Object.prototype.endToken = token; }
  else { delete Object.prototype.callId; delete Object.prototype.endToken; }
}
export function isEndCallError(e) { return e instanceof Error && e.name === 'EndCallError'; }

// ---- The stand-in API, reached with the real fetch (not recorded as the library's). ----
export async function mintCall(base) {
  const res = await realFetch(base + '/api/v1/connection/connection-details', {
    method: 'POST',
    headers: { Authorization: 'Bearer vk_standin_demo_key', 'content-type': 'application/json' },
    body: '{}',
  });
  if (!res.ok) throw new Error('connection-details: ' + res.status);
  return res.json();
}
export async function endRecords(base, id) {
  const res = await realFetch(base + '/__standin/records?callId=' + encodeURIComponent(id));
  return (await res.json()).records;
}
export async function addFault(base, fault) {
  const res = await realFetch(base + '/__standin/fault', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fault),
  });
  if (!res.ok) throw new Error('fault: ' + res.status);
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = requestMark)]
    pub fn request_mark() -> u32;
    #[wasm_bindgen(js_name = requestsSince)]
    pub fn requests_since(mark: u32) -> Array;
    #[wasm_bindgen(js_name = hasFetchLater)]
    pub fn has_fetch_later() -> bool;
    #[wasm_bindgen(js_name = laterMark)]
    pub fn later_mark() -> u32;
    #[wasm_bindgen(js_name = laterSince)]
    pub fn later_since(mark: u32) -> Array;
    #[wasm_bindgen(js_name = beaconMark)]
    pub fn beacon_mark() -> u32;
    #[wasm_bindgen(js_name = beaconsSince)]
    pub fn beacons_since(mark: u32) -> Array;
    #[wasm_bindgen(js_name = setRefuseBeacons)]
    pub fn set_refuse_beacons(on: bool);
    #[wasm_bindgen(js_name = recordOf)]
    pub fn record_of(id: &str) -> Option<String>;
    #[wasm_bindgen(js_name = recordKeys)]
    pub fn record_keys() -> Array;
    #[wasm_bindgen(js_name = clearRecords)]
    pub fn clear_records();
    #[wasm_bindgen(js_name = holdAsOtherPage)]
    fn hold_as_other_page_js(id: &str, record: JsValue) -> Promise;
    #[wasm_bindgen(js_name = lockState)]
    fn lock_state_js(id: &str) -> Promise;
    #[wasm_bindgen(js_name = untilLockFree)]
    fn until_lock_free_js(id: &str) -> Promise;
    #[wasm_bindgen(js_name = untilLockState)]
    fn until_lock_state_js(id: &str, held: u32, pending: u32) -> Promise;
    #[wasm_bindgen(js_name = untilRecordStored)]
    fn until_record_js(id: &str) -> Promise;
    #[wasm_bindgen(js_name = untilHeldTimers)]
    fn until_held_timers_js(count: u32) -> Promise;
    #[wasm_bindgen(js_name = untilRequests)]
    fn until_requests_js(mark: u32, count: u32) -> Promise;
    #[wasm_bindgen(js_name = captureListenerCount)]
    pub fn capture_listener_count(kind: &str) -> u32;
    #[wasm_bindgen(js_name = addHostStopper)]
    pub fn add_host_stopper(kind: &str) -> Function;
    #[wasm_bindgen(js_name = heldTimers)]
    pub fn held_timers() -> u32;
    #[wasm_bindgen(js_name = nextTimerDelay)]
    pub fn next_timer_delay() -> Option<f64>;
    #[wasm_bindgen(js_name = fireNextTimer)]
    fn fire_next_timer_js() -> Promise;
    #[wasm_bindgen(js_name = settle)]
    fn settle_js() -> Promise;
    #[wasm_bindgen(js_name = listenerCount)]
    pub fn listener_count(kind: &str) -> u32;
    pub fn dispatch(kind: &str) -> JsValue;
    #[wasm_bindgen(js_name = dispatchTransition)]
    pub fn dispatch_transition(kind: &str, persisted: bool);
    #[wasm_bindgen(js_name = hideAndFreeze)]
    pub fn hide_and_freeze() -> String;
    #[wasm_bindgen(js_name = showAgain)]
    pub fn show_again();
    #[wasm_bindgen(js_name = addLeaveConfirmation)]
    pub fn add_leave_confirmation() -> Function;
    #[wasm_bindgen(js_name = addHostPagehide)]
    pub fn add_host_pagehide(act: &JsValue) -> Function;
    #[wasm_bindgen(js_name = seenBeacons)]
    pub fn seen_beacons(listener: &Function) -> Array;
    #[wasm_bindgen(js_name = removeHostPagehide)]
    pub fn remove_host_pagehide(listener: &Function);
    pub fn recorder() -> Function;
    pub fn recorded(listener: &Function) -> Array;
    #[wasm_bindgen(js_name = untilRecorded)]
    fn until_recorded_js(listener: &Function, count: u32) -> Promise;
    pub fn thrower() -> Function;
    #[wasm_bindgen(js_name = replaceFetchLater)]
    pub fn replace_fetch_later(mode: &str);
    #[wasm_bindgen(js_name = restoreFetchLater)]
    pub fn restore_fetch_later();
    #[wasm_bindgen(js_name = wrapFetch)]
    pub fn wrap_fetch(inside: &Function, returns_promise: bool);
    #[wasm_bindgen(js_name = unwrapFetch)]
    pub fn unwrap_fetch();
    #[wasm_bindgen(js_name = throwingFetch)]
    pub fn throwing_fetch(on: bool);
    #[wasm_bindgen(js_name = throwingConsoleWarn)]
    pub fn throwing_console_warn(on: bool);
    #[wasm_bindgen(js_name = narrowSetTimeout)]
    pub fn narrow_set_timeout(on: bool);
    #[wasm_bindgen(js_name = fakeOffline)]
    pub fn fake_offline(on: bool);
    #[wasm_bindgen(js_name = outboxEntries)]
    pub fn outbox_entries() -> Array;
    #[wasm_bindgen(js_name = setOutbox)]
    pub fn set_outbox(entries: &JsValue);
    #[wasm_bindgen(js_name = breakStorage)]
    pub fn break_storage(on: bool);
    #[wasm_bindgen(js_name = denyStorage)]
    pub fn deny_storage(on: bool);
    #[wasm_bindgen(js_name = nullProtoCall)]
    pub fn null_proto_call(id: &str, token: &str) -> JsValue;
    #[wasm_bindgen(js_name = polluteCallKeys)]
    pub fn pollute_call_keys(on: bool, id: &str, token: &str);
    #[wasm_bindgen(js_name = isEndCallError)]
    fn is_end_call_error(value: &JsValue) -> bool;
    #[wasm_bindgen(js_name = mintCall)]
    fn mint_call(base: &str) -> Promise;
    #[wasm_bindgen(js_name = endRecords)]
    fn end_records(base: &str, id: &str) -> Promise;
    #[wasm_bindgen(js_name = addFault)]
    fn add_fault(base: &str, fault: &JsValue) -> Promise;
}

/// The stand-in API's URL, passed at compile time by `scripts/test.sh`.
pub fn standin() -> &'static str {
    match option_env!("STANDIN_URL") {
        Some(url) => url,
        None => panic!("STANDIN_URL must be set at compile time (run npm test)"),
    }
}

/// `value[key]`.
pub fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap()
}

/// `value[key]` as a string ("" if it is not one).
pub fn text(value: &JsValue, key: &str) -> String {
    get(value, key).as_string().unwrap_or_default()
}

/// A plain object of `pairs`.
pub fn js_options(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in pairs {
        Reflect::set(&object, &(*key).into(), value).unwrap();
    }
    object.into()
}

/// A call minted by the stand-in.
pub struct Minted {
    /// `call_id`.
    pub id: String,
    /// `end_token`.
    pub token: String,
}

/// Mint a fresh call.
pub async fn mint() -> Minted {
    let details = JsFuture::from(mint_call(standin())).await.unwrap();
    Minted {
        id: text(&details, "call_id"),
        token: text(&details, "end_token"),
    }
}

/// `trackCall({ callId, endToken })`.
pub fn track(call: &Minted) {
    track_call(js_options(&[
        ("callId", call.id.clone().into()),
        ("endToken", call.token.clone().into()),
    ]))
    .unwrap();
}

/// Point at the stand-in. Deferred sending (fetchLater) is off unless a test is about it:
/// a synthetic pagehide does not destroy the document, so a deferred request would only go
/// out when the test page closes.
pub fn use_standin(before_unload: bool) {
    configure_standin(before_unload, false);
}

/// Point at the stand-in with `beforeUnload` and `deferred` as given.
pub fn configure_standin(before_unload: bool, deferred: bool) {
    configure(js_options(&[
        ("baseUrl", standin().into()),
        ("beforeUnload", before_unload.into()),
        ("deferred", deferred.into()),
    ]))
    .unwrap();
}

/// Wait until the page is quiet: every request answered, every zero-delay timer run. Held
/// timers (delays > 0) stay held.
pub async fn settle() {
    JsFuture::from(settle_js()).await.unwrap();
}

/// The end requests the stand-in received for `id`, once the page is quiet ([`settle`]).
/// Exact: every request the library issued has been answered, so a duplicate is counted.
pub async fn received(id: &str) -> Array {
    settle().await;
    JsFuture::from(end_records(standin(), id))
        .await
        .unwrap()
        .into()
}

/// Fire the earliest held timer (a retry wait, say), then [`settle`]; returns its delay.
pub async fn fire_next_timer() -> f64 {
    let delay = JsFuture::from(fire_next_timer_js()).await.unwrap();
    settle().await;
    delay.as_f64().unwrap()
}

/// Wait until `listener` (a [`recorder`]) has recorded `count` events.
pub async fn until_recorded(listener: &Function, count: u32) {
    JsFuture::from(until_recorded_js(listener, count))
        .await
        .unwrap();
}

/// Make the next `times` ends of `id` fail with `status` (and `Retry-After`, when given).
pub async fn add_status_fault(id: &str, status: u16, times: u32, retry_after: Option<&str>) {
    let headers = match retry_after {
        Some(value) => js_options(&[("Retry-After", value.into())]),
        None => JsValue::UNDEFINED,
    };
    let fault = js_options(&[
        ("callId", id.into()),
        ("status", status.into()),
        ("times", times.into()),
        ("headers", headers),
    ]);
    JsFuture::from(add_fault(standin(), &fault)).await.unwrap();
}

/// Hold `id`'s lock as another page of this origin would, with `record` stored (none if
/// `None`). Call the returned function with `false` to "kill" that page (the lock goes, the
/// record stays) or `true` to end the call properly (record deleted first).
pub async fn hold_as_other_page(id: &str, record: Option<&str>) -> Function {
    let record = record.map_or(JsValue::UNDEFINED, JsValue::from);
    JsFuture::from(hold_as_other_page_js(id, record))
        .await
        .unwrap()
        .into()
}

/// How many hold and how many wait on `id`'s lock.
pub async fn lock_state(id: &str) -> (u32, u32) {
    let state = JsFuture::from(lock_state_js(id)).await.unwrap();
    (
        get(&state, "held").as_f64().unwrap() as u32,
        get(&state, "pending").as_f64().unwrap() as u32,
    )
}

/// Wait until nobody holds or waits on `id`'s lock.
pub async fn until_lock_free(id: &str) {
    JsFuture::from(until_lock_free_js(id)).await.unwrap();
}

/// Wait until `held` hold and `pending` wait on `id`'s lock.
pub async fn until_lock_state(id: &str, held: u32, pending: u32) {
    JsFuture::from(until_lock_state_js(id, held, pending))
        .await
        .unwrap();
}

/// Wait until `id`'s recovery record is stored.
pub async fn until_record(id: &str) {
    JsFuture::from(until_record_js(id)).await.unwrap();
}

/// Wait until `count` timers of more than 0 ms are held (see [`fire_next_timer`]).
pub async fn until_held_timers(count: u32) {
    JsFuture::from(until_held_timers_js(count)).await.unwrap();
}

/// Wait until `count` more fetches than at `mark` were issued.
pub async fn until_requests(mark: u32, count: u32) {
    JsFuture::from(until_requests_js(mark, count))
        .await
        .unwrap();
}

/// The `kind` of an `EndCallError` (fails if `error` is not one).
pub fn kind_of(error: &JsValue) -> String {
    assert!(is_end_call_error(error), "not an EndCallError: {error:?}");
    text(error, "kind")
}

/// The library and the page as a test expects them: nothing of an earlier test still
/// running, no call tracked, the default configuration pointed at the stand-in (orphan
/// recovery off unless a test is about it: it takes a lock per call), an empty outbox, no
/// recovery record, beacons accepted — and then no `beforeunload` or `unload` listener, and
/// at most the one `pagehide` listener that stays once added.
///
/// Every test ends with its ends settled, so a timer still held here is something the
/// library meant to do late: it is fired, and if it sends a request (a delayed duplicate,
/// say) that fails here, in the next test.
pub async fn fresh() {
    settle().await;
    let mark = request_mark();
    for _ in 0..20 {
        if held_timers() == 0 {
            break;
        }
        fire_next_timer().await;
    }
    assert_eq!(held_timers(), 0, "timers keep re-arming");
    assert_eq!(
        requests_since(mark).length(),
        0,
        "a timer left by an earlier test sent a request late"
    );
    for id in tracked_calls().unwrap().iter() {
        untrack_call(id).unwrap();
    }
    configure(js_options(&[
        ("baseUrl", standin().into()),
        ("timeoutMs", JsValue::UNDEFINED),
        ("beforeUnload", JsValue::TRUE),
        ("deferred", JsValue::FALSE),
        ("retries", JsValue::UNDEFINED),
        ("outbox", JsValue::UNDEFINED),
        ("outboxTtlMs", JsValue::UNDEFINED),
        ("relayUrl", JsValue::UNDEFINED),
        ("recover", JsValue::FALSE),
    ]))
    .unwrap();
    set_outbox(&Array::new());
    clear_records();
    set_refuse_beacons(false);
    started(); // as init() does: the pagehide and pageshow listeners, nothing to replay
    settle().await;
    for kind in ["beforeunload", "unload"] {
        assert_eq!(
            listener_count(kind),
            0,
            "{kind} listener with nothing tracked"
        );
    }
    // js/beacon.js's (added when the package is imported) and the library's own.
    assert!(
        listener_count("pagehide") <= 2,
        "two pagehide listeners at most"
    );
}
