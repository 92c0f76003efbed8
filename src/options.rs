//! `configure()` options and the reading of untrusted JS input.
//!
//! Options are applied atomically: the new configuration is built completely from the
//! current one and only then swapped in, so a rejected call leaves the old one in force.

use alloc::string::String;

use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::endpoint::BaseUrl;
use crate::error::Failure;

/// The manual `endCall` time limit when none is configured.
pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;

/// Retries of a failed manual `endCall` when none are configured.
pub const DEFAULT_RETRIES: u32 = 2;

/// The most retries allowed (each also has to fit in `timeoutMs`).
pub const MAX_RETRIES: u32 = 10;

/// How long an outbox entry is worth sending when none is configured: 24 hours.
pub const DEFAULT_OUTBOX_TTL_MS: f64 = 86_400_000.0;

/// The largest timeout `setTimeout` honours (2^31 - 1 ms, about 24.8 days).
pub const MAX_TIMEOUT_MS: f64 = 2_147_483_647.0;

/// The configuration in force.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Where end requests go unless a call names its own `baseUrl`.
    pub base_url: BaseUrl,
    /// Time limit of a manual `endCall`, in milliseconds.
    pub timeout_ms: u32,
    /// Whether to listen to `beforeunload` while calls are tracked.
    pub before_unload: bool,
    /// Whether to arm a `fetchLater` deferred end request per call where supported.
    pub deferred: bool,
    /// How many times a manual end is tried again after a network error, 5xx or 429.
    pub retries: u32,
    /// Whether ends that cannot be sent on a page leave are kept in `localStorage` and sent
    /// by the next `init()` on this origin.
    pub outbox: bool,
    /// Outbox entries older than this (milliseconds) are dropped unsent.
    pub outbox_ttl_ms: f64,
    /// The app's same-origin relay: page-leave ends that no `fetchLater` holds go there by
    /// `navigator.sendBeacon` (the one send that survives a Firefox quit).
    pub relay_url: Option<BaseUrl>,
    /// Whether each tracked call that no `fetchLater` holds is recorded in `localStorage`
    /// under a Web Lock, so that another page of this origin ends it if this one dies.
    pub recover: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_url: BaseUrl::default(),
            timeout_ms: DEFAULT_TIMEOUT_MS,
            before_unload: true,
            deferred: true,
            retries: DEFAULT_RETRIES,
            outbox: true,
            outbox_ttl_ms: DEFAULT_OUTBOX_TTL_MS,
            relay_url: None,
            recover: true,
        }
    }
}

/// Validate a timeout in milliseconds: a finite number > 0 and ≤ 2^31 - 1 (fractions round up).
pub fn timeout_from_number(ms: f64) -> Result<u32, &'static str> {
    if !ms.is_finite() || ms <= 0.0 {
        return Err("must be a positive, finite number of milliseconds");
    }
    if ms > MAX_TIMEOUT_MS {
        return Err("must be at most 2147483647 (the largest delay browsers honour)");
    }
    // In range by the checks above, so the cast neither saturates nor truncates a whole value.
    Ok(ceil_u32(ms))
}

/// The options `configure` knows, in the order `js/errors.js`'s `readOptions` numbers them
/// (and the unknown-option message lists them).
pub const KNOWN: &str =
    "baseUrl, timeoutMs, retries, beforeUnload, deferred, outbox, outboxTtlMs, relayUrl, recover";

/// Apply the options read from `configure`'s argument (`readOptions`: a flat list of
/// [index in [`KNOWN`], value] pairs, in the object's order, an unknown key as [-1, its
/// error]) on top of `current`. A key explicitly set to `undefined` goes back to its default.
pub fn apply(current: &Config, read: &Array) -> Result<Config, JsValue> {
    let mut next = current.clone();
    let mut at = 0;
    while at + 1 < read.length() {
        let value = read.get(at + 1);
        // -1 (an unknown key) and anything unexpected fall to the last arm.
        let index = read.get(at).as_f64().unwrap_or(-1.0) as i32;
        at += 2;
        let unset = value.is_undefined();
        match index {
            0 if unset => next.base_url = BaseUrl::default(),
            0 => next.base_url = parse_base_url(&value, "options.baseUrl")?,
            1 if unset => next.timeout_ms = DEFAULT_TIMEOUT_MS,
            1 => next.timeout_ms = parse_timeout(&value, "options.timeoutMs")?,
            2 if unset => next.retries = DEFAULT_RETRIES,
            2 => next.retries = parse_retries(&value, "options.retries")?,
            3 => next.before_unload = bool_option(&value, "options.beforeUnload")?,
            4 => next.deferred = bool_option(&value, "options.deferred")?,
            5 => next.outbox = bool_option(&value, "options.outbox")?,
            6 if unset => next.outbox_ttl_ms = DEFAULT_OUTBOX_TTL_MS,
            6 => {
                next.outbox_ttl_ms = match value.as_f64() {
                    Some(ms) if ms.is_finite() && ms > 0.0 => ms,
                    _ => {
                        return Err(config_error(
                            "options.outboxTtlMs",
                            "must be a positive, finite number of milliseconds",
                        )
                        .into())
                    }
                }
            }
            7 if unset || value.is_null() => next.relay_url = None,
            7 => next.relay_url = Some(parse_relay_url(&value, "options.relayUrl")?),
            8 => next.recover = bool_option(&value, "options.recover")?,
            // An unknown key: its error.
            _ => return Err(value),
        }
    }
    Ok(next)
}

