//! # voice-end-call
//!
//! Ends a Voice AI call exactly once: when the app calls `endCall`, or when the page is
//! closed, reloaded or navigated away (`pagehide`, and `beforeunload` when the leave is not
//! cancelled), with `fetch(..., {keepalive: true})` to `POST /api/v1/calls/{call_id}/end`.
//!
//! Module map, one concern each, from the decisions up to the JS surface (no module imports
//! one above it):
//! - `endpoint`, `policy`, `registry`, `response`: plain Rust, host-tested — validation and
//!   the end URL; the page-leave and retry decisions; the per-call exactly-once state machine;
//!   what to say about an HTTP status.
//! - `error`, `options`: typed failures; `configure()` options and untrusted JS input.
//! - `transport`, `outbox`, `orphans`, `lifecycle`, `promise`, `timer`, `callback`, `events`,
//!   `global`: the IO — requests, storage, Web Locks, listeners, continuations, JS callbacks,
//!   `onCallEnded`.
//! - `page`: the call state and what follows from it (listeners, recovery guards); the
//!   page-leave shell.
//! - `manual_end`: `endCall` and its retries; `startup`: what `init()` starts, and the ends
//!   of stored calls.
//! - [`api`]: the functions exported to JavaScript.
//!
//! The IO itself is a thin JS shell the wasm imports (`js/beacon.js`: requests, beacons, what
//! a leave says, reading an answer and its `EndCallResponse`; `js/locks.js`: storage, locks,
//! records; `js/errors.js`: the error class, the walk over the caller's objects, the
//! `onCallEnded` subscribers). It is told what to do and reports back; every decision, and
//! every check of the caller's input and of what storage hands back, is here. The API's
//! answer is read in JS (parsing and checking JSON there is a fraction of the wasm's bytes):
//! `transport::answer` gets its class, and decides from it. The shell never throws into the
//! wasm: what may throw comes back as a value (`promise::pair`), so no JS exception unwinds
//! through wasm frames.
//!
//! The crate is `no_std` (+ `alloc`); the default `std` feature is for tests. Without it
//! (the shipped build) the crate brings its own panic handler, see `Cargo.toml`.

#![cfg_attr(not(test), no_std)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod api;
mod callback;
mod endpoint;
mod error;
mod events;
mod global;
mod lifecycle;
mod manual_end;
mod options;
mod orphans;
mod outbox;
mod page;
mod policy;
mod promise;
mod registry;
mod response;
mod startup;
mod timer;
mod transport;

// The host tests of the plain-Rust modules (validation, decisions, the registry), in the crate
// so that the modules can stay `pub(crate)`.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

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
