//! wasm-bindgen-test suite, run in headless Chromium against the stand-in API (started by
//! `scripts/test.sh`, which passes its URL at compile time as STANDIN_URL).
//!
//! Page-leave events are dispatched synthetically here: what is tested is what our handlers
//! do with them (the request's init, exactly-once, listener bookkeeping). Real closes,
//! navigations and reloads are the e2e suite's job (tests/e2e.test.mjs).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use voice_end_call::api::{
    configure, end_call, on_call_ended, replay_outbox, track_call, tracked_calls, untrack_call,
};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
let calls = [];
let original;
export function spyStart() {
  calls = [];
  original = globalThis.fetch;
  globalThis.fetch = function (url, init) {
    calls.push({ url: String(url), init });
    return original.call(globalThis, url, init);
  };
}
export function spyStop() { if (original) globalThis.fetch = original; original = undefined; }
export function spyCalls() { return calls; }

let deferredCalls = [];
let originalLater;
export function spyLaterStart() {
  deferredCalls = [];
  originalLater = globalThis.fetchLater;
  if (typeof originalLater !== 'function') return false;
  globalThis.fetchLater = function (url, init) {
    deferredCalls.push({ url: String(url), init });
    return originalLater.call(globalThis, url, init);
  };
  return true;
}
export function spyLaterStop() { if (originalLater) globalThis.fetchLater = originalLater; originalLater = undefined; }
export function spyLaterCalls() { return deferredCalls; }
export function dispatchPageHide(persisted) {
  dispatchTransition('pagehide', persisted);
}
export function dispatchTransition(type, persisted) {
  const event = new Event(type);
  Object.defineProperty(event, 'persisted', { value: persisted });
  window.dispatchEvent(event);
}
export function recorder() {
  const events = [];
  const fn = (event) => { events.push(event); };
  fn.events = events;
  return fn;
}
export function recorded(fn) { return fn.events; }
export function thrower() { return () => { throw new Error('listener bug'); }; }
let savedLater;
export function replaceFetchLater(mode) {
  savedLater = globalThis.fetchLater;
  if (mode === 'missing') delete globalThis.fetchLater;
  else globalThis.fetchLater = () => { throw new DOMException('quota', 'QuotaExceededError'); };
}
export function restoreFetchLater() { globalThis.fetchLater = savedLater; }

let savedFetch, savedWarn;
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
export function throwingConsoleWarn(on) {
  if (on) { savedWarn = console.warn; console.warn = () => { throw new Error('no warnings here'); }; }
  else console.warn = savedWarn;
}
export async function addFault(base, callId, status) {
  await fetch(base + '/__standin/fault', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ callId, status, times: 1 }),
  });
}

const active = new Map();
let counting = false;
export function countListeners() {
  if (counting) return;
  counting = true;
  const add = window.addEventListener, remove = window.removeEventListener;
  window.addEventListener = function (type, fn, opts) {
    if (!active.has(type)) active.set(type, new Set());
    active.get(type).add(fn);
    return add.call(this, type, fn, opts);
  };
  window.removeEventListener = function (type, fn, opts) {
    active.get(type)?.delete(fn);
    return remove.call(this, type, fn, opts);
  };
}
export function listenerCount(type) { return active.get(type)?.size ?? 0; }

