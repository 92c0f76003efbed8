//! A manual end (`endCall`, and the ends of stored calls): the first attempt issued
//! synchronously, then up to `retries` more attempts while `policy::after_failure` says so.
//! Between attempts the call is "waiting" in the registry: a page leave then sends it, and an
//! `untrackCall` stops it; both settle the `endCall` promise at once (the wait is cancelled).

use alloc::boxed::Box;
use alloc::rc::Rc;
use core::cell::Cell;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::callback;
use crate::endpoint::{BaseUrl, CallId, EndToken};
use crate::error::{ErrorKind, Failure};
use crate::events;
use crate::outbox;
use crate::page::{self, EndHandle, Interrupt};
use crate::policy::{self, AfterFailure, Next};
use crate::promise;
use crate::timer::Timer;
use crate::transport::{self, Answer, Call, Clock};

/// How a manual end names its token and URL when the caller overrides them.
#[derive(Debug, Default)]
pub(crate) struct EndOverrides {
    /// Token to use instead of the tracked one (required for untracked calls).
    pub token: Option<EndToken>,
    /// Base URL to use instead of the tracked/configured one.
    pub base_url: Option<BaseUrl>,
    /// Time limit instead of the configured one.
    pub timeout_ms: Option<u32>,
    /// Retry count instead of the configured one.
    pub retries: Option<u32>,
}

/// Who asked for an end.
#[derive(Debug)]
pub(crate) enum Via {
    /// The app, with `endCall`.
    Manual,
    /// The outbox replay, for this stored entry.
    Outbox(outbox::Entry),
    /// Orphan recovery, for the record a dead page left.
    Recovered(outbox::Entry),
}

impl Via {
    /// The `via` reported to `onCallEnded`.
    fn as_str(&self) -> &'static str {
        match self {
            Via::Manual => "manual",
            Via::Outbox(_) => "outbox",
            Via::Recovered(_) => "recovered",
        }
    }

    /// A stored end that may not have reached the API goes back to the outbox.
    fn failed(&self, failure: &Failure) {
        let entry = match self {
            Via::Outbox(entry) => entry,
            Via::Recovered(entry) if page::config_says(|config| config.outbox) => entry,
            _ => return,
        };
        if policy::may_not_have_arrived(transport::failed_class(failure)) {
            outbox::put_back(core::slice::from_ref(entry));
        }
    }
}

/// End a call now. Returns the in-flight promise if one exists for this id.
pub(crate) fn end(id: CallId, overrides: EndOverrides) -> Result<Promise, Failure> {
    page::catch_up_with_unload();
    end_via(id, overrides, Via::Manual)
}

/// [`end`], reporting a success to `onCallEnded` subscribers as `via`.
pub(crate) fn end_via(id: CallId, overrides: EndOverrides, via: Via) -> Result<Promise, Failure> {
    let started = page::update(|state| {
        if let Some(in_flight) = state.registry.ending(&id) {
            return Ok(Err(in_flight.promise.clone()));
        }
        if state.registry.is_ending(&id) {
            // Only reachable re-entrantly, from an instrumented fetch issuing this very end.
            return Err(Failure::config(
                "endCall: this call's end is being issued right now; call again once it returns",
            ));
        }
        let armed = state.registry.disarm(&id);
        // Withdraw the deferred request before anything else: the manual end replaces it.
        page::cancel_deferred(armed.as_ref().and_then(|call| call.deferred.as_ref()));
        let was_armed = armed.is_some();
        let url = match (&overrides.base_url, &armed) {
            (Some(base), _) => base.end_url(&id),
            (None, Some(armed)) => armed.url.clone(),
            (None, None) => state.config.base_url.end_url(&id),
        };
        let token = match (overrides.token, armed) {
            (Some(token), _) => token,
            (None, Some(armed)) => armed.token,
            (None, None) => {
                return Err(Failure::new(
                    ErrorKind::NotTracked,
                    "endCall: this call is not tracked (never tracked, untracked, or already ended); pass options.endToken to end it anyway",
                ))
            }
        };
        // From here on the id is "ending" (before the request exists), never armed and
        // ending at once, and never neither: no path can send it twice or drop it.
        state.registry.begin_ending(id.clone());
        let call = Call {
            id: id.clone(),
            token,
            url,
            deferred: None,
        };
        Ok(Ok(ManualEnd {
            call,
            clock: None,
            retries: overrides.retries.unwrap_or(state.config.retries),
            retried: Cell::new(0),
            was_armed,
            via,
            settle: Cell::new(None),
            wait: Cell::new(None),
            timeout_ms: overrides.timeout_ms.unwrap_or(state.config.timeout_ms),
        }))
    })?;
    let mut end = match started {
        Ok(end) => end,
        Err(in_flight) => return Ok(in_flight),
    };

    // Issue the first attempt synchronously (outside the borrow: fetch may be instrumented),
    // so an end requested just before the page goes away is on the wire already.
    let first = Clock::start(end.timeout_ms)
        .and_then(|clock| transport::attempt(&end.call, &clock).map(|fetch| (clock, fetch)));
    let fetch = match first {
        Ok((clock, fetch)) => {
            end.clock = Some(clock);
            fetch
        }
        Err(failure) => {
            settle_registry(&end.call, end.was_armed);
            end.via.failed(&failure);
            return Err(failure);
        }
    };
    let end = Rc::new(end);
    // The first answer is handled in a later microtask, after the handle below is recorded.
    let (promise, resolve, reject) = promise::new_pending();
    end.settle.set(Some((resolve, reject)));
    let handle = EndHandle {
        promise: promise.clone(),
        end: end.clone(),
    };
    // Only a re-entrant call could make this fail; the end goes on either way.
    let _ = page::update(|state| {
        state.registry.set_ending_handle(&end.call.id, handle);
        Ok(())
    });
    await_attempt(end, fetch);
    Ok(promise)
}

