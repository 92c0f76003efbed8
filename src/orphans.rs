//! Orphan recovery: a tracked call whose page dies without sending its end (a renderer crash,
//! an out-of-memory kill, a mobile OS killing a background tab) is ended by another page of
//! the same origin — at once if one is open, else by the next page that calls `init()`.
//!
//! Only calls that no `fetchLater` holds are recorded: a held request is sent by the browser
//! when the page dies, so recovering it too would send it twice. While such a call is tracked
//! its page guards it: an exclusive Web Lock named after the call and, under the same key in
//! `localStorage`, a record `{callId, endToken, baseUrl, time}` (the outbox's format). Which
//! calls are guarded follows from the call state, in `page::State::sync_derived` (the one
//! place): once a call is no longer listed — ended, untracked or sent on a page leave — its
//! record is deleted before the lock is let go. Waiting pages are granted the lock when its
//! holder lets it go or dies; a record still there then (and half a second later: the deletion
//! may be on its way) means nobody sent the end. The locks, the records and the waiting are
//! in `js/locks.js`; which calls are recorded and what is sent are decided here and in `page`.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::endpoint::base_of_end_url;
use crate::outbox;
use crate::registry::Armed;

#[wasm_bindgen(module = "/js/locks.js")]
extern "C" {
    /// Guard exactly `calls`, as `[callId, endToken, baseUrl]` ([`guarded`]; `baseUrl`
    /// undefined: not recordable): `js/locks.js` requests the lock and writes the record of a
    /// new one, rewrites the record of one whose token or base URL changed, and lets go of
    /// every other (its record deleted first). Called by `page::State::sync_derived` after
    /// every change of the call state, with every armed call that no `fetchLater` holds while
    /// `recover` is on, else none.
    #[wasm_bindgen(js_name = guardCalls)]
    pub(crate) fn guard_exactly(calls: &Array);

    /// Wait on the records of other pages (see `js/locks.js`; never throws);
    /// `on_orphan([callId, record])` is called when one's page died without sending.
    pub(crate) fn watch(on_orphan: &JsValue);

    /// Delete the record of `call_id` (this page is about to send its end).
    pub(crate) fn forget(call_id: &str);

    #[wasm_bindgen(js_name = recordFields)]
    fn record_fields(text: &str) -> JsValue;
}

/// `[callId, endToken, baseUrl]` of a call, as [`guard_exactly`] takes it.
pub(crate) fn guarded<D>(call: &Armed<D>) -> Array {
    let base = base_of_end_url(&call.url, &call.id).map_or(JsValue::UNDEFINED, JsValue::from);
    Array::of3(&call.id.as_str().into(), &call.token.as_str().into(), &base)
}

/// Read a record another page left (validated like an outbox entry; `None` if invalid).
pub(crate) fn parse_record(text: &str) -> Option<outbox::Entry> {
    outbox::entry_of(&record_fields(text))
}
