//! The call state of this page — configuration, the registry — and what follows from it: the
//! page-leave listeners and the orphan-recovery guards, brought in step by
//! [`State::sync_derived`] after every [`update`], in this one place. Also the page-leave
//! shell: what `pagehide`/`beforeunload` do, as `policy` decides.
//!
//! All state is in one page-global `RefCell`. Every access uses `try_borrow_mut`; the only JS
//! called while it is borrowed is `add/removeEventListener`, `AbortController.abort`, Web
//! Lock requests, `localStorage` writes, handing `js/beacon.js` the unload's relay beacons and,
//! in [`configure`], reading the option values `readOptions` already took from the app's
//! object (type checks and `location.origin`), with errors caught, and a re-entrant call (an instrumented `fetch`, an `abort` listener)
//! gets a typed error instead of a panic. `fetch`, `fetchLater`, `sendBeacon`, console and
//! app listeners run outside the borrow.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::endpoint::{BaseUrl, CallId, EndToken};
use crate::error::Failure;
use crate::events;
use crate::global::page_global;
use crate::lifecycle::{self, EventListener};
use crate::options::{self, Config};
use crate::orphans;
use crate::outbox;
use crate::policy::{self, Held, Leave, LeaveAction};
use crate::registry::{BeingEnded, Registry};
use crate::transport::{self, Beacon, Call, Deferred};

/// Settles a manual end that waits between attempts at once (the wait is cancelled): a page
/// leave sent the call instead, or the app untracked it.
pub(crate) trait Interrupt {
    /// Stop waiting and settle the end's promise now.
    fn interrupt(&self);
}

/// The handle of an in-flight manual end, kept in the registry.
#[derive(Clone)]
pub(crate) struct EndHandle {
    /// The `endCall` promise, shared with a second `endCall` of the same id.
    pub promise: Promise,
    /// The end itself, to settle it early.
    pub end: Rc<dyn Interrupt>,
}

impl core::fmt::Debug for EndHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EndHandle")
    }
}

/// The page's call state.
#[derive(Default)]
pub(crate) struct State {
    /// The configuration in force.
    pub config: Config,
    /// Armed calls and ends in flight.
    pub registry: Registry<Deferred, EndHandle>,
    /// Added once and kept (see `lifecycle`).
    pagehide: Option<EventListener>,
    /// Exists while a page leave would have something to send and the option is on.
    beforeunload: Option<EventListener>,
    /// Whether the API-key warning was given.
    pub warned_api_key: bool,
    /// Counts `pagehide`s. A `beforeunload` check scheduled before one of them is stale: the
    /// page was left (or cached and restored) since, and its calls are not that leave's.
    leaves: u32,
}

page_global! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn borrow<R>(f: impl FnOnce(&mut State) -> Result<R, Failure>) -> Result<R, Failure> {
    STATE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut state) => f(&mut state),
        Err(_) => Err(Failure::config(
            "voice-end-call was called re-entrantly from inside its own request; call it again later",
        )),
    })
}

/// Read the state.
pub(crate) fn read<R>(f: impl FnOnce(&State) -> Result<R, Failure>) -> Result<R, Failure> {
    borrow(|state| f(state))
}

/// Change the state; what follows from it is brought in step afterwards (listeners, guards).
/// A listener that cannot be added leaves it out (see [`State::sync_derived`]); callers that
/// must fail then check inside `f` with `sync_derived` themselves.
pub(crate) fn update<R>(f: impl FnOnce(&mut State) -> Result<R, Failure>) -> Result<R, Failure> {
    borrow(|state| {
        let result = f(state);
        let _ = state.sync_derived();
        result
    })
}

