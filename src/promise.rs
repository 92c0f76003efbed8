//! Continuing when a promise settles, with plain callbacks instead of an async executor (the
//! executor and its task queue cost about 3 KB of the shipped wasm, brotli).

use alloc::boxed::Box;

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// `Promise.allSettled(...)`: a promise that never rejects.
    type AllSettled;

    #[wasm_bindgen(js_namespace = Promise, js_name = allSettled)]
    fn all_settled(promises: &Array) -> AllSettled;

    #[wasm_bindgen(method)]
    fn then(this: &AllSettled, on_fulfilled: &js_sys::Function);
}

/// What a promise settled to: its value, or its rejection reason.
pub type Settled = Result<JsValue, JsValue>;

/// Run `then` once `promise` settles (in a later microtask, never synchronously).
///
/// `Promise.allSettled` never rejects and calls back exactly once, so one self-freeing
/// callback serves both outcomes (a `then(onValue, onReason)` pair would leak whichever of
/// the two never runs). Boxed: one callback type for every continuation keeps one copy of
/// the closure glue in the wasm.
pub fn when_settled(promise: &Promise, then: Box<dyn FnOnce(Settled)>) {
    let callback: js_sys::Function = Closure::once_into_js(move |results: JsValue| {
        let outcome = Reflect::get_u32(&results, 0).unwrap_or_default();
        let field = |name: &str| Reflect::get(&outcome, &name.into()).unwrap_or_default();
        let fulfilled = field("status").as_string().as_deref() == Some("fulfilled");
        then(if fulfilled {
            Ok(field("value"))
        } else {
            Err(field("reason"))
        })
    })
    .unchecked_into();
    all_settled(&Array::of1(promise)).then(&callback);
}
