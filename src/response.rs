//! Reading the API's answers: the spec's `EndCallResponse` (to camelCase), a 422's
//! `detail`, and what to say about other statuses.
//!
//! Fields are read with `js_sys::Reflect` after `JSON.parse` rather than deserialized with
//! serde: it is the same check for a fraction of the size (see README, "What each
//! dependency costs").

use alloc::string::String;

use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::JsValue;

/// Parse and validate a 2xx body; returns `{callId, status, endedAt, actualDurationSeconds,
/// creditsUsed}`. The error says which field is wrong.
pub fn end_call_response(body: &str) -> Result<JsValue, String> {
    let parsed = JSON::parse(body).map_err(|_| String::from("it is not JSON"))?;
    if !parsed.is_object() || Array::is_array(&parsed) {
        return Err("it is not a JSON object".into());
    }
    let out = Object::new();
    let copy = |from: &str, to: &str, check: fn(&JsValue) -> bool, expected: &str| {
        let value = Reflect::get(&parsed, &from.into()).unwrap_or(JsValue::UNDEFINED);
        if !check(&value) {
            let mut why = String::from(from);
            why.push_str(if value.is_undefined() {
                " is missing"
            } else {
                " is not "
            });
            if !value.is_undefined() {
                why.push_str(expected);
            }
            return Err(why);
        }
        Reflect::set(&out, &to.into(), &value).map_err(|_| String::from("internal"))?;
        Ok(())
    };
    copy("call_id", "callId", |v| v.is_string(), "a string")?;
    copy("status", "status", |v| v.is_string(), "a string")?;
    copy(
        "ended_at",
        "endedAt",
        |v| v.as_string().is_some_and(|s| is_date_time(&s)),
        "an ISO 8601 date-time string",
    )?;
    copy(
        "actual_duration_seconds",
        "actualDurationSeconds",
        |v| v.as_f64().is_some_and(f64::is_finite),
        "a number",
    )?;
    copy(
        "credits_used",
        "creditsUsed",
        |v| v.as_f64().is_some_and(f64::is_finite),
        "a number",
    )?;
    Ok(out.into())
}

/// The `detail` array of a 422 body, or an empty array when the body is not the spec's shape.
pub fn validation_detail(body: &str) -> JsValue {
    let detail = JSON::parse(body)
        .ok()
        .and_then(|parsed| Reflect::get(&parsed, &"detail".into()).ok())
        .filter(Array::is_array);
    match detail {
        Some(detail) => detail,
        None => Array::new().into(),
    }
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
