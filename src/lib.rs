//! # voice-end-call
//!
//! Ends a Voice AI call exactly once: when the app calls `endCall`, or when the page is
//! closed, reloaded or navigated away (`pagehide`, and `beforeunload` when the leave is not
//! cancelled), with `fetch(..., {keepalive: true})` to `POST /api/v1/calls/{call_id}/end`.
//!
//! Module map, one concern each:
//! - [`endpoint`]: base URL, call id and token validation; the end URL.
//! - [`options`]: `configure()` options and reading untrusted JS input.
//! - `orphans`: ending the calls of pages that died without sending (Web Locks).
//! - [`outbox`]: ends that could not be sent on a page leave, kept for the next `init()`.
//! - [`registry`]: the per-call exactly-once state machine.
//! - [`transport`]: the one request path (keepalive fetch) and reading answers.
//! - [`response`]: `EndCallResponse` validation and status messages.
//! - [`promise`], [`timer`]: continuing after a promise or a delay, without an executor.
//! - [`lifecycle`]: page-leave listeners that remove themselves on drop.
//! - [`tracker`]: the page's state tying the above together.
//! - [`api`]: the functions exported to JavaScript.
//! - [`error`]: typed failures and the JS `EndCallError`.
//! - [`global`]: the page-global cells the state lives in.
//!
//! The crate is `no_std` (+ `alloc`); the default `std` feature is for tests. Without it
//! (the shipped build) the crate brings its own panic handler, see `Cargo.toml`.

#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod api;
pub mod endpoint;
pub mod error;
pub mod global;
pub mod lifecycle;
pub mod options;
mod orphans;
pub mod outbox;
pub mod promise;
pub mod registry;
pub mod response;
pub mod timer;
pub mod tracker;
pub mod transport;

// The default allocator (dlmalloc) is the largest single item in the module; this one is a
// simple free list, fast enough for the few small allocations a call needs. Locked rather
// than `AssumeSingleThreaded` so that no `unsafe` is needed.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

// Without std, a panic handler must come from somewhere; a trap is all a bug could do in a
// wasm instance anyway (panic = "abort"). None is reachable: see the clippy lints.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn on_panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
