//! What to say about an HTTP status the API answered with. (The answer itself is read by
//! `js/beacon.js`'s `outcome`: the status, the body, the spec's `EndCallResponse` fields.)

use alloc::string::String;

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
