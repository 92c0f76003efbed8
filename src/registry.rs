//! The call registry: which calls are armed for page-leave sending, and which are being
//! ended right now. This is the exactly-once state machine:
//!
//! ```text
//!   track ──► Armed ──endCall──► Ending ──settled──► (forgotten)
//!               │  ▲                  │
//!               │  └── retryable ─────┘   (network/timeout/5xx/429: armed again)
//!               ├──untrack──► (forgotten, nothing sent)
//!               └──page leave──► sent once (by us, or by the browser's deferred
//!                                request), forgotten
//! ```
//!
//! An id is never Armed and Ending at once, so no path can send twice. Plain Rust, generic
//! over the in-flight handle (a JS `Promise` in the browser), so it is tested on the host.

use crate::endpoint::{CallId, EndToken};
use crate::transport::Deferred;

/// A call armed for page-leave sending.
#[derive(Clone, Debug, PartialEq)]
pub struct Armed {
    /// The call id.
    pub id: CallId,
    /// Its end token.
    pub token: EndToken,
    /// The full end URL, fixed when the call was tracked.
    pub url: String,
    /// The browser-held deferred request (`fetchLater`), when one is armed.
    pub deferred: Option<Deferred>,
}

/// What `track` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tracked {
    /// A new call.
    Added,
    /// The id was armed already; its token and URL were replaced.
    Replaced,
}

/// `track` refused: the id is being ended right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BeingEnded;

/// A manual end in flight. It is recorded before the request is issued (`handle` is `None`
/// until the promise exists), so there is no moment when the id is neither armed nor ending.
#[derive(Debug)]
struct Ending<P> {
    id: CallId,
    handle: Option<P>,
    /// Cleared by `untrack`: the app said the call is over, so a failure must not re-arm it.
    may_rearm: bool,
}

/// The registry. `P` is the handle of an in-flight manual end.
#[derive(Debug)]
pub struct Registry<P> {
    armed: Vec<Armed>,
    ending: Vec<Ending<P>>,
}

impl<P> Default for Registry<P> {
    fn default() -> Self {
        Registry {
            armed: Vec::new(),
            ending: Vec::new(),
        }
    }
}

impl<P> Registry<P> {
    /// Arm a call, or replace an armed one (its old entry is returned, so that the caller
    /// can cancel what it held).
    pub fn track(&mut self, call: Armed) -> Result<(Tracked, Option<Armed>), BeingEnded> {
        if self.is_ending(&call.id) {
            return Err(BeingEnded);
        }
        match self.armed.iter_mut().find(|armed| armed.id == call.id) {
            Some(slot) => Ok((Tracked::Replaced, Some(core::mem::replace(slot, call)))),
            None => {
                self.armed.push(call);
                Ok((Tracked::Added, None))
            }
        }
    }

    /// Whether `id` is armed.
    pub fn is_armed(&self, id: &CallId) -> bool {
        self.armed.iter().any(|armed| &armed.id == id)
    }

    /// Remove and return an armed call (the manual end takes it over).
    pub fn disarm(&mut self, id: &CallId) -> Option<Armed> {
        let at = self.armed.iter().position(|armed| &armed.id == id)?;
        Some(self.armed.swap_remove(at))
    }

    /// Remove and return every armed call (the page is being left).
    pub fn drain_armed(&mut self) -> Vec<Armed> {
        core::mem::take(&mut self.armed)
    }

    /// Remove and return the armed calls that match `keep_out`; the others stay armed.
    pub fn drain_armed_where(&mut self, keep_out: impl Fn(&Armed) -> bool) -> Vec<Armed> {
        let (out, stay) = core::mem::take(&mut self.armed)
            .into_iter()
            .partition(keep_out);
        self.armed = stay;
        out
    }

    /// The armed ids, in tracking order (as far as removals allow).
    pub fn armed_ids(&self) -> impl Iterator<Item = &CallId> {
        self.armed.iter().map(|armed| &armed.id)
    }

    /// Whether any call is armed (page-leave listeners are needed exactly then).
    pub fn has_armed(&self) -> bool {
        !self.armed.is_empty()
    }

    /// Whether a manual end of `id` is in flight (or being issued).
    pub fn is_ending(&self, id: &CallId) -> bool {
        self.ending.iter().any(|ending| &ending.id == id)
    }