export async function mintCall(base) {
  const res = await fetch(base + '/api/v1/connection/connection-details', {
    method: 'POST',
    headers: { Authorization: 'Bearer vk_standin_demo_key', 'content-type': 'application/json' },
    body: '{}',
  });
  if (!res.ok) throw new Error('connection-details: ' + res.status);
  return res.json();
}
export async function endRecords(base, id) {
  const res = await fetch(base + '/__standin/records?callId=' + encodeURIComponent(id));
  return (await res.json()).records;
}
export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
export function dispatch(type) {
  const event = new Event(type, { cancelable: true });
  window.dispatchEvent(event);
  return event;
}
// A host app's "Leave page?" listener, added past our counter like any app code would be.
export function addLeaveConfirmation() {
  const fn = (e) => { e.preventDefault(); e.returnValue = 'unsaved'; };
  EventTarget.prototype.addEventListener.call(window, 'beforeunload', fn);
  return () => EventTarget.prototype.removeEventListener.call(window, 'beforeunload', fn);
}
export async function addFaultWith(base, fault) {
  await fetch(base + '/__standin/fault', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fault),
  });
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
export function throwingFetch(on) {
  if (on) { savedFetch = globalThis.fetch; globalThis.fetch = () => { throw new TypeError('refused'); }; }
  else globalThis.fetch = savedFetch;
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
let savedSetTimeout;
// An app's timer wrapper that passes on only the callback and the delay.
export function narrowSetTimeout(on) {
  if (on) { const inner = savedSetTimeout = globalThis.setTimeout; globalThis.setTimeout = (f, ms) => inner(f, ms); }
  else globalThis.setTimeout = savedSetTimeout;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = spyStart)]
    fn spy_start();
    #[wasm_bindgen(js_name = spyStop)]
    fn spy_stop();
    #[wasm_bindgen(js_name = spyCalls)]
    fn spy_calls() -> js_sys::Array;
    #[wasm_bindgen(js_name = spyLaterStart)]
    fn spy_later_start() -> bool;
    #[wasm_bindgen(js_name = spyLaterStop)]
    fn spy_later_stop();
    #[wasm_bindgen(js_name = spyLaterCalls)]
    fn spy_later_calls() -> js_sys::Array;
    #[wasm_bindgen(js_name = dispatchPageHide)]
    fn dispatch_page_hide(persisted: bool);
    #[wasm_bindgen(js_name = dispatchTransition)]
    fn dispatch_transition(kind: &str, persisted: bool);
    fn recorder() -> js_sys::Function;
    fn recorded(listener: &js_sys::Function) -> js_sys::Array;
    fn thrower() -> js_sys::Function;
    #[wasm_bindgen(js_name = replaceFetchLater)]
    fn replace_fetch_later(mode: &str);
    #[wasm_bindgen(js_name = restoreFetchLater)]
    fn restore_fetch_later();
    #[wasm_bindgen(js_name = narrowSetTimeout)]
    fn narrow_set_timeout(on: bool);
    #[wasm_bindgen(js_name = wrapFetch)]
    fn wrap_fetch(inside: &js_sys::Function, returns_promise: bool);
    #[wasm_bindgen(js_name = unwrapFetch)]
    fn unwrap_fetch();
    #[wasm_bindgen(js_name = throwingConsoleWarn)]
    fn throwing_console_warn(on: bool);
    #[wasm_bindgen(js_name = addFault)]
    fn add_fault(base: &str, call_id: &str, status: u16) -> Promise;
    #[wasm_bindgen(js_name = countListeners)]
    fn count_listeners();
    #[wasm_bindgen(js_name = listenerCount)]
    fn listener_count(kind: &str) -> u32;
    #[wasm_bindgen(js_name = mintCall)]
    fn mint_call(base: &str) -> Promise;
    #[wasm_bindgen(js_name = endRecords)]
    fn end_records(base: &str, id: &str) -> Promise;
    fn sleep(ms: u32) -> Promise;
    fn dispatch(kind: &str) -> JsValue;
    #[wasm_bindgen(js_name = addLeaveConfirmation)]
    fn add_leave_confirmation() -> js_sys::Function;
    #[wasm_bindgen(js_name = addFaultWith)]
    fn add_fault_with(base: &str, fault: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = fakeOffline)]
    fn fake_offline(on: bool);
    #[wasm_bindgen(js_name = outboxEntries)]
    fn outbox_entries() -> js_sys::Array;
    #[wasm_bindgen(js_name = setOutbox)]
    fn set_outbox(entries: &JsValue);
    #[wasm_bindgen(js_name = breakStorage)]
    fn break_storage(on: bool);
    #[wasm_bindgen(js_name = denyStorage)]
    fn deny_storage(on: bool);
    #[wasm_bindgen(js_name = throwingFetch)]
    fn throwing_fetch(on: bool);
    #[wasm_bindgen(js_name = nullProtoCall)]
    fn null_proto_call(id: &str, token: &str) -> JsValue;
    #[wasm_bindgen(js_name = polluteCallKeys)]
    fn pollute_call_keys(on: bool, id: &str, token: &str);
    #[wasm_bindgen(js_name = isEndCallError)]
    fn is_end_call_error(value: &JsValue) -> bool;
}

fn standin() -> &'static str {
    match option_env!("STANDIN_URL") {
        Some(url) => url,
        None => panic!("STANDIN_URL must be set at compile time (run npm test)"),
    }
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap()
}

fn text(value: &JsValue, key: &str) -> String {
    get(value, key).as_string().unwrap_or_default()
}

async fn wait(ms: u32) {
    JsFuture::from(sleep(ms)).await.unwrap();
}

struct Minted {
    id: String,
    token: String,
}

async fn mint() -> Minted {
    let details = JsFuture::from(mint_call(standin())).await.unwrap();
    Minted {
        id: text(&details, "call_id"),
        token: text(&details, "end_token"),
    }
}

fn track(call: &Minted) {
    let object = Object::new();
    Reflect::set(&object, &"callId".into(), &call.id.clone().into()).unwrap();
    Reflect::set(&object, &"endToken".into(), &call.token.clone().into()).unwrap();
    track_call(object.into()).unwrap();
}

/// Point at the stand-in. Deferred sending (fetchLater) is off unless a test is about it:
/// a synthetic pagehide does not destroy the document, so a deferred request would only go
/// out when the test page closes.
fn use_standin(before_unload: bool) {
    configure_standin(before_unload, false);
}

fn configure_standin(before_unload: bool, deferred: bool) {
    let options = Object::new();
    Reflect::set(&options, &"baseUrl".into(), &standin().into()).unwrap();
    Reflect::set(&options, &"beforeUnload".into(), &before_unload.into()).unwrap();
    Reflect::set(&options, &"deferred".into(), &deferred.into()).unwrap();
    configure(options.into()).unwrap();
}

/// The end requests the stand-in received for `id`, once the count has been stable for a
/// while (so a late duplicate would be seen).
async fn settled_records(id: &str, expected: u32) -> js_sys::Array {
    for _ in 0..100 {
        let records: js_sys::Array = JsFuture::from(end_records(standin(), id))
            .await
            .unwrap()
            .into();
        if records.length() >= expected {
            break;
        }
        wait(50).await;
    }
    wait(400).await;
    JsFuture::from(end_records(standin(), id))
        .await
        .unwrap()
        .into()
}

