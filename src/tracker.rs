//! The tracked-call state of this page: configuration, the registry, and what follows from
//! the registry — the page-leave listeners and the orphan-recovery guards — kept in step by
//! one function, [`State::sync_derived`], after every change.
//!
//! All state is in one page-global `RefCell`. Every access uses `try_borrow_mut`; the only JS
//! called while it is borrowed is `add/removeEventListener` and `AbortController.abort`, with
//! errors caught, and a re-entrant call (an instrumented `fetch`, an `abort` listener) gets a
//! typed error instead of a panic. `fetch`, `fetchLater`, console and app listeners run
//! outside the borrow.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::endpoint::{BaseUrl, CallId, EndToken};
use crate::error::{ErrorKind, Failure};
use crate::global::page_global;
use crate::lifecycle::{self, EventListener};
use crate::options::Config;
use crate::orphans::{self, Guard};
use crate::outbox;
use crate::promise;
use crate::registry::{Armed, BeingEnded, Registry};
use crate::timer;
use crate::transport::{self, Deferred};

#[derive(Default)]
struct State {
    config: Config,
    registry: Registry<Promise>,
    /// Added once and kept (see `lifecycle`).
    pagehide: Option<EventListener>,
    /// Exists while a page leave would have something to send and the option is on.
    beforeunload: Option<EventListener>,
    /// One per armed call that no `fetchLater` holds, while `recover` is on.
    guards: Vec<Guard>,
    warned_api_key: bool,
    /// `onCallEnded` subscribers.
    ended_listeners: Vec<js_sys::Function>,
    /// Calls ended while the page entered the back/forward cache, reported on `pageshow`.
    ended_while_cached: Vec<String>,
    /// Exists while `ended_while_cached` is not empty.
    pageshow: Option<EventListener>,
    /// Counts `pagehide`s. A `beforeunload` check scheduled before one of them is stale: the
    /// page was left (or cached and restored) since, and its calls are not that leave's.
    leaves: u32,
}

/// The current leave generation, for a deferred `beforeunload` check to compare later.
pub fn leave_generation() -> u32 {
    with_state(|state| Ok(state.leaves)).unwrap_or(0)
}

/// `beforeunload`'s deferred send: only if no `pagehide` happened since it was scheduled.
pub fn send_on_before_unload(generation: u32) {
    if leave_generation() == generation {
        send_all_on_leave(Leave::BeforeUnload);
    }
}

page_global! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn with_state<R>(f: impl FnOnce(&mut State) -> Result<R, Failure>) -> Result<R, Failure> {
    STATE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut state) => f(&mut state),
        Err(_) => Err(Failure::config(
            "voice-end-call was called re-entrantly from inside its own request; call it again later",
        )),
    })
}

#[wasm_bindgen]
extern "C" {
    // `catch`: a host page may make console methods throw; that must not unwind through wasm.
    #[wasm_bindgen(catch, js_namespace = console, js_name = warn)]
    fn console_warn(message: &str) -> Result<(), JsValue>;

    #[wasm_bindgen(catch, js_namespace = console, js_name = error)]
    fn console_error(message: &str, error: &JsValue) -> Result<(), JsValue>;
}

impl State {
    /// Bring what follows from the registry and the configuration in step with them: the
    /// page-leave listeners exist while a page leave would have something to send (armed
    /// calls, or manual ends waiting to retry), and every armed call that no `fetchLater`
    /// holds has a recovery guard (and no other call has one).
    fn sync_derived(&mut self) -> Result<(), Failure> {
        let recover = self.config.recover;
        let registry = &self.registry;
        let wanted = |call: &Armed| recover && call.deferred.is_none();
        self.guards.retain(|guard| {
            registry
                .armed_calls()
                .any(|call| call.id.as_str() == guard.id() && wanted(call))
        });
        for call in registry.armed_calls().filter(|call| wanted(call)) {
            match self
                .guards
                .iter_mut()
                .find(|guard| guard.id() == call.id.as_str())
            {
                Some(guard) => guard.follow(call),
                None => self.guards.extend(Guard::new(call)),
            }
        }
        if !self.registry.needs_page_leave() {
            self.beforeunload = None;
            return Ok(());
        }
        let window = web_sys::window().ok_or_else(no_window)?;
        let failed = |cause| {
            Failure::config("could not add page-leave listeners to window").with_cause(cause)
        };
        if self.pagehide.is_none() {
            self.pagehide = Some(lifecycle::page_hide(&window).map_err(failed)?);
        }
        match (self.config.before_unload, self.beforeunload.is_some()) {
            (true, false) => {
                self.beforeunload = Some(lifecycle::before_unload(&window).map_err(failed)?)
            }
            (false, true) => self.beforeunload = None,
            _ => {}
        }
        Ok(())
    }
}

