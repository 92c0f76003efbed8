//! `onCallEnded`: the subscribers (kept by `js/errors.js`, which calls them), and the calls
//! ended as the page entered the back/forward cache, reported if it comes back (`pageshow`
//! with `persisted`). State of its own, apart from the call state: reporting never needs the
//! registry, and subscribers are called outside every borrow (they may call the library
//! again).

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::global::page_global;

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    /// Subscribe `listener` (a `config` error if it is not a function); the unsubscribe function.
    #[wasm_bindgen(catch)]
    pub(crate) fn subscribe(listener: &JsValue) -> Result<JsValue, JsValue>;

    /// Tell every subscriber that `call_id` was ended `via` (with the API's `response`, if not
    /// undefined); a throwing subscriber is logged, never passed on.
    pub(crate) fn emit(call_id: &str, via: &str, response: &JsValue);
}

page_global! {
    // Calls ended while the page entered the back/forward cache, not reported yet.
    static ENDED_WHILE_CACHED: RefCell<Vec<String>> = RefCell::new(Vec::new());
}

/// Remember calls ended as the page entered the back/forward cache.
pub(crate) fn ended_while_cached<'a>(ids: impl Iterator<Item = &'a str>) {
    ENDED_WHILE_CACHED.with(|cell| {
        // Nothing calls out while it is borrowed, so the borrow cannot fail; if it ever did,
        // the report is dropped rather than the page broken.
        if let Ok(mut ended) = cell.try_borrow_mut() {
            ended.extend(ids.map(String::from));
        }
    });
}

/// The page came back from the back/forward cache: report the calls ended as it went.
pub(crate) fn report_restored() {
    let ended = ENDED_WHILE_CACHED.with(|cell| {
        cell.try_borrow_mut()
            .map(|mut ended| core::mem::take(&mut *ended))
            .unwrap_or_default()
    });
    for id in ended {
        emit(&id, "pagehide", &JsValue::UNDEFINED);
    }
}
