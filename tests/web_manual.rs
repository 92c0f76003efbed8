//! wasm-bindgen suite, manual ends and input: `endCall`'s answers and errors, bad input,
//! re-entrant host code, and retries — whose waits run on the harness's test clock
//! (tests/support/web.rs), fired by the test instead of slept through.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/web.rs"]
mod web;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use voice_end_call::api::{configure, end_call, track_call, tracked_calls, untrack_call};
use web::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn bad_input_is_a_typed_config_error_and_changes_nothing() {
    fresh().await;
    let bad_options: [(&str, JsValue, &str); 5] = [
        ("baseUrl", "http://example.com".into(), "baseUrl"),
        ("timeoutMs", 0.into(), "timeoutMs"),
        ("beforeUnload", "yes".into(), "beforeUnload"),
        ("basURL", "https://x".into(), "basURL"),
        ("baseUrl", "not a url".into(), "baseUrl"),
    ];
    for (key, value, named) in bad_options {
        let error = configure(js_options(&[(key, value)])).unwrap_err();
        assert_eq!(kind_of(&error), "config");
        assert!(text(&error, "message").contains(named), "names {named}");
    }
    // The previous configuration stayed: a tracked call still goes to the stand-in.
    let call = mint().await;
    track(&call);
    for bad in [JsValue::NULL, JsValue::from(42), JsValue::from("call")] {
        assert_eq!(kind_of(&track_call(bad).unwrap_err()), "config");
    }
    let error = track_call(js_options(&[("callId", "c".into())])).unwrap_err();
    assert!(text(&error, "message").contains("endToken"));
    let injected = js_options(&[
        ("callId", "c".into()),
        ("endToken", "a\r\nX-Evil: 1".into()),
    ]);
    let error = track_call(injected).unwrap_err();
    assert!(
        !text(&error, "message").contains("X-Evil"),
        "token not echoed"
    );
    let mark = request_mark();
    let error = JsFuture::from(end_call(JsValue::from(7), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(kind_of(&error), "config");
    let error = JsFuture::from(end_call("never-tracked".into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(kind_of(&error), "not-tracked");
    assert_eq!(requests_since(mark).length(), 0, "refused before sending");
    assert_eq!(tracked_calls().unwrap().length(), 1);
    dispatch("pagehide");
    assert_eq!(received(&call.id).await.length(), 1);
}

#[wasm_bindgen_test]
async fn an_encoded_id_stays_one_path_segment() {
    fresh().await;
    let options = js_options(&[("endToken", "et_whatever".into())]);
    let error = JsFuture::from(end_call("a/b?c".into(), options))
        .await
        .unwrap_err();
    // The stand-in decodes one segment "a/b?c" and refuses it as invalid (422): the
    // slash did not become a path separator and the '?' did not start a query.
    assert_eq!(kind_of(&error), "validation");
    assert_eq!(get(&error, "status").as_f64(), Some(422.0));
    let detail: js_sys::Array = get(&error, "detail").into();
    assert!(detail.length() >= 1);
    let records = received("a/b?c").await;
    assert_eq!(records.length(), 1);
    assert_eq!(
        text(&records.get(0), "rawPath"),
        "/api/v1/calls/a%2Fb%3Fc/end"
    );
}

#[wasm_bindgen_test]
async fn a_reentrant_fetch_cannot_arm_an_id_that_is_being_ended() {
    fresh().await;
    let call = mint().await;
    track(&call);
    let attempts = js_sys::Array::new();
    let id = call.id.clone();
    let token = call.token.clone();
    let recorder = attempts.clone();
    let inside = Closure::<dyn FnMut(String)>::new(move |_url: String| {
        let object = Object::new();
        Reflect::set(&object, &"callId".into(), &id.clone().into()).unwrap();
        Reflect::set(&object, &"endToken".into(), &token.clone().into()).unwrap();
        recorder.push(
            &track_call(object.into())
                .map(JsValue::from)
                .unwrap_or_else(|e| e),
        );
    });
    wrap_fetch(inside.as_ref().unchecked_ref(), true);
    let pending = end_call(call.id.clone().into(), JsValue::UNDEFINED);
    unwrap_fetch();
    JsFuture::from(pending).await.unwrap();
    assert_eq!(attempts.length(), 1);
    assert_eq!(
        kind_of(&attempts.get(0)),
        "config",
        "re-tracking mid-end is refused"
    );
    dispatch("pagehide");
    assert_eq!(received(&call.id).await.length(), 1, "exactly once");
}

#[wasm_bindgen_test]
async fn untrack_during_an_end_in_flight_prevents_rearming_after_a_failure() {
    fresh().await;
    for untrack_first in [false, true] {
        let call = mint().await;
        add_status_fault(&call.id, 503, 1, None).await;
        track(&call);
        let pending = end_call(call.id.clone().into(), js_options(&[("retries", 0.into())]));
        if untrack_first {
            assert!(
                untrack_call(call.id.clone().into()).unwrap(),
                "an end was in flight"
            );
        }
        let error = JsFuture::from(pending).await.unwrap_err();
        assert_eq!(kind_of(&error), "http");
        let tracked = tracked_calls().unwrap();
        if untrack_first {
            assert_eq!(tracked.length(), 0, "the app said it is over");
        } else {
            assert_eq!(tracked.length(), 1, "503: re-armed for page leave");
            assert!(untrack_call(call.id.clone().into()).unwrap());
        }
        assert_eq!(received(&call.id).await.length(), 1, "retries: 0");
    }
}

#[wasm_bindgen_test]
async fn a_fetch_wrapper_that_resolves_without_a_response_fails_the_end_and_keeps_the_call() {
    fresh().await;
    let call = mint().await;
    track(&call);
    // The app's wrapper passes the request on but resolves with `undefined`.
    let inside = Closure::<dyn FnMut(String)>::new(|_url: String| {});
    wrap_fetch(inside.as_ref().unchecked_ref(), false);
    let pending = end_call(call.id.clone().into(), js_options(&[("retries", 0.into())]));
    unwrap_fetch();
    let error = JsFuture::from(pending).await.unwrap_err();
    assert_eq!(
        kind_of(&error),
        "network",
        "no answer to read: a failed request"
    );
    assert_eq!(
        tracked_calls().unwrap().length(),
        1,
        "may not have arrived: re-armed"
    );
    assert_eq!(
        received(&call.id).await.length(),
        1,
        "the request itself went out"
    );
    assert!(untrack_call(call.id.clone().into()).unwrap());
}

/// A manual end of a call whose first end answers 503 (with `retry_after`), started and
/// run until its first answer is back and the retry wait is held by the test clock.
async fn end_waiting_to_retry(call: &Minted, retry_after: Option<&str>) -> JsFuture {
    add_status_fault(&call.id, 503, 1, retry_after).await;
    track(call);
    let pending = JsFuture::from(end_call(call.id.clone().into(), JsValue::UNDEFINED));
    settle().await;
    assert_eq!(received(&call.id).await.length(), 1, "the 503 came back");
    pending
}

#[wasm_bindgen_test]
async fn a_503_is_retried_and_the_api_sees_one_failure_plus_one_success() {
    fresh().await;
    let call = mint().await;
    let pending = end_waiting_to_retry(&call, None).await;
    // First retry: 250 ms backoff with "equal jitter", so 125..=250 ms.
    let delay = fire_next_timer().await;
    assert!((125.0..=250.0).contains(&delay), "backoff {delay} ms");
    let response = pending.await.expect("the retry succeeds");
    assert_eq!(text(&response, "callId"), call.id);
    let records = received(&call.id).await;
    let statuses: Vec<f64> = records
        .iter()
        .map(|r| get(&r, "status").as_f64().unwrap())
        .collect();
    assert_eq!(statuses, vec![503.0, 200.0]);
    assert_eq!(tracked_calls().unwrap().length(), 0);
    assert_eq!(held_timers(), 0, "the time budget's timer is cleared");
}

#[wasm_bindgen_test]
async fn a_retry_honours_retry_after() {
    fresh().await;
    let call = mint().await;
    let pending = end_waiting_to_retry(&call, Some("1")).await;
    assert_eq!(fire_next_timer().await, 1000.0, "Retry-After: 1 is 1000 ms");
    pending.await.expect("the retry succeeds");
    assert_eq!(received(&call.id).await.length(), 2);
}

#[wasm_bindgen_test]
async fn a_retry_still_happens_when_the_app_wraps_set_timeout() {
    fresh().await;
    let call = mint().await;
    narrow_set_timeout(true);
    let pending = end_waiting_to_retry(&call, None).await;
    fire_next_timer().await;
    narrow_set_timeout(false);
    let ended = pending.await;
    assert_eq!(text(&ended.expect("the retry succeeds"), "callId"), call.id);
    assert_eq!(received(&call.id).await.length(), 2);
}

#[wasm_bindgen_test]
async fn untrack_while_waiting_to_retry_stops_the_retries() {
    fresh().await;
    let call = mint().await;
    let pending = end_waiting_to_retry(&call, Some("1")).await;
    assert!(untrack_call(call.id.clone().into()).unwrap());
    assert_eq!(
        held_timers(),
        0,
        "the wait (and the time budget) cancelled at once"
    );
    let error = pending.await.unwrap_err(); // settled without any timer firing
    assert_eq!(kind_of(&error), "http");
    assert_eq!(get(&error, "status"), JsValue::from(503));
    assert_eq!(received(&call.id).await.length(), 1, "no retry");
    assert_eq!(tracked_calls().unwrap().length(), 0);
    assert_eq!(held_timers(), 0, "nothing left waiting");
}

#[wasm_bindgen_test]
async fn a_page_leave_while_waiting_to_retry_sends_the_end_once() {
    fresh().await;
    let call = mint().await;
    let pending = end_waiting_to_retry(&call, Some("1")).await;
    // Waiting out Retry-After: no request in flight, the call still has its listener.
    let mark = request_mark();
    dispatch_transition("pagehide", false);
    assert_eq!(requests_since(mark).length(), 1, "pagehide sent it");
    assert_eq!(
        held_timers(),
        0,
        "the wait (and the time budget) cancelled at once"
    );
    let error = pending.await.unwrap_err(); // settled without any timer firing
    assert_eq!(
        kind_of(&error),
        "http",
        "the manual end reports its own last answer"
    );
    let records = received(&call.id).await;
    assert_eq!(
        records.length(),
        2,
        "the 503, then pagehide's send; no third"
    );
    assert_eq!(get(&records.get(1), "status"), JsValue::from(200));
    assert_eq!(tracked_calls().unwrap().length(), 0);
    assert_eq!(held_timers(), 0, "nothing left waiting");
}