fn no_window() -> Failure {
    Failure::config(
        "trackCall needs a browser page (window and its pagehide event); on the server, or in a worker, only endCall with an endToken is available",
    )
}

/// Replace the configuration (already validated as a whole).
pub fn configure(config: Config) -> Result<(), Failure> {
    with_state(|state| {
        let previous = core::mem::replace(&mut state.config, config);
        if let Err(failure) = state.sync_derived() {
            state.config = previous;
            let _ = state.sync_derived();
            return Err(failure);
        }
        Ok(())
    })
}

/// The configuration in force.
pub fn config() -> Result<Config, Failure> {
    with_state(|state| Ok(state.config.clone()))
}

/// Arm a call for page-leave sending; `base_url` overrides the configured one.
pub fn track(id: CallId, token: EndToken, base_url: Option<BaseUrl>) -> Result<(), Failure> {
    if web_sys::window().is_none() {
        return Err(no_window());
    }
    let (mut armed, use_deferred, warn) = with_state(|state| {
        if state.registry.is_ending(&id) {
            return Err(being_ended());
        }
        let warn = token.looks_like_api_key() && !state.warned_api_key;
        state.warned_api_key |= warn;
        let url = base_url
            .as_ref()
            .unwrap_or(&state.config.base_url)
            .end_url(&id);
        let armed = Armed {
            id: id.clone(),
            token,
            url,
            deferred: None,
        };
        Ok((armed, state.config.deferred, warn))
    })?;
    if warn {
        let _ = console_warn(
            "voice-end-call: the endToken looks like an account API key (vk_…). Never ship an API key to browsers: pass the call-scoped end_token from connection-details instead.",
        );
    }
    // Outside the borrow: fetchLater is a JS call like fetch.
    if use_deferred {
        armed.deferred = transport::arm_deferred(&armed);
    }
    let deferred = armed.deferred.clone();
    let registered = with_state(|state| {
        let (_, replaced) = state
            .registry
            .track(armed)
            .map_err(|BeingEnded| being_ended())?;
        if let Err(failure) = state.sync_derived() {
            // Undo: the previous tracking (if any) stays as it was.
            let _ = state.registry.disarm(&id);
            if let Some(previous) = replaced {
                let _ = state.registry.track(previous);
            }
            let _ = state.sync_derived(); // the guards follow the undo
            return Err(failure);
        }
        cancel_deferred(replaced.as_ref());
        Ok(())
    });
    if registered.is_err() {
        cancel_deferred_handle(deferred.as_ref());
    }
    registered
}

fn being_ended() -> Failure {
    Failure::config(
        "this call is being ended right now (endCall is in flight); wait for its promise before tracking it again",
    )
}

fn cancel_deferred(call: Option<&Armed>) {
    cancel_deferred_handle(call.and_then(|call| call.deferred.as_ref()));
}

fn cancel_deferred_handle(deferred: Option<&Deferred>) {
    if let Some(deferred) = deferred {
        deferred.cancel();
    }
}

/// Forget a call without sending (its deferred request is withdrawn). Whether it was tracked.
pub fn untrack(id: &CallId) -> Result<bool, Failure> {
    with_state(|state| {
        let armed = state.registry.disarm(id);
        cancel_deferred(armed.as_ref());
        // An end in flight for it must not re-arm it if it fails: the app says it is over.
        let was_ending = state.registry.forbid_rearm(id);
        let _ = state.sync_derived(); // only removes listeners here; cannot lose a call
        Ok(armed.is_some() || was_ending)
    })
}

/// The tracked ids.
pub fn tracked_ids() -> Result<Vec<String>, Failure> {
    with_state(|state| {
        Ok(state
            .registry
            .armed_ids()
            .map(|id| id.as_str().into())
            .collect())
    })
}

/// How a manual end names its token and URL when the caller overrides them.
pub struct EndOverrides {
    /// Token to use instead of the tracked one (required for untracked calls).
    pub token: Option<EndToken>,
    /// Base URL to use instead of the tracked/configured one.
    pub base_url: Option<BaseUrl>,
    /// Time limit instead of the configured one.
    pub timeout_ms: Option<u32>,
    /// Retry count instead of the configured one.
    pub retries: Option<u32>,
}

