//! The call registry: which calls are armed for page-leave sending, and which are being
//! ended right now. This is the exactly-once state machine:
//!
//! ```text
//!   track ──► Armed ──endCall──► Ending ──settled──► (forgotten)
//!               │  ▲                  │ ▲ between retry attempts ("waiting"): a page
//!               │  │                  ▼ │ leave takes the call over and sends it
//!               │  └── retryable ─────┘   (network/timeout/5xx/429: armed again)
//!               ├──untrack──► (forgotten, nothing sent)
//!               └──page leave──► sent once (by us, or by the browser's deferred
//!                                request), forgotten
//! ```
//!
//! An id is never Armed and Ending at once, so no path can send twice. Plain Rust, generic
//! over the browser-held request `D` and the in-flight end's handle `P` (JS objects in the
//! browser), so it is tested on the host, including the waiting states.

use alloc::string::String;
use alloc::vec::Vec;

use crate::endpoint::{CallId, EndToken};

/// A call armed for page-leave sending.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Armed<D> {
    /// The call id.
    pub id: CallId,
    /// Its end token.
    pub token: EndToken,
    /// The full end URL, fixed when the call was tracked.
    pub url: String,
    /// The browser-held deferred request (`fetchLater`), when one is armed.
    pub deferred: Option<D>,
}

impl<D> Armed<D> {
    /// The same call without its browser-held request (a manual end or a retry sends it).
    pub(crate) fn without_deferred<E>(&self) -> Armed<E> {
        Armed {
            id: self.id.clone(),
            token: self.token.clone(),
            url: self.url.clone(),
            deferred: None,
        }
    }
}

/// `track` refused: the id is being ended right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BeingEnded;

/// A manual end in flight. It is recorded before the request is issued (`handle` is `None`
/// until the promise exists), so there is no moment when the id is neither armed nor ending.
#[derive(Debug)]
struct Ending<D, P> {
    id: CallId,
    handle: Option<P>,
    /// Cleared by `untrack`: the app said the call is over, so a failure must not re-arm it.
    may_rearm: bool,
    /// The call, while the end waits between retry attempts (no request in flight): a page
    /// leave then has to send it, since nothing else will.
    waiting: Option<Armed<D>>,
}

/// The registry. `D` is a browser-held request, `P` the handle of an in-flight manual end.
#[derive(Debug)]
pub(crate) struct Registry<D, P> {
    armed: Vec<Armed<D>>,
    ending: Vec<Ending<D, P>>,
}

impl<D, P> Default for Registry<D, P> {
    fn default() -> Self {
        Registry {
            armed: Vec::new(),
            ending: Vec::new(),
        }
    }
}

impl<D, P: Clone> Registry<D, P> {
    /// Arm a call, or replace an armed one (its old entry is returned, so that the caller
    /// can cancel what it held).
    pub(crate) fn track(&mut self, call: Armed<D>) -> Result<Option<Armed<D>>, BeingEnded> {
        if self.is_ending(&call.id) {
            return Err(BeingEnded);
        }
        match self.armed.iter_mut().find(|armed| armed.id == call.id) {
            Some(slot) => Ok(Some(core::mem::replace(slot, call))),
            None => {
                self.armed.push(call);
                Ok(None)
            }
        }
    }

    /// Whether `id` is armed.
    pub(crate) fn is_armed(&self, id: &CallId) -> bool {
        self.armed.iter().any(|armed| &armed.id == id)
    }

    /// Remove and return an armed call (the manual end takes it over).
    pub(crate) fn disarm(&mut self, id: &CallId) -> Option<Armed<D>> {
        let at = self.armed.iter().position(|armed| &armed.id == id)?;
        Some(self.armed.swap_remove(at))
    }

    /// Remove and return every armed call.
    #[cfg(test)]
    pub(crate) fn drain_armed(&mut self) -> Vec<Armed<D>> {
        core::mem::take(&mut self.armed)
    }

    /// Remove and return the armed calls that match `keep_out`; the others stay armed.
    pub(crate) fn drain_armed_where(
        &mut self,
        keep_out: impl Fn(&Armed<D>) -> bool,
    ) -> Vec<Armed<D>> {
        // In place (a `partition` costs more wasm than this loop); like `disarm`, a removal
        // moves the last armed call into its place.
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(call) = self.armed.get(at) {
            if keep_out(call) {
                out.push(self.armed.swap_remove(at));
            } else {
                at += 1;
            }
        }
        out
    }

    /// The armed ids, in tracking order (as far as removals allow).
    pub(crate) fn armed_ids(&self) -> impl Iterator<Item = &CallId> {
        self.armed.iter().map(|armed| &armed.id)
    }

