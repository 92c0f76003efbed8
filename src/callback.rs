//! JS functions the wasm makes and calls: a one-shot callback into Rust, and a call of a JS
//! function (a promise's resolve or reject, a callback) that nothing it throws can escape.
//! Below `timer` and `promise`, which both need them.

use alloc::boxed::Box;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    /// Call `f(value)`, whatever it throws.
    #[wasm_bindgen(js_name = settle)]
    pub(crate) fn call(f: &JsValue, value: &JsValue);
}

/// A JS function that calls `f` the first time it is called, and frees it then. Every
/// one-shot callback of the crate goes through here: one copy of the closure glue for all.
pub(crate) fn once(f: Box<dyn FnOnce(JsValue)>) -> JsValue {
    Closure::once_into_js(f)
}
