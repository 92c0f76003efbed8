//! The functions exported to JavaScript. Each one turns untrusted JS values into checked
//! Rust values (or a `config` error naming the offending key) and hands them to `page` and
//! `manual_end`; `js/errors.js` walks the caller's objects, every value is checked here.
//! The public, documented surface is `js/index.js` + `js/index.d.ts`, which gate these on
//! `init()`.
//!
//! The `pub fn`s are the Rust API (the wasm test suites call them). The module exports them
//! through the wrappers at the end, which return an error instead of throwing it: every error
//! is an `EndCallError`, and `js/index.js` throws what is one. (wasm-bindgen's way to throw,
//! a `Result` return, costs each export a return area in memory and glue to read it: 0.25 KB
//! of what a page loads, measured.)

use alloc::borrow::ToOwned;
use alloc::string::String;

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;

use crate::endpoint::{CallId, EndToken};
use crate::error::Failure;
use crate::events;
use crate::manual_end::{self, EndOverrides};
use crate::options::{self, config_error, string_value};
use crate::page;
use crate::promise;
use crate::startup;

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    // The walk over the caller's objects (see `js/errors.js`): `[true, what it read]`, or
    // `[false, a typed config error]`, passed on as it is.
    #[wasm_bindgen(js_name = tryReadOptions)]
    fn read_options_js(
        value: &JsValue,
        function: &str,
        known: &str,
        skip_undefined: bool,
    ) -> JsValue;

    #[wasm_bindgen(js_name = tryReadCall)]
    fn read_call_js(value: &JsValue) -> JsValue;
}

fn read_options(
    value: &JsValue,
    function: &str,
    known: &str,
    skip_undefined: bool,
) -> Result<Array, JsValue> {
    promise::pair(&read_options_js(value, function, known, skip_undefined))
        .map(JsCast::unchecked_into)
}

fn read_call(value: &JsValue) -> Result<Array, JsValue> {
    promise::pair(&read_call_js(value)).map(JsCast::unchecked_into)
}

/// `configure(options)`: update the configuration; on error the previous one stays.
pub fn configure(options: JsValue) -> Result<(), JsValue> {
    let read = read_options(&options, "configure(options)", options::KNOWN, false)?;
    page::configure(&read)
}

/// `trackCall(call)`: arm page-leave ending for a call. Returns the call id.
pub fn track_call(call: JsValue) -> Result<String, JsValue> {
    // [callId, endToken, baseUrl, camelCase]
    let read = read_call(&call)?;
    let camel = read.get(3).is_truthy();
    let base_url = read.get(2);
    let base_url = if base_url.is_undefined() {
        None
    } else {
        Some(options::parse_base_url(&base_url, "call.baseUrl")?)
    };
    let id = call_id(
        &read.get(0),
        if camel { "call.callId" } else { "call.call_id" },
    )?;
    let token = end_token(
        &read.get(1),
        if camel {
            "call.endToken"
        } else {
            "call.end_token"
        },
    )?;
    let id_text = id.as_str().to_owned();
    page::track(id, token, base_url)?;
    Ok(id_text)
}

/// `endCall(callId, options?)`: end now; resolves with the camelCase `EndCallResponse`.
/// Never throws: every failure is a rejected promise.
#[wasm_bindgen(js_name = endCall)]
pub fn end_call(call_id_value: JsValue, options: JsValue) -> Promise {
    match start_end(&call_id_value, &options) {
        Ok(promise) => promise,
        Err(error) => Promise::reject(&error),
    }
}

fn start_end(call_id_value: &JsValue, options: &JsValue) -> Result<Promise, JsValue> {
    let id = call_id(call_id_value, "endCall(callId): callId")?;
    let mut overrides = EndOverrides::default();
    if !options.is_undefined() && !options.is_null() {
        let read = read_options(
            options,
            "endCall(callId, options)",
            "endToken, baseUrl, timeoutMs, retries",
            true,
        )?;
        let mut at = 0;
        while at + 1 < read.length() {
            let value = read.get(at + 1);
            match read.get(at).as_f64() {
                Some(0.0) => overrides.token = Some(end_token(&value, "options.endToken")?),
                Some(1.0) => {
                    overrides.base_url = Some(options::parse_base_url(&value, "options.baseUrl")?)
                }
                Some(2.0) => {
                    overrides.timeout_ms =
                        Some(options::parse_timeout(&value, "options.timeoutMs")?)
                }
                Some(3.0) => {
                    overrides.retries = Some(options::parse_retries(&value, "options.retries")?)
                }
                // An unknown key: its error.
                _ => return Err(value),
            }
            at += 2;
        }
    }
    Ok(manual_end::end(id, overrides)?)
}

