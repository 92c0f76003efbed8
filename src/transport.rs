//! The one way an end request leaves the page: `fetch(url, {method: 'POST', keepalive: true,
//! credentials: 'omit', headers: {Authorization}})`, issued synchronously by the caller.
//!
//! Page-leave handlers call [`send_and_forget`]; `endCall` calls [`start`] and awaits the
//! [`Pending`] it returns; [`arm_deferred`] hands the same request to the browser's
//! `fetchLater` ahead of time. All three build it with [`request_init`], so there is exactly
//! one request shape.
//! (`web_sys::RequestInit` has no keepalive setter and gloo-net's `send()` starts the fetch a
//! microtask late, which is too late in `pagehide`; a plain init object does both right.)

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Response};

use crate::error::{ErrorKind, Failure};
use crate::registry::Armed;
use crate::response;
use crate::timer::Timer;

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, looked up at call time (so it works in windows and workers, and an
    // app's fetch instrumentation sees the request like any other).
    // Typed loosely: an app's fetch wrapper may return something that is not a Promise.
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(url: &str, init: &Object) -> Result<JsValue, JsValue>;

}

/// The end request's init: POST, bearer, no body, no cookies, not cached.
fn request_init(call: &Armed, signal: Option<&AbortSignal>) -> Result<Object, JsValue> {
    let headers = Object::new();
    let bearer = call.token.bearer();
    Reflect::set(&headers, &"Authorization".into(), &bearer.into())?;
    let init = Object::new();
    Reflect::set(&init, &"method".into(), &"POST".into())?;
    // Never send the app's cookies to the API; the bearer token is the only credential.
    Reflect::set(&init, &"credentials".into(), &"omit".into())?;
    Reflect::set(&init, &"cache".into(), &"no-store".into())?;
    Reflect::set(&init, &"headers".into(), &headers)?;
    if let Some(signal) = signal {
        Reflect::set(&init, &"signal".into(), signal)?;
    }
    Ok(init)
}

/// Issue the end request now. Synchronous: when this returns, the browser has the request.
pub fn send(call: &Armed, signal: Option<&AbortSignal>) -> Result<Promise, JsValue> {
    let init = request_init(call, signal)?;
    // Outlives the page: the reason this library exists.
    Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE)?;
    let returned = global_fetch(&call.url, &init)?;
    // A real Promise passes through unchanged; anything else is adopted by one.
    Ok(Promise::resolve(&returned))
}

/// An end request held by the browser (`fetchLater`), sent by the browser itself when the
/// document is destroyed — even when no page event gets to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Deferred {
    controller: AbortController,
    result: JsValue,
}

impl Deferred {
    /// Withdraw the request (a no-op once it has been sent).
    pub fn cancel(&self) {
        self.controller.abort();
    }

    /// Whether the browser has sent it already.
    pub fn activated(&self) -> bool {
        Reflect::get(&self.result, &"activated".into())
            .map(|value| value.as_bool() == Some(true))
            .unwrap_or(false)
    }
}

