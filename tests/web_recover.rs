//! wasm-bindgen suite, orphan recovery: a call tracked without a browser-held `fetchLater` is
//! recorded under its Web Lock while tracked and forgotten when it ends; a page that is
//! granted the lock of a page that died with the record still there ends the call once; every
//! other case (ended properly, tracked here, expired, invalid, recovery off) sends nothing.
//! "Another page" is played by this test holding the lock as a page would; real pages that
//! crash are in tests/recover.test.mjs.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/web.rs"]
mod web;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use voice_end_call::api::{configure, end_call, on_call_ended, started, untrack_call};
use web::*;

wasm_bindgen_test_configure!(run_in_browser);

fn recover(on: bool) {
    configure(js_options(&[("recover", on.into())])).unwrap();
}

/// A record as the library writes it.
fn record(call: &Minted, time: f64) -> String {
    let entry = js_options(&[
        ("callId", call.id.clone().into()),
        ("endToken", call.token.clone().into()),
        ("baseUrl", standin().into()),
        ("time", time.into()),
    ]);
    js_sys::JSON::stringify(&entry).unwrap().into()
}

#[wasm_bindgen_test]
async fn a_tracked_call_is_recorded_under_its_lock_until_it_is_untracked() {
    fresh().await;
    recover(true);
    let call = mint().await;
    track(&call);
    until_record(&call.id).await;
    assert_eq!(
        lock_state(&call.id).await,
        (1, 0),
        "the page holds the call's lock"
    );
    let stored = js_sys::JSON::parse(&record_of(&call.id).unwrap()).unwrap();
    assert_eq!(text(&stored, "callId"), call.id);
    assert_eq!(text(&stored, "baseUrl"), standin());
    assert!(untrack_call(call.id.clone().into()).unwrap());
    assert_eq!(record_of(&call.id), None, "deleted at once");
    until_lock_free(&call.id).await;
    assert_eq!(received(&call.id).await.length(), 0);
}

#[wasm_bindgen_test]
async fn a_call_ended_by_end_call_or_sent_on_leave_is_no_longer_recorded() {
    fresh().await;
    recover(true);
    let (a, b) = (mint().await, mint().await);
    track(&a);
    track(&b);
    until_record(&a.id).await;
    until_record(&b.id).await;
    let ended = end_call(a.id.clone().into(), JsValue::UNDEFINED);
    assert_eq!(record_of(&a.id), None, "deleted before the end is sent");
    JsFuture::from(ended).await.unwrap();
    dispatch_transition("pagehide", false);
    assert_eq!(record_of(&b.id), None, "deleted before the leave sends it");
    assert_eq!(record_keys().length(), 0);
    assert_eq!(received(&a.id).await.length(), 1);
    assert_eq!(received(&b.id).await.length(), 1);
}

#[wasm_bindgen_test]
async fn a_call_that_fetch_later_holds_is_not_recorded() {
    fresh().await;
    if !has_fetch_later() {
        return; // Firefox, WebKit: every call is recorded (the test above)
    }
    configure(js_options(&[
        ("deferred", JsValue::TRUE),
        ("recover", JsValue::TRUE),
    ]))
    .unwrap();
    let call = mint().await;
    track(&call);
    settle().await;
    assert_eq!(
        record_of(&call.id),
        None,
        "the browser sends it if the page dies"
    );
    assert_eq!(lock_state(&call.id).await, (0, 0));
    untrack_call(call.id.clone().into()).unwrap();
}

#[wasm_bindgen_test]
async fn the_page_waiting_on_a_dead_pages_lock_ends_its_call_once() {
    fresh().await;
    recover(true);
    let call = mint().await;
    let listener = recorder();
    let unsubscribe: js_sys::Function = on_call_ended(listener.clone().into()).unwrap().into();
    let kill = hold_as_other_page(&call.id, Some(&record(&call, js_sys::Date::now()))).await;
    let mark = request_mark();
    started(); // as init() does: finds the record, waits on its lock
    assert_eq!(lock_state(&call.id).await, (1, 1), "waiting");
    settle().await;
    assert_eq!(
        requests_since(mark).length(),
        0,
        "nothing while the other page lives"
    );
    kill.call1(&JsValue::NULL, &JsValue::FALSE).unwrap(); // dies, record left
    until_held_timers(1).await;
    assert_eq!(
        fire_next_timer().await,
        500.0,
        "looks again half a second later (a deletion may be on its way)"
    );
    until_requests(mark, 1).await;
    assert_eq!(record_of(&call.id), None, "deleted before sending");
    let records = received(&call.id).await;
    assert_eq!(records.length(), 1);
    assert_eq!(
        text(&records.get(0), "auth"),
        "valid",
        "with the call's own token"
    );
    until_recorded(&listener, 1).await;
    assert_eq!(text(&recorded(&listener).get(0), "via"), "recovered");
    unsubscribe.call0(&JsValue::NULL).unwrap();
    started(); // a later scan finds nothing
    until_lock_free(&call.id).await;
    assert_eq!(requests_since(mark).length(), 1, "sent once");
}