/// End a call now. Returns the in-flight promise if one exists for this id.
pub fn end(id: CallId, overrides: EndOverrides) -> Result<Promise, Failure> {
    end_via(id, overrides, Via::Manual)
}

/// Who asked for an end.
enum Via {
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
            Via::Recovered(entry) if config().is_ok_and(|config| config.outbox) => entry,
            _ => return,
        };
        if transport::is_retryable(failure) {
            outbox::put_back(core::slice::from_ref(entry));
        }
    }
}

/// [`end`], reporting a success to `onCallEnded` subscribers as `via`.
fn end_via(id: CallId, overrides: EndOverrides, via: Via) -> Result<Promise, Failure> {
    let (call, was_armed, timeout_ms, retries) = match with_state(|state| {
        if let Some(in_flight) = state.registry.ending(&id) {
            return Ok(Err(in_flight.clone()));
        }
        if state.registry.is_ending(&id) {
            // Only reachable re-entrantly, from an instrumented fetch issuing this very end.
            return Err(Failure::config(
                "endCall: this call's end is being issued right now; call again once it returns",
            ));
        }
        let armed = state.registry.disarm(&id);
        // Withdraw the deferred request before anything else: the manual end replaces it.
        cancel_deferred(armed.as_ref());
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
        let _ = state.sync_derived(); // only ever removes listeners here
        let timeout_ms = overrides.timeout_ms.unwrap_or(state.config.timeout_ms);
        let retries = overrides.retries.unwrap_or(state.config.retries);
        Ok(Ok((
            Armed {
                id: id.clone(),
                token,
                url,
                deferred: None,
            },
            was_armed,
            timeout_ms,
            retries,
        )))
    })? {
        Ok(started) => started,
        Err(in_flight) => return Ok(in_flight),
    };

    // Issue the first attempt synchronously (outside the borrow: fetch may be instrumented),
    // so an end requested just before the page goes away is on the wire already.
    let first = transport::Clock::start(timeout_ms)
        .and_then(|clock| transport::attempt(&call, &clock).map(|fetch| (clock, fetch)));
    let (clock, fetch) = match first {
        Ok(started) => started,
        Err(failure) => {
            settle(&call.id, was_armed.then_some(call.clone()));
            via.failed(&failure);
            return Err(failure);
        }
    };
    // The executor runs synchronously, so `start` is always taken; the first answer is
    // handled in a later microtask, after the in-flight handle below is recorded.
    let mut start = Some((call.clone(), clock, fetch, via));
    let promise = Promise::new(&mut |resolve, reject| {
        if let Some((call, clock, fetch, via)) = start.take() {
            let end = ManualEnd {
                call,
                clock,
                retries,
                retry: Cell::new(0),
                was_armed,
                via,
                resolve,
                reject,
            };
            await_attempt(Rc::new(end), fetch);
        }
    });
    with_state(|state| {
        state.registry.set_ending_handle(&call.id, promise.clone());
        Ok(())
    })?;
    Ok(promise)
}

/// A manual end between its steps: the first attempt's answer, then up to `retries` more
/// attempts of the same (idempotent) end while failures are retryable and the budget
/// allows. Between attempts the call is "waiting" in the registry, so a page leave
/// meanwhile sends it instead. Each step holds an `Rc` of it; the last one to finish drops
/// it, and with it the clock's timer.
struct ManualEnd {
    call: Armed,
    clock: transport::Clock,
    retries: u32,
    /// Retries issued so far.
    retry: Cell<u32>,
    was_armed: bool,
    via: Via,
    /// The `endCall` promise's functions.
    resolve: js_sys::Function,
    reject: js_sys::Function,
}

/// Wait for an attempt's answer (and body), then finish or retry.
fn await_attempt(end: Rc<ManualEnd>, fetch: Promise) {
    promise::when_settled(
        &fetch,
        Box::new(
            move |settled| match transport::answer(settled, &end.clock) {
                transport::Answer::Final(outcome) => finish(&end, outcome, false),
                transport::Answer::Retryable {
                    failure,
                    retry_after_ms,
                } => retry_later(end, failure, retry_after_ms),
                transport::Answer::Body { status, text } => promise::when_settled(
                    &text,
                    Box::new(move |text| {
                        let outcome = transport::body_answer(status, text, &end.clock);
                        finish(&end, outcome, false);
                    }),
                ),
            },
        ),
    );
}

