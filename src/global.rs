//! Page-global values: the page's call state, and what `startup` adds once.
//!
//! The crate is `no_std`, so `std::thread_local!` is not always there. A wasm instance built
//! without the `atomics` target feature runs on exactly one thread, so a `static` holding a
//! non-`Sync` value is sound there; other targets (the host, for unit tests) have std and use
//! `thread_local!`. [`page_global!`] declares either, read the same way: `NAME.with(|v| ..)`.

use alloc::boxed::Box;
use core::cell::Cell;

/// A lazily initialised value shared by the whole page (one per wasm instance), created on
/// first use and kept for the page's lifetime (leaked: it is never dropped anyway).
///
/// Not `OnceCell`: its re-entrancy check is a panic path (with its message and location) in
/// the wasm. Here an `init` that re-entered would just lose to the value made first.
pub struct PageGlobal<T: 'static>(Cell<Option<&'static T>>);

impl<T> PageGlobal<T> {
    /// An empty cell; [`PageGlobal::get_or_init`] fills it on first use.
    pub const fn new() -> Self {
        Self(Cell::new(None))
    }

    /// The value, created by `init` on first use.
    pub fn get_or_init(&self, init: impl FnOnce() -> T) -> &'static T {
        match self.0.get() {
            Some(value) => value,
            None => self.init(init),
        }
    }

    /// The first use: out of line, so that each use is only the check above (76 B less,
    /// brotli, measured).
    #[inline(never)]
    fn init(&self, init: impl FnOnce() -> T) -> &'static T {
        let fresh = init();
        // Filled meanwhile (only by an `init` that re-entered): the first value stays.
        if let Some(value) = self.0.get() {
            return value;
        }
        let value: &'static T = Box::leak(Box::new(fresh));
        self.0.set(Some(value));
        value
    }
}

impl<T> Default for PageGlobal<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!(
    "voice-end-call keeps page state in statics: build it without the `atomics` target feature"
);

#[cfg(all(not(target_arch = "wasm32"), not(feature = "std")))]
compile_error!("voice-end-call needs its `std` feature on targets other than wasm32");

// SAFETY: on wasm32 without `atomics` (refused above) there is exactly one thread, so a value
// in a `PageGlobal` is never reached from two threads.
#[cfg(target_arch = "wasm32")]
unsafe impl<T> Sync for PageGlobal<T> {}

/// `page_global! { static NAME: Type = init; }` declares a page-global value, created by
/// `init` on first use and read with `NAME.with(|value: &Type| ...)`.
macro_rules! page_global {
    (static $name:ident: $ty:ty = $init:expr;) => {
        // A unit value named like a static, so that call sites read as with thread_local!.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        struct $name;

        impl $name {
            fn with<R>(&self, f: impl FnOnce(&$ty) -> R) -> R {
                #[cfg(target_arch = "wasm32")]
                {
                    static CELL: $crate::global::PageGlobal<$ty> =
                        $crate::global::PageGlobal::new();
                    f(CELL.get_or_init(|| $init))
                }
                #[cfg(not(target_arch = "wasm32"))]
                {
                    ::std::thread_local! {
                        static CELL: $crate::global::PageGlobal<$ty> =
                            const { $crate::global::PageGlobal::new() };
                    }
                    CELL.with(|cell| f(cell.get_or_init(|| $init)))
                }
            }
        }
    };
}
pub(crate) use page_global;
