//! wasm-bindgen suite, the outbox: an end that could not be sent on leave (offline, fetch
//! refused) is stored and sent by the next `init()`; storage that is full or denied never
//! throws; a replayed end is never stored or sent twice.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/web.rs"]
mod web;

use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

use voice_end_call::api::{configure, on_call_ended, started};
use web::*;

wasm_bindgen_test_configure!(run_in_browser);

/// An outbox entry as the library stores it.
fn entry(call: &Minted, token: &str, time: f64) -> JsValue {
    js_options(&[
        ("callId", call.id.clone().into()),
        ("endToken", token.into()),
        ("baseUrl", standin().into()),
        ("time", time.into()),
    ])
}

#[wasm_bindgen_test]
async fn offline_page_leave_stores_the_end_and_the_next_init_sends_it() {
    fresh().await;
    let call = mint().await;
    track(&call);
    let events = recorder();
    let unsubscribe: js_sys::Function = on_call_ended(events.clone().into()).unwrap().into();
    let mark = request_mark();
    fake_offline(true);
    dispatch("beforeunload"); // offline: leaves everything to pagehide
    settle().await;
    dispatch_transition("pagehide", false);
    fake_offline(false);
    assert_eq!(requests_since(mark).length(), 0, "nothing sent");
    let stored = outbox_entries();
    assert_eq!(stored.length(), 1, "one entry, not one per event");
    let entry = stored.get(0);
    assert_eq!(text(&entry, "callId"), call.id);
    assert_eq!(text(&entry, "endToken"), call.token);
    assert_eq!(text(&entry, "baseUrl"), standin());
    assert!(get(&entry, "time").as_f64().unwrap() > 1.7e12);

    assert_eq!(started(), 1);
    assert_eq!(outbox_entries().length(), 0, "claimed at once");
    let records = received(&call.id).await;
    assert_eq!(records.length(), 1);
    assert_eq!(text(&records.get(0), "auth"), "valid");
    until_recorded(&events, 1).await;
    let event = recorded(&events).get(0);
    assert_eq!(text(&event, "via"), "outbox");
    assert_eq!(text(&get(&event, "response"), "callId"), call.id);
    unsubscribe.call0(&JsValue::NULL).unwrap();
    assert_eq!(started(), 0, "sent once");
    assert_eq!(received(&call.id).await.length(), 1);
}

#[wasm_bindgen_test]
async fn a_fetch_that_throws_on_leave_stores_the_end_and_full_storage_never_throws() {
    fresh().await;
    let call = mint().await;
    track(&call);
    throwing_fetch(true);
    dispatch_transition("pagehide", false);
    throwing_fetch(false);
    let stored = outbox_entries();
    assert_eq!(stored.length(), 1);
    assert_eq!(text(&stored.get(0), "callId"), call.id);
    set_outbox(&js_sys::Array::new());

    // Storage full while offline: nothing to lose by trying to send, and nothing throws.
    let other = mint().await;
    track(&other);
    break_storage(true);
    fake_offline(true);
    dispatch_transition("pagehide", false);
    fake_offline(false);
    break_storage(false);
    assert_eq!(outbox_entries().length(), 0);
    assert_eq!(received(&other.id).await.length(), 1, "sent anyway");

    // Storage denied altogether (the localStorage getter throws): the same, and a replay
    // finds nothing and does not throw either.
    let third = mint().await;
    track(&third);
    deny_storage(true);
    fake_offline(true);
    dispatch_transition("pagehide", false);
    fake_offline(false);
    let replayed = started();
    deny_storage(false);
    assert_eq!(replayed, 0);
    assert_eq!(received(&third.id).await.length(), 1, "sent anyway");
}

#[wasm_bindgen_test]
async fn outbox_replay_drops_expired_and_gone_calls_and_keeps_failing_ones() {
    fresh().await;
    configure(js_options(&[("retries", 0.into())])).unwrap();
    let (expired, gone, failing) = (mint().await, mint().await, mint().await);
    add_status_fault(&failing.id, 503, 1, None).await;
    let now = js_sys::Date::now();
    let entries = js_sys::Array::new();
    entries.push(&entry(&expired, &expired.token, now - 86_400_001.0));
    entries.push(&entry(&gone, "et_wrong", now - 1_000.0)); // 401: definitive
    entries.push(&entry(&failing, &failing.token, now - 2_000.0));
    entries.push(&JsValue::from("not an entry"));
    set_outbox(&entries);
    assert_eq!(started(), 2);
    assert_eq!(received(&expired.id).await.length(), 0, "expired: dropped");
    assert_eq!(received(&gone.id).await.length(), 1);
    assert_eq!(received(&failing.id).await.length(), 1);
    let kept = outbox_entries();
    assert_eq!(kept.length(), 1, "only the 503 is kept for the next init");
    assert_eq!(text(&kept.get(0), "callId"), failing.id);
    assert_eq!(get(&kept.get(0), "time").as_f64(), Some(now - 2_000.0));
    assert_eq!(started(), 1);
    assert_eq!(received(&failing.id).await.length(), 2);
    assert_eq!(outbox_entries().length(), 0);
}

#[wasm_bindgen_test]
async fn an_outbox_end_taken_over_by_a_page_leave_is_not_stored_again() {
    fresh().await;
    let call = mint().await;
    add_status_fault(&call.id, 503, 1, Some("1")).await;
    let entries = js_sys::Array::new();
    entries.push(&entry(&call, &call.token, js_sys::Date::now()));
    set_outbox(&entries);
    assert_eq!(started(), 1);
    settle().await; // the 503 came back; the Retry-After wait is held
    assert_eq!(received(&call.id).await.length(), 1);
    assert_eq!(next_timer_delay(), Some(1000.0), "waiting out Retry-After");
    dispatch_transition("pagehide", false);
    assert_eq!(held_timers(), 0, "the replay's wait is cancelled at once");
    assert_eq!(
        received(&call.id).await.length(),
        2,
        "the 503, then pagehide's"
    );
    assert_eq!(
        outbox_entries().length(),
        0,
        "sent by the leave: not put back for the next init"
    );
    assert_eq!(held_timers(), 0, "nothing left waiting");
}
