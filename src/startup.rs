//! What `init()` starts, one task after the module loaded (so that a `configure` right after
//! `await init()` applies): the early `pagehide` listener, the `pageshow` listener, the
//! outbox replay and the orphan watch; and the two ways a stored call is ended by a later
//! page — from the outbox, and recovered from a page that died.

use wasm_bindgen::prelude::*;

use crate::events;
use crate::global::page_global;
use crate::lifecycle::{self, EventListener};
use crate::manual_end::{self, Via};
use crate::orphans;
use crate::outbox;
use crate::page;

page_global! {
    // Added once and kept: a page restored from the back/forward cache reports the calls it
    // ended as it went, and sends what it stored then.
    static PAGE_SHOW: Option<EventListener> = page::page_window()
        .and_then(|window| EventListener::new(&window, "pageshow", on_page_show).ok());
}

page_global! {
    static ON_ORPHAN: Closure<dyn FnMut(JsValue)> = Closure::new(recover_orphan);
}

/// Start (idempotent, never throws). Returns how many outbox ends were started.
pub(crate) fn start() -> u32 {
    page::add_page_hide();
    PAGE_SHOW.with(|_| ());
    let replayed = replay_outbox();
    ON_ORPHAN.with(|on_orphan| orphans::watch(on_orphan.as_ref()));
    replayed
}

fn on_page_show(event: JsValue) {
    if lifecycle::is_persisted(&event) {
        events::report_restored();
        // Ends stored while offline as the page entered the cache: back now, send them.
        replay_outbox();
    }
}

/// Send the ends stored in the outbox by earlier pages of this origin (normal fetch, with
/// retries, with the configuration in force). Each entry is deleted on a definitive answer
/// (2xx, or a 4xx other than 429: the call is gone) and put back otherwise; entries older
/// than `outboxTtlMs` are dropped. Successes are reported to `onCallEnded` with
/// `via: 'outbox'`. Returns how many ends were started. Never throws.
fn replay_outbox() -> u32 {
    let mut started = 0;
    outbox::take(js_sys::Date::now(), page::outbox_ttl_ms(), |entry| {
        // A synchronous failure has already put the entry back when worth it.
        if manual_end::end_stored(entry, Via::Outbox) {
            started += 1;
        }
    });
    started
}

/// Another page of this origin died with `call_id` tracked and unsent (its lock was let go
/// with the record still there), and this page holds that lock now: end the call, unless this
/// page tracks it itself or recovery is off (then the record is left). The record is deleted
/// before the end is sent, so no later page sends it again.
fn recover_orphan(orphan: JsValue) {
    // `[callId, record]` (one argument: the crate's one callback signature, see `lifecycle`).
    let orphan: &js_sys::Array = orphan.unchecked_ref();
    let call_id = orphan.get(0).as_string().unwrap_or_default();
    let record = orphan.get(1).as_string().unwrap_or_default();
    if !page::config_says(|config| config.recover) {
        return;
    }
    let entry = orphans::parse_record(&record).filter(|entry| entry.id.as_str() == call_id);
    if entry
        .as_ref()
        .is_some_and(|entry| page::is_tracked_here(&entry.id))
    {
        return;
    }
    orphans::forget(&call_id);
    let ttl_ms = page::outbox_ttl_ms();
    // Invalid or expired: deleted, not sent.
    if let Some(entry) =
        entry.filter(|entry| outbox::is_fresh(entry.time, js_sys::Date::now(), ttl_ms))
    {
        manual_end::end_stored(entry, Via::Recovered);
    }
}