impl State {
    /// Bring what follows from the registry and the configuration in step with them: the
    /// `beforeunload` listener exists while a page leave would have something to send (armed
    /// calls, or manual ends waiting to retry) and the option is on; `pagehide` once anything
    /// was tracked (if `init()` did not add it); every armed call that no `fetchLater` holds
    /// has a recovery guard, and no other call has one.
    pub(crate) fn sync_derived(&mut self) -> Result<(), Failure> {
        // Every armed call that no `fetchLater` holds: recorded for recovery while `recover`
        // is on, and what an unload sends to the relay first while one is set (`js/beacon.js`
        // builds the bodies now, ahead of the leave).
        let unheld = js_sys::Array::new();
        for call in self.registry.armed_calls() {
            if call.deferred.is_none() {
                unheld.push(&orphans::guarded(call));
            }
        }
        let none = js_sys::Array::new();
        orphans::guard_exactly(if self.config.recover { &unheld } else { &none });
        let relay_url = self.config.relay_url.as_ref().map(BaseUrl::as_stored);
        transport::publish_unload_beacons(
            relay_url,
            if relay_url.is_some() { &unheld } else { &none },
            self.config.recover,
        );
        if !self.registry.needs_page_leave() {
            self.beforeunload = None;
            return Ok(());
        }
        self.add_page_hide()?;
        match (self.config.before_unload, self.beforeunload.is_some()) {
            (true, false) => {
                self.beforeunload =
                    Some(lifecycle::before_unload(&window()?, BEFORE_UNLOAD).map_err(not_added)?)
            }
            (false, true) => self.beforeunload = None,
            _ => {}
        }
        Ok(())
    }

    fn add_page_hide(&mut self) -> Result<(), Failure> {
        if self.pagehide.is_none() {
            // Before ours: it sends the unload's relay beacons first (see `js/beacon.js`).
            transport::listen_for_unload();
            self.pagehide = Some(lifecycle::page_hide(&window()?, on_leave).map_err(not_added)?);
        }
        Ok(())
    }
}

const BEFORE_UNLOAD: lifecycle::BeforeUnload = lifecycle::BeforeUnload {
    generation: leave_generation,
    uncancelled: on_before_unload,
};

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    /// The page's `window`, where there is one (not in Node or workers).
    #[wasm_bindgen(js_name = pageWindow)]
    pub(crate) fn page_window() -> Option<web_sys::EventTarget>;
}

fn window() -> Result<web_sys::EventTarget, Failure> {
    page_window().ok_or_else(no_window)
}

fn not_added(cause: JsValue) -> Failure {
    Failure::config("could not add page-leave listeners to window").with_cause(cause)
}

fn no_window() -> Failure {
    Failure::config(
        "trackCall needs a browser page (window and its pagehide event); on the server, or in a worker, only endCall with an endToken is available",
    )
}

/// Add the `pagehide` listener now, before the app adds its own (see `lifecycle`). Where
/// there is no window (Node, workers) there is nothing to listen to.
pub(crate) fn add_page_hide() {
    if page_window().is_some() {
        let _ = update(|state| state.add_page_hide());
    }
}

/// Apply `configure()`'s options as read (`options::apply`, on top of the configuration in
/// force; it calls no app code); if they are invalid, or their listeners cannot be added, the
/// previous configuration stays.
pub(crate) fn configure(read: &js_sys::Array) -> Result<(), JsValue> {
    let mut outcome = Ok(());
    update(|state| {
        outcome = options::apply(&state.config, read).and_then(|next| {
            let previous = core::mem::replace(&mut state.config, next);
            state.sync_derived().map_err(|failure| {
                state.config = previous;
                failure.into()
            })
        });
        Ok(())
    })?;
    outcome
}

/// Whether the configuration in force says so (`option`: `|config| config.outbox`, ...);
/// false only if the state is borrowed (a re-entrant call).
pub(crate) fn config_says(option: fn(&Config) -> bool) -> bool {
    read(|state| Ok(option(&state.config))).unwrap_or(false)
}

/// `outboxTtlMs` in force (0 only if the state is borrowed: a re-entrant call).
pub(crate) fn outbox_ttl_ms() -> f64 {
    read(|state| Ok(state.config.outbox_ttl_ms)).unwrap_or(0.0)
}

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    /// `console.warn`, never throwing (a host page may make console methods throw).
    #[wasm_bindgen(js_name = warn)]
    fn console_warn(message: &str);
}