/// `untrackCall(callId)`: forget a call without sending. Whether it was tracked.
pub fn untrack_call(call_id_value: JsValue) -> Result<bool, JsValue> {
    let id = call_id(&call_id_value, "untrackCall(callId): callId")?;
    Ok(page::untrack(&id)?)
}

/// `trackedCalls()`: the ids armed for page-leave ending.
pub fn tracked_calls() -> Result<Array, JsValue> {
    Ok(page::tracked_ids()?)
}

/// `onCallEnded(listener)`: subscribe to ended calls; returns the unsubscribe function.
pub fn on_call_ended(listener: JsValue) -> Result<JsValue, JsValue> {
    promise::pair(&events::subscribe(&listener))
}

/// Internal (called by `init()` in `js/index.js`, one task after the module loaded, so that
/// a `configure` right after `await init()` applies): add the `pagehide` listener, send the
/// ends earlier pages of this origin stored in the outbox, and start ending the calls of
/// pages that die without sending (orphan recovery). Idempotent. Returns how many outbox
/// ends were started.
#[wasm_bindgen(js_name = started)]
pub fn started() -> u32 {
    startup::start()
}

fn call_id(value: &JsValue, path: &str) -> Result<CallId, Failure> {
    let text = string_value(value, path)?;
    CallId::parse(&text).map_err(|why| config_error(path, why))
}

fn end_token(value: &JsValue, path: &str) -> Result<EndToken, Failure> {
    let text = string_value(value, path)?;
    EndToken::parse(&text).map_err(|why| config_error(path, why))
}

/// Internal (for `voice-end-call/relay`, the server-side relay of beacon ends): the end
/// request for a call id and token read from a beacon body, checked with the very rules the
/// browser applies, as `[url, authorization]`. `base_url` is the relay's configured API base,
/// never a value from the request. A bad value is a `config` error naming the field (never
/// quoting a token).
pub fn relay_request(
    call_id_value: JsValue,
    token_value: JsValue,
    base_url: JsValue,
) -> Result<Array, JsValue> {
    let id = call_id(&call_id_value, "body.callId")?;
    let token = end_token(&token_value, "body.endToken")?;
    let base = options::parse_base_url(&base_url, "apiBaseUrl")?;
    Ok(Array::of2(
        &base.end_url(&id).into(),
        &token.bearer().into(),
    ))
}

/// An export's result as one JS value: the value, or the `EndCallError` for `js/index.js` to
/// throw (see the module doc).
fn returned<T: Into<JsValue>>(result: Result<T, JsValue>) -> JsValue {
    match result {
        Ok(value) => value.into(),
        Err(error) => error,
    }
}

/// [`configure`], exported: undefined, or its error.
#[wasm_bindgen(js_name = configure)]
pub fn configure_export(options: JsValue) -> JsValue {
    returned(configure(options).map(|()| JsValue::UNDEFINED))
}

/// [`track_call`], exported: the call id, or its error.
#[wasm_bindgen(js_name = trackCall)]
pub fn track_call_export(call: JsValue) -> JsValue {
    returned(track_call(call).map(|id| JsValue::from_str(&id)))
}

/// [`untrack_call`], exported: whether it was tracked, or its error.
#[wasm_bindgen(js_name = untrackCall)]
pub fn untrack_call_export(call_id_value: JsValue) -> JsValue {
    returned(untrack_call(call_id_value))
}

/// [`tracked_calls`], exported: the ids, or its error.
#[wasm_bindgen(js_name = trackedCalls)]
pub fn tracked_calls_export() -> JsValue {
    returned(tracked_calls())
}

/// [`on_call_ended`], exported: the unsubscribe function, or its error.
#[wasm_bindgen(js_name = onCallEnded)]
pub fn on_call_ended_export(listener: JsValue) -> JsValue {
    returned(on_call_ended(listener))
}

/// [`relay_request`], exported: `[url, authorization]`, or its error.
#[wasm_bindgen(js_name = relayRequest)]
pub fn relay_request_export(
    call_id_value: JsValue,
    token_value: JsValue,
    base_url: JsValue,
) -> JsValue {
    returned(relay_request(call_id_value, token_value, base_url))
}
