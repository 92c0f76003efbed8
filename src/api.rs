//! The functions exported to JavaScript. Each one turns untrusted JS values into checked
//! Rust values (or a `config` error naming the offending key) and hands them to the tracker.
//! The public, documented surface is `js/index.js` + `js/index.d.ts`, which gate these on
//! `init()`.

use alloc::borrow::ToOwned;
use alloc::string::String;

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::endpoint::{CallId, EndToken};
use crate::error::Failure;
use crate::events;
use crate::manual_end::{self, EndOverrides};
use crate::options::{self, config_error, plain_object, read_property, string_value};
use crate::page;
use crate::startup;

/// `configure(options)`: update the configuration; on error the previous one stays.
#[wasm_bindgen]
pub fn configure(options: JsValue) -> Result<(), JsValue> {
    let next = options::apply(&page::config()?, &options)?;
    page::configure(next)?;
    Ok(())
}

/// `trackCall(call)`: arm page-leave ending for a call. Returns the call id.
#[wasm_bindgen(js_name = trackCall)]
pub fn track_call(call: JsValue) -> Result<String, JsValue> {
    let object = plain_object(&call, "trackCall(call): call")?;
    // Own properties only: a polluted Object.prototype must not supply an id or a token.
    let has = |key: &str| options::has_own_property(object, key, "trackCall(call): call");
    let get = |key: &str| -> Result<JsValue, Failure> {
        if has(key)? {
            read_property(object, &key.into(), key, "call")
        } else {
            Ok(JsValue::UNDEFINED)
        }
    };
    let (id, token, base_url) = if has("callId")? || has("endToken")? {
        let base_url = get("baseUrl")?;
        let base_url = if base_url.is_undefined() {
            None
        } else {
            Some(options::parse_base_url(&base_url, "call.baseUrl")?)
        };
        (
            call_id(&get("callId")?, "call.callId")?,
            end_token(&get("endToken")?, "call.endToken")?,
            base_url,
        )
    } else if has("call_id")? {
        let token = get("end_token")?;
        if token.is_null() {
            return Err(config_error(
                "call.end_token",
                "is null: the API issued no end token for this call, so the browser cannot end it; end it from your backend",
            )
            .into());
        }
        (
            call_id(&get("call_id")?, "call.call_id")?,
            end_token(&token, "call.end_token")?,
            None,
        )
    } else {
        return Err(Failure::config(
            "trackCall(call): call must be {callId, endToken} or the connection-details response {call_id, end_token}",
        )
        .into());
    };
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
        Err(failure) => Promise::reject(&failure.into_js()),
    }
}

fn start_end(call_id_value: &JsValue, options: &JsValue) -> Result<Promise, Failure> {
    let id = call_id(call_id_value, "endCall(callId): callId")?;
    let mut overrides = EndOverrides::default();
    if !options.is_undefined() && !options.is_null() {
        let object = plain_object(options, "endCall(callId, options): options")?;
        for key in options::keys(object, "endCall(callId, options): options")?.iter() {
            let name = key.as_string().unwrap_or_default();
            let value = read_property(object, &key, &name, "options")?;
            if value.is_undefined() {
                continue;
            }
            match name.as_str() {
                "endToken" => overrides.token = Some(end_token(&value, "options.endToken")?),
                "baseUrl" => {
                    overrides.base_url = Some(options::parse_base_url(&value, "options.baseUrl")?)
                }
                "timeoutMs" => {
                    overrides.timeout_ms =
                        Some(options::parse_timeout(&value, "options.timeoutMs")?)
                }
                "retries" => {
                    overrides.retries = Some(options::parse_retries(&value, "options.retries")?)
                }
                _ => {
                    let mut message = String::from("endCall(callId, options): unknown option \"");
                    message.push_str(&options::truncate_for_message(&name));
                    message.push_str("\". Known options: endToken, baseUrl, timeoutMs, retries.");
                    return Err(Failure::config(message));
                }
            }
        }
    }
    manual_end::end(id, overrides)
}

/// `untrackCall(callId)`: forget a call without sending. Whether it was tracked.
#[wasm_bindgen(js_name = untrackCall)]
pub fn untrack_call(call_id_value: JsValue) -> Result<bool, JsValue> {
    let id = call_id(&call_id_value, "untrackCall(callId): callId")?;
    Ok(page::untrack(&id)?)
}

/// `trackedCalls()`: the ids armed for page-leave ending.
#[wasm_bindgen(js_name = trackedCalls)]
pub fn tracked_calls() -> Result<Array, JsValue> {
    Ok(page::tracked_ids()?
        .into_iter()
        .map(JsValue::from)
        .collect())
}

/// `onCallEnded(listener)`: subscribe to ended calls; returns the unsubscribe function.
#[wasm_bindgen(js_name = onCallEnded)]
pub fn on_call_ended(listener: JsValue) -> Result<JsValue, JsValue> {
    let listener: js_sys::Function = listener
        .dyn_into()
        .map_err(|_| config_error("onCallEnded(listener): listener", "must be a function"))?;
    Ok(events::subscribe(listener))
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
    CallId::parse(&text).map_err(|why| config_error(path, &why))
}

fn end_token(value: &JsValue, path: &str) -> Result<EndToken, Failure> {
    let text = string_value(value, path)?;
    EndToken::parse(&text).map_err(|why| config_error(path, &why))
}

/// Internal (for `voice-end-call/relay`, the server-side relay of beacon ends): the end
/// request for a call id and token read from a beacon body, checked with the very rules the
/// browser applies, as `[url, authorization]`. `base_url` is the relay's configured API base,
/// never a value from the request. A bad value is a `config` error naming the field (never
/// quoting a token).
#[wasm_bindgen(js_name = relayRequest)]
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