/// After a retryable failure: wait and try again if retries and budget are left, else
/// finish with it.
fn retry_later(end: Rc<ManualEnd>, failure: Failure, retry_after_ms: Option<f64>) {
    let retry = end.retry.get();
    let attempts = retry + 1;
    let delay = if retry < end.retries {
        transport::retry_delay(
            retry,
            retry_after_ms,
            end.clock.remaining_ms(),
            js_sys::Math::random(),
        )
    } else {
        None
    };
    // Listeners follow: a page leave during the wait must find the call.
    let paused = delay.is_some()
        && with_state(|state| {
            let paused = state.registry.pause_ending(end.call.clone());
            let _ = state.sync_derived();
            Ok(paused)
        })
        .unwrap_or(false);
    let delay = match delay {
        Some(delay) if paused => delay,
        // Untracked while the attempt was in flight: handed over.
        Some(_) => return finish(&end, Err(tried(failure, attempts)), true),
        None => return finish(&end, Err(tried(failure, attempts)), false),
    };
    timer::after(
        delay,
        Box::new(move |slept| {
            let resumed = with_state(|state| {
                let resumed = state.registry.resume_ending(&end.call.id);
                let _ = state.sync_derived();
                Ok(resumed)
            });
            if !matches!(resumed, Ok(true)) {
                // A page leave sent it meanwhile, or the app untracked it.
                return finish(&end, Err(tried(failure, attempts)), true);
            }
            if !slept {
                return finish(&end, Err(tried(failure, attempts)), false);
            }
            end.retry.set(attempts);
            match transport::attempt(&end.call, &end.clock) {
                Ok(fetch) => await_attempt(end, fetch),
                Err(next) => finish(&end, Err(tried(next, attempts + 1)), false),
            }
        }),
    );
}

/// Settle a manual end: re-arm the call if the end may not have reached the API (unless it
/// was handed over: a page leave sent it, or the app untracked it), report a success, put a
/// failed outbox entry back, and settle the `endCall` promise.
fn finish(end: &ManualEnd, outcome: Result<JsValue, Failure>, handed_over: bool) {
    let rearm = match &outcome {
        Err(failure) if end.was_armed && !handed_over && transport::is_retryable(failure) => {
            Some(end.call.clone())
        }
        _ => None,
    };
    let outcome = match outcome {
        Err(mut failure) if rearm.is_some() => {
            failure
                .message
                .push_str(" The call stays tracked, so leaving the page still ends it.");
            Err(failure)
        }
        other => other,
    };
    settle(&end.call.id, rearm);
    let _ = match outcome {
        Ok(response) => {
            emit_ended(end.call.id.as_str(), end.via.as_str(), &response);
            end.resolve.call1(&JsValue::NULL, &response)
        }
        Err(failure) => {
            if !handed_over {
                end.via.failed(&failure);
            }
            end.reject.call1(&JsValue::NULL, &failure.into_js())
        }
    };
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

fn settle(id: &CallId, rearm: Option<Armed>) {
    // A re-armed call gets a fresh deferred request, armed outside the borrow.
    let rearm = rearm.map(|mut call| {
        if config().map(|config| config.deferred).unwrap_or(false) {
            call.deferred = transport::arm_deferred(&call);
        }
        call
    });
    let _ = with_state(|state| {
        let deferred = rearm.as_ref().and_then(|call| call.deferred.clone());
        if !state.registry.finish_ending(id, rearm) {
            cancel_deferred_handle(deferred.as_ref());
        }
        state.sync_derived()
    });
}

/// Which page-leave moment is being handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leave {
    /// `beforeunload` that nobody cancelled: the leave is very likely but not certain.
    BeforeUnload,
    /// `pagehide` of a document being unloaded (close, navigation, reload).
    Unload,
    /// `pagehide` with `persisted`: the page enters the back/forward cache. A voice call
    /// cannot go on there, so it is ended now.
    BackForwardCache,
}