/// Arm a call for page-leave sending; `base_url` overrides the configured one.
pub(crate) fn track(id: CallId, token: EndToken, base_url: Option<BaseUrl>) -> Result<(), Failure> {
    window()?;
    catch_up_with_unload();
    let (mut call, use_deferred, warn) = update(|state| {
        if state.registry.is_ending(&id) {
            return Err(being_ended());
        }
        let warn = token.looks_like_api_key() && !state.warned_api_key;
        state.warned_api_key |= warn;
        let url = base_url
            .as_ref()
            .unwrap_or(&state.config.base_url)
            .end_url(&id);
        let call = Call {
            id: id.clone(),
            token,
            url,
            deferred: None,
        };
        Ok((call, state.config.deferred, warn))
    })?;
    if warn {
        console_warn(
            "voice-end-call: the endToken looks like an account API key (vk_…). Never ship an API key to browsers: pass the call-scoped end_token from connection-details instead.",
        );
    }
    // Outside the borrow: fetchLater is a JS call like fetch.
    if use_deferred {
        call.deferred = transport::arm_deferred(&call);
    }
    let deferred = call.deferred.clone();
    let replaced = update(|state| {
        let replaced = state
            .registry
            .track(call)
            .map_err(|BeingEnded| being_ended())?;
        if let Err(failure) = state.sync_derived() {
            // Undo: the previous tracking (if any) stays as it was.
            let _ = state.registry.disarm(&id);
            if let Some(previous) = replaced {
                let _ = state.registry.track(previous);
            }
            return Err(failure);
        }
        Ok(replaced)
    });
    match replaced {
        Ok(replaced) => {
            cancel_deferred(replaced.as_ref().and_then(|call| call.deferred.as_ref()));
            Ok(())
        }
        Err(failure) => {
            cancel_deferred(deferred.as_ref());
            Err(failure)
        }
    }
}

pub(crate) fn being_ended() -> Failure {
    Failure::config(
        "this call is being ended right now (endCall is in flight); wait for its promise before tracking it again",
    )
}

/// Withdraw a browser-held request.
pub(crate) fn cancel_deferred(deferred: Option<&Deferred>) {
    if let Some(deferred) = deferred {
        deferred.cancel();
    }
}

/// Forget a call without sending (its deferred request is withdrawn; an end of it waiting to
/// retry is settled now and never retried). Whether it was tracked.
pub(crate) fn untrack(id: &CallId) -> Result<bool, Failure> {
    catch_up_with_unload();
    let (was_armed, ending) = update(|state| {
        let armed = state.registry.disarm(id);
        cancel_deferred(armed.as_ref().and_then(|call| call.deferred.as_ref()));
        // An end in flight for it must not re-arm it if it fails: the app says it is over.
        Ok((armed.is_some(), state.registry.forbid_rearm(id)))
    })?;
    if let Some(Some(waiting)) = &ending {
        waiting.end.interrupt();
    }
    Ok(was_armed || ending.is_some())
}

/// The tracked ids.
pub(crate) fn tracked_ids() -> Result<js_sys::Array, Failure> {
    catch_up_with_unload();
    read(|state| {
        let ids = js_sys::Array::new();
        for id in state.registry.armed_ids() {
            ids.push(&id.as_str().into());
        }
        Ok(ids)
    })
}

/// Whether `id` is armed or being ended here.
pub(crate) fn is_tracked_here(id: &CallId) -> bool {
    read(|state| Ok(state.registry.is_armed(id) || state.registry.is_ending(id))).unwrap_or(true)
}

fn leave_generation() -> u32 {
    read(|state| Ok(state.leaves)).unwrap_or(0)
}

/// `beforeunload`'s deferred send: only if no `pagehide` happened since it was scheduled.
fn on_before_unload(generation: u32) {
    if leave_generation() == generation {
        on_leave(Leave::BeforeUnload);
    }
}

