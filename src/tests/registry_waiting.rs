//! The registry's exactly-once rule through every state, the waiting ones included: a manual
//! end paused between attempts, resumed, taken over by a page leave, or stopped by untrack.
use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::endpoint::{CallId, EndToken};
use crate::registry::{Armed, Registry};

fn call(id: &str) -> Armed<()> {
    Armed {
        id: CallId::parse(id).unwrap(),
        token: EndToken::parse("t").unwrap(),
        url: format!("/api/v1/calls/{id}/end"),
        deferred: None,
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Track(u8),
    Untrack(u8),
    EndStart(u8),
    /// The attempt failed retryably; the end waits to retry.
    Pause(u8),
    /// The wait is over; the next attempt goes.
    Resume(u8),
    /// The end settled: delivered, or (retryable) not, which re-arms.
    Settle(u8, bool),
    Leave,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..3).prop_map(Op::Track),
        (0u8..3).prop_map(Op::Untrack),
        (0u8..3).prop_map(Op::EndStart),
        (0u8..3).prop_map(Op::Pause),
        (0u8..3).prop_map(Op::Resume),
        (0u8..3, any::<bool>()).prop_map(|(i, r)| Op::Settle(i, r)),
        Just(Op::Leave),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    InFlight,
    Waiting,
    /// Handed over (a leave sent it, or untracked): its attempts are over.
    Over,
}

proptest! {
    /// Against a model: per tracking, at most one end that may have arrived; an id is never
    /// armed while its end is in flight or waiting; a leave finds exactly the armed and the
    /// waiting calls, and afterwards nothing needs a page-leave listener.
    #[test]
    fn exactly_once_through_the_waiting_states(ops in proptest::collection::vec(op(), 0..80)) {
        let mut reg = Registry::<(), u8>::default();
        let mut ends: BTreeMap<String, End> = BTreeMap::new();
        // Sends per tracking that may have reached the API.
        let mut arrived: BTreeMap<String, u32> = BTreeMap::new();
        let cid = |id: &str| CallId::parse(id).unwrap();
        for op in ops {
            match op {
                Op::Track(i) => {
                    let id = format!("c{i}");
                    let ending = reg.is_ending(&cid(&id));
                    prop_assert_eq!(reg.track(call(&id)).is_err(), ending);
                    if !ending {
                        arrived.insert(id, 0);
                    }
                }
                Op::Untrack(i) => {
                    let id = format!("c{i}");
                    reg.disarm(&cid(&id));
                    match reg.forbid_rearm(&cid(&id)) {
                        Some(waiting) => {
                            let was_waiting = ends.get(&id) == Some(&End::Waiting);
                            prop_assert_eq!(waiting.is_some(), was_waiting, "the waiting end is handed back");
                            if was_waiting {
                                ends.insert(id, End::Over);
                            }
                        }
                        None => prop_assert!(!ends.contains_key(&id)),
                    }
                }
                Op::EndStart(i) => {
                    let id = format!("c{i}");
                    if !reg.is_ending(&cid(&id)) {
                        if let Some(armed) = reg.disarm(&cid(&id)) {
                            *arrived.entry(id.clone()).or_default() += 1;
                            reg.begin_ending(armed.id.clone());
                            reg.set_ending_handle(&armed.id, i);
                            ends.insert(id, End::InFlight);
                        }
                    }
                }
                Op::Pause(i) => {
                    let id = format!("c{i}");
                    if ends.get(&id) == Some(&End::InFlight) {
                        // The attempt failed: it did not arrive.
                        *arrived.entry(id.clone()).or_default() -= 1;
                        if reg.pause_ending(call(&id)) {
                            ends.insert(id, End::Waiting);
                        } else {
                            ends.insert(id, End::Over); // untracked meanwhile
                        }
                    }
                }
                Op::Resume(i) => {
                    let id = format!("c{i}");
                    let resumed = reg.resume_ending(&cid(&id));
                    prop_assert_eq!(resumed, ends.get(&id) == Some(&End::Waiting));
                    if resumed {
                        *arrived.entry(id.clone()).or_default() += 1;
                        ends.insert(id, End::InFlight);
                    }
                }
                Op::Settle(i, retryable) => {
                    let id = format!("c{i}");
                    if let Some(end) = ends.remove(&id) {
                        if end == End::InFlight && retryable {
                            *arrived.entry(id.clone()).or_default() -= 1;
                        }
                        let rearm = (end == End::InFlight && retryable).then(|| call(&id));
                        let rearmed = reg.finish_ending(&cid(&id), rearm);
                        prop_assert!(!(rearmed && end != End::InFlight), "a handed-over end never re-arms");
                    }
                }
                Op::Leave => {
                    let armed: Vec<_> = reg.drain_armed_where(|_| true);
                    let waiting = reg.take_waiting();
                    for call in armed.iter().chain(waiting.iter().map(|(call, _)| call)) {
                        *arrived.entry(call.id.as_str().to_string()).or_default() += 1;
                    }
                    for (call, handle) in &waiting {
                        let id = call.id.as_str().to_string();
                        prop_assert_eq!(ends.get(&id), Some(&End::Waiting));
                        prop_assert!(handle.is_some(), "its end can be settled now");
                        ends.insert(id, End::Over);
                    }
                    prop_assert!(!reg.needs_page_leave());
                }
            }
            for (id, count) in &arrived {
                prop_assert!(*count <= 1, "{} may have arrived {} times in one tracking", id, count);
            }
            for id in reg.armed_ids() {
                prop_assert!(!ends.contains_key(id.as_str()), "armed while its end is not settled");
            }
            let waiting = ends.values().any(|end| *end == End::Waiting);
            prop_assert_eq!(reg.needs_page_leave(), reg.has_armed() || waiting);
        }
    }
}