/// The page is being left: end every armed call once, synchronously, and forget it.
///
/// A call with an armed deferred request is left to the browser on unload (it sends that
/// request when the document is destroyed, which works even where our fetch would be cut off);
/// on `beforeunload` it stays armed for `pagehide`; on entering the back/forward cache (where
/// the document is not destroyed) the deferred request is withdrawn and we send now.
/// Manual ends waiting between retry attempts are taken over and sent now too.
/// Offline, or when `fetch` throws, the ends go to the outbox instead (`beforeunload` then
/// leaves everything to `pagehide`, so nothing is stored twice).
/// Never throws; a call that can be neither sent nor stored is lost to this page (the
/// server's timeout is the backstop).
pub fn send_all_on_leave(leave: Leave) {
    let offline = is_offline();
    if offline && leave == Leave::BeforeUnload {
        return;
    }
    let (calls, use_outbox, relay_url) = match with_state(|state| {
        if leave != Leave::BeforeUnload {
            state.leaves = state.leaves.wrapping_add(1);
        }
        let mut calls = match leave {
            Leave::BeforeUnload => state
                .registry
                .drain_armed_where(|call| call.deferred.is_none()),
            Leave::Unload | Leave::BackForwardCache => state.registry.drain_armed(),
        };
        calls.extend(state.registry.take_waiting());
        let _ = state.sync_derived();
        Ok((calls, state.config.outbox, state.config.relay_url.clone()))
    }) {
        Ok(taken) => taken,
        Err(_) => return,
    };
    // To the relay when there is one (a beacon survives a Firefox quit, a fetch does not);
    // a beacon the browser refuses falls back to the fetch.
    let deliver = |call: &Armed| {
        !offline
            && (relay_url
                .as_ref()
                .is_some_and(|relay| transport::send_beacon_to_relay(relay.as_stored(), call))
                || transport::send_and_forget(call))
    };
    let mut sent = Vec::with_capacity(calls.len());
    let mut unsent = Vec::new();
    for call in calls {
        let delivered = match (&call.deferred, leave) {
            // The browser sends it as the document goes (offline it could not: store it).
            (Some(_), Leave::Unload) if !offline => true,
            (Some(deferred), _) => {
                let already_sent = deferred.activated();
                deferred.cancel();
                already_sent || deliver(&call)
            }
            (None, _) => deliver(&call),
        };
        if delivered {
            sent.push(call);
        } else {
            unsent.push(call);
        }
    }
    let stored = unsent.is_empty() || (use_outbox && outbox::save(&unsent));
    if !stored && offline {
        // Not stored (outbox off, storage unavailable or full): try anyway, nothing to lose.
        for call in &unsent {
            transport::send_and_forget(call);
        }
    }
    match leave {
        // The page may stay after all (a download link, a 204): tell the app now.
        Leave::BeforeUnload => {
            for call in &sent {
                emit_ended(call.id.as_str(), "beforeunload", &JsValue::UNDEFINED);
            }
        }
        // Reported if the page comes back from the cache (stored ends are sent then).
        Leave::BackForwardCache if !sent.is_empty() || !unsent.is_empty() => {
            let _ = with_state(|state| {
                state
                    .ended_while_cached
                    .extend(sent.iter().map(|call| String::from(call.id.as_str())));
                if state.pageshow.is_none() {
                    if let Some(window) = web_sys::window() {
                        state.pageshow = EventListener::new(&window, "pageshow", on_page_show).ok();
                    }
                }
                Ok(())
            });
        }
        // The document is being destroyed: nobody is left to tell.
        Leave::BackForwardCache | Leave::Unload => {}
    }
}

/// `navigator.onLine === false`: the browser knows it has no network (`true` proves nothing).
fn is_offline() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &"onLine".into()))
        .map(|online| online.as_bool() == Some(false))
        .unwrap_or(false)
}

/// Send the ends stored in the outbox by earlier pages of this origin (normal fetch, with
/// retries, with the configuration in force). Each entry is deleted on a definitive answer
/// (2xx, or a 4xx other than 429: the call is gone) and put back otherwise; entries older
/// than `outboxTtlMs` are dropped. Successes are reported to `onCallEnded` with
/// `via: 'outbox'`. Returns how many ends were started. Never throws.
pub fn replay_outbox() -> u32 {
    let Ok(config) = config() else {
        return 0;
    };
    let mut started = 0;
    for entry in outbox::take(js_sys::Date::now(), config.outbox_ttl_ms) {
        // A synchronous failure has already put the entry back when worth it.
        if end_stored(entry, Via::Outbox) {
            started += 1;
        }
    }
    started
}

