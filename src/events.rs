//! `onCallEnded`: the subscribers, and the calls ended as the page entered the back/forward
//! cache, reported if it comes back (`pageshow` with `persisted`); both kept by `js/errors.js`,
//! which calls the subscribers. Apart from the call state: reporting never needs the registry,
//! and subscribers are called outside every borrow (they may call the library again).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    /// Subscribe `listener`: `[true, the unsubscribe function]`, or `[false, a config error]`
    /// if it is not a function.
    #[wasm_bindgen(js_name = trySubscribe)]
    pub(crate) fn subscribe(listener: &JsValue) -> JsValue;

    /// Tell every subscriber that `call_id` was ended `via` (with the API's `response`, if not
    /// undefined); a throwing subscriber is logged, never passed on.
    pub(crate) fn emit(call_id: &str, via: &str, response: &JsValue);

    /// Calls a page leave ended: on a `beforeunload` (`cached` false) the subscribers are told
    /// now (`via: 'beforeunload'`); entering the back/forward cache (`cached`), they are kept
    /// to report if the page comes back.
    #[wasm_bindgen(js_name = endedOnLeave)]
    pub(crate) fn ended_on_leave(cached: bool, call_ids: &js_sys::Array);

    /// The page came back from the back/forward cache: report the calls ended as it went.
    #[wasm_bindgen(js_name = reportRestored)]
    pub(crate) fn report_restored();
}
