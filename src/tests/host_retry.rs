//! Host tests for the retry schedule, `Retry-After` parsing, the outbox's freshness rule and
//! base-URL recovery, and the registry's "waiting between attempts" state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;

use crate::endpoint::{base_of_end_url, BaseUrl, CallId, EndToken};
use crate::options::ceil_u32;
use crate::outbox::is_fresh;
use crate::policy::{retry_delay, BACKOFF_BASE_MS, BACKOFF_CAP_MS, MIN_ATTEMPT_MS};
use crate::registry::{Armed, Registry};

fn retry_after_ms(value: &str, now: f64) -> Option<f64> {
    crate::policy::retry_after_ms(value, now, |_| None)
}

fn call(id: &str) -> Armed<()> {
    let id = CallId::parse(id).unwrap();
    Armed {
        url: BaseUrl::parse("https://api.example").unwrap().end_url(&id),
        id,
        token: EndToken::parse("et_token").unwrap(),
        deferred: None,
    }
}

#[test]
fn backoff_doubles_from_250_ms_up_to_4_s_with_half_of_it_jittered() {
    let plenty = 1e9;
    for (retry, full) in [
        (0, 250),
        (1, 500),
        (2, 1000),
        (3, 2000),
        (4, 4000),
        (9, 4000),
    ] {
        assert_eq!(retry_delay(retry, None, plenty, 1.0), Some(full));
        assert_eq!(retry_delay(retry, None, plenty, 0.0), Some(full / 2));
    }
    assert_eq!(retry_delay(u32::MAX, None, plenty, 0.5), Some(3000));
}

#[test]
fn no_retry_when_the_wait_and_a_useful_attempt_do_not_fit_the_budget() {
    assert_eq!(retry_delay(0, None, 250.0 + MIN_ATTEMPT_MS, 1.0), Some(250));
    assert_eq!(retry_delay(0, None, 249.0 + MIN_ATTEMPT_MS, 1.0), None);
    assert_eq!(retry_delay(0, Some(5_000.0), 4_000.0, 0.5), None);
    assert_eq!(retry_delay(0, Some(1_000.0), 10_000.0, 0.5), Some(1_000));
    assert_eq!(retry_delay(0, Some(-5.0), 10_000.0, 0.5), Some(0));
    assert_eq!(retry_delay(0, Some(f64::INFINITY), 1e9, 0.5), None);
    assert_eq!(
        retry_delay(0, Some(f64::NAN), 1e9, 1.0),
        Some(250),
        "as if absent"
    );
    assert_eq!(retry_delay(0, None, -1.0, 0.5), None);
}

#[test]
fn retry_after_is_delay_seconds() {
    assert_eq!(retry_after_ms("0", 0.0), Some(0.0));
    assert_eq!(retry_after_ms(" 3 ", 0.0), Some(3_000.0));
    assert_eq!(retry_after_ms("120", 0.0), Some(120_000.0));
    assert_eq!(
        retry_after_ms(&"9".repeat(400), 0.0),
        Some(f64::INFINITY),
        "fits no budget, never wraps"
    );
    for junk in ["", "-1", "1.5", "soon", "0x10"] {
        assert_eq!(retry_after_ms(junk, 0.0), None, "{junk:?}");
    }
}

#[test]
fn outbox_entries_expire_after_the_ttl() {
    let day = 86_400_000.0;
    assert!(is_fresh(1_000.0, 1_000.0 + day, day));
    assert!(!is_fresh(1_000.0, 1_001.0 + day, day));
    assert!(!is_fresh(f64::NAN, 0.0, day));
    assert!(!is_fresh(f64::NEG_INFINITY, 0.0, day));
}

#[test]
fn the_base_url_is_recovered_from_an_end_url() {
    let id = CallId::parse("a/b?c").unwrap();
    for base in [
        "https://api.example/v",
        "http://127.0.0.1:8080",
        "/voice-proxy",
        "/",
    ] {
        let parsed = BaseUrl::parse(base).unwrap();
        let recovered = base_of_end_url(&parsed.end_url(&id), &id).unwrap();
        assert_eq!(BaseUrl::parse(&recovered).unwrap(), parsed, "{base}");
    }
    assert_eq!(
        base_of_end_url("https://x/api/v1/calls/other/end", &id),
        None
    );
}

