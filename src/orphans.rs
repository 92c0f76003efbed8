//! Orphan recovery: a tracked call whose page dies without sending its end (a renderer crash,
//! an out-of-memory kill, a mobile OS killing a background tab) is ended by another page of
//! the same origin — at once if one is open, else by the next page that calls `init()`.
//!
//! Only calls that no `fetchLater` holds are recorded: a held request is sent by the browser
//! when the page dies, so recovering it too would send it twice. While such a call is tracked
//! its page holds a [`Guard`]: an exclusive Web Lock named after the call and, under the same
//! key in `localStorage`, a record `{callId, endToken, baseUrl, time}` (the outbox's format).
//! Dropping the guard — the call was ended, untracked or sent on a page leave — deletes the
//! record before the lock is let go. Waiting pages are granted the lock when its holder lets
//! it go or dies; a record still there then (and half a second later: the deletion may be on
//! its way) means nobody sent the end. The lock, the record
//! and the waiting are in `js/locks.js`; what is recorded and what is sent is decided here.

use alloc::string::String;

use js_sys::JSON;
use wasm_bindgen::prelude::*;

use crate::endpoint::{base_of_end_url, EndToken};
use crate::outbox;
use crate::registry::Armed;

#[wasm_bindgen(module = "/js/locks.js")]
extern "C" {
    /// `js/locks.js`'s guard handle.
    type LockGuard;

    #[wasm_bindgen(js_name = canGuard)]
    fn can_guard() -> bool;

    #[wasm_bindgen(js_name = recordKey)]
    fn record_key(call_id: &str) -> String;

    #[wasm_bindgen(catch, js_name = guard)]
    fn guard(key: &str, record: &str) -> Result<LockGuard, JsValue>;

    #[wasm_bindgen(catch, method)]
    fn update(this: &LockGuard, record: &str) -> Result<(), JsValue>;

    #[wasm_bindgen(catch, method)]
    fn release(this: &LockGuard) -> Result<(), JsValue>;

    #[wasm_bindgen(catch, js_name = watch)]
    fn watch_js(on_orphan: &JsValue) -> Result<(), JsValue>;

    /// Delete a call's record.
    #[wasm_bindgen(js_name = forget)]
    fn forget_record(call_id: &str);

    #[wasm_bindgen(js_name = recordFields)]
    fn record_fields(text: &str) -> JsValue;
}

/// A tracked call recorded for recovery: holds its lock and record until dropped.
#[must_use = "dropping a Guard deletes the record at once"]
pub(crate) struct Guard {
    id: String,
    token: EndToken,
    url: String,
    handle: LockGuard,
}

impl core::fmt::Debug for Guard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Guard")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Guard {
    /// Start guarding `call` (its lock is requested; the record is written once granted).
    /// `None` where the page cannot (no Web Locks or no storage) or the record cannot be made.
    pub(crate) fn new<D>(call: &Armed<D>) -> Option<Guard> {
        if !can_guard() {
            return None;
        }
        let record = record_of(call)?;
        let handle = guard(&record_key(call.id.as_str()), &record).ok()?;
        Some(Guard {
            id: call.id.as_str().into(),
            token: call.token.clone(),
            url: call.url.clone(),
            handle,
        })
    }

    /// The call this guard is for.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Keep the record in step with a call tracked again under the same id (new token or URL).
    pub(crate) fn follow<D>(&mut self, call: &Armed<D>) {
        if self.token != call.token || self.url != call.url {
            if let Some(record) = record_of(call) {
                self.token = call.token.clone();
                self.url = call.url.clone();
                let _ = self.handle.update(&record);
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.handle.release();
    }
}

/// The record of a call, as JSON text (the outbox entry's format, `time` = now).
fn record_of<D>(call: &Armed<D>) -> Option<String> {
    let base = base_of_end_url(&call.url, &call.id)?;
    let entry = outbox::entry(
        call.id.as_str(),
        call.token.as_str(),
        &base,
        js_sys::Date::now(),
    );
    JSON::stringify(&entry).ok()?.as_string()
}

/// Read a record another page left (validated like an outbox entry; `None` if invalid).
pub(crate) fn parse_record(text: &str) -> Option<outbox::Entry> {
    outbox::entry_of(&record_fields(text))
}

/// Delete the record of `call_id` (this page is about to send its end).
pub(crate) fn forget(call_id: &str) {
    forget_record(call_id);
}

/// Wait on the records of other pages (see `js/locks.js`); `on_orphan([callId, record])` is
/// called when one's page died without sending.
pub(crate) fn watch(on_orphan: &JsValue) {
    let _ = watch_js(on_orphan);
}