#[wasm_bindgen_test]
async fn nothing_is_sent_for_a_call_its_page_ended_or_this_page_tracks_or_that_is_stale() {
    fresh().await;
    recover(true);
    let now = js_sys::Date::now();
    let (ended, here, expired, invalid) = (mint().await, mint().await, mint().await, mint().await);
    let mark = request_mark();
    let end_ended = hold_as_other_page(&ended.id, Some(&record(&ended, now))).await;
    let end_expired =
        hold_as_other_page(&expired.id, Some(&record(&expired, now - 86_400_001.0))).await;
    let end_invalid = hold_as_other_page(&invalid.id, Some("{\"callId\":")).await;
    let end_here = hold_as_other_page(&here.id, Some(&record(&here, now))).await;
    started(); // waits on all four
               // A dead page's record of a call this page then tracks itself: the wait was first.
    track(&here);
    end_ended.call1(&JsValue::NULL, &JsValue::TRUE).unwrap(); // ended properly
    end_expired.call1(&JsValue::NULL, &JsValue::FALSE).unwrap();
    end_invalid.call1(&JsValue::NULL, &JsValue::FALSE).unwrap();
    end_here.call1(&JsValue::NULL, &JsValue::FALSE).unwrap();
    // `ended` was gone when its waiter looked; the other three were there, and each waiter
    // looks again half a second later.
    until_held_timers(3).await;
    for _ in 0..3 {
        assert_eq!(fire_next_timer().await, 500.0);
    }
    // The wait found `here` tracked by this page and let go; this page's guard then took the
    // lock and stored its own record.
    until_lock_state(&here.id, 1, 0).await;
    assert!(record_of(&here.id).unwrap().contains(&here.token));
    for call in [&ended, &expired, &invalid] {
        until_lock_free(&call.id).await;
        assert_eq!(record_of(&call.id), None, "deleted, not left behind");
    }
    assert_eq!(requests_since(mark).length(), 0, "nothing sent");
    for call in [&ended, &here, &expired, &invalid] {
        assert_eq!(received(&call.id).await.length(), 0);
    }
    assert!(untrack_call(here.id.clone().into()).unwrap());
}

#[wasm_bindgen_test]
async fn a_record_deleted_while_the_waiter_looks_again_is_not_sent() {
    fresh().await;
    recover(true);
    let call = mint().await;
    let mark = request_mark();
    let kill = hold_as_other_page(&call.id, Some(&record(&call, js_sys::Date::now()))).await;
    started();
    kill.call1(&JsValue::NULL, &JsValue::FALSE).unwrap();
    until_held_timers(1).await;
    // The other page's deletion arrives late, while the waiter holds the lock.
    clear_records();
    fire_next_timer().await;
    until_lock_free(&call.id).await;
    settle().await;
    assert_eq!(requests_since(mark).length(), 0, "nothing sent");
}

#[wasm_bindgen_test]
async fn with_recovery_off_nothing_is_recorded_or_recovered() {
    fresh().await; // recover: false
    let (mine, theirs) = (mint().await, mint().await);
    let mark = request_mark();
    track(&mine);
    let kill = hold_as_other_page(&theirs.id, Some(&record(&theirs, js_sys::Date::now()))).await;
    started();
    kill.call1(&JsValue::NULL, &JsValue::FALSE).unwrap();
    until_held_timers(1).await;
    fire_next_timer().await;
    until_lock_free(&theirs.id).await;
    settle().await;
    assert_eq!(record_of(&mine.id), None);
    assert!(
        record_of(&theirs.id).is_some(),
        "left for a page with recovery on"
    );
    assert_eq!(requests_since(mark).length(), 0);
    untrack_call(mine.id.clone().into()).unwrap();
}
