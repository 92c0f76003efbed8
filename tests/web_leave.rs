//! wasm-bindgen suite, page leave: what the library's `pagehide`/`beforeunload` handlers send
//! (the request's init, exactly once, listener bookkeeping, `fetchLater`, back/forward cache),
//! run in headless Chromium against the stand-in API (`scripts/test.sh` passes its URL at
//! compile time as STANDIN_URL).
//!
//! Page-leave events are dispatched synthetically here: what is tested is what our handlers
//! do with them. Real closes, navigations and reloads are the e2e suite's job
//! (tests/e2e.test.mjs).
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

#[path = "support/web.rs"]
mod web;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Object;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use voice_end_call::api::{end_call, on_call_ended, track_call, tracked_calls, untrack_call};
use web::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn pagehide_sends_one_keepalive_post_with_bearer_and_no_cookies_synchronously() {
    fresh().await;
    let call = mint().await;
    track(&call);
    let mark = request_mark();
    dispatch("pagehide");
    // Synchronous: the request was issued before dispatchEvent returned.
    let calls = requests_since(mark);
    assert_eq!(calls.length(), 1, "one fetch inside the handler");
    let issued = calls.get(0);
    let init = get(&issued, "init");
    let mut expected_url = standin().to_string();
    expected_url.push_str("/api/v1/calls/");
    expected_url.push_str(&call.id);
    expected_url.push_str("/end");
    assert_eq!(text(&issued, "url"), expected_url);
    assert_eq!(text(&init, "method"), "POST");
    assert_eq!(get(&init, "keepalive"), JsValue::TRUE);
    assert_eq!(text(&init, "credentials"), "omit");
    assert_eq!(
        text(&get(&init, "headers"), "Authorization"),
        format!("Bearer {}", call.token)
    );
    assert!(
        get(&init, "body").is_undefined(),
        "no body: keepalive quota untouched"
    );

    let records = received(&call.id).await;
    assert_eq!(records.length(), 1, "exactly one end request arrived");
    let record = records.get(0);
    assert_eq!(text(&record, "auth"), "valid");
    assert_eq!(get(&record, "cookie"), JsValue::FALSE);
    assert_eq!(get(&record, "status").as_f64(), Some(200.0));
    assert_eq!(
        tracked_calls().unwrap().length(),
        0,
        "sent calls are forgotten"
    );
}