    /// The armed calls.
    pub(crate) fn armed_calls(&self) -> impl Iterator<Item = &Armed<D>> {
        self.armed.iter()
    }

    /// Whether any call is armed.
    pub(crate) fn has_armed(&self) -> bool {
        !self.armed.is_empty()
    }

    /// Whether a page leave would have anything to send: an armed call, or a manual end
    /// waiting between attempts (page-leave listeners are needed exactly then).
    pub(crate) fn needs_page_leave(&self) -> bool {
        self.has_armed() || self.ending.iter().any(|ending| ending.waiting.is_some())
    }

    /// Whether a manual end of `id` is in flight (or being issued).
    pub(crate) fn is_ending(&self, id: &CallId) -> bool {
        self.ending.iter().any(|ending| &ending.id == id)
    }

    /// The promise of the in-flight manual end of `id`, once it exists.
    pub(crate) fn ending(&self, id: &CallId) -> Option<&P> {
        self.ending
            .iter()
            .find(|ending| &ending.id == id)
            .and_then(|ending| ending.handle.as_ref())
    }

    /// Remove the manual end of `id` (there is at most one), returning it.
    fn remove_ending(&mut self, id: &CallId) -> Option<Ending<D, P>> {
        let at = self.ending.iter().position(|ending| &ending.id == id)?;
        Some(self.ending.swap_remove(at))
    }

    /// Record that a manual end of `id` is starting. The caller has disarmed it first.
    pub(crate) fn begin_ending(&mut self, id: CallId) {
        self.remove_ending(&id);
        self.ending.push(Ending {
            id,
            handle: None,
            may_rearm: true,
            waiting: None,
        });
    }

    /// Attach the promise of the manual end of `id`.
    pub(crate) fn set_ending_handle(&mut self, id: &CallId, handle: P) {
        if let Some(ending) = self.ending.iter_mut().find(|ending| &ending.id == id) {
            ending.handle = Some(handle);
        }
    }

    /// The app untracked an id while its manual end is in flight: never retry, re-arm or
    /// send it on a page leave. `None` if no end of it was in flight; else the end's handle
    /// when it was waiting between attempts (it is to be settled now, not when the wait ends).
    pub(crate) fn forbid_rearm(&mut self, id: &CallId) -> Option<Option<P>> {
        let ending = self.ending.iter_mut().find(|ending| &ending.id == id)?;
        ending.may_rearm = false;
        Some(ending.waiting.take().and(ending.handle.clone()))
    }

    /// The manual end of `id` waits before its next attempt; `call` is what a page leave
    /// sends meanwhile. Returns false (and keeps nothing) when it may not go on: the app
    /// untracked it, or it is not being ended.
    pub(crate) fn pause_ending(&mut self, call: Armed<D>) -> bool {
        match self.ending.iter_mut().find(|ending| ending.id == call.id) {
            Some(ending) if ending.may_rearm => {
                ending.waiting = Some(call);
                true
            }
            _ => false,
        }
    }

    /// The wait is over: whether the next attempt may go ahead (a page leave did not take
    /// the call over, and the app did not untrack it).
    pub(crate) fn resume_ending(&mut self, id: &CallId) -> bool {
        match self.ending.iter_mut().find(|ending| &ending.id == id) {
            Some(ending) => ending.waiting.take().is_some() && ending.may_rearm,
            None => false,
        }
    }

    /// A page leave takes over every end waiting between attempts: each is handed to `each`
    /// to be sent now (with the end's handle, to settle it now), and their manual ends will
    /// neither retry nor re-arm them.
    pub(crate) fn take_waiting_each(&mut self, mut each: impl FnMut(Armed<D>, Option<P>)) {
        for ending in &mut self.ending {
            if let Some(call) = ending.waiting.take() {
                ending.may_rearm = false;
                each(call, ending.handle.clone());
            }
        }
    }

    /// [`Registry::take_waiting_each`], collected.
    #[cfg(test)]
    pub(crate) fn take_waiting(&mut self) -> Vec<(Armed<D>, Option<P>)> {
        let mut taken = Vec::new();
        self.take_waiting_each(|call, handle| taken.push((call, handle)));
        taken
    }

    /// The manual end of `id` settled. With `rearm`, the end may not have reached the API,
    /// so the call is armed again for page-leave — unless the app tracked it anew or
    /// untracked it meanwhile. Returns whether it was re-armed.
    pub(crate) fn finish_ending(&mut self, id: &CallId, rearm: Option<Armed<D>>) -> bool {
        let may_rearm = self
            .remove_ending(id)
            .is_some_and(|ending| ending.may_rearm);
        match rearm {
            Some(call) if may_rearm && !self.armed.iter().any(|armed| &armed.id == id) => {
                self.armed.push(call);
                true
            }
            _ => false,
        }
    }
}