/// What `init()` starts, one task after the module loaded (so a `configure` right after
/// `await init()` applies): the `pagehide` listener (early, see `lifecycle`), the outbox
/// replay and the orphan watch. Idempotent, never throws. Returns how many outbox ends were
/// started.
pub fn start() -> u32 {
    let _ = with_state(|state| {
        if state.pagehide.is_none() {
            if let Some(window) = web_sys::window() {
                state.pagehide = lifecycle::page_hide(&window).ok();
            }
        }
        Ok(())
    });
    let replayed = replay_outbox();
    ON_ORPHAN.with(|on_orphan| orphans::watch(on_orphan.as_ref()));
    replayed
}

page_global! {
    static ON_ORPHAN: Closure<dyn FnMut(String, String)> = Closure::new(recover_orphan);
}

/// Another page of this origin died with `call_id` tracked and unsent (its lock was let go
/// with the record still there), and this page holds that lock now: end the call, unless this
/// page tracks it itself or recovery is off (then the record is left). The record is deleted
/// before the end is sent, so no later page sends it again.
fn recover_orphan(call_id: String, record: String) {
    let Ok(config) = config() else {
        return;
    };
    if !config.recover {
        return;
    }
    let entry = orphans::parse_record(&record).filter(|entry| entry.id.as_str() == call_id);
    let tracked_here = entry.as_ref().is_some_and(|entry| {
        with_state(|state| {
            Ok(state.registry.is_armed(&entry.id) || state.registry.is_ending(&entry.id))
        })
        .unwrap_or(true)
    });
    if tracked_here {
        return;
    }
    orphans::forget(&call_id);
    let Some(entry) = entry
        .filter(|entry| outbox::is_fresh(entry.time, js_sys::Date::now(), config.outbox_ttl_ms))
    else {
        return; // invalid or expired: deleted, not sent
    };
    end_stored(entry, Via::Recovered);
}

/// End a stored call (an outbox entry, a recovery record) with its own token and base URL,
/// nobody awaiting the result. Whether the end started.
fn end_stored(entry: outbox::Entry, via: fn(outbox::Entry) -> Via) -> bool {
    let overrides = EndOverrides {
        token: Some(entry.token.clone()),
        base_url: Some(entry.base_url.clone()),
        timeout_ms: None,
        retries: None,
    };
    match end_via(entry.id.clone(), overrides, via(entry)) {
        Ok(promise) => {
            transport::ignore_rejection(&promise);
            true
        }
        Err(_) => false,
    }
}

fn on_page_show(event: web_sys::Event) {
    let persisted = js_sys::Reflect::get(&event, &"persisted".into())
        .map(|value| value.as_bool() == Some(true))
        .unwrap_or(false);
    if !persisted {
        return;
    }
    let ended = with_state(|state| {
        state.pageshow = None;
        Ok(core::mem::take(&mut state.ended_while_cached))
    })
    .unwrap_or_default();
    for id in &ended {
        emit_ended(id, "pagehide", &JsValue::UNDEFINED);
    }
    // Ends stored while offline as the page entered the cache: back now, send them.
    replay_outbox();
}

/// Subscribe to ended calls; returns the unsubscribe function.
pub fn on_ended(listener: js_sys::Function) -> Result<JsValue, Failure> {
    with_state(|state| {
        state.ended_listeners.push(listener.clone());
        Ok(())
    })?;
    // FnMut, not once: calling unsubscribe twice is harmless, as `() => void` promises.
    let unsubscribe = Closure::<dyn FnMut()>::new(move || {
        let _ = with_state(|state| {
            if let Some(at) = state.ended_listeners.iter().position(|l| l == &listener) {
                state.ended_listeners.remove(at);
            }
            Ok(())
        });
    });
    Ok(unsubscribe.into_js_value())
}

/// Tell every `onCallEnded` subscriber, outside the state borrow. A throwing subscriber is
/// logged and does not stop the others (nor escapes into a page-lifecycle handler).
fn emit_ended(call_id: &str, via: &str, response: &JsValue) {
    let listeners = match with_state(|state| Ok(state.ended_listeners.clone())) {
        Ok(listeners) if !listeners.is_empty() => listeners,
        _ => return,
    };
    let event = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&event, &"callId".into(), &call_id.into());
    let _ = js_sys::Reflect::set(&event, &"via".into(), &via.into());
    if !response.is_undefined() {
        let _ = js_sys::Reflect::set(&event, &"response".into(), response);
    }
    for listener in &listeners {
        if let Err(error) = listener.call1(&JsValue::NULL, &event) {
            let _ = console_error("voice-end-call: an onCallEnded listener threw", &error);
        }
    }
}
