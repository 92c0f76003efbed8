//! The bench's baseline: the smallest wasm-bindgen module that does what voice-end-call does at
//! its core, a `pagehide` listener that sends one keepalive `fetch`. scripts/bench.mjs builds it
//! the way the package is built and loads it the way the package is loaded, to compare `init()`
//! times (what the package's own start-up costs over wasm-bindgen's).

#![no_std]

extern crate alloc;

use alloc::string::String;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

#[panic_handler]
fn on_panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(url: &str, init: &Object) -> Result<JsValue, JsValue>;
}

/// When the page is hidden (closed, reloaded, left), POST to `url` with `keepalive`, once.
#[wasm_bindgen]
pub fn arm(url: String) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let send = Closure::once_into_js(move || {
        let init = Object::new();
        let _ = Reflect::set(&init, &"method".into(), &"POST".into());
        let _ = Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
        let _ = global_fetch(&url, &init);
    });
    window.add_event_listener_with_callback("pagehide", send.unchecked_ref())
}
