//! `setTimeout` helpers: a timer cleared on drop, and a one-shot task run later.

use alloc::boxed::Box;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    // Globals rather than `Window` methods, so the manual path also works in workers.
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: u32) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue) -> Result<(), JsValue>;
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
        let id = set_timeout(callback.as_ref().unchecked_ref(), ms)?;
        Ok(Timer {
            id,
            _callback: callback,
        })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let _ = clear_timeout(&self.id);
    }
}

/// A JS function that calls `f` the first time it is called, and frees it then. Every
/// one-shot callback of the crate goes through here: one copy of the closure glue for all.
pub(crate) fn once(f: Box<dyn FnOnce(JsValue)>) -> JsValue {
    Closure::once_into_js(f)
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
    let callback: Function = once(Box::new(move |fired: JsValue| {
        task(fired.as_bool() != Some(false))
    }))
    .unchecked_into();
    if set_timeout(&callback, ms).is_err() {
        let _ = callback.call1(&JsValue::NULL, &JsValue::FALSE);
    }
}
