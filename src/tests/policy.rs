//! Property tests of the decisions in `policy`: what a page leave does with each call, and
//! what follows a failed attempt of a manual end.
use proptest::prelude::*;

use crate::policy::*;

fn leave() -> impl Strategy<Value = Leave> {
    prop_oneof![
        Just(Leave::BeforeUnload),
        Just(Leave::Unload),
        Just(Leave::BackForwardCache)
    ]
}

fn held() -> impl Strategy<Value = Held> {
    prop_oneof![Just(Held::No), Just(Held::Armed), Just(Held::Sent)]
}

fn failed() -> impl Strategy<Value = Failed> {
    prop_oneof![
        Just(Failed::Network),
        Just(Failed::Timeout),
        Just(Failed::Other),
        any::<u16>().prop_map(Failed::Status),
    ]
}

/// One call through the moments of a page leave, as the shell runs them: whether the leave
/// acts, takes the call, and what it does; then, when the document is destroyed, whether the
/// browser sends a held request that nobody withdrew. Returns (sends, stores).
fn run_leave(moments: &[Leave], mut held: Held, offline: bool) -> (u32, u32) {
    let (mut sends, mut stores) = (0, 0);
    if held == Held::Sent {
        sends += 1; // the browser already sent it (fetchLater activated)
    }
    let mut taken = false;
    for &moment in moments {
        if taken || !leave_acts(moment, offline) {
            continue;
        }
        if !leave_takes(moment, held != Held::No) {
            continue;
        }
        taken = true;
        let action = leave_action(moment, held, offline);
        if withdraws_held(action) && held == Held::Armed {
            held = Held::No;
        }
        match action {
            LeaveAction::Send => sends += 1,
            LeaveAction::Store => stores += 1,
            LeaveAction::LeaveToBrowser | LeaveAction::AlreadySent => {}
        }
    }
    let destroyed = moments.contains(&Leave::Unload);
    if destroyed && held == Held::Armed && !offline {
        sends += 1; // the browser sends what it holds as the document goes
    }
    (sends, stores)
}

proptest! {
    /// Whatever the engine runs (beforeunload or not, then unload or the back/forward cache),
    /// online every call is sent exactly once (by us or by the browser); offline it is never
    /// sent by us and stored exactly once, unless the browser had sent it already.
    #[test]
    fn a_leave_ends_every_call_exactly_once(
        before_unload in any::<bool>(),
        to_cache in any::<bool>(),
        held in held(),
        offline in any::<bool>(),
    ) {
        let mut moments = Vec::new();
        if before_unload {
            moments.push(Leave::BeforeUnload);
        }
        moments.push(if to_cache { Leave::BackForwardCache } else { Leave::Unload });
        let (sends, stores) = run_leave(&moments, held, offline);
        if held == Held::Sent {
            prop_assert_eq!((sends, stores), (1, 0));
        } else if offline {
            prop_assert_eq!((sends, stores), (0, 1));
        } else {
            prop_assert_eq!((sends, stores), (1, 0));
        }
    }

    #[test]
    fn leave_actions_follow_their_rules(leave in leave(), held in held(), offline in any::<bool>()) {
        let action = leave_action(leave, held, offline);
        prop_assert_eq!(
            action == LeaveAction::LeaveToBrowser,
            held == Held::Armed && leave == Leave::Unload && !offline,
            "only a document being destroyed online leaves its held request to the browser"
        );
        if held == Held::Sent {
            prop_assert_eq!(action, LeaveAction::AlreadySent);
        }
        if offline {
            prop_assert_ne!(action, LeaveAction::Send, "offline nothing is sent");
        }
        prop_assert_eq!(withdraws_held(action), action != LeaveAction::LeaveToBrowser);
        prop_assert_eq!(
            leave_takes(leave, held != Held::No),
            !(leave == Leave::BeforeUnload && held != Held::No),
            "beforeunload leaves a browser-held call armed"
        );
        prop_assert_eq!(leave_acts(leave, offline), !(offline && leave == Leave::BeforeUnload));
    }

    #[test]
    fn after_a_failure_retry_only_what_may_succeed_within_the_budget(
        failed in failed(),
        retried in 0u32..12,
        retries in 0u32..=10,
        retry_after in proptest::option::of(-10_000.0f64..100_000.0),
        remaining in -1_000.0f64..60_000.0,
        random in 0.0f64..=1.0,
    ) {
        let next = after_failure(AfterFailure {
            failed,
            retried,
            retries,
            retry_after_ms: retry_after,
            remaining_ms: remaining,
            random,
        });
        match next {
            Next::RetryIn(delay) => {
                prop_assert!(worth_retrying(failed));
                prop_assert!(failed != Failed::Timeout, "a spent budget is never retried");
                prop_assert!(retried < retries);
                prop_assert!(f64::from(delay) + MIN_ATTEMPT_MS <= remaining + 1.0);
            }
            Next::GiveUp { rearm } => {
                prop_assert_eq!(rearm, may_not_have_arrived(failed));
            }
        }
        if let Failed::Status(status) = failed {
            prop_assert_eq!(
                may_not_have_arrived(failed),
                status == 429 || (500..=599).contains(&status)
            );
        }
    }

    /// A manual end that keeps failing: at most `retries + 1` attempts, and the waits fit in
    /// the budget.
    #[test]
    fn a_failing_end_stops_within_its_retries_and_budget(
        failures in proptest::collection::vec(failed(), 1..16),
        retries in 0u32..=10,
        budget in 0.0f64..30_000.0,
        randoms in proptest::collection::vec(0.0f64..=1.0, 16),
    ) {
        let (mut remaining, mut retried, mut attempts) = (budget, 0u32, 0u32);
        for (failed, random) in failures.iter().zip(randoms) {
            attempts += 1;
            let next = after_failure(AfterFailure {
                failed: *failed,
                retried,
                retries,
                retry_after_ms: None,
                remaining_ms: remaining,
                random,
            });
            match next {
                Next::RetryIn(delay) => {
                    remaining -= f64::from(delay) + MIN_ATTEMPT_MS;
                    retried += 1;
                }
                Next::GiveUp { .. } => break,
            }
        }
        prop_assert!(attempts <= retries + 1);
        prop_assert!(remaining >= -1.0, "waits plus useful attempts fit the budget");
    }
}
