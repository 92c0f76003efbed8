//! `setTimeout` helpers: a timer cleared on drop, and a one-shot "run after this event's
//! dispatch is over".

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

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
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    /// Call `on_fire` after `ms` milliseconds unless dropped first.
    pub fn start(ms: u32, on_fire: impl FnMut() + 'static) -> Result<Timer, JsValue> {
        let callback = Closure::<dyn FnMut()>::new(on_fire);
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

/// Run `task` once, in a later task of the event loop (after the current event has been
/// dispatched to every listener). The closure frees itself when it runs.
pub fn defer(task: impl FnOnce() + 'static) -> Result<(), JsValue> {
    let callback = Closure::once_into_js(task);
    set_timeout(callback.unchecked_ref(), 0).map(|_| ())
}

/// Wait `ms` milliseconds (a `setTimeout` behind a promise). Errs if timers are unavailable.
pub async fn sleep(ms: u32) -> Result<(), JsValue> {
    let mut scheduled = Ok(());
    let promise = Promise::new(&mut |resolve, _reject| {
        scheduled = set_timeout(&resolve, ms).map(|_| ());
    });
    scheduled?;
    JsFuture::from(promise).await.map(|_| ())
}