/// A manual end between its steps. Held by the registry's handle and by each pending step;
/// its retry wait (a timer holding it) is cleared when the end settles.
///
/// Its changing parts are `Cell`s, taken and put back whole: no borrow can conflict, so no
/// path can panic (a `RefCell` would trap on a re-entrant borrow).
struct ManualEnd {
    call: Call,
    /// The time budget, shared by all attempts (`None` only before the first attempt).
    clock: Option<Clock>,
    timeout_ms: u32,
    retries: u32,
    /// Retries issued so far.
    retried: Cell<u32>,
    was_armed: bool,
    via: Via,
    /// The `endCall` promise's resolve and reject, taken when it settles.
    settle: Cell<Option<(js_sys::Function, js_sys::Function)>>,
    /// While waiting to retry: the timer, and the failure to report if the wait is cut short.
    wait: Cell<Option<(Timer, Failure)>>,
}

impl core::fmt::Debug for ManualEnd {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ManualEnd")
            .field("call", &self.call.id)
            .finish_non_exhaustive()
    }
}

impl ManualEnd {
    fn remaining_ms(&self) -> f64 {
        self.clock.as_ref().map_or(0.0, Clock::remaining_ms)
    }

    /// Attempts so far.
    fn attempts(&self) -> u32 {
        self.retried.get() + 1
    }
}

impl Interrupt for ManualEnd {
    fn interrupt(&self) {
        let waiting = self.wait.take();
        if let Some((_timer, failure)) = waiting {
            // Handed over: a page leave sent it, or the app untracked it.
            finish(self, Err(tried(failure, self.attempts())), true);
        }
    }
}

/// Wait for an attempt's answer (and body), then finish or retry.
fn await_attempt(end: Rc<ManualEnd>, fetch: Promise) {
    promise::when_settled(
        &transport::read_when_answered(&fetch),
        Box::new(move |read| {
            let Some(clock) = end.clock.as_ref() else {
                return;
            };
            match transport::answer(read, clock) {
                Answer::Failed {
                    failure,
                    failed,
                    retry_after_ms,
                } => after_failure(end, failure, failed, retry_after_ms),
                Answer::Final(outcome) => finish(&end, outcome, false),
            }
        }),
    );
}

/// After a failed attempt: wait and try again if `policy` says so, else finish with it.
fn after_failure(
    end: Rc<ManualEnd>,
    failure: Failure,
    failed: policy::Failed,
    retry_after_ms: Option<f64>,
) {
    let next = policy::after_failure(AfterFailure {
        failed,
        retried: end.retried.get(),
        retries: end.retries,
        retry_after_ms,
        remaining_ms: end.remaining_ms(),
        random: js_sys::Math::random(),
    });
    let Next::RetryIn(delay) = next else {
        return finish(&end, Err(tried(failure, end.attempts())), false);
    };
    // A page leave during the wait must find the call (listeners follow the registry).
    let paused = page::update(|state| Ok(state.registry.pause_ending(end.call.clone())));
    if !matches!(paused, Ok(true)) {
        // Untracked while the attempt was in flight: handed over.
        return finish(&end, Err(tried(failure, end.attempts())), true);
    }
    let waker = end.clone();
    match Timer::start(delay, move || retry_now(&waker)) {
        Ok(timer) => end.wait.set(Some((timer, failure))),
        Err(_) => {
            let _ = page::update(|state| Ok(state.registry.resume_ending(&end.call.id)));
            finish(&end, Err(tried(failure, end.attempts())), false);
        }
    }
}