    /// The promise of the in-flight manual end of `id`, once it exists.
    pub fn ending(&self, id: &CallId) -> Option<&P> {
        self.ending
            .iter()
            .find(|ending| &ending.id == id)
            .and_then(|ending| ending.handle.as_ref())
    }

    /// Record that a manual end of `id` is starting. The caller has disarmed it first.
    pub fn begin_ending(&mut self, id: CallId) {
        self.ending.retain(|ending| ending.id != id);
        self.ending.push(Ending {
            id,
            handle: None,
            may_rearm: true,
        });
    }

    /// Attach the promise of the manual end of `id`.
    pub fn set_ending_handle(&mut self, id: &CallId, handle: P) {
        if let Some(ending) = self.ending.iter_mut().find(|ending| &ending.id == id) {
            ending.handle = Some(handle);
        }
    }

    /// The app untracked an id while its manual end is in flight: never re-arm it.
    /// Whether such an end was in flight.
    pub fn forbid_rearm(&mut self, id: &CallId) -> bool {
        match self.ending.iter_mut().find(|ending| &ending.id == id) {
            Some(ending) => {
                ending.may_rearm = false;
                true
            }
            None => false,
        }
    }

    /// The manual end of `id` settled. With `rearm`, the end may not have reached the API,
    /// so the call is armed again for page-leave — unless the app tracked it anew or
    /// untracked it meanwhile. Returns whether it was re-armed.
    pub fn finish_ending(&mut self, id: &CallId, rearm: Option<Armed>) -> bool {
        let may_rearm = self
            .ending
            .iter()
            .find(|ending| &ending.id == id)
            .is_some_and(|ending| ending.may_rearm);
        self.ending.retain(|ending| &ending.id != id);
        match rearm {
            Some(call) if may_rearm && !self.armed.iter().any(|armed| &armed.id == id) => {
                self.armed.push(call);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn call(id: &str, token: &str) -> Armed {
        Armed {
            id: CallId::parse(id).unwrap(),
            token: EndToken::parse(token).unwrap(),
            url: format!("/api/v1/calls/{id}/end"),
            deferred: None,
        }
    }

    fn cid(id: &str) -> CallId {
        CallId::parse(id).unwrap()
    }

    #[test]
    fn track_replaces_the_token_of_the_same_id() {
        let mut reg = Registry::<u32>::default();
        assert_eq!(reg.track(call("a", "t1")), Ok((Tracked::Added, None)));
        assert_eq!(
            reg.track(call("a", "t2")),
            Ok((Tracked::Replaced, Some(call("a", "t1"))))
        );
        let drained = reg.drain_armed();
        assert_eq!(drained, vec![call("a", "t2")]);
        assert!(!reg.has_armed());
    }

    #[test]
    fn drain_where_leaves_the_rest_armed() {
        let mut reg = Registry::<u32>::default();
        for id in ["a", "b", "c"] {
            reg.track(call(id, "t")).unwrap();
        }
        let out = reg.drain_armed_where(|armed| armed.id.as_str() != "b");
        assert_eq!(out.len(), 2);
        assert!(reg.is_armed(&cid("b")));
        assert!(!reg.is_armed(&cid("a")));
    }

    #[test]
    fn an_id_being_ended_cannot_be_armed() {
        let mut reg = Registry::<u32>::default();
        reg.track(call("a", "t")).unwrap();
        let armed = reg.disarm(&cid("a")).unwrap();
        reg.begin_ending(armed.id.clone());
        assert!(reg.is_ending(&cid("a")));
        assert_eq!(
            reg.ending(&cid("a")),
            None,
            "no promise yet, but already ending"
        );
        assert_eq!(reg.track(call("a", "t")), Err(BeingEnded));
        reg.set_ending_handle(&cid("a"), 7);
        assert_eq!(reg.ending(&cid("a")), Some(&7));
        assert_eq!(reg.track(call("a", "t")), Err(BeingEnded));
        assert!(reg.drain_armed().is_empty(), "page leave must not resend");
        assert!(reg.finish_ending(&cid("a"), Some(armed)));
        assert_eq!(reg.ending(&cid("a")), None);
        assert_eq!(reg.drain_armed().len(), 1, "a retryable failure re-arms");
    }

    #[test]
    fn rearm_does_not_override_a_newer_tracking() {
        let mut reg = Registry::<u32>::default();
        reg.track(call("a", "old")).unwrap();
        let armed = reg.disarm(&cid("a")).unwrap();
        reg.begin_ending(armed.id.clone());
        reg.finish_ending(&cid("a"), None);
        reg.track(call("a", "new")).unwrap();
        assert!(!reg.finish_ending(&cid("a"), Some(armed)));
        assert_eq!(reg.drain_armed(), vec![call("a", "new")]);
    }

    #[test]
    fn untrack_during_an_end_forbids_rearming() {
        let mut reg = Registry::<u32>::default();
        reg.track(call("a", "t")).unwrap();
        let armed = reg.disarm(&cid("a")).unwrap();
        reg.begin_ending(armed.id.clone());
        assert!(reg.forbid_rearm(&cid("a")));
        assert!(!reg.finish_ending(&cid("a"), Some(armed)));
        assert!(!reg.has_armed());
        assert!(!reg.forbid_rearm(&cid("a")), "nothing in flight any more");
    }

    #[derive(Clone, Debug)]
    enum Op {
        Track(u8, u8),
        Untrack(u8),
        EndStart(u8),
        EndSettle(u8, bool),
        Leave,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..4, 0u8..3).prop_map(|(i, t)| Op::Track(i, t)),
            (0u8..4).prop_map(Op::Untrack),
            (0u8..4).prop_map(Op::EndStart),
            (0u8..4, any::<bool>()).prop_map(|(i, r)| Op::EndSettle(i, r)),
            Just(Op::Leave),
        ]
    }

    proptest! {
        /// Against a simple model: every send is of the latest token, no id is ever
        /// armed and in flight at once, and an id is sent at most once per tracking
        /// (a retryable failure counts as "not delivered", so it may be sent again).
        #[test]
        fn exactly_once_per_tracking(ops in proptest::collection::vec(op(), 0..60)) {
            let mut reg = Registry::<u8>::default();
            let mut latest_token: BTreeMap<String, String> = BTreeMap::new();
            // id -> sends since it was last tracked, not counting retryable failures
            let mut delivered: BTreeMap<String, u32> = BTreeMap::new();
            let mut in_flight: BTreeMap<String, Armed> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Track(i, t) => {
                        let (id, token) = (format!("c{i}"), format!("t{t}"));
                        let result = reg.track(call(&id, &token));
                        prop_assert_eq!(result.is_err(), in_flight.contains_key(&id));
                        if result.is_ok() {
                            latest_token.insert(id.clone(), token);
                            delivered.insert(id, 0);
                        }
                    }
                    Op::Untrack(i) => {
                        let id = format!("c{i}");
                        let was = reg.armed_ids().any(|a| a.as_str() == id);
                        prop_assert_eq!(reg.disarm(&cid(&id)).is_some(), was);
                        reg.forbid_rearm(&cid(&id));
                    }
                    Op::EndStart(i) => {
                        let id = format!("c{i}");
                        if !reg.is_ending(&cid(&id)) {
                            if let Some(armed) = reg.disarm(&cid(&id)) {
                                prop_assert_eq!(Some(armed.token.bearer()), latest_token.get(&id).map(|t| format!("Bearer {t}")));
                                *delivered.entry(id.clone()).or_default() += 1;
                                reg.begin_ending(armed.id.clone());
                                reg.set_ending_handle(&armed.id, i);
                                in_flight.insert(id, armed);
                            }
                        }
                    }
                    Op::EndSettle(i, retryable) => {
                        let id = format!("c{i}");
                        if let Some(armed) = in_flight.remove(&id) {
                            if retryable {
                                *delivered.entry(id.clone()).or_default() -= 1;
                            }
                            reg.finish_ending(&cid(&id), retryable.then_some(armed));
                        }
                    }
                    Op::Leave => {
                        for armed in reg.drain_armed() {
                            let id = armed.id.as_str().to_string();
                            prop_assert!(!in_flight.contains_key(&id));
                            prop_assert_eq!(Some(armed.token.bearer()), latest_token.get(&id).map(|t| format!("Bearer {t}")));
                            *delivered.entry(id).or_default() += 1;
                        }
                    }
                }
                for (id, count) in &delivered {
                    prop_assert!(*count <= 1, "{} sent {} times in one tracking", id, count);
                }
                for id in reg.armed_ids() {
                    prop_assert!(!in_flight.contains_key(id.as_str()));
                }
            }
        }
    }
}
