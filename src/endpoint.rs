//! Where an end request goes: base URL validation, call id and token checks, and the
//! end URL with the call id percent-encoded as exactly one path segment.
//!
//! Everything here is plain Rust over `&str`, so it is unit- and property-tested on the host.

use alloc::string::String;

/// The longest call id accepted, in UTF-8 bytes. Real ids are short (tens of bytes); the cap
/// keeps a bad value from producing a URL that proxies and servers reject with 414.
pub const MAX_CALL_ID_BYTES: usize = 1024;

/// The longest end token accepted, in bytes. JWTs are well under this; header limits of
/// common servers start at 8 KiB for all headers together.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// The API's production origin, used when no `baseUrl` is configured.
pub const DEFAULT_BASE_URL: &str = "https://dev.voice.ai";

/// A validated base URL, normalized without a trailing slash.
///
/// Either an absolute `https://` URL, an `http://` URL whose host is loopback, or an
/// origin-relative path such as `/voice-proxy` (the app's own backend forwarding the call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Validate and normalize. The error is a sentence for the `config` error message.
    ///
    /// Byte-wise (after the ASCII check every byte is a character): `str`'s char searchers
    /// and number parsing cost kilobytes of wasm for what is a short, fixed grammar.
    pub fn parse(input: &str) -> Result<BaseUrl, &'static str> {
        let bytes = input.as_bytes();
        if bytes.is_empty() {
            return Err("must not be empty");
        }
        if !bytes.iter().all(u8::is_ascii_graphic) {
            return Err(
                "must be ASCII without spaces or control characters (use the punycode form of an international host)"
                    ,
            );
        }
        if bytes.iter().any(|b| matches!(b, b'?' | b'#' | b'\\')) {
            return Err("must not contain '?', '#' or '\\'");
        }
        if let Some(b'/') = bytes.first() {
            if let Some(b'/') = bytes.get(1) {
                return Err(
                    "starts with '//', which names another host; use an absolute https:// URL",
                );
            }
            return Ok(BaseUrl(trim_trailing_slashes(input).into()));
        }
        // `scheme://authority[/path]`; the scheme ends at the first ':'.
        let colon = position(bytes, b':');
        let rest = colon
            .and_then(|colon| input.get(colon + 1..))
            .and_then(|rest| rest.strip_prefix("//"));
        let (Some(colon), Some(rest)) = (colon, rest) else {
            return Err(
                "must be an absolute https:// URL or a path starting with '/' (such as /voice-proxy)"
                    ,
            );
        };
        // The path keeps its leading '/'; `get` cannot panic (and pulls in no panic messages).
        let slash = position(rest.as_bytes(), b'/').unwrap_or(rest.len());
        let authority = rest.get(..slash).unwrap_or(rest);
        let path = rest.get(slash..).unwrap_or("");
        // `position`, not `contains`: `<[u8]>::contains` brings in a word-wise memchr (0.15 KB).
        if position(authority.as_bytes(), b'@').is_some() {
            return Err("must not contain credentials (user:password@)");
        }
        // Scheme and authority are case-insensitive: normalized (and judged) in lowercase.
        let mut normalized = String::with_capacity(input.len());
        normalized.push_str(input.get(..colon).unwrap_or(""));
        normalized.push_str("://");
        normalized.push_str(authority);
        normalized.make_ascii_lowercase();
        let host = host_of(normalized.get(colon + 3..).unwrap_or(""))?;
        match normalized.get(..colon).unwrap_or("") {
            "https" => {}
            "http" if is_loopback_host(host) => {}
            "http" => {
                return Err(
                    "uses plain http:// to a non-loopback host, which would expose the end token; use https://",
                )
            }
            _ => return Err("must use https:// (or http:// to a loopback host)"),
        }
        normalized.push_str(trim_trailing_slashes(path));
        Ok(BaseUrl(normalized))
    }

    /// The normalized form (no trailing slash; empty for the origin-relative root `/`).
    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The origin (`scheme://host[:port]`, default port dropped) of an absolute URL; `None`
    /// for an origin-relative path.
    pub fn origin(&self) -> Option<&str> {
        let scheme_end = position(self.0.as_bytes(), b':')?;
        let after = self.0.get(scheme_end + 3..)?;
        let end = scheme_end + 3 + position(after.as_bytes(), b'/').unwrap_or(after.len());
        let origin = self.0.get(..end)?;
        let default_port = if origin.starts_with("https:") {
            ":443"
        } else {
            ":80"
        };
        Some(origin.strip_suffix(default_port).unwrap_or(origin))
    }

    /// A form that [`BaseUrl::parse`] accepts again (`/` for the origin-relative root).
    pub fn as_stored(&self) -> &str {
        if self.0.is_empty() {
            "/"
        } else {
            &self.0
        }
    }

    /// The end URL for a call: `{base}/api/v1/calls/{encoded id}/end`.
    pub fn end_url(&self, call_id: &CallId) -> String {
        let mut url = String::with_capacity(self.0.len() + 24 + call_id.0.len() * 3);
        url.push_str(&self.0);
        url.push_str("/api/v1/calls/");
        push_segment_encoded(&mut url, &call_id.0);
        url.push_str("/end");
        url
    }
}

/// The base URL an end URL was built from (what the outbox stores), in a form that
/// [`BaseUrl::parse`] accepts again; `None` if `url` is not `id`'s end URL.
pub fn base_of_end_url(url: &str, id: &CallId) -> Option<String> {
    let suffix = BaseUrl(String::new()).end_url(id);
    let base = url.strip_suffix(suffix.as_str())?;
    Some(BaseUrl(base.into()).as_stored().into())
}