/// The wait is over: the next attempt, unless the end was settled meanwhile.
fn retry_now(end: &Rc<ManualEnd>) {
    // Dropping the timer inside its own callback is fine (wasm-bindgen frees it afterwards);
    // it breaks the end ↔ timer cycle.
    let Some((_timer, failure)) = end.wait.take() else {
        return;
    };
    let resumed = page::update(|state| Ok(state.registry.resume_ending(&end.call.id)));
    if !matches!(resumed, Ok(true)) {
        return finish(end, Err(tried(failure, end.attempts())), true);
    }
    end.retried.set(end.retried.get() + 1);
    let attempt = end
        .clock
        .as_ref()
        .ok_or(failure)
        .and_then(|clock| transport::attempt(&end.call, clock));
    match attempt {
        Ok(fetch) => await_attempt(end.clone(), fetch),
        Err(next) => finish(end, Err(tried(next, end.attempts())), false),
    }
}

/// Settle a manual end: re-arm the call if the end may not have reached the API (unless it
/// was handed over: a page leave sent it, or the app untracked it), report a success, put a
/// failed stored end back, and settle the `endCall` promise. Once only.
fn finish(end: &ManualEnd, outcome: Result<JsValue, Failure>, handed_over: bool) {
    let Some((resolve, reject)) = end.settle.take() else {
        return;
    };
    drop(end.wait.take());
    let rearm = match &outcome {
        Err(failure) => {
            end.was_armed
                && !handed_over
                && policy::may_not_have_arrived(transport::failed_class(failure))
        }
        Ok(_) => false,
    };
    let outcome = match outcome {
        Err(mut failure) if rearm => {
            failure
                .message
                .push_str(" The call stays tracked, so leaving the page still ends it.");
            Err(failure)
        }
        other => other,
    };
    settle_registry(&end.call, rearm);
    match outcome {
        Ok(response) => {
            events::emit(end.call.id.as_str(), end.via.as_str(), &response);
            callback::call(&resolve, &response);
        }
        Err(failure) => {
            if !handed_over {
                end.via.failed(&failure);
            }
            callback::call(&reject, &failure.into_js());
        }
    }
}

/// Say how many attempts a failure took, when more than one.
fn tried(mut failure: Failure, attempts: u32) -> Failure {
    if attempts > 1 {
        failure.message.push_str(" (");
        crate::options::push_decimal(&mut failure.message, attempts);
        failure.message.push_str(" attempts)");
    }
    failure
}

/// The end is over: forget it, and with `rearm` arm the call again (with a fresh deferred
/// request, armed outside the borrow) unless the app tracked it anew or untracked it.
fn settle_registry(call: &Call, rearm: bool) {
    let rearm = rearm.then(|| {
        let mut call: Call = call.without_deferred();
        if page::config_says(|config| config.deferred) {
            call.deferred = transport::arm_deferred(&call);
        }
        call
    });
    let deferred = rearm.as_ref().and_then(|call| call.deferred.clone());
    let rearmed = page::update(|state| Ok(state.registry.finish_ending(&call.id, rearm)));
    if !matches!(rearmed, Ok(true)) {
        page::cancel_deferred(deferred.as_ref());
    }
}

/// End a stored call (an outbox entry, a recovery record) with its own token and base URL,
/// nobody awaiting the result. Whether the end started.
pub(crate) fn end_stored(entry: outbox::Entry, via: fn(outbox::Entry) -> Via) -> bool {
    let overrides = EndOverrides {
        token: Some(entry.token.clone()),
        base_url: Some(entry.base_url.clone()),
        timeout_ms: None,
        retries: None,
    };
    match end_via(entry.id.clone(), overrides, via(entry)) {
        Ok(promise) => {
            promise::ignore_rejection(&promise);
            true
        }
        Err(_) => false,
    }
}