/// Hand the end request to `fetchLater` when the browser has it (Chromium 135+, secure
/// contexts). `None` when unsupported or refused (`QuotaExceededError`, `TypeError`): the
/// page-leave handlers then send it themselves, as without this feature.
pub fn arm_deferred(call: &Armed) -> Option<Deferred> {
    let global = js_sys::global();
    let fetch_later: js_sys::Function = Reflect::get(&global, &"fetchLater".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let controller = AbortController::new().ok()?;
    let init = request_init(call, Some(&controller.signal())).ok()?;
    let result = fetch_later
        .call2(&global, &call.url.as_str().into(), &init)
        .ok()?;
    Some(Deferred { controller, result })
}

thread_local! {
    // One shared no-op rejection handler, so fire-and-forget sends never surface as
    // "unhandled rejection" in the host page.
    static IGNORE: Closure<dyn FnMut(JsValue)> = Closure::new(|_: JsValue| {});
}

/// Send during a page leave. Returns whether the browser accepted the request (a
/// synchronous throw, e.g. an exhausted keepalive quota, means it did not).
pub fn send_and_forget(call: &Armed) -> bool {
    match send(call, None) {
        Ok(promise) => {
            IGNORE.with(|ignore| {
                let _ = promise.catch(ignore);
            });
            true
        }
        Err(_) => false,
    }
}

/// A manual end in flight: the fetch has been issued, the timer is running.
pub struct Pending {
    fetch: Promise,
    timeout_ms: u32,
    timed_out: Rc<Cell<bool>>,
    // Held for its Drop: clears the timer once the end settles.
    _timer: Timer,
}

/// Issue a manual end now (synchronously) with an abort timer of `timeout_ms`.
pub fn start(call: &Armed, timeout_ms: u32) -> Result<Pending, Failure> {
    let controller = AbortController::new().map_err(|cause| {
        Failure::new(ErrorKind::Network, "AbortController is not available").with_cause(cause)
    })?;
    let signal = controller.signal();
    let timed_out = Rc::new(Cell::new(false));
    let flag = timed_out.clone();
    let timer = Timer::start(timeout_ms, move || {
        flag.set(true);
        controller.abort();
    })
    .map_err(|cause| {
        Failure::new(ErrorKind::Network, "setTimeout is not available").with_cause(cause)
    })?;
    let fetch = send(call, Some(&signal)).map_err(|cause| {
        Failure::new(
            ErrorKind::Network,
            "The browser refused to send the end request (fetch threw synchronously).",
        )
        .with_cause(cause)
    })?;
    Ok(Pending {
        fetch,
        timeout_ms,
        timed_out,
        _timer: timer,
    })
}

impl Pending {
    /// Wait for the answer and turn it into an `EndCallResponse` object or a typed failure.
    pub async fn finish(self) -> Result<JsValue, Failure> {
        let response: Response = JsFuture::from(self.fetch.clone())
            .await
            .map_err(|cause| self.transport_failure(cause))?
            .unchecked_into();
        let status = response.status();
        if (200..300).contains(&status) {
            let body = self.read_text(&response).await?;
            return response::end_call_response(&body).map_err(|why| {
                let mut message = String::from(
                    "The API answered success, so the call has ended, but the body is not an EndCallResponse: ",
                );
                message.push_str(&why);
                Failure::new(ErrorKind::InvalidResponse, message).with_status(status)
            });
        }
        if status == 422 {
            let body = self.read_text(&response).await?;
            let mut failure = Failure::new(
                ErrorKind::Validation,
                "The API rejected the request as invalid (422); see error.detail. Check the callId.",
            )
            .with_status(status);
            failure.detail = response::validation_detail(&body);
            return Err(failure);
        }
        Err(
            Failure::new(ErrorKind::Http, response::http_status_message(status))
                .with_status(status),
        )
    }

    async fn read_text(&self, response: &Response) -> Result<String, Failure> {
        let promise = response
            .text()
            .map_err(|cause| self.transport_failure(cause))?;
        let text = JsFuture::from(promise)
            .await
            .map_err(|cause| self.transport_failure(cause))?;
        Ok(text.as_string().unwrap_or_default())
    }

    fn transport_failure(&self, cause: JsValue) -> Failure {
        if self.timed_out.get() {
            let mut message = String::from("No answer from the API within ");
            crate::options::push_decimal(&mut message, self.timeout_ms);
            message.push_str(
                " ms (options.timeoutMs); the request was aborted. The call stays tracked, so leaving the page still ends it.",
            );
            Failure::new(ErrorKind::Timeout, message).with_cause(cause)
        } else {
            Failure::new(
                ErrorKind::Network,
                "The end request did not complete: offline, connection refused, or blocked by CORS (the API must allow this origin and the Authorization header). The call stays tracked, so leaving the page still ends it.",
            )
            .with_cause(cause)
        }
    }
}

/// Whether an outcome leaves the call possibly un-ended on the server, so that it should be
/// armed again for page-leave sending.
pub fn is_retryable(failure: &Failure) -> bool {
    match failure.kind {
        ErrorKind::Network | ErrorKind::Timeout => true,
        ErrorKind::Http => matches!(failure.status, Some(429) | Some(500..=599)),
        _ => false,
    }
}
