//! The offline outbox: ends that could not be sent as the page was left (the browser was
//! offline, or `fetch` threw), kept in `localStorage` and sent by the next `init()` on this
//! origin.
//!
//! Stored under one key, `voice-end-call:outbox:v1`, as a JSON array of `{callId, endToken,
//! baseUrl, time}` (`time`: when the page was left, ms since the epoch). The token can only
//! end that one call, which is what whoever reads it could make happen anyway by closing the
//! tab.
//! Every storage error (private mode, quota, a sandboxed frame, corrupt JSON) is swallowed:
//! the outbox is a best effort on top of a best effort, and must never break a page. The
//! storage IO is `js/locks.js`'s; what is stored, and the checks of what is read back, are here.

use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::endpoint::{base_of_end_url, BaseUrl, CallId, EndToken};
use crate::registry::Armed;

#[wasm_bindgen(module = "/js/locks.js")]
extern "C" {
    /// `{callId, endToken, baseUrl, time}`.
    fn entry(call_id: &str, end_token: &str, base_url: &str, time: f64) -> JsValue;

    /// `[callId, endToken, baseUrl, time]` of a stored entry, unchecked; null if unreadable.
    fn fields(value: &JsValue) -> JsValue;

    #[wasm_bindgen(js_name = outboxAdd)]
    fn outbox_add(entries: &Array) -> bool;

    #[wasm_bindgen(js_name = outboxTake)]
    fn outbox_take() -> Array;
}

/// One stored end, validated again when read (storage is shared with the whole origin).
#[derive(Clone, Debug)]
pub struct Entry {
    /// The call.
    pub id: CallId,
    /// Its end token.
    pub token: EndToken,
    /// Where its end goes.
    pub base_url: BaseUrl,
    /// When it was stored, ms since the epoch.
    pub time: f64,
}

/// Store the ends of calls the page could not send as it was left. Whether all are stored.
pub(crate) fn save<D>(calls: &[&Armed<D>]) -> bool {
    let now = js_sys::Date::now();
    let entries = Array::new();
    for call in calls {
        let Some(base) = base_of_end_url(&call.url, &call.id) else {
            return false;
        };
        entries.push(&entry(call.id.as_str(), call.token.as_str(), &base, now));
    }
    outbox_add(&entries)
}

/// Put entries back after a send that may not have reached the API, keeping their time.
pub fn put_back(entries: &[Entry]) -> bool {
    let objects = Array::new();
    for stored in entries {
        objects.push(&entry(
            stored.id.as_str(),
            stored.token.as_str(),
            stored.base_url.as_stored(),
            stored.time,
        ));
    }
    outbox_add(&objects)
}

/// Take every entry out of the outbox (so that another tab replaying at the same time does
/// not send them too) and hand each to `each`, dropping the invalid ones and those older than
/// `ttl_ms`.
pub fn take(now: f64, ttl_ms: f64, mut each: impl FnMut(Entry)) {
    let stored = outbox_take();
    for at in 0..stored.length() {
        match entry_of(&fields(&stored.get(at))) {
            Some(entry) if is_fresh(entry.time, now, ttl_ms) => each(entry),
            _ => {}
        }
    }
}

/// Whether an entry stored at `time` is still worth sending at `now`.
pub fn is_fresh(time: f64, now: f64, ttl_ms: f64) -> bool {
    time.is_finite() && now - time <= ttl_ms
}

/// A stored entry from its fields (`js/locks.js`'s `fields`), checked as strictly as trackCall
/// checks its input (lone surrogates refused: they would be replaced and name another call).
pub(crate) fn entry_of(fields: &JsValue) -> Option<Entry> {
    let fields: &Array = fields.dyn_ref()?;
    let text = |at: u32| crate::options::string_value(&fields.get(at), "").ok();
    Some(Entry {
        id: CallId::parse(&text(0)?).ok()?,
        token: EndToken::parse(&text(1)?).ok()?,
        base_url: BaseUrl::parse(&text(2)?).ok()?,
        time: fields.get(3).as_f64()?,
    })
}