/// A boolean option; `undefined` means its default, which is `true` for every one.
fn bool_option(value: &JsValue, path: &str) -> Result<bool, Failure> {
    if value.is_undefined() {
        return Ok(true);
    }
    value
        .as_bool()
        .ok_or_else(|| config_error(path, "must be a boolean"))
}

/// `x` rounded up, for `0 <= x <= u32::MAX` (callers check the range). `f64::ceil` is std-only.
pub fn ceil_u32(x: f64) -> u32 {
    // The cast truncates toward zero; add one if that dropped a fraction.
    let whole = x as u32;
    if f64::from(whole) < x {
        whole.saturating_add(1)
    } else {
        whole
    }
}

/// A timeout option in milliseconds (see [`timeout_from_number`]).
pub fn parse_timeout(value: &JsValue, path: &str) -> Result<u32, Failure> {
    let ms = value
        .as_f64()
        .ok_or_else(|| config_error(path, "must be a number of milliseconds"))?;
    timeout_from_number(ms).map_err(|why| config_error(path, why))
}

/// A retry count: an integer from 0 to [`MAX_RETRIES`].
pub fn parse_retries(value: &JsValue, path: &str) -> Result<u32, Failure> {
    retries_from_number(value.as_f64().unwrap_or(f64::NAN)).map_err(|why| config_error(path, why))
}

/// Validate a retry count given as a JS number.
pub fn retries_from_number(n: f64) -> Result<u32, &'static str> {
    if n.is_finite() && n >= 0.0 && n <= f64::from(MAX_RETRIES) && f64::from(n as u32) == n {
        // A whole number in 0..=10 by the checks above.
        Ok(n as u32)
    } else {
        Err("must be a whole number from 0 to 10")
    }
}

/// `options.X must ...` as a `config` failure.
pub fn config_error(path: &str, why: &str) -> Failure {
    let mut message = String::with_capacity(path.len() + why.len() + 1);
    message.push_str(path);
    message.push(' ');
    message.push_str(why);
    Failure::config(message)
}

/// Parse a JS value as a base URL.
pub fn parse_base_url(value: &JsValue, path: &str) -> Result<BaseUrl, Failure> {
    let text = string_value(value, path)?;
    BaseUrl::parse(&text).map_err(|why| config_error(path, why))
}

/// Parse a JS value as the relay URL: validated like a base URL, and same-origin (a beacon
/// carries no `Authorization`, and the relay must read the app's own requests only): a path,
/// or an absolute URL whose origin is the page's.
pub fn parse_relay_url(value: &JsValue, path: &str) -> Result<BaseUrl, Failure> {
    let url = parse_base_url(value, path)?;
    match url.origin() {
        None => Ok(url),
        Some(origin) if Some(origin) == page_origin().as_deref() => Ok(url),
        Some(_) => Err(config_error(
            path,
            "must be on this page's origin (a path such as /end-call, or a URL on location.origin): a beacon to another origin cannot be authorized",
        )),
    }
}

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    /// `location.origin` in lowercase, where there is one.
    #[wasm_bindgen(js_name = pageOrigin)]
    fn page_origin() -> Option<String>;
}

/// A JS string as Rust text; refuses non-strings and strings with lone surrogates (which
/// would otherwise be silently replaced by U+FFFD and name a different call).
pub fn string_value(value: &JsValue, path: &str) -> Result<String, Failure> {
    let text = value
        .as_string()
        .ok_or_else(|| config_error(path, "must be a string"))?;
    // `as_string` replaces a lone surrogate by U+FFFD, so only then does the text not come
    // back as the same JS string (one comparison in JS instead of a call per code unit).
    if JsValue::from_str(&text) != *value {
        return Err(config_error(path, "contains a lone UTF-16 surrogate"));
    }
    Ok(text)
}

/// Append the decimal form of `n` (without `core::fmt`, which costs kilobytes of wasm).
pub fn push_decimal(out: &mut String, n: u32) {
    if n >= 10 {
        push_decimal(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}
