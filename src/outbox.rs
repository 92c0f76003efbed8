//! The offline outbox: ends that could not be sent as the page was left (the browser was
//! offline, or `fetch` threw), kept in `localStorage` and sent by the next `init()` on this
//! origin.
//!
//! Stored under one key, [`KEY`], as a JSON array of `{callId, endToken, baseUrl, time}`
//! (`time`: when the page was left, ms since the epoch). The token can only end that one
//! call, which is what whoever reads it could make happen anyway by closing the tab.
//! Every storage error (private mode, quota, a sandboxed frame, corrupt JSON) is swallowed:
//! the outbox is a best effort on top of a best effort, and must never break a page.

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Storage;

use crate::endpoint::{base_of_end_url, BaseUrl, CallId, EndToken};
use crate::registry::Armed;

/// The `localStorage` key of the outbox.
pub const KEY: &str = "voice-end-call:outbox:v1";

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

pub(crate) fn storage() -> Option<Storage> {
    // `localStorage` itself throws where storage is denied (sandboxed frames, some
    // privacy settings): `ok()` turns that into "no outbox".
    web_sys::window()?.local_storage().ok().flatten()
}

fn read(storage: &Storage) -> Array {
    storage
        .get_item(KEY)
        .ok()
        .flatten()
        .and_then(|text| JSON::parse(&text).ok())
        .and_then(|value| value.dyn_into::<Array>().ok())
        .unwrap_or_default()
}

fn write(storage: &Storage, entries: &Array) -> bool {
    if entries.length() == 0 {
        return storage.remove_item(KEY).is_ok();
    }
    match JSON::stringify(entries)
        .ok()
        .and_then(|text| text.as_string())
    {
        Some(text) => storage.set_item(KEY, &text).is_ok(),
        None => false,
    }
}

pub(crate) fn entry_object(id: &str, token: &str, base_url: &str, time: f64) -> Option<Object> {
    let object = Object::new();
    for (key, value) in [
        ("callId", JsValue::from(id)),
        ("endToken", JsValue::from(token)),
        ("baseUrl", JsValue::from(base_url)),
        ("time", JsValue::from(time)),
    ] {
        Reflect::set(&object, &key.into(), &value).ok()?;
    }
    Some(object)
}

fn stored_id(entry: &JsValue) -> Option<String> {
    Reflect::get(entry, &"callId".into()).ok()?.as_string()
}

/// Add entries (replacing stored ones for the same ids), all in one write. Whether they
/// are stored; false when storage is unavailable or full.
fn add(new: Vec<Object>, ids: &[&str]) -> bool {
    let Some(storage) = storage() else {
        return false;
    };
    let entries = read(&storage);
    let kept: Array = entries
        .iter()
        .filter(|entry| stored_id(entry).map_or(true, |stored| !ids.contains(&stored.as_str())))
        .collect();
    for entry in new {
        kept.push(&entry);
    }
    write(&storage, &kept)
}

/// Store the ends of calls the page could not send as it was left. Whether all are stored.
pub(crate) fn save<D>(calls: &[Armed<D>]) -> bool {
    let now = js_sys::Date::now();
    let mut objects = Vec::with_capacity(calls.len());
    let mut ids = Vec::with_capacity(calls.len());
    for call in calls {
        let Some(base) = base_of_end_url(&call.url, &call.id) else {
            return false;
        };
        let Some(object) = entry_object(call.id.as_str(), call.token.as_str(), &base, now) else {
            return false;
        };
        objects.push(object);
        ids.push(call.id.as_str());
    }
    add(objects, &ids)
}

/// Put entries back after a send that may not have reached the API, keeping their time.
pub fn put_back(entries: &[Entry]) -> bool {
    let objects = entries
        .iter()
        .filter_map(|entry| {
            entry_object(
                entry.id.as_str(),
                entry.token.as_str(),
                entry.base_url.as_stored(),
                entry.time,
            )
        })
        .collect();
    let ids: Vec<&str> = entries.iter().map(|entry| entry.id.as_str()).collect();
    add(objects, &ids)
}

/// Take every entry out of the outbox (so that another tab replaying at the same time does
/// not send them too), dropping the invalid ones and those older than `ttl_ms`.
pub fn take(now: f64, ttl_ms: f64) -> Vec<Entry> {
    let Some(storage) = storage() else {
        return Vec::new();
    };
    let entries = read(&storage);
    if entries.length() == 0 || !write(&storage, &Array::new()) {
        return Vec::new();
    }
    entries
        .iter()
        .filter_map(|value| parse_entry(&value))
        .filter(|entry| is_fresh(entry.time, now, ttl_ms))
        .collect()
}

/// Whether an entry stored at `time` is still worth sending at `now`.
pub fn is_fresh(time: f64, now: f64, ttl_ms: f64) -> bool {
    time.is_finite() && now - time <= ttl_ms
}

pub(crate) fn parse_entry(value: &JsValue) -> Option<Entry> {
    // As strictly as trackCall reads them (lone surrogates refused: they would be replaced
    // and name another call).
    let text = |key: &str| {
        let value = Reflect::get(value, &key.into()).ok()?;
        crate::options::string_value(&value, key).ok()
    };
    Some(Entry {
        id: CallId::parse(&text("callId")?).ok()?,
        token: EndToken::parse(&text("endToken")?).ok()?,
        base_url: BaseUrl::parse(&text("baseUrl")?).ok()?,
        time: Reflect::get(value, &"time".into()).ok()?.as_f64()?,
    })
}
