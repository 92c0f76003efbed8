//! Typed failures, and their conversion to the JS `EndCallError` class.
//!
//! The class itself lives in `js/errors.js` so that it exists before the wasm module is
//! loaded (the JS wrapper throws `not-initialized` errors of the same class) and so that
//! `instanceof EndCallError` holds for errors made on either side.

use alloc::boxed::Box;
use alloc::string::String;
use core::ops::{Deref, DerefMut};

use wasm_bindgen::prelude::*;

/// What went wrong; mirrors the `kind` strings of the JS `EndCallError`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The API answered 422 with an `HTTPValidationError`.
    Validation,
    /// The API answered another non-2xx status.
    Http,
    /// The request did not complete (offline, DNS, CORS refusal, connection reset).
    Network,
    /// No answer within `timeoutMs`; the request was aborted.
    Timeout,
    /// A 2xx answer whose body is not an `EndCallResponse`.
    InvalidResponse,
    /// Bad options or bad input from the caller.
    Config,
    /// `endCall` for an id that is not tracked and no `endToken` was given.
    NotTracked,
    /// Used by the JS wrapper before `init()` resolves; listed here for completeness.
    NotInitialized,
}

impl ErrorKind {
    /// The `kind` string seen from JavaScript.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Validation => "validation",
            ErrorKind::Http => "http",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::InvalidResponse => "invalid-response",
            ErrorKind::Config => "config",
            ErrorKind::NotTracked => "not-tracked",
            ErrorKind::NotInitialized => "not-initialized",
        }
    }
}

/// A failure on its way to JavaScript. Messages never contain a token.
///
/// Boxed: a `Result<_, Failure>` is then one pointer wide instead of the five fields, which
/// saves the copies of those fields along every `?` (about 1.4 KB brotli of wasm). The fields
/// are read and written through `Deref`/`DerefMut` (`failure.kind`, `failure.message`), as
/// before the box.
#[derive(Debug)]
pub struct Failure(Box<FailureFields>);

/// The fields of a [`Failure`].
#[derive(Debug)]
pub struct FailureFields {
    /// The category, see [`ErrorKind`].
    pub kind: ErrorKind,
    /// What happened and what to do about it.
    pub message: String,
    /// HTTP status, for `http` and `validation` failures.
    pub status: Option<u16>,
    /// The 422 body's `detail` array (already camel-free: the spec's own shape).
    pub detail: JsValue,
    /// The underlying JS error, if any (kept as `cause`).
    pub cause: JsValue,
}

impl Deref for Failure {
    type Target = FailureFields;

    fn deref(&self) -> &FailureFields {
        &self.0
    }
}

impl DerefMut for Failure {
    fn deref_mut(&mut self) -> &mut FailureFields {
        &mut self.0
    }
}

impl Failure {
    /// A failure with only a kind and a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure(Box::new(FailureFields {
            kind,
            message: message.into(),
            status: None,
            detail: JsValue::UNDEFINED,
            cause: JsValue::UNDEFINED,
        }))
    }

    /// A `config` failure.
    pub fn config(message: impl Into<String>) -> Self {
        Failure::new(ErrorKind::Config, message)
    }

    /// Attach the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Attach the underlying JS error as `cause`.
    pub fn with_cause(mut self, cause: JsValue) -> Self {
        self.cause = cause;
        self
    }

    /// Build the JS `EndCallError` instance.
    pub fn into_js(self) -> JsValue {
        create_error(
            self.kind.as_str(),
            &self.message,
            self.status.map(f64::from),
            &self.detail,
            &self.cause,
        )
    }
}

impl From<Failure> for JsValue {
    fn from(failure: Failure) -> JsValue {
        failure.into_js()
    }
}

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    /// Factory exported by `js/errors.js`; returns an `EndCallError`.
    #[wasm_bindgen(js_name = createError)]
    fn create_error(
        kind: &str,
        message: &str,
        status: Option<f64>,
        detail: &JsValue,
        cause: &JsValue,
    ) -> JsValue;
}
