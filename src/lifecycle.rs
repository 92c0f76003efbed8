//! Page-leave listeners, all in the capture phase. `pagehide` is added once, at `init()` (or
//! at the first `trackCall`, if that comes first) and stays: it costs nothing, and a listener
//! added early runs before the host app's, whose `stopImmediatePropagation()` then cannot
//! starve it (Chromium runs a window's listeners in the order they were added, capture or not;
//! Firefox runs capture listeners first). `beforeunload` exists only while a call is tracked:
//! the page state owns its [`EventListener`] then, and dropping it removes the listener (a
//! registered `beforeunload` listener costs Firefox its back/forward cache). The handlers
//! call back into the page through plain function pointers, so this module depends on no
//! state.
//!
//! - `pagehide` (close, navigation, reload, entering the back/forward cache): send every
//!   tracked call, synchronously, inside the handler.
//! - `beforeunload`: fires earlier than `pagehide`, which Firefox needs to deliver a tab
//!   close reliably, but the leave can still be cancelled ("Leave page?" → Stay). So the
//!   handler sends nothing itself: it waits until the event has been dispatched to every
//!   listener (a host listener registered after ours may still cancel it), then sends only
//!   if nobody cancelled. A cancelled leave therefore never ends the call; if the user
//!   confirms the leave, `pagehide` sends.
//! - Never `unload` (deprecated, blocks bfcache), never `visibilitychange` or `freeze`
//!   (switching tabs mid-call is normal).

use alloc::boxed::Box;

use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

use crate::policy::Leave;
use crate::timer;

/// An event listener (capture phase) that removes itself when dropped (the pattern of
/// gloo-events).
#[must_use = "dropping an EventListener removes it"]
pub(crate) struct EventListener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(JsValue)>,
}

impl EventListener {
    /// Add `handler` for `kind` on `target`.
    pub(crate) fn new(
        target: &EventTarget,
        kind: &'static str,
        handler: impl FnMut(JsValue) + 'static,
    ) -> Result<EventListener, JsValue> {
        // `dyn FnMut(JsValue)`, like every other callback of the crate: one signature, one
        // copy of the closure glue.
        let callback = Closure::<dyn FnMut(JsValue)>::new(handler);
        let failed = listen(target, kind, callback.as_ref(), true);
        if !failed.is_undefined() {
            return Err(failed);
        }
        Ok(EventListener {
            target: target.clone(),
            kind,
            callback,
        })
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        listen(&self.target, self.kind, self.callback.as_ref(), false);
    }
}

impl core::fmt::Debug for EventListener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EventListener")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The `pagehide` listener: `on_leave` is called synchronously in the handler.
pub(crate) fn page_hide(
    window: &EventTarget,
    on_leave: fn(Leave),
) -> Result<EventListener, JsValue> {
    EventListener::new(window, "pagehide", move |event| {
        on_leave(if is_persisted(&event) {
            Leave::BackForwardCache
        } else {
            Leave::Unload
        });
    })
}

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    /// Add (`add`) or remove a capture-phase listener: undefined, or what `addEventListener`
    /// threw.
    fn listen(target: &EventTarget, kind: &str, listener: &JsValue, add: bool) -> JsValue;

    /// Whether a `pagehide`/`pageshow` event is about the back/forward cache.
    #[wasm_bindgen(js_name = persisted)]
    pub(crate) fn is_persisted(event: &JsValue) -> bool;

    /// Whether a `beforeunload` listener asked the browser to confirm the leave: by
    /// `preventDefault()`, by setting `returnValue` to a non-empty string (or returning one
    /// from `onbeforeunload`), or by the legacy `event.returnValue = false`.
    #[wasm_bindgen(js_name = cancelled)]
    fn is_cancelled(event: &JsValue) -> bool;
}

/// What the `beforeunload` listener needs from the page: the count of leaves so far (read when
/// the event fires), and what to do once the event has reached every listener uncancelled
/// (given that count, to tell whether a `pagehide` came in between).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BeforeUnload {
    /// The current leave generation.
    pub generation: fn() -> u32,
    /// Send, if the generation is still the one given.
    pub uncancelled: fn(u32),
}

/// The `beforeunload` listener, while calls are tracked and the option is on.
pub(crate) fn before_unload(
    window: &EventTarget,
    hooks: BeforeUnload,
) -> Result<EventListener, JsValue> {
    EventListener::new(window, "beforeunload", move |event| {
        if is_cancelled(&event) {
            return;
        }
        // A failure to schedule leaves the sending to `pagehide`. The generation guards against
        // a check that only runs after a back/forward-cache round trip.
        let generation = (hooks.generation)();
        timer::after(
            0,
            Box::new(move |fired| {
                if fired && !is_cancelled(&event) {
                    (hooks.uncancelled)(generation);
                }
            }),
        );
    })
}
