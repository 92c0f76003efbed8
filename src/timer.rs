//! `setTimeout` helpers: a timer cleared on drop, and a one-shot task run later.

use alloc::boxed::Box;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::callback;

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    // The globals rather than `Window` methods, so the manual path also works in workers;
    // `later` returns undefined where `setTimeout` threw.
    #[wasm_bindgen(js_name = later)]
    fn set_timeout(callback: &Function, ms: u32) -> JsValue;

    #[wasm_bindgen(js_name = cancelLater)]
    fn clear_timeout(id: &JsValue);
}

/// A running `setTimeout`, cleared when dropped.
pub struct Timer {
    id: JsValue,
    _callback: Closure<dyn FnMut(JsValue)>,
}

impl Timer {
    /// Call `on_fire` after `ms` milliseconds unless dropped first.
    pub fn start(ms: u32, on_fire: impl FnMut() + 'static) -> Result<Timer, JsValue> {
        let mut on_fire = on_fire;
        // `dyn FnMut(JsValue)`, the crate's one callback signature (see `lifecycle`).
        let callback =
            Closure::wrap(Box::new(move |_: JsValue| on_fire()) as Box<dyn FnMut(JsValue)>);
        let id = set_timeout(callback.as_ref().unchecked_ref(), ms);
        if id.is_undefined() {
            return Err(id);
        }
        Ok(Timer {
            id,
            _callback: callback,
        })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

/// Run `task(true)` once, in a later task of the event loop, `ms` milliseconds from now (0:
/// after the current event has been dispatched to every listener). If timers are unavailable
/// (`setTimeout` threw), `task(false)` runs right away instead, so the task always runs
/// exactly once. The callback frees itself when it runs.
///
/// Boxed: one callback type for every task keeps one copy of the closure glue in the wasm.
pub fn after(ms: u32, task: Box<dyn FnOnce(bool)>) {
    // Only the fallback below passes `false`. (`setTimeout` passes nothing: an app's timer
    // wrapper may drop extra arguments, so "fired" is anything but an explicit `false`.)
    let callback: Function = callback::once(Box::new(move |fired: JsValue| {
        task(fired.as_bool() != Some(false))
    }))
    .unchecked_into();
    if set_timeout(&callback, ms).is_undefined() {
        callback::call(&callback, &JsValue::FALSE);
    }
}