impl Default for BaseUrl {
    fn default() -> Self {
        BaseUrl(DEFAULT_BASE_URL.into())
    }
}

fn trim_trailing_slashes(mut s: &str) -> &str {
    while let Some(rest) = s.strip_suffix("/") {
        s = rest;
    }
    s
}

/// The host part of an authority (`host[:port]` or `[v6]:port`, ASCII); checks the port.
fn host_of(authority: &str) -> Result<&str, &'static str> {
    let bytes = authority.as_bytes();
    // An IPv6 host ends at its ']', any other at the first ':'.
    let host_end = if let Some(b'[') = bytes.first() {
        match position(bytes, b']') {
            Some(close) => close + 1,
            None => return Err("has an unclosed '[' in its host"),
        }
    } else {
        position(bytes, b':').unwrap_or(bytes.len())
    };
    let host = authority.get(..host_end).unwrap_or("");
    let after = authority.get(host_end..).unwrap_or("");
    let port = after.strip_prefix(":");
    if port.is_none() && !after.is_empty() {
        return Err("has an invalid IPv6 host"); // `[::1]x`
    }
    if host.is_empty() || host == "[]" {
        return Err("has no host");
    }
    match port {
        Some(port) if !decimal_at_most(port.as_bytes(), 5, 65_535) => Err("has an invalid port"),
        _ => Ok(host),
    }
}

/// Whether `text` is 1 to `max_digits` ASCII digits whose value is at most `max`.
fn decimal_at_most(text: &[u8], max_digits: usize, max: u32) -> bool {
    !text.is_empty()
        && text.len() <= max_digits
        && text.iter().all(u8::is_ascii_digit)
        && text
            .iter()
            .fold(0u32, |n, digit| n * 10 + u32::from(digit - b'0'))
            <= max
}

/// The index of the first `needle` in `bytes`.
fn position(bytes: &[u8], needle: u8) -> Option<usize> {
    bytes.iter().position(|&b| b == needle)
}

/// Hosts where plain `http://` cannot be observed by the network: the machine itself
/// (`host` in lowercase).
fn is_loopback_host(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") || host == "[::1]" {
        return true;
    }
    // 127.d.d.d, each part a decimal octet.
    let Some(mut rest) = host.strip_prefix("127.") else {
        return false;
    };
    for last in [false, false, true] {
        let end = position(rest.as_bytes(), b'.').unwrap_or(rest.len());
        if !decimal_at_most(rest.get(..end).unwrap_or("").as_bytes(), 3, 255) {
            return false;
        }
        let after = rest.get(end..).unwrap_or("");
        match after.strip_prefix(".") {
            Some(next) if !last => rest = next,
            _ => return last && after.is_empty(),
        }
    }
    false
}

/// A validated call id (any non-empty text that can stand as one URL path segment).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CallId(String);

impl CallId {
    /// Validate. `.` and `..` are refused: URL parsers treat them (even percent-encoded as
    /// `%2E%2E`) as dot segments that would change the path.
    pub fn parse(input: &str) -> Result<CallId, &'static str> {
        if input.is_empty() {
            return Err("must be a non-empty string");
        }
        if input.len() > MAX_CALL_ID_BYTES {
            return Err("is longer than 1024 bytes; pass the call_id from connection-details");
        }
        if input == "." || input == ".." {
            return Err("must not be '.' or '..' (they cannot stand as a URL path segment)");
        }
        Ok(CallId(input.into()))
    }

    /// The id as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated end token: visible ASCII only, so it can never break out of the
/// `Authorization` header (no CR/LF, no spaces, nothing the Fetch API would reject).
#[derive(Clone, PartialEq, Eq)]
pub struct EndToken(String);

impl EndToken {
    /// Validate. Error messages describe the problem without quoting the token.
    pub fn parse(input: &str) -> Result<EndToken, &'static str> {
        if input.is_empty() {
            return Err("must be a non-empty string");
        }
        if input.len() > MAX_TOKEN_BYTES {
            return Err("is longer than 4096 bytes");
        }
        if !input.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "contains spaces, line breaks, control or non-ASCII characters; pass the end_token from connection-details unchanged"
                    ,
            );
        }
        Ok(EndToken(input.into()))
    }

    /// The `Authorization` header value.
    pub fn bearer(&self) -> String {
        let mut value = String::with_capacity(7 + self.0.len());
        value.push_str("Bearer ");
        value.push_str(&self.0);
        value
    }

    /// The token itself, for the outbox entry (the one place it is stored).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the token looks like an account API key (the official examples use `vk_`).
    pub fn looks_like_api_key(&self) -> bool {
        self.0.starts_with("vk_")
    }
}

// Never print a token, not even in a debug dump.
impl core::fmt::Debug for EndToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EndToken(<redacted>)")
    }
}

/// Append `segment` percent-encoded so that it stays one path segment: everything but the
/// RFC 3986 unreserved characters is encoded, including `/`, `?`, `#` and `%`.
fn push_segment_encoded(out: &mut String, segment: &str) {
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
    }
}

/// The uppercase hex digit of a nibble (`n` < 16).
fn hex_digit(n: u8) -> char {
    char::from(if n < 10 { b'0' + n } else { b'A' + (n - 10) })
}