#[wasm_bindgen_test]
async fn beforeunload_exists_exactly_while_calls_are_tracked_and_pagehide_stays() {
    // `fresh` checked: no beforeunload listener (counted since the page loaded).
    fresh().await;
    let (a, b) = (mint().await, mint().await);
    let mark = request_mark();
    track(&a);
    track(&b);
    // js/beacon.js's (added when the package was imported) and the library's own.
    assert_eq!(listener_count("pagehide"), 2);
    assert_eq!(listener_count("beforeunload"), 1);
    for never in ["unload", "visibilitychange", "freeze"] {
        assert_eq!(listener_count(never), 0, "never a {never} listener");
    }
    use_standin(false);
    assert_eq!(
        listener_count("beforeunload"),
        0,
        "beforeUnload: false removes it"
    );
    assert_eq!(listener_count("pagehide"), 2);
    use_standin(true);
    assert_eq!(listener_count("beforeunload"), 1);
    assert!(untrack_call(a.id.clone().into()).unwrap());
    assert!(
        !untrack_call(a.id.clone().into()).unwrap(),
        "second untrack is a no-op"
    );
    assert_eq!(listener_count("pagehide"), 2, "b is still tracked");
    let response = JsFuture::from(end_call(b.id.clone().into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(text(&response, "callId"), b.id);
    assert_eq!(
        listener_count("pagehide"),
        2,
        "pagehide stays once added (it costs nothing; added early it runs first)"
    );
    assert_eq!(
        capture_listener_count("pagehide"),
        2,
        "in the capture phase"
    );
    assert_eq!(listener_count("beforeunload"), 0);
    assert_eq!(listener_count("unload"), 0, "never an unload listener");
    assert_eq!(received(&a.id).await.length(), 0, "untracked: nothing sent");
    assert_eq!(requests_since(mark).length(), 1, "only b's endCall");
}

#[wasm_bindgen_test]
async fn exactly_once_across_end_call_pagehide_and_beforeunload() {
    fresh().await;
    let call = mint().await;
    track(&call);
    let mark = request_mark();
    let first = end_call(call.id.clone().into(), JsValue::UNDEFINED);
    let second = end_call(call.id.clone().into(), JsValue::UNDEFINED);
    assert!(Object::is(&first, &second), "same promise while in flight");
    dispatch("beforeunload");
    dispatch("pagehide");
    let response = JsFuture::from(first).await.unwrap();
    assert_eq!(text(&response, "callId"), call.id);
    assert_eq!(text(&response, "status"), "ended");
    assert!(!text(&response, "endedAt").is_empty());
    assert!(get(&response, "actualDurationSeconds").as_f64().is_some());
    assert!(get(&response, "creditsUsed").as_f64().is_some());
    assert!(get(&response, "call_id").is_undefined(), "camelCase only");
    assert_eq!(received(&call.id).await.length(), 1);
    assert_eq!(requests_since(mark).length(), 1, "one request in all");
    // After it settled, the call is no longer tracked.
    let again = JsFuture::from(end_call(call.id.clone().into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(kind_of(&again), "not-tracked");
}

#[wasm_bindgen_test]
async fn uncancelled_beforeunload_sends_after_dispatch_and_pagehide_adds_nothing() {
    fresh().await;
    let call = mint().await;
    track(&call);
    let mark = request_mark();
    dispatch("beforeunload");
    let during_dispatch = requests_since(mark).length();
    settle().await; // the check scheduled after the dispatch has run
    let after_dispatch = requests_since(mark).length();
    dispatch("pagehide");
    let after_pagehide = requests_since(mark).length();
    assert_eq!(
        during_dispatch, 0,
        "waits for every listener to have its say"
    );
    assert_eq!(after_dispatch, 1, "sent once nobody cancelled");
    assert_eq!(after_pagehide, 1, "pagehide does not send again");
    assert_eq!(received(&call.id).await.length(), 1);
}

#[wasm_bindgen_test]
async fn cancelled_beforeunload_sends_nothing_even_when_cancelled_by_a_later_listener() {
    fresh().await;
    let call = mint().await;
    track(&call);
    // Registered after ours: runs after our handler, which must still see the cancel.
    let remove = add_leave_confirmation();
    let mark = request_mark();
    let event = dispatch("beforeunload");
    settle().await; // the check scheduled after the dispatch has run
    let after_cancelled = requests_since(mark).length();
    remove.call0(&JsValue::NULL).unwrap();
    assert_eq!(get(&event, "defaultPrevented"), JsValue::TRUE);
    assert_eq!(after_cancelled, 0, "user clicked Stay: the call goes on");
    assert_eq!(tracked_calls().unwrap().length(), 1);
    dispatch("pagehide");
    assert_eq!(
        received(&call.id).await.length(),
        1,
        "the real leave ends it"
    );
}

#[wasm_bindgen_test]
async fn tracking_again_replaces_the_token_and_raw_connection_details_are_accepted() {
    fresh().await;
    let call = mint().await;
    track_call(js_options(&[
        ("callId", call.id.clone().into()),
        ("endToken", "et_stale".into()),
    ]))
    .unwrap();
    let raw = js_options(&[
        ("call_id", call.id.clone().into()),
        ("end_token", call.token.clone().into()),
        ("server_url", "wss://x".into()),
    ]);
    assert_eq!(track_call(raw).unwrap(), call.id);
    assert_eq!(tracked_calls().unwrap().length(), 1);
    dispatch("pagehide");
    let records = received(&call.id).await;
    assert_eq!(records.length(), 1);
    assert_eq!(
        text(&records.get(0), "auth"),
        "valid",
        "the newer token was used"
    );
}

#[wasm_bindgen_test]
async fn deferred_request_is_armed_with_the_same_shape_and_withdrawn_by_end_and_untrack() {
    fresh().await;
    configure_standin(true, true);
    assert!(
        has_fetch_later(),
        "Chromium 135+ has fetchLater in a secure context"
    );
    let (ended, untracked, kept) = (mint().await, mint().await, mint().await);
    let later = later_mark();
    track(&ended);
    track(&untracked);
    track(&kept);
    // Re-tracking re-arms: the first deferred request of `kept` is withdrawn.
    track(&kept);
    let armed = later_since(later);
    assert_eq!(armed.length(), 4);
    let signal_of = |i: u32| get(&get(&armed.get(i), "init"), "signal");
    for i in 0..4 {
        let init = get(&armed.get(i), "init");
        assert_eq!(text(&init, "method"), "POST");
        assert_eq!(text(&init, "credentials"), "omit");
        assert!(text(&get(&init, "headers"), "Authorization").starts_with("Bearer et_"));
        assert!(
            get(&init, "keepalive").is_undefined(),
            "fetchLater is keepalive by nature"
        );
    }
    assert_eq!(
        get(&signal_of(2), "aborted"),
        JsValue::TRUE,
        "re-track withdrew the old one"
    );
    assert_eq!(get(&signal_of(3), "aborted"), JsValue::FALSE);

    let response = JsFuture::from(end_call(ended.id.clone().into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(text(&response, "callId"), ended.id);
    assert_eq!(
        get(&signal_of(0), "aborted"),
        JsValue::TRUE,
        "endCall withdrew it"
    );
    assert!(untrack_call(untracked.id.clone().into()).unwrap());
    assert_eq!(
        get(&signal_of(1), "aborted"),
        JsValue::TRUE,
        "untrackCall withdrew it"
    );

    // An unload pagehide leaves `kept` to the browser: we send nothing ourselves.
    settle().await;
    let mark = request_mark();
    dispatch_transition("pagehide", false);
    assert_eq!(
        requests_since(mark).length(),
        0,
        "the browser sends the deferred request on destroy"
    );
    assert_eq!(get(&signal_of(3), "aborted"), JsValue::FALSE);
    assert_eq!(tracked_calls().unwrap().length(), 0);
    assert_eq!(received(&ended.id).await.length(), 1);
    assert_eq!(received(&untracked.id).await.length(), 0);
}

#[wasm_bindgen_test]
async fn entering_the_back_forward_cache_withdraws_the_deferred_request_and_sends_now() {
    fresh().await;
    configure_standin(true, true);
    let call = mint().await;
    let later = later_mark();
    track(&call);
    let armed = later_since(later);
    assert_eq!(armed.length(), 1, "armed by fetchLater");
    let mark = request_mark();
    dispatch_transition("pagehide", true);
    let sent = requests_since(mark);
    assert_eq!(sent.length(), 1, "sent by keepalive fetch, synchronously");
    assert_eq!(get(&get(&sent.get(0), "init"), "keepalive"), JsValue::TRUE);
    let signal = get(&get(&armed.get(0), "init"), "signal");
    assert_eq!(get(&signal, "aborted"), JsValue::TRUE);
    assert_eq!(received(&call.id).await.length(), 1, "exactly once");
}

#[wasm_bindgen_test]
async fn beforeunload_leaves_deferred_calls_armed_for_pagehide() {
    fresh().await;
    configure_standin(true, true);
    let call = mint().await;
    let later = later_mark();
    track(&call);
    let mark = request_mark();
    dispatch("beforeunload");
    settle().await; // the check scheduled after the dispatch has run
    assert_eq!(requests_since(mark).length(), 0);
    assert_eq!(tracked_calls().unwrap().length(), 1);
    let armed = later_since(later);
    assert_eq!(armed.length(), 1);
    let signal = get(&get(&armed.get(0), "init"), "signal");
    assert_eq!(get(&signal, "aborted"), JsValue::FALSE, "still armed");
    assert!(untrack_call(call.id.clone().into()).unwrap());
}

#[wasm_bindgen_test]
async fn on_call_ended_reports_manual_beforeunload_and_back_forward_cache_ends() {
    fresh().await;
    let listener = recorder();
    let unsubscribe: js_sys::Function = on_call_ended(thrower().into()).unwrap().into();
    let keep: js_sys::Function = on_call_ended(listener.clone().into()).unwrap().into();

    let manual = mint().await;
    track(&manual);
    JsFuture::from(end_call(manual.id.clone().into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    let events = recorded(&listener);
    assert_eq!(
        events.length(),
        1,
        "a throwing listener does not stop the others"
    );
    assert_eq!(text(&events.get(0), "via"), "manual");
    assert_eq!(text(&events.get(0), "callId"), manual.id);
    assert_eq!(text(&get(&events.get(0), "response"), "callId"), manual.id);
    unsubscribe.call0(&JsValue::NULL).unwrap();

    let left = mint().await;
    track(&left);
    dispatch("beforeunload");
    settle().await;
    assert_eq!(recorded(&listener).length(), 2);
    assert_eq!(text(&recorded(&listener).get(1), "via"), "beforeunload");

    let cached = mint().await;
    track(&cached);
    dispatch_transition("pagehide", true);
    assert_eq!(
        recorded(&listener).length(),
        2,
        "nobody to tell until the page is back"
    );
    dispatch_transition("pageshow", false);
    assert_eq!(
        recorded(&listener).length(),
        2,
        "a normal pageshow is not a restore"
    );
    dispatch_transition("pageshow", true);
    let events = recorded(&listener);
    assert_eq!(events.length(), 3);
    assert_eq!(text(&events.get(2), "via"), "pagehide");
    assert_eq!(text(&events.get(2), "callId"), cached.id);
    dispatch_transition("pageshow", true);
    assert_eq!(recorded(&listener).length(), 3, "reported once");
    assert_eq!(tracked_calls().unwrap().length(), 0);
    assert_eq!(received(&cached.id).await.length(), 1);
    keep.call0(&JsValue::NULL).unwrap();
}

#[wasm_bindgen_test]
async fn freeze_and_hidden_tabs_never_end_a_call() {
    fresh().await;
    let call = mint().await;
    track(&call);
    let mark = request_mark();
    // visibilitychange and freeze on document, with the document really hidden.
    assert_eq!(hide_and_freeze(), "hidden");
    let sent_while_hidden = requests_since(mark).length();
    settle().await;
    let sent_after = requests_since(mark).length();
    show_again();
    assert_eq!(sent_while_hidden, 0);
    assert_eq!(sent_after, 0);
    assert_eq!(tracked_calls().unwrap().length(), 1);
    assert!(untrack_call(call.id.clone().into()).unwrap());
    assert_eq!(received(&call.id).await.length(), 0);
}

#[wasm_bindgen_test]
async fn without_fetch_later_or_when_arming_fails_pagehide_sends_by_keepalive() {
    fresh().await;
    // Firefox and WebKit have no fetchLater; Chromium throws QuotaExceededError over quota.
    for mode in ["missing", "throws"] {
        configure_standin(true, true);
        replace_fetch_later(mode);
        let call = mint().await;
        track(&call);
        let mark = request_mark();
        dispatch_transition("pagehide", false);
        let sent = requests_since(mark);
        restore_fetch_later();
        assert_eq!(sent.length(), 1, "{mode}: keepalive path");
        assert_eq!(get(&get(&sent.get(0), "init"), "keepalive"), JsValue::TRUE);
        assert_eq!(received(&call.id).await.length(), 1, "{mode}");
    }
}

#[wasm_bindgen_test]
async fn a_throwing_console_warn_does_not_wedge_the_library() {
    fresh().await;
    throwing_console_warn(true);
    let tracked = track_call(js_options(&[
        ("callId", "call_warned".into()),
        ("endToken", "vk_looks_like_an_api_key".into()),
    ]));
    throwing_console_warn(false);
    assert!(tracked.is_ok(), "the warning failed, tracking did not");
    assert!(untrack_call("call_warned".into()).unwrap());
    let call = mint().await;
    track(&call);
    dispatch("pagehide");
    assert_eq!(received(&call.id).await.length(), 1, "still sends");
}

#[wasm_bindgen_test]
async fn a_fetch_wrapper_that_returns_no_promise_loses_no_call() {
    fresh().await;
    let (a, b) = (mint().await, mint().await);
    track(&a);
    track(&b);
    wrap_fetch(&js_sys::Function::new_no_args(""), false);
    dispatch("pagehide");
    unwrap_fetch();
    assert_eq!(received(&a.id).await.length(), 1);
    assert_eq!(received(&b.id).await.length(), 1);
}

#[wasm_bindgen_test]
async fn null_prototype_objects_work_and_inherited_keys_are_ignored() {
    fresh().await;
    let call = mint().await;
    let tracked = track_call(null_proto_call(&call.id, &call.token)).unwrap();
    assert_eq!(tracked, call.id, "Object.create(null) is an object too");
    assert!(untrack_call(call.id.clone().into()).unwrap());

    // A polluted Object.prototype must not supply the id or token of a raw response object.
    pollute_call_keys(true, "call_polluted", "et_polluted");
    let raw = js_options(&[
        ("call_id", call.id.clone().into()),
        ("end_token", call.token.clone().into()),
    ]);
    let tracked = track_call(raw);
    pollute_call_keys(false, "", "");
    assert_eq!(tracked.unwrap(), call.id);
    dispatch_transition("pagehide", false);
    let records = received(&call.id).await;
    assert_eq!(records.length(), 1);
    assert_eq!(text(&records.get(0), "auth"), "valid");
}

#[wasm_bindgen_test]
async fn a_host_listener_that_stops_propagation_cannot_starve_ours() {
    fresh().await;
    // As after init(): the pagehide listener is added early, before the app's own.
    voice_end_call::api::started();
    let stop_pagehide = add_host_stopper("pagehide");
    let stop_beforeunload = add_host_stopper("beforeunload");
    let call = mint().await;
    let mark = request_mark();
    track(&call);
    assert_eq!(capture_listener_count("beforeunload"), 1, "capture phase");
    // js/beacon.js's (added when the package was imported) and the library's own.
    assert_eq!(capture_listener_count("pagehide"), 2, "capture phase");
    dispatch("beforeunload");
    settle().await;
    dispatch_transition("pagehide", false);
    stop_pagehide.call0(&JsValue::NULL).unwrap();
    stop_beforeunload.call0(&JsValue::NULL).unwrap();
    assert_eq!(
        received(&call.id).await.length(),
        1,
        "sent once although the host stops every later listener"
    );
    assert_eq!(requests_since(mark).length(), 1);
}

fn page_origin() -> String {
    let location = get(&js_sys::global(), "location");
    text(&location, "origin")
}

fn relay_options(relay: &str) -> JsValue {
    js_options(&[("relayUrl", relay.into())])
}

#[wasm_bindgen_test]
async fn with_a_relay_page_leave_ends_go_by_beacon_and_nothing_else() {
    fresh().await;
    voice_end_call::api::configure(relay_options("/end-call-relay/")).unwrap();
    let call = mint().await;
    let (mark, beacons) = (request_mark(), beacon_mark());
    track(&call);
    dispatch("beforeunload");
    settle().await;
    dispatch_transition("pagehide", false);
    settle().await;
    let sent = beacons_since(beacons);
    assert_eq!(
        sent.length(),
        1,
        "one beacon, on beforeunload; pagehide has nothing left"
    );
    let beacon = sent.get(0);
    let origin = page_origin();
    assert_eq!(text(&beacon, "url"), format!("{origin}/end-call-relay"));
    let body = js_sys::JSON::parse(&text(&beacon, "body")).unwrap();
    assert_eq!(text(&body, "callId"), call.id);
    assert_eq!(text(&body, "endToken"), call.token);
    assert_eq!(
        js_sys::Object::keys(body.unchecked_ref::<js_sys::Object>()).length(),
        2,
        "nothing but the id and the token"
    );
    assert_eq!(
        requests_since(mark).length(),
        0,
        "no fetch besides the beacon"
    );
    assert_eq!(received(&call.id).await.length(), 0);
}

#[wasm_bindgen_test]
async fn a_beacon_the_browser_refuses_falls_back_to_the_keepalive_fetch() {
    fresh().await;
    voice_end_call::api::configure(relay_options("/end-call-relay")).unwrap();
    set_refuse_beacons(true);
    let call = mint().await;
    let (mark, beacons) = (request_mark(), beacon_mark());
    track(&call);
    dispatch_transition("pagehide", false);
    assert_eq!(beacons_since(beacons).length(), 1, "tried");
    assert_eq!(requests_since(mark).length(), 1, "then fetched");
    assert_eq!(received(&call.id).await.length(), 1);
}

#[wasm_bindgen_test]
async fn an_unload_beacon_is_sent_before_a_pagehide_listener_added_between_import_and_init() {
    fresh().await;
    voice_end_call::api::configure(relay_options("/end-call-relay")).unwrap();
    let call = mint().await;
    track(&call);
    let (mark, beacons) = (request_mark(), beacon_mark());
    let host = add_host_pagehide(&JsValue::UNDEFINED);
    dispatch_transition("pagehide", false);
    remove_host_pagehide(&host);
    let seen = seen_beacons(&host);
    assert_eq!(seen.length(), 1);
    assert_eq!(
        seen.get(0).as_f64(),
        Some(f64::from(beacons + 1)),
        "the beacon was out before the host's listener ran"
    );
    let sent = beacons_since(beacons);
    assert_eq!(sent.length(), 1, "once");
    let body = js_sys::JSON::parse(&text(&sent.get(0), "body")).unwrap();
    assert_eq!(text(&body, "callId"), call.id);
    assert_eq!(text(&body, "endToken"), call.token);
    assert_eq!(requests_since(mark).length(), 0, "no fetch besides it");
    assert_eq!(
        voice_end_call::api::tracked_calls().unwrap().length(),
        0,
        "the leave took it"
    );
}

#[wasm_bindgen_test]
async fn a_host_pagehide_listener_between_the_beacon_and_the_library_sees_the_call_taken() {
    fresh().await;
    voice_end_call::api::configure(relay_options("/end-call-relay")).unwrap();
    let call = mint().await;
    track(&call);
    let (mark, beacons) = (request_mark(), beacon_mark());
    let seen_inside = Rc::new(RefCell::new(None));
    let inside = seen_inside.clone();
    let id = call.id.clone();
    let act = Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
        let tracked = voice_end_call::api::tracked_calls().map(|ids| ids.length());
        let untracked = voice_end_call::api::untrack_call(id.as_str().into());
        *inside.borrow_mut() = Some((tracked.ok(), untracked.ok()));
    });
    let host = add_host_pagehide(act.as_ref());
    dispatch_transition("pagehide", false);
    remove_host_pagehide(&host);
    assert_eq!(
        *seen_inside.borrow(),
        Some((Some(0), Some(false))),
        "inside the host's listener the call is already taken by the leave"
    );
    assert_eq!(beacons_since(beacons).length(), 1);
    assert_eq!(requests_since(mark).length(), 0);
}

#[wasm_bindgen_test]
async fn the_unload_beacon_follows_the_configuration_and_the_latest_token() {
    fresh().await;
    let call = mint().await;
    track(&call);
    // A relay set after the call was tracked; then the call tracked again with a new token.
    voice_end_call::api::configure(relay_options("/end-call-relay")).unwrap();
    let newer = format!("{}x", call.token);
    voice_end_call::api::track_call(js_options(&[
        ("callId", call.id.as_str().into()),
        ("endToken", newer.as_str().into()),
    ]))
    .unwrap();
    let beacons = beacon_mark();
    dispatch_transition("pagehide", false);
    let sent = beacons_since(beacons);
    assert_eq!(sent.length(), 1);
    let body = js_sys::JSON::parse(&text(&sent.get(0), "body")).unwrap();
    assert_eq!(text(&body, "endToken"), newer);

    // The relay removed again: an unload fetches, no beacon.
    fresh().await;
    voice_end_call::api::configure(relay_options("/end-call-relay")).unwrap();
    let call = mint().await;
    track(&call);
    voice_end_call::api::configure(js_options(&[("relayUrl", JsValue::NULL)])).unwrap();
    let (mark, beacons) = (request_mark(), beacon_mark());
    dispatch_transition("pagehide", false);
    assert_eq!(beacons_since(beacons).length(), 0);
    assert_eq!(requests_since(mark).length(), 1);
    assert_eq!(received(&call.id).await.length(), 1);
}

#[wasm_bindgen_test]
async fn the_relay_must_be_on_the_pages_origin() {
    fresh().await;
    let origin = page_origin();
    for bad in [
        "https://relay.example/end",
        "//relay.example/end",
        "http://relay.example/end",
        "/end?x=1",
    ] {
        let error = voice_end_call::api::configure(relay_options(bad)).unwrap_err();
        assert_eq!(kind_of(&error), "config", "{bad}");
        assert!(text(&error, "message").contains("relayUrl"), "{bad}");
    }
    let other_port = format!(
        "{}:1",
        origin
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .trim_end_matches(':')
    );
    let error = voice_end_call::api::configure(relay_options(&other_port)).unwrap_err();
    assert!(
        text(&error, "message").contains("origin"),
        "another port is another origin"
    );
    let goods: [String; 3] = [
        format!("{origin}/end"),
        "/end".into(),
        origin.to_uppercase(),
    ];
    for good in goods {
        voice_end_call::api::configure(relay_options(&good)).unwrap();
    }
    voice_end_call::api::configure(js_options(&[("relayUrl", JsValue::NULL)])).unwrap();
}