fn kind_of(error: &JsValue) -> String {
    assert!(is_end_call_error(error), "not an EndCallError: {error:?}");
    text(error, "kind")
}

#[wasm_bindgen_test]
async fn pagehide_sends_one_keepalive_post_with_bearer_and_no_cookies_synchronously() {
    use_standin(true);
    let call = mint().await;
    track(&call);
    spy_start();
    dispatch("pagehide");
    // Synchronous: the request was issued before dispatchEvent returned.
    let calls = spy_calls();
    spy_stop();
    assert_eq!(calls.length(), 1, "one fetch inside the handler");
    let issued = calls.get(0);
    let init = get(&issued, "init");
    let mut expected_url = standin().to_string();
    expected_url.push_str("/api/v1/calls/");
    expected_url.push_str(&call.id);
    expected_url.push_str("/end");
    assert_eq!(text(&issued, "url"), expected_url);
    assert_eq!(text(&init, "method"), "POST");
    assert_eq!(get(&init, "keepalive"), JsValue::TRUE);
    assert_eq!(text(&init, "credentials"), "omit");
    assert_eq!(
        text(&get(&init, "headers"), "Authorization"),
        format!("Bearer {}", call.token)
    );
    assert!(
        get(&init, "body").is_undefined(),
        "no body: keepalive quota untouched"
    );

    let records = settled_records(&call.id, 1).await;
    assert_eq!(records.length(), 1, "exactly one end request arrived");
    let record = records.get(0);
    assert_eq!(text(&record, "auth"), "valid");
    assert_eq!(get(&record, "cookie"), JsValue::FALSE);
    assert_eq!(get(&record, "status").as_f64(), Some(200.0));
    assert_eq!(
        tracked_calls().unwrap().length(),
        0,
        "sent calls are forgotten"
    );
}

