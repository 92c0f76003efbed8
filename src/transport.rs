//! The one way an end request leaves the page: `fetch(url, {method: 'POST', keepalive: true,
//! credentials: 'omit', headers: {Authorization}})`, issued synchronously by the caller.
//!
//! Page-leave handlers call [`send_and_forget`]; `endCall` runs [`attempt`]s (retries
//! included) within one [`Clock`] and classifies each with [`answer`]; [`arm_deferred`]
//! hands the same request to the browser's `fetchLater` ahead of time. All three go through
//! `js/beacon.js`'s `request()` (`send`, `sendLater`), so there is exactly one request shape.
//! (`web_sys::RequestInit` has no keepalive setter and gloo-net's `send()` starts the fetch a
//! microtask late, which is too late in `pagehide`; a plain init object does both right.)

use alloc::string::String;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use crate::error::{ErrorKind, Failure};
use crate::policy::{self, Failed};
use crate::promise::Settled;
use crate::registry::Armed;
use crate::response;

/// A tracked call as the page holds it: with its browser-held request, if any.
pub(crate) type Call = Armed<Deferred>;

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    // `fetch(url, {method: 'POST', keepalive: true, credentials: 'omit', ...})`, adopted by a
    // Promise: `[true, promise]`, or `[false, what fetch threw]`.
    #[wasm_bindgen(js_name = trySend)]
    fn fetch_end(url: &str, bearer: &str, signal: Option<&AbortSignal>) -> JsValue;

    /// `[AbortController, FetchLaterResult]`, or undefined where unsupported or refused.
    #[wasm_bindgen(js_name = sendLater)]
    fn send_later(url: &str, bearer: &str) -> JsValue;

    fn withdraw(later: &JsValue);

    fn activated(later: &JsValue) -> bool;
}

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    /// Send `body` ([`relay_body`]) to the relay with `navigator.sendBeacon`. Whether the
    /// browser queued it (it refuses past its beacon quota, never throws); the caller falls
    /// back to [`send_and_forget`] then.
    #[wasm_bindgen(js_name = beacon)]
    pub(crate) fn beacon_to_relay(relay_url: &str, body: &JsValue) -> bool;

    #[wasm_bindgen(js_name = publishBeacons)]
    fn publish_beacons(url: &JsValue, calls: &js_sys::Array, recorded: bool);

    /// Take what `js/beacon.js`'s listener did in this unload's `pagehide`, before the
    /// library's own listener ran (read with [`unload_beacon`]); whether it sent anything.
    #[wasm_bindgen(js_name = takeBeaconed)]
    pub(crate) fn take_unload_beacons() -> bool;

    /// 0: no beacon for the call in the unload taken last; 1: queued; 2: refused.
    fn beaconed(call_id: &str) -> u8;

    #[wasm_bindgen(js_name = relayBody)]
    fn relay_body_js(call_id: &str, end_token: &str) -> JsValue;

    /// Add `js/beacon.js`'s `pagehide` listener if its import did not (idempotent).
    #[wasm_bindgen(js_name = listenForUnload)]
    pub(crate) fn listen_for_unload();
}

/// Issue the end request now. Synchronous: when this returns, the browser has the request.
/// The request's shape is in `js/shell.js`'s `send`.
fn send<D>(call: &Armed<D>, signal: Option<&AbortSignal>) -> Result<Promise, JsValue> {
    crate::promise::pair(&fetch_end(&call.url, &call.token.bearer(), signal))
        .map(JsCast::unchecked_into)
}

/// An end request held by the browser (`fetchLater`), sent by the browser itself when the
/// document is destroyed — even when no page event gets to run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Deferred(JsValue);

impl Deferred {
    /// Withdraw the request (a no-op once it has been sent).
    pub(crate) fn cancel(&self) {
        withdraw(&self.0);
    }

    /// Whether the browser has sent it already.
    pub(crate) fn activated(&self) -> bool {
        activated(&self.0)
    }
}

/// Hand the end request to `fetchLater` when the browser has it (Chromium 135+, secure
/// contexts). `None` when unsupported or refused (`QuotaExceededError`, `TypeError`): the
/// page-leave handlers then send it themselves, as without this feature.
pub(crate) fn arm_deferred<D>(call: &Armed<D>) -> Option<Deferred> {
    let later = send_later(&call.url, &call.token.bearer());
    (!later.is_undefined()).then_some(Deferred(later))
}

