//! Reading the API's answers: the spec's `EndCallResponse` (to camelCase), a 422's
//! `detail`, and what to say about other statuses.
//!
//! `js/beacon.js` parses the body and hands over the fields; every check is here. Not serde:
//! it is the same check for a fraction of the size (see README, "What each dependency
//! costs").

use alloc::string::String;

use js_sys::Array;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/beacon.js")]
extern "C" {
    /// The body's `[call_id, status, ended_at, actual_duration_seconds, credits_used]`, or a
    /// sentence saying why there are none (not JSON, not an object).
    #[wasm_bindgen(js_name = responseFields)]
    fn response_fields(body: &str) -> JsValue;

    /// `{callId, status, endedAt, actualDurationSeconds, creditsUsed}` from checked fields.
    #[wasm_bindgen(js_name = endCallResponse)]
    fn camel_case(fields: &Array) -> JsValue;

    /// The 422 body's `detail` array, or an empty array when the body is not the spec's shape.
    #[wasm_bindgen(js_name = validationDetail)]
    pub(crate) fn validation_detail(body: &str) -> JsValue;
}

/// The spec's fields of an `EndCallResponse`, with what each must be.
const FIELDS: [(&str, Check, &str); 5] = [
    ("call_id", Check::Text, "a string"),
    ("status", Check::Text, "a string"),
    ("ended_at", Check::DateTime, "an ISO 8601 date-time string"),
    ("actual_duration_seconds", Check::Number, "a number"),
    ("credits_used", Check::Number, "a number"),
];

#[derive(Clone, Copy)]
enum Check {
    Text,
    DateTime,
    Number,
}

/// Parse and validate a 2xx body; returns `{callId, status, endedAt, actualDurationSeconds,
/// creditsUsed}`. The error says which field is wrong.
pub fn end_call_response(body: &str) -> Result<JsValue, String> {
    let fields = response_fields(body);
    let Some(fields) = fields.dyn_ref::<Array>() else {
        return Err(fields.as_string().unwrap_or_default());
    };
    for (at, (name, check, expected)) in (0u32..).zip(FIELDS) {
        let value = fields.get(at);
        let ok = match check {
            Check::Text => value.is_string(),
            Check::DateTime => value.as_string().is_some_and(|s| is_date_time(&s)),
            Check::Number => value.as_f64().is_some_and(f64::is_finite),
        };
        if !ok {
            let mut why = String::from(name);
            if value.is_undefined() {
                why.push_str(" is missing");
            } else {
                why.push_str(" is not ");
                why.push_str(expected);
            }
            return Err(why);
        }
    }
    Ok(camel_case(fields))
}

/// A message for a non-2xx, non-422 status, with what to do about it.
pub fn http_status_message(status: u16) -> String {
    let hint = match status {
        401 | 403 => "the end token was refused: pass the end_token that connection-details returned for this very call",
        404 => "the API does not know this call id (already expired, or another environment's id)",
        429 => "rate limited",
        500..=599 => "the API failed",
        _ => "unexpected status",
    };
    let mut message = String::from("The API answered HTTP ");
    crate::options::push_decimal(&mut message, u32::from(status));
    message.push_str(": ");
    message.push_str(hint);
    message.push('.');
    message
}

/// RFC 3339 / ISO 8601 date-time: `YYYY-MM-DDTHH:MM:SS[.frac][Z|±HH:MM]`. The offset is
/// optional because Python servers serialize naive datetimes without one; refusing those
/// would report a call that did end as a failure.
pub fn is_date_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let part = bytes.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
    };
    let at = |i: usize| bytes.get(i).copied();
    let date_ok = matches!(
        (num(0, 4), at(4), num(5, 2), at(7), num(8, 2)),
        (Some(_), Some(b'-'), Some(1..=12), Some(b'-'), Some(1..=31))
    );
    let time_ok = matches!(
        (at(10), num(11, 2), at(13), num(14, 2), at(16), num(17, 2)),
        (
            Some(b'T' | b't' | b' '),
            Some(0..=23),
            Some(b':'),
            Some(0..=59),
            Some(b':'),
            Some(0..=60)
        )
    );
    if !date_ok || !time_ok {
        return false;
    }
    let mut i = 19;
    if at(i) == Some(b'.') {
        i += 1;
        let start = i;
        while at(i).is_some_and(|b| b.is_ascii_digit()) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match at(i) {
        None => true,
        Some(b'Z' | b'z') => i + 1 == bytes.len(),
        Some(b'+' | b'-') => {
            matches!(
                (num(i + 1, 2), at(i + 3), num(i + 4, 2)),
                (Some(0..=23), Some(b':'), Some(0..=59))
            ) && i + 6 == bytes.len()
        }
        _ => false,
    }
}