#[wasm_bindgen_test]
async fn listeners_exist_exactly_while_calls_are_tracked() {
    count_listeners();
    use_standin(true);
    assert_eq!(listener_count("pagehide"), 0);
    assert_eq!(listener_count("beforeunload"), 0);
    let (a, b) = (mint().await, mint().await);
    track(&a);
    track(&b);
    assert_eq!(listener_count("pagehide"), 1);
    assert_eq!(listener_count("beforeunload"), 1);
    use_standin(false);
    assert_eq!(
        listener_count("beforeunload"),
        0,
        "beforeUnload: false removes it"
    );
    assert_eq!(listener_count("pagehide"), 1);
    use_standin(true);
    assert_eq!(listener_count("beforeunload"), 1);
    assert!(untrack_call(a.id.clone().into()).unwrap());
    assert!(
        !untrack_call(a.id.clone().into()).unwrap(),
        "second untrack is a no-op"
    );
    assert_eq!(listener_count("pagehide"), 1, "b is still tracked");
    let response = JsFuture::from(end_call(b.id.clone().into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(text(&response, "callId"), b.id);
    assert_eq!(listener_count("pagehide"), 0);
    assert_eq!(listener_count("beforeunload"), 0);
    assert_eq!(listener_count("unload"), 0, "never an unload listener");
    assert_eq!(
        settled_records(&a.id, 0).await.length(),
        0,
        "untracked: nothing sent"
    );
}

#[wasm_bindgen_test]
async fn exactly_once_across_end_call_pagehide_and_beforeunload() {
    use_standin(true);
    let call = mint().await;
    track(&call);
    let first = end_call(call.id.clone().into(), JsValue::UNDEFINED);
    let second = end_call(call.id.clone().into(), JsValue::UNDEFINED);
    assert!(Object::is(&first, &second), "same promise while in flight");
    dispatch("beforeunload");
    dispatch("pagehide");
    let response = JsFuture::from(first).await.unwrap();
    assert_eq!(text(&response, "callId"), call.id);
    assert_eq!(text(&response, "status"), "ended");
    assert!(!text(&response, "endedAt").is_empty());
    assert!(get(&response, "actualDurationSeconds").as_f64().is_some());
    assert!(get(&response, "creditsUsed").as_f64().is_some());
    assert!(get(&response, "call_id").is_undefined(), "camelCase only");
    assert_eq!(settled_records(&call.id, 1).await.length(), 1);
    // After it settled, the call is no longer tracked.
    let again = JsFuture::from(end_call(call.id.clone().into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(kind_of(&again), "not-tracked");
}

#[wasm_bindgen_test]
async fn uncancelled_beforeunload_sends_after_dispatch_and_pagehide_adds_nothing() {
    use_standin(true);
    let call = mint().await;
    track(&call);
    spy_start();
    dispatch("beforeunload");
    let during_dispatch = spy_calls().length();
    wait(20).await;
    let after_dispatch = spy_calls().length();
    dispatch("pagehide");
    let after_pagehide = spy_calls().length();
    spy_stop();
    assert_eq!(
        during_dispatch, 0,
        "waits for every listener to have its say"
    );
    assert_eq!(after_dispatch, 1, "sent once nobody cancelled");
    assert_eq!(after_pagehide, 1, "pagehide does not send again");
    assert_eq!(settled_records(&call.id, 1).await.length(), 1);
}

#[wasm_bindgen_test]
async fn cancelled_beforeunload_sends_nothing_even_when_cancelled_by_a_later_listener() {
    use_standin(true);
    let call = mint().await;
    track(&call);
    // Registered after ours: runs after our handler, which must still see the cancel.
    let remove = add_leave_confirmation();
    spy_start();
    let event = dispatch("beforeunload");
    wait(50).await;
    let after_cancelled = spy_calls().length();
    remove.call0(&JsValue::NULL).unwrap();
    assert_eq!(get(&event, "defaultPrevented"), JsValue::TRUE);
    assert_eq!(after_cancelled, 0, "user clicked Stay: the call goes on");
    assert_eq!(tracked_calls().unwrap().length(), 1);
    dispatch("pagehide");
    spy_stop();
    assert_eq!(
        settled_records(&call.id, 1).await.length(),
        1,
        "the real leave ends it"
    );
}

#[wasm_bindgen_test]
async fn tracking_again_replaces_the_token_and_raw_connection_details_are_accepted() {
    use_standin(true);
    let call = mint().await;
    let stale = Object::new();
    Reflect::set(&stale, &"callId".into(), &call.id.clone().into()).unwrap();
    Reflect::set(&stale, &"endToken".into(), &"et_stale".into()).unwrap();
    track_call(stale.into()).unwrap();
    let raw = Object::new();
    Reflect::set(&raw, &"call_id".into(), &call.id.clone().into()).unwrap();
    Reflect::set(&raw, &"end_token".into(), &call.token.clone().into()).unwrap();
    Reflect::set(&raw, &"server_url".into(), &"wss://x".into()).unwrap();
    assert_eq!(track_call(raw.into()).unwrap(), call.id);
    assert_eq!(tracked_calls().unwrap().length(), 1);
    dispatch("pagehide");
    let records = settled_records(&call.id, 1).await;
    assert_eq!(records.length(), 1);
    assert_eq!(
        text(&records.get(0), "auth"),
        "valid",
        "the newer token was used"
    );
}

#[wasm_bindgen_test]
async fn bad_input_is_a_typed_config_error_and_changes_nothing() {
    use_standin(true);
    let bad_options: [(&str, JsValue, &str); 5] = [
        ("baseUrl", "http://example.com".into(), "baseUrl"),
        ("timeoutMs", 0.into(), "timeoutMs"),
        ("beforeUnload", "yes".into(), "beforeUnload"),
        ("basURL", "https://x".into(), "basURL"),
        ("baseUrl", "not a url".into(), "baseUrl"),
    ];
    for (key, value, named) in bad_options {
        let options = Object::new();
        Reflect::set(&options, &key.into(), &value).unwrap();
        let error = configure(options.into()).unwrap_err();
        assert_eq!(kind_of(&error), "config");
        assert!(text(&error, "message").contains(named), "names {named}");
    }
    // The previous configuration stayed: a tracked call still goes to the stand-in.
    let call = mint().await;
    track(&call);
    for bad in [JsValue::NULL, JsValue::from(42), JsValue::from("call")] {
        assert_eq!(kind_of(&track_call(bad).unwrap_err()), "config");
    }
    let no_token = Object::new();
    Reflect::set(&no_token, &"callId".into(), &"c".into()).unwrap();
    let error = track_call(no_token.into()).unwrap_err();
    assert!(text(&error, "message").contains("endToken"));
    let injected = Object::new();
    Reflect::set(&injected, &"callId".into(), &"c".into()).unwrap();
    Reflect::set(&injected, &"endToken".into(), &"a\r\nX-Evil: 1".into()).unwrap();
    let error = track_call(injected.into()).unwrap_err();
    assert!(
        !text(&error, "message").contains("X-Evil"),
        "token not echoed"
    );
    let error = JsFuture::from(end_call(JsValue::from(7), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(kind_of(&error), "config");
    let error = JsFuture::from(end_call("never-tracked".into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(kind_of(&error), "not-tracked");
    assert_eq!(tracked_calls().unwrap().length(), 1);
    dispatch("pagehide");
    assert_eq!(settled_records(&call.id, 1).await.length(), 1);
}

#[wasm_bindgen_test]
async fn an_encoded_id_stays_one_path_segment() {
    use_standin(true);
    let options = Object::new();
    Reflect::set(&options, &"endToken".into(), &"et_whatever".into()).unwrap();
    let error = JsFuture::from(end_call("a/b?c".into(), options.into()))
        .await
        .unwrap_err();
    // The stand-in decodes one segment "a/b?c" and refuses it as invalid (422): the
    // slash did not become a path separator and the '?' did not start a query.
    assert_eq!(kind_of(&error), "validation");
    assert_eq!(get(&error, "status").as_f64(), Some(422.0));
    let detail: js_sys::Array = get(&error, "detail").into();
    assert!(detail.length() >= 1);
    let records = settled_records("a/b?c", 1).await;
    assert_eq!(records.length(), 1);
    assert_eq!(
        text(&records.get(0), "rawPath"),
        "/api/v1/calls/a%2Fb%3Fc/end"
    );
}

#[wasm_bindgen_test]
async fn deferred_request_is_armed_with_the_same_shape_and_withdrawn_by_end_and_untrack() {
    configure_standin(true, true);
    assert!(
        spy_later_start(),
        "Chromium 135+ has fetchLater in a secure context"
    );
    let (ended, untracked, kept) = (mint().await, mint().await, mint().await);
    track(&ended);
    track(&untracked);
    track(&kept);
    // Re-tracking re-arms: the first deferred request of `kept` is withdrawn.
    track(&kept);
    let armed = spy_later_calls();
    spy_later_stop();
    assert_eq!(armed.length(), 4);
    let signal_of = |i: u32| get(&get(&armed.get(i), "init"), "signal");
    for i in 0..4 {
        let init = get(&armed.get(i), "init");
        assert_eq!(text(&init, "method"), "POST");
        assert_eq!(text(&init, "credentials"), "omit");
        assert!(text(&get(&init, "headers"), "Authorization").starts_with("Bearer et_"));
        assert!(
            get(&init, "keepalive").is_undefined(),
            "fetchLater is keepalive by nature"
        );
    }
    assert_eq!(
        get(&signal_of(2), "aborted"),
        JsValue::TRUE,
        "re-track withdrew the old one"
    );
    assert_eq!(get(&signal_of(3), "aborted"), JsValue::FALSE);

    let response = JsFuture::from(end_call(ended.id.clone().into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(text(&response, "callId"), ended.id);
    assert_eq!(
        get(&signal_of(0), "aborted"),
        JsValue::TRUE,
        "endCall withdrew it"
    );
    assert!(untrack_call(untracked.id.clone().into()).unwrap());
    assert_eq!(
        get(&signal_of(1), "aborted"),
        JsValue::TRUE,
        "untrackCall withdrew it"
    );

    // An unload pagehide leaves `kept` to the browser: we send nothing ourselves.
    spy_start();
    dispatch_page_hide(false);
    let sent_by_us = spy_calls().length();
    spy_stop();
    assert_eq!(
        sent_by_us, 0,
        "the browser sends the deferred request on destroy"
    );
    assert_eq!(get(&signal_of(3), "aborted"), JsValue::FALSE);
    assert_eq!(tracked_calls().unwrap().length(), 0);
    assert_eq!(settled_records(&ended.id, 1).await.length(), 1);
}

#[wasm_bindgen_test]
async fn entering_the_back_forward_cache_withdraws_the_deferred_request_and_sends_now() {
    configure_standin(true, true);
    assert!(spy_later_start());
    let call = mint().await;
    track(&call);
    let armed = spy_later_calls();
    spy_later_stop();
    spy_start();
    dispatch_page_hide(true);
    let sent = spy_calls();
    spy_stop();
    assert_eq!(sent.length(), 1, "sent by keepalive fetch, synchronously");
    assert_eq!(get(&get(&sent.get(0), "init"), "keepalive"), JsValue::TRUE);
    let signal = get(&get(&armed.get(0), "init"), "signal");
    assert_eq!(get(&signal, "aborted"), JsValue::TRUE);
    assert_eq!(
        settled_records(&call.id, 1).await.length(),
        1,
        "exactly once"
    );
}

#[wasm_bindgen_test]
async fn beforeunload_leaves_deferred_calls_armed_for_pagehide() {
    configure_standin(true, true);
    let call = mint().await;
    track(&call);
    spy_start();
    dispatch("beforeunload");
    wait(30).await;
    let sent = spy_calls().length();
    spy_stop();
    assert_eq!(sent, 0);
    assert_eq!(tracked_calls().unwrap().length(), 1);
    assert!(untrack_call(call.id.clone().into()).unwrap());
}

#[wasm_bindgen_test]
async fn on_call_ended_reports_manual_beforeunload_and_back_forward_cache_ends() {
    use_standin(true);
    let listener = recorder();
    let unsubscribe: js_sys::Function = on_call_ended(thrower().into()).unwrap().into();
    let keep: js_sys::Function = on_call_ended(listener.clone().into()).unwrap().into();

    let manual = mint().await;
    track(&manual);
    JsFuture::from(end_call(manual.id.clone().into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    let events = recorded(&listener);
    assert_eq!(
        events.length(),
        1,
        "a throwing listener does not stop the others"
    );
    assert_eq!(text(&events.get(0), "via"), "manual");
    assert_eq!(text(&events.get(0), "callId"), manual.id);
    assert_eq!(text(&get(&events.get(0), "response"), "callId"), manual.id);
    unsubscribe.call0(&JsValue::NULL).unwrap();

    let left = mint().await;
    track(&left);
    dispatch("beforeunload");
    wait(30).await;
    assert_eq!(recorded(&listener).length(), 2);
    assert_eq!(text(&recorded(&listener).get(1), "via"), "beforeunload");

    let cached = mint().await;
    track(&cached);
    dispatch_page_hide(true);
    assert_eq!(
        recorded(&listener).length(),
        2,
        "nobody to tell until the page is back"
    );
    dispatch_transition("pageshow", false);
    assert_eq!(
        recorded(&listener).length(),
        2,
        "a normal pageshow is not a restore"
    );
    dispatch_transition("pageshow", true);
    let events = recorded(&listener);
    assert_eq!(events.length(), 3);
    assert_eq!(text(&events.get(2), "via"), "pagehide");
    assert_eq!(text(&events.get(2), "callId"), cached.id);
    dispatch_transition("pageshow", true);
    assert_eq!(recorded(&listener).length(), 3, "reported once");
    assert_eq!(tracked_calls().unwrap().length(), 0);
    assert_eq!(settled_records(&cached.id, 1).await.length(), 1);
    keep.call0(&JsValue::NULL).unwrap();
}

#[wasm_bindgen_test]
async fn freeze_and_hidden_tabs_never_end_a_call() {
    use_standin(true);
    let call = mint().await;
    track(&call);
    spy_start();
    dispatch("freeze");
    dispatch("visibilitychange");
    dispatch("blur");
    wait(30).await;
    let sent = spy_calls().length();
    spy_stop();
    assert_eq!(sent, 0);
    assert_eq!(tracked_calls().unwrap().length(), 1);
    assert!(untrack_call(call.id.clone().into()).unwrap());
    assert_eq!(settled_records(&call.id, 0).await.length(), 0);
}

#[wasm_bindgen_test]
async fn without_fetch_later_or_when_arming_fails_pagehide_sends_by_keepalive() {
    // Firefox and WebKit have no fetchLater; Chromium throws QuotaExceededError over quota.
    for mode in ["missing", "throws"] {
        configure_standin(true, true);
        replace_fetch_later(mode);
        let call = mint().await;
        track(&call);
        spy_start();
        dispatch_page_hide(false);
        let sent = spy_calls();
        spy_stop();
        restore_fetch_later();
        assert_eq!(sent.length(), 1, "{mode}: keepalive path");
        assert_eq!(get(&get(&sent.get(0), "init"), "keepalive"), JsValue::TRUE);
        assert_eq!(settled_records(&call.id, 1).await.length(), 1, "{mode}");
    }
}

#[wasm_bindgen_test]
async fn a_throwing_console_warn_does_not_wedge_the_library() {
    use_standin(true);
    throwing_console_warn(true);
    let object = Object::new();
    Reflect::set(&object, &"callId".into(), &"call_warned".into()).unwrap();
    Reflect::set(
        &object,
        &"endToken".into(),
        &"vk_looks_like_an_api_key".into(),
    )
    .unwrap();
    let tracked = track_call(object.into());
    throwing_console_warn(false);
    assert!(tracked.is_ok(), "the warning failed, tracking did not");
    assert!(untrack_call("call_warned".into()).unwrap());
    let call = mint().await;
    track(&call);
    dispatch("pagehide");
    assert_eq!(
        settled_records(&call.id, 1).await.length(),
        1,
        "still sends"
    );
}

#[wasm_bindgen_test]
async fn untrack_during_an_end_in_flight_prevents_rearming_after_a_failure() {
    use_standin(true);
    for untrack_first in [false, true] {
        let call = mint().await;
        JsFuture::from(add_fault(standin(), &call.id, 503))
            .await
            .unwrap();
        track(&call);
        let pending = end_call(call.id.clone().into(), js_options(&[("retries", 0.into())]));
        if untrack_first {
            assert!(
                untrack_call(call.id.clone().into()).unwrap(),
                "an end was in flight"
            );
        }
        let error = JsFuture::from(pending).await.unwrap_err();
        assert_eq!(kind_of(&error), "http");
        let tracked = tracked_calls().unwrap();
        if untrack_first {
            assert_eq!(tracked.length(), 0, "the app said it is over");
        } else {
            assert_eq!(tracked.length(), 1, "503: re-armed for page leave");
            assert!(untrack_call(call.id.clone().into()).unwrap());
        }
    }
}

#[wasm_bindgen_test]
async fn a_fetch_wrapper_that_returns_no_promise_loses_no_call() {
    use_standin(true);
    let (a, b) = (mint().await, mint().await);
    track(&a);
    track(&b);
    wrap_fetch(&js_sys::Function::new_no_args(""), false);
    dispatch("pagehide");
    unwrap_fetch();
    assert_eq!(settled_records(&a.id, 1).await.length(), 1);
    assert_eq!(settled_records(&b.id, 1).await.length(), 1);
}

#[wasm_bindgen_test]
async fn a_reentrant_fetch_cannot_arm_an_id_that_is_being_ended() {
    use_standin(true);
    let call = mint().await;
    track(&call);
    let attempts = js_sys::Array::new();
    let id = call.id.clone();
    let token = call.token.clone();
    let recorder = attempts.clone();
    let inside = Closure::<dyn FnMut(String)>::new(move |_url: String| {
        let object = Object::new();
        Reflect::set(&object, &"callId".into(), &id.clone().into()).unwrap();
        Reflect::set(&object, &"endToken".into(), &token.clone().into()).unwrap();
        recorder.push(
            &track_call(object.into())
                .map(JsValue::from)
                .unwrap_or_else(|e| e),
        );
    });
    wrap_fetch(inside.as_ref().unchecked_ref(), true);
    let pending = end_call(call.id.clone().into(), JsValue::UNDEFINED);
    unwrap_fetch();
    JsFuture::from(pending).await.unwrap();
    assert_eq!(attempts.length(), 1);
    assert_eq!(
        kind_of(&attempts.get(0)),
        "config",
        "re-tracking mid-end is refused"
    );
    dispatch("pagehide");
    assert_eq!(
        settled_records(&call.id, 1).await.length(),
        1,
        "exactly once"
    );
}

fn js_options(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in pairs {
        Reflect::set(&object, &(*key).into(), value).unwrap();
    }
    object.into()
}

/// A 503 (with `Retry-After: seconds` when given) for the next `times` ends of `id`.
async fn fail_with_503(id: &str, times: u32, retry_after: Option<&str>) {
    let headers = match retry_after {
        Some(value) => js_options(&[("Retry-After", value.into())]),
        None => JsValue::UNDEFINED,
    };
    let fault = js_options(&[
        ("callId", id.into()),
        ("status", 503.into()),
        ("times", times.into()),
        ("headers", headers),
    ]);
    JsFuture::from(add_fault_with(standin(), &fault))
        .await
        .unwrap();
}

#[wasm_bindgen_test]
async fn a_503_is_retried_and_the_api_sees_one_failure_plus_one_success() {
    use_standin(true);
    let call = mint().await;
    fail_with_503(&call.id, 1, None).await;
    track(&call);
    let response = JsFuture::from(end_call(call.id.clone().into(), JsValue::UNDEFINED))
        .await
        .expect("the retry succeeds");
    assert_eq!(text(&response, "callId"), call.id);
    let records = settled_records(&call.id, 2).await;
    let statuses: Vec<f64> = records
        .iter()
        .map(|r| get(&r, "status").as_f64().unwrap())
        .collect();
    assert_eq!(statuses, vec![503.0, 200.0]);
    assert_eq!(tracked_calls().unwrap().length(), 0);
}

#[wasm_bindgen_test]
async fn a_retry_still_happens_when_the_app_wraps_set_timeout() {
    use_standin(true);
    let call = mint().await;
    fail_with_503(&call.id, 1, None).await;
    track(&call);
    narrow_set_timeout(true);
    let ended = JsFuture::from(end_call(call.id.clone().into(), JsValue::UNDEFINED)).await;
    narrow_set_timeout(false);
    assert_eq!(text(&ended.expect("the retry succeeds"), "callId"), call.id);
    assert_eq!(settled_records(&call.id, 2).await.length(), 2);
}

#[wasm_bindgen_test]
async fn untrack_while_waiting_to_retry_stops_the_retries() {
    use_standin(true);
    let call = mint().await;
    fail_with_503(&call.id, 3, Some("1")).await;
    track(&call);
    let pending = end_call(call.id.clone().into(), JsValue::UNDEFINED);
    settled_records(&call.id, 1).await; // the first 503 came back; the 1 s wait is running
    assert!(untrack_call(call.id.clone().into()).unwrap());
    let error = JsFuture::from(pending).await.unwrap_err();
    assert_eq!(kind_of(&error), "http");
    assert_eq!(get(&error, "status"), JsValue::from(503));
    assert_eq!(settled_records(&call.id, 1).await.length(), 1, "no retry");
    assert_eq!(tracked_calls().unwrap().length(), 0);
}

#[wasm_bindgen_test]
async fn a_page_leave_while_waiting_to_retry_sends_the_end_once() {
    use_standin(true);
    let call = mint().await;
    fail_with_503(&call.id, 1, Some("1")).await;
    track(&call);
    let pending = end_call(call.id.clone().into(), JsValue::UNDEFINED);
    settled_records(&call.id, 1).await; // waiting out Retry-After: no request in flight
    dispatch_page_hide(false);
    let error = JsFuture::from(pending).await.unwrap_err();
    assert_eq!(
        kind_of(&error),
        "http",
        "the manual end reports its own last answer"
    );
    let records = settled_records(&call.id, 2).await;
    assert_eq!(
        records.length(),
        2,
        "the 503, then pagehide's send; no third"
    );
    assert_eq!(get(&records.get(1), "status"), JsValue::from(200));
    assert_eq!(tracked_calls().unwrap().length(), 0);
}

#[wasm_bindgen_test]
async fn offline_page_leave_stores_the_end_and_the_next_init_sends_it() {
    use_standin(true);
    set_outbox(&js_sys::Array::new());
    let call = mint().await;
    track(&call);
    let events = recorder();
    let unsubscribe: js_sys::Function = on_call_ended(events.clone().into()).unwrap().into();
    fake_offline(true);
    dispatch("beforeunload"); // offline: leaves everything to pagehide
    wait(50).await;
    dispatch_page_hide(false);
    fake_offline(false);
    assert_eq!(
        settled_records(&call.id, 0).await.length(),
        0,
        "nothing sent"
    );
    let stored = outbox_entries();
    assert_eq!(stored.length(), 1, "one entry, not one per event");
    let entry = stored.get(0);
    assert_eq!(text(&entry, "callId"), call.id);
    assert_eq!(text(&entry, "endToken"), call.token);
    assert_eq!(text(&entry, "baseUrl"), standin());
    assert!(get(&entry, "time").as_f64().unwrap() > 1.7e12);

    assert_eq!(replay_outbox(), 1);
    assert_eq!(outbox_entries().length(), 0, "claimed at once");
    let records = settled_records(&call.id, 1).await;
    assert_eq!(records.length(), 1);
    assert_eq!(text(&records.get(0), "auth"), "valid");
    for _ in 0..40 {
        if recorded(&events).length() > 0 {
            break;
        }
        wait(25).await;
    }
    let event = recorded(&events).get(0);
    assert_eq!(text(&event, "via"), "outbox");
    assert_eq!(text(&get(&event, "response"), "callId"), call.id);
    unsubscribe.call0(&JsValue::NULL).unwrap();
    assert_eq!(replay_outbox(), 0, "sent once");
    assert_eq!(settled_records(&call.id, 1).await.length(), 1);
}

#[wasm_bindgen_test]
async fn a_fetch_that_throws_on_leave_stores_the_end_and_full_storage_never_throws() {
    use_standin(true);
    set_outbox(&js_sys::Array::new());
    let call = mint().await;
    track(&call);
    throwing_fetch(true);
    dispatch_page_hide(false);
    throwing_fetch(false);
    let stored = outbox_entries();
    assert_eq!(stored.length(), 1);
    assert_eq!(text(&stored.get(0), "callId"), call.id);
    set_outbox(&js_sys::Array::new());

    // Storage full while offline: nothing to lose by trying to send, and nothing throws.
    let other = mint().await;
    track(&other);
    break_storage(true);
    fake_offline(true);
    dispatch_page_hide(false);
    fake_offline(false);
    break_storage(false);
    assert_eq!(outbox_entries().length(), 0);
    assert_eq!(
        settled_records(&other.id, 1).await.length(),
        1,
        "sent anyway"
    );

    // Storage denied altogether (the localStorage getter throws): the same, and a replay
    // finds nothing and does not throw either.
    let third = mint().await;
    track(&third);
    deny_storage(true);
    fake_offline(true);
    dispatch_page_hide(false);
    fake_offline(false);
    let replayed = replay_outbox();
    deny_storage(false);
    assert_eq!(replayed, 0);
    assert_eq!(
        settled_records(&third.id, 1).await.length(),
        1,
        "sent anyway"
    );
}

#[wasm_bindgen_test]
async fn outbox_replay_drops_expired_and_gone_calls_and_keeps_failing_ones() {
    use_standin(true);
    let options = js_options(&[("retries", 0.into())]);
    configure(options).unwrap();
    let (expired, gone, failing) = (mint().await, mint().await, mint().await);
    fail_with_503(&failing.id, 1, None).await;
    let now = js_sys::Date::now();
    let entry = |call: &Minted, token: &str, time: f64| {
        js_options(&[
            ("callId", call.id.clone().into()),
            ("endToken", token.into()),
            ("baseUrl", standin().into()),
            ("time", time.into()),
        ])
    };
    let entries = js_sys::Array::new();
    entries.push(&entry(&expired, &expired.token, now - 86_400_001.0));
    entries.push(&entry(&gone, "et_wrong", now - 1_000.0)); // 401: definitive
    entries.push(&entry(&failing, &failing.token, now - 2_000.0));
    entries.push(&JsValue::from("not an entry"));
    set_outbox(&entries);
    assert_eq!(replay_outbox(), 2);
    assert_eq!(
        settled_records(&expired.id, 0).await.length(),
        0,
        "expired: dropped"
    );
    assert_eq!(settled_records(&gone.id, 1).await.length(), 1);
    assert_eq!(settled_records(&failing.id, 1).await.length(), 1);
    let kept = outbox_entries();
    assert_eq!(kept.length(), 1, "only the 503 is kept for the next init");
    assert_eq!(text(&kept.get(0), "callId"), failing.id);
    assert_eq!(get(&kept.get(0), "time").as_f64(), Some(now - 2_000.0));
    assert_eq!(replay_outbox(), 1);
    assert_eq!(settled_records(&failing.id, 2).await.length(), 2);
    assert_eq!(outbox_entries().length(), 0);
    configure(js_options(&[("retries", JsValue::UNDEFINED)])).unwrap();
}

#[wasm_bindgen_test]
async fn null_prototype_objects_work_and_inherited_keys_are_ignored() {
    use_standin(true);
    let call = mint().await;
    let tracked = track_call(null_proto_call(&call.id, &call.token)).unwrap();
    assert_eq!(tracked, call.id, "Object.create(null) is an object too");
    assert!(untrack_call(call.id.clone().into()).unwrap());

    // A polluted Object.prototype must not supply the id or token of a raw response object.
    pollute_call_keys(true, "call_polluted", "et_polluted");
    let raw = js_options(&[
        ("call_id", call.id.clone().into()),
        ("end_token", call.token.clone().into()),
    ]);
    let tracked = track_call(raw);
    pollute_call_keys(false, "", "");
    assert_eq!(tracked.unwrap(), call.id);
    dispatch_page_hide(false);
    let records = settled_records(&call.id, 1).await;
    assert_eq!(records.length(), 1);
    assert_eq!(text(&records.get(0), "auth"), "valid");
}

#[wasm_bindgen_test]
async fn an_outbox_end_taken_over_by_a_page_leave_is_not_stored_again() {
    use_standin(true);
    let call = mint().await;
    fail_with_503(&call.id, 1, Some("1")).await;
    let entries = js_sys::Array::new();
    entries.push(&js_options(&[
        ("callId", call.id.clone().into()),
        ("endToken", call.token.clone().into()),
        ("baseUrl", standin().into()),
        ("time", js_sys::Date::now().into()),
    ]));
    set_outbox(&entries);
    assert_eq!(replay_outbox(), 1);
    settled_records(&call.id, 1).await; // the 503 came back; waiting out Retry-After
    dispatch_page_hide(false);
    wait(1200).await; // past the wait: the replay has settled
    assert_eq!(
        settled_records(&call.id, 2).await.length(),
        2,
        "the 503, then pagehide's"
    );
    assert_eq!(
        outbox_entries().length(),
        0,
        "sent by the leave: not put back for the next init"
    );
}