/// Send during a page leave. Returns whether the browser accepted the request (a
/// synchronous throw, e.g. an exhausted keepalive quota, means it did not).
pub(crate) fn send_and_forget<D>(call: &Armed<D>) -> bool {
    match send(call, None) {
        Ok(promise) => {
            crate::promise::ignore_rejection(&promise);
            true
        }
        Err(_) => false,
    }
}

/// The body a page leave sends to the app's relay (`configure({relayUrl})`) with
/// `navigator.sendBeacon`: `{"callId", "endToken"}` as `text/plain` JSON (a beacon cannot
/// carry `Authorization`; the relay adds it). For an unload `js/beacon.js` builds it when the
/// calls are published ([`publish_unload_beacons`]), and its listener sends it first thing;
/// other leaves build it as they send.
pub(crate) fn relay_body<D>(call: &Armed<D>) -> JsValue {
    relay_body_js(call.id.as_str(), call.token.as_str())
}

/// Tell `js/beacon.js` what an unload sends first: to `relay_url`, these calls (as
/// `[callId, endToken, ...]`, whose bodies it builds now); `recorded`: whether they have
/// orphan-recovery records, which its listener deletes before each beacon.
pub(crate) fn publish_unload_beacons(
    relay_url: Option<&str>,
    calls: &js_sys::Array,
    recorded: bool,
) {
    publish_beacons(
        &relay_url.map_or(JsValue::NULL, Into::into),
        calls,
        recorded,
    );
}

/// What `js/beacon.js`'s listener did for a call in the unload being handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Beacon {
    /// Nothing: no beacon was sent for it.
    None,
    /// The browser queued its beacon: it is sent.
    Queued,
    /// The browser refused its beacon: it still has to be sent.
    Refused,
}

/// What the unload taken last did for `call_id`.
pub(crate) fn unload_beacon(call_id: &str) -> Beacon {
    match beaconed(call_id) {
        1 => Beacon::Queued,
        2 => Beacon::Refused,
        _ => Beacon::None,
    }
}

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    /// `js/beacon.js`'s time budget (see [`Clock`]).
    type Budget;

    /// `[true, budget]`, or `[false, the error]` where `AbortController` or `setTimeout` is
    /// missing.
    #[wasm_bindgen(js_name = budget)]
    fn start_budget(ms: u32) -> JsValue;

    #[wasm_bindgen(method, getter)]
    fn signal(this: &Budget) -> AbortSignal;

    #[wasm_bindgen(method, js_name = timedOut)]
    fn timed_out(this: &Budget) -> bool;

    #[wasm_bindgen(method)]
    fn remaining(this: &Budget) -> f64;

    #[wasm_bindgen(method)]
    fn stop(this: &Budget);

    /// What an attempt's answer will have come to, once the body that carries the verdict is
    /// read: a promise of `[code, status, value]` (see `js/beacon.js`'s `outcome`), which
    /// [`answer`] reads. Never rejects.
    #[wasm_bindgen(js_name = outcome)]
    pub(crate) fn read_when_answered(fetch: &Promise) -> Promise;
}

/// The time budget of one manual end, shared by all its attempts: one abort timer of
/// `timeout_ms` whose signal every attempt carries (kept by `js/beacon.js`), cleared when
/// dropped.
pub(crate) struct Clock {
    budget: Budget,
    timeout_ms: u32,
}

impl Clock {
    /// Start the budget now.
    pub(crate) fn start(timeout_ms: u32) -> Result<Clock, Failure> {
        let budget: Budget = crate::promise::pair(&start_budget(timeout_ms))
            .map(JsCast::unchecked_into)
            .map_err(|cause| {
                Failure::new(
                    ErrorKind::Network,
                    "AbortController or setTimeout is not available",
                )
                .with_cause(cause)
            })?;
        Ok(Clock { budget, timeout_ms })
    }

    /// Milliseconds left of the budget.
    pub(crate) fn remaining_ms(&self) -> f64 {
        self.budget.remaining()
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        self.budget.stop();
    }
}