#[test]
fn a_waiting_end_is_taken_over_by_a_page_leave_and_never_resumes() {
    let mut registry: Registry<(), u8> = Registry::default();
    let a = call("a");
    registry.track(a.clone()).unwrap();
    let armed = registry.disarm(&a.id).unwrap();
    registry.begin_ending(a.id.clone());
    assert!(!registry.needs_page_leave(), "a request is in flight");
    assert!(registry.pause_ending(armed.clone()));
    assert!(
        registry.needs_page_leave(),
        "between attempts a leave must find it"
    );
    assert_eq!(registry.take_waiting(), vec![(armed.clone(), None)]);
    assert!(registry.take_waiting().is_empty(), "taken once");
    assert!(
        !registry.resume_ending(&a.id),
        "the leave sent it: no more attempts"
    );
    assert!(
        !registry.finish_ending(&a.id, Some(armed)),
        "and no re-arming"
    );
    assert!(!registry.needs_page_leave());
}

#[test]
fn untrack_while_waiting_stops_the_retries_and_the_leave_sends_nothing() {
    let mut registry: Registry<(), u8> = Registry::default();
    let a = call("a");
    registry.begin_ending(a.id.clone());
    assert!(registry.pause_ending(a.clone()));
    assert!(registry.forbid_rearm(&a.id).is_some());
    assert!(registry.take_waiting().is_empty());
    assert!(!registry.resume_ending(&a.id));
    assert!(
        !registry.pause_ending(a.clone()),
        "may not wait again either"
    );
}

#[test]
fn a_wait_that_nobody_interrupts_resumes() {
    let mut registry: Registry<(), u8> = Registry::default();
    let a = call("a");
    assert!(!registry.pause_ending(a.clone()), "not being ended");
    registry.begin_ending(a.id.clone());
    assert!(registry.pause_ending(a.clone()));
    assert!(registry.resume_ending(&a.id));
    assert!(!registry.needs_page_leave());
    assert!(!registry.resume_ending(&a.id), "one resume per wait");
}

#[test]
fn ceil_u32_rounds_up_at_the_edges() {
    assert_eq!(ceil_u32(0.0), 0);
    assert_eq!(ceil_u32(0.2), 1);
    assert_eq!(ceil_u32(1.0), 1);
    assert_eq!(ceil_u32(1.000_000_1), 2);
    assert_eq!(ceil_u32(2_147_483_647.0), 2_147_483_647);
    assert_eq!(ceil_u32(4_294_967_295.0), u32::MAX);
}

proptest! {
    // The crate is no_std (no f64::ceil): its own ceil must agree with std's on its range.
    #[test]
    fn ceil_u32_matches_std_ceil(x in 0.0..=4_294_967_295.0f64) {
        prop_assert_eq!(f64::from(ceil_u32(x)), x.ceil());
    }

    #[test]
    fn retry_delays_always_fit_the_budget(
        retry in any::<u32>(),
        after in proptest::option::of(any::<f64>()),
        remaining in any::<f64>(),
        random in any::<f64>(),
    ) {
        if let Some(delay) = retry_delay(retry, after, remaining, random) {
            prop_assert!(f64::from(delay) + MIN_ATTEMPT_MS <= remaining.ceil() + 1.0);
            if after.is_none() {
                prop_assert!(delay <= BACKOFF_CAP_MS);
                prop_assert!(delay >= BACKOFF_BASE_MS / 2);
            }
        }
    }

    #[test]
    fn retry_after_never_panics_and_is_never_negative(value in "\\PC{0,40}", now in any::<f64>()) {
        if let Some(ms) = retry_after_ms(&value, now) {
            prop_assert!(ms >= 0.0);
        }
    }
}
