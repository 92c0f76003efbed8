//! Continuing when a promise settles, with plain callbacks instead of an async executor (the
//! executor and its task queue cost about 3 KB of the shipped wasm, brotli).

use alloc::boxed::Box;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    #[wasm_bindgen(js_name = whenSettled)]
    fn when_settled_js(promise: &Promise, then: &JsValue);
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
    let callback = Closure::once_into_js(move |value: JsValue, fulfilled: bool| {
        then(if fulfilled { Ok(value) } else { Err(value) })
    });
    when_settled_js(promise, &callback);
}
