//! Continuing when a promise settles, with plain callbacks instead of an async executor (the
//! executor and its task queue cost about 3 KB of the shipped wasm, brotli).

use alloc::boxed::Box;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    #[wasm_bindgen(js_name = whenSettled)]
    fn when_settled_js(promise: &Promise, then: &JsValue);

    /// `[promise, resolve, reject]`: a new promise, settled by calling one of the two.
    #[wasm_bindgen(js_name = promiseWithResolvers)]
    fn pending() -> js_sys::Array;

    /// Keep a promise nobody awaits from surfacing as an unhandled rejection.
    #[wasm_bindgen(js_name = ignore)]
    pub(crate) fn ignore_rejection(promise: &Promise);
}

/// A `[ok, value]` pair from the JS shell (what a promise settled to, or what a call that
/// may throw came to: the shell never throws into the wasm) as a `Result`.
pub(crate) fn pair(pair: &JsValue) -> Settled {
    let pair: &js_sys::Array = pair.unchecked_ref();
    let value = pair.get(1);
    if pair.get(0).is_truthy() {
        Ok(value)
    } else {
        Err(value)
    }
}

/// A new promise, with the functions that resolve and reject it.
pub(crate) fn new_pending() -> (Promise, js_sys::Function, js_sys::Function) {
    let parts = pending();
    (
        parts.get(0).unchecked_into(),
        parts.get(1).unchecked_into(),
        parts.get(2).unchecked_into(),
    )
}

/// What a promise settled to: its value, or its rejection reason.
pub type Settled = Result<JsValue, JsValue>;

/// Run `then` once `promise` settles (in a later microtask, never synchronously).
///
/// `js/beacon.js`'s `whenSettled` calls back exactly once, whichever way the promise settles,
/// so one self-freeing callback serves both outcomes (a `then(onValue, onReason)` pair of Rust
/// callbacks would leak whichever of the two never runs). Boxed: one callback type for every
/// continuation keeps one copy of the closure glue in the wasm.
pub fn when_settled(promise: &Promise, then: Box<dyn FnOnce(Settled)>) {
    // `[fulfilled, value or reason]`: one argument, the crate's one callback signature.
    let callback = crate::callback::once(Box::new(move |settled: JsValue| then(pair(&settled))));
    when_settled_js(promise, &callback);
}
