//! `onCallEnded`: the subscribers, and the calls ended as the page entered the back/forward
//! cache, reported if it comes back (`pageshow` with `persisted`). State of its own, apart
//! from the call state: reporting never needs the registry, and listeners run outside every
//! borrow (they may call the library again).

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::global::page_global;

#[derive(Default)]
struct Events {
    listeners: Vec<Function>,
    /// Calls ended while the page entered the back/forward cache, not reported yet.
    ended_while_cached: Vec<String>,
}

page_global! {
    static EVENTS: RefCell<Events> = RefCell::new(Events::default());
}

fn with_events<R: Default>(f: impl FnOnce(&mut Events) -> R) -> R {
    // Nothing here calls out while borrowed, so the borrow cannot fail; if it ever did, the
    // report is dropped rather than the page broken.
    EVENTS.with(|cell| {
        cell.try_borrow_mut()
            .map(|mut events| f(&mut events))
            .unwrap_or_default()
    })
}

#[wasm_bindgen]
extern "C" {
    // `catch`: a host page may make console methods throw.
    #[wasm_bindgen(catch, js_namespace = console, js_name = error)]
    fn console_error(message: &str, error: &JsValue) -> Result<(), JsValue>;
}

/// Subscribe; returns the unsubscribe function (calling it twice is harmless).
pub(crate) fn subscribe(listener: Function) -> JsValue {
    with_events(|events| events.listeners.push(listener.clone()));
    let unsubscribe = Closure::<dyn FnMut()>::new(move || {
        // `retain`, not `Vec::remove`: the latter keeps some of `core::fmt` in the module.
        with_events(|events| events.listeners.retain(|l| l != &listener))
    });
    unsubscribe.into_js_value()
}

/// Tell every subscriber that `call_id` was ended `via`, with the API's `response` when there
/// is one. A throwing subscriber is logged and does not stop the others (nor escapes into a
/// page-lifecycle handler).
pub(crate) fn emit(call_id: &str, via: &str, response: &JsValue) {
    let listeners = with_events(|events| events.listeners.clone());
    if listeners.is_empty() {
        return;
    }
    let event = Object::new();
    let _ = Reflect::set(&event, &"callId".into(), &call_id.into());
    let _ = Reflect::set(&event, &"via".into(), &via.into());
    if !response.is_undefined() {
        let _ = Reflect::set(&event, &"response".into(), response);
    }
    for listener in &listeners {
        if let Err(error) = listener.call1(&JsValue::NULL, &event) {
            let _ = console_error("voice-end-call: an onCallEnded listener threw", &error);
        }
    }
}

/// Remember calls ended as the page entered the back/forward cache.
pub(crate) fn ended_while_cached<'a>(ids: impl Iterator<Item = &'a str>) {
    with_events(|events| events.ended_while_cached.extend(ids.map(String::from)));
}

/// The page came back from the back/forward cache: report the calls ended as it went.
pub(crate) fn report_restored() {
    for id in with_events(|events| core::mem::take(&mut events.ended_while_cached)) {
        emit(&id, "pagehide", &JsValue::UNDEFINED);
    }
}