/// What one attempt came to.
pub(crate) enum Answer {
    /// The end is over whatever a retry would say: the API's `EndCallResponse` (camelCase),
    /// a 422, a 2xx whose body is not an `EndCallResponse`, or a body that could not be read.
    Final(Result<JsValue, Failure>),
    /// A failure; `failed` classifies it for the retry decision (`policy::after_failure`).
    Failed {
        /// The failure, reported if it is the last.
        failure: Failure,
        /// Its class.
        failed: Failed,
        /// The API's `Retry-After`, when it sent one the page can read.
        retry_after_ms: Option<f64>,
    },
}

impl Answer {
    fn failed(failure: Failure, retry_after_ms: Option<f64>) -> Answer {
        Answer::Failed {
            failed: failed_class(&failure),
            failure,
            retry_after_ms,
        }
    }
}

/// A failure's class, for the decisions in `policy`.
pub(crate) fn failed_class(failure: &Failure) -> Failed {
    match failure.kind {
        ErrorKind::Network => Failed::Network,
        ErrorKind::Timeout => Failed::Timeout,
        ErrorKind::Http => failure.status.map_or(Failed::Other, Failed::Status),
        _ => Failed::Other,
    }
}

/// Issue one attempt of a manual end now (synchronously), within `clock`'s budget.
pub(crate) fn attempt<D>(call: &Armed<D>, clock: &Clock) -> Result<Promise, Failure> {
    send(call, Some(&clock.budget.signal())).map_err(|cause| {
        Failure::new(
            ErrorKind::Network,
            "The browser refused to send the end request (fetch threw synchronously).",
        )
        .with_cause(cause)
    })
}

/// Classify what an attempt came to (the settled [`read_when_answered`]).
pub(crate) fn answer(read: Settled, clock: &Clock) -> Answer {
    let read: js_sys::Array = match read {
        Ok(read) => read.unchecked_into(),
        Err(cause) => return Answer::failed(transport_failure(clock, cause), None),
    };
    let status = read.get(1).as_f64().unwrap_or(0.0) as u16;
    let value = read.get(2);
    let failure = |kind, message: &str| Failure::new(kind, message).with_status(status);
    match read.get(0).as_f64().unwrap_or(4.0) as u8 {
        0 => Answer::Final(Ok(value)),
        1 => {
            let mut failure = failure(
                ErrorKind::Validation,
                "The API rejected the request as invalid (422); see error.detail. Check the callId.",
            );
            failure.detail = value;
            Answer::Final(Err(failure))
        }
        2 => {
            let mut message = String::from(
                "The API answered success, so the call has ended, but the body is not an EndCallResponse: ",
            );
            message.push_str(&value.as_string().unwrap_or_default());
            Answer::Final(Err(failure(ErrorKind::InvalidResponse, &message)))
        }
        3 => {
            let failure = failure(ErrorKind::Http, &response::http_status_message(status));
            // Readable cross-origin only if the API lists it in Access-Control-Expose-Headers.
            let retry_after = value.as_string().and_then(|value| {
                policy::retry_after_ms(&value, js_sys::Date::now(), http_date_ms)
            });
            Answer::failed(failure, retry_after)
        }
        5 => Answer::Final(Err(transport_failure(clock, value))),
        _ => Answer::failed(transport_failure(clock, value), None),
    }
}

fn transport_failure(clock: &Clock, cause: JsValue) -> Failure {
    if clock.budget.timed_out() {
        let mut message = String::from("No answer from the API within ");
        crate::options::push_decimal(&mut message, clock.timeout_ms);
        message.push_str(
            " ms (options.timeoutMs); the request was abandoned (the browser may still deliver it: ending is idempotent).",
        );
        Failure::new(ErrorKind::Timeout, message).with_cause(cause)
    } else {
        Failure::new(
            ErrorKind::Network,
            "The end request did not complete: offline, connection refused, or blocked by CORS (the API must allow this origin and the Authorization header).",
        )
        .with_cause(cause)
    }
}

#[cfg(target_arch = "wasm32")]
fn http_date_ms(value: &str) -> Option<f64> {
    let at = js_sys::Date::parse(value);
    at.is_finite().then_some(at)
}

#[cfg(not(target_arch = "wasm32"))]
fn http_date_ms(_value: &str) -> Option<f64> {
    None
}