/// The page is being left: end every call the leave takes once, synchronously, as
/// `policy::leave_action` says, and forget it. Manual ends waiting between retry attempts are
/// taken over (sent now, their promises settled now). Offline, or when nothing can be sent,
/// the ends go to the outbox instead. Never throws; a call that can be neither sent nor stored
/// is lost to this page (the server's timeout is the backstop).
fn on_leave(leave: Leave) {
    // The relay beacons `js/beacon.js`'s listener sent, first thing in this `pagehide`.
    if leave == Leave::Unload {
        transport::take_unload_beacons();
    }
    leave_with(leave);
}

/// Catch up with an unload that `js/beacon.js` began: when its listener has sent beacons and
/// an app's `pagehide` listener calls the library before the library's own listener runs,
/// the leave is taken first, so those calls are not ended or tracked as if still armed.
/// Called by every entry point that reads or changes the tracked calls.
pub(crate) fn catch_up_with_unload() {
    if transport::take_unload_beacons() {
        leave_with(Leave::Unload);
    }
}

fn leave_with(leave: Leave) {
    let offline = is_offline();
    if !policy::leave_acts(leave, offline) {
        return;
    }
    let Ok((calls, waiting, use_outbox, relay)) = update(|state| {
        if leave != Leave::BeforeUnload {
            state.leaves = state.leaves.wrapping_add(1);
        }
        let mut calls = state
            .registry
            .drain_armed_where(|call| policy::leave_takes(leave, call.deferred.is_some()));
        let mut waiting = Vec::new();
        state.registry.take_waiting_each(|call, handle| {
            calls.push(call);
            if let Some(handle) = handle {
                waiting.push(handle);
            }
        });
        Ok((
            calls,
            waiting,
            state.config.outbox,
            state.config.relay_url.clone(),
        ))
    }) else {
        return;
    };
    // The ids of the calls sent (for `onCallEnded`), and the calls that were not.
    let sent = js_sys::Array::new();
    let mut unsent = Vec::new();
    for call in &calls {
        let held = match &call.deferred {
            None => Held::No,
            Some(deferred) if deferred.activated() => Held::Sent,
            Some(_) => Held::Armed,
        };
        let action = policy::leave_action(leave, held, offline);
        if policy::withdraws_held(action) {
            cancel_deferred(call.deferred.as_ref());
        }
        let delivered = match action {
            LeaveAction::LeaveToBrowser | LeaveAction::AlreadySent => true,
            LeaveAction::Send => match leave {
                Leave::Unload => match transport::unload_beacon(call.id.as_str()) {
                    Beacon::Queued => true,
                    Beacon::Refused => transport::send_and_forget(call),
                    Beacon::None => send_on_leave(call, relay.as_ref()),
                },
                _ => send_on_leave(call, relay.as_ref()),
            },
            LeaveAction::Store => false,
        };
        if delivered {
            sent.push(&call.id.as_str().into());
        } else {
            unsent.push(call);
        }
    }
    let stored = unsent.is_empty() || (use_outbox && outbox::save(&unsent));
    if !stored && offline {
        // Not stored (outbox off, storage unavailable or full): try anyway, nothing to lose.
        for &call in &unsent {
            transport::send_and_forget(call);
        }
    }
    for handle in &waiting {
        handle.end.interrupt();
    }
    match leave {
        // The page may stay after all (a download link, a 204): tell the app now.
        Leave::BeforeUnload => events::ended_on_leave(false, &sent),
        // Reported if the page comes back from the cache (stored ends are sent then).
        Leave::BackForwardCache => events::ended_on_leave(true, &sent),
        // The document is being destroyed: nobody is left to tell.
        Leave::Unload => {}
    }
}

/// To the relay when there is one (a beacon survives a Firefox quit, a fetch does not); a
/// beacon the browser refuses falls back to the fetch. Whether the browser took it.
fn send_on_leave(call: &Call, relay: Option<&BaseUrl>) -> bool {
    relay.is_some_and(|relay| {
        transport::beacon_to_relay(relay.as_stored(), &transport::relay_body(call))
    }) || transport::send_and_forget(call)
}

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    /// `navigator.onLine === false`: the browser knows it has no network (`true` proves
    /// nothing).
    #[wasm_bindgen(js_name = offline)]
    fn is_offline() -> bool;
}
