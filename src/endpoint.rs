//! Where an end request goes: base URL validation, call id and token checks, and the
//! end URL with the call id percent-encoded as exactly one path segment.
//!
//! Everything here is plain Rust over `&str`, so it is unit- and property-tested on the host.

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
    pub fn parse(input: &str) -> Result<BaseUrl, String> {
        if input.is_empty() {
            return Err("must not be empty".into());
        }
        if !input.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "must be ASCII without spaces or control characters (use the punycode form of an international host)"
                    .into(),
            );
        }
        if input.contains(['?', '#', '\\']) {
            return Err("must not contain '?', '#' or '\\'".into());
        }
        if let Some(path) = input.strip_prefix('/') {
            if path.starts_with('/') {
                return Err(
                    "starts with '//', which names another host; use an absolute https:// URL"
                        .into(),
                );
            }
            return Ok(BaseUrl(trim_trailing_slashes(input).into()));
        }
        let (scheme, rest) = match input.split_once(':').and_then(|(scheme, rest)| Some((scheme, rest.strip_prefix("//")?))) {
            Some(parts) => parts,
            None => {
                return Err(
                    "must be an absolute https:// URL or a path starting with '/' (such as /voice-proxy)"
                        .into(),
                )
            }
        };
        let scheme = scheme.to_ascii_lowercase();
        // The path keeps its leading '/'; `get` cannot panic (and pulls in no panic messages).
        let slash = rest.find('/').unwrap_or(rest.len());
        let authority = rest.get(..slash).unwrap_or(rest);
        let path = rest.get(slash..).unwrap_or("");
        if authority.contains('@') {
            return Err("must not contain credentials (user:password@)".into());
        }
        let host = host_of(authority)?;
        match scheme.as_str() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            "http" => {
                return Err(
                    "uses plain http:// to a non-loopback host, which would expose the end token; use https://"
                        .into(),
                )
            }
            _ => return Err("must use https:// (or http:// to a loopback host)".into()),
        }
        let mut normalized = String::with_capacity(input.len());
        normalized.push_str(&scheme);
        normalized.push_str("://");
        normalized.push_str(&authority.to_ascii_lowercase());
        normalized.push_str(trim_trailing_slashes(path));
        Ok(BaseUrl(normalized))
    }

    /// The normalized form (no trailing slash; empty for the origin-relative root `/`).
    pub fn as_str(&self) -> &str {
        &self.0
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

impl Default for BaseUrl {
    fn default() -> Self {
        BaseUrl(DEFAULT_BASE_URL.into())
    }
}

fn trim_trailing_slashes(s: &str) -> &str {
    s.trim_end_matches('/')
}

/// The host part of an authority (`host[:port]` or `[v6]:port`), lowercased; checks the port.
fn host_of(authority: &str) -> Result<String, String> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| String::from("has an unclosed '[' in its host"))?;
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err("has an invalid IPv6 host".into()),
        };
        let mut host = String::with_capacity(addr.len() + 2);
        host.push('[');
        host.push_str(addr);
        host.push(']');
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host.into(), Some(port)),
            None => (authority.into(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err("has no host".into());
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().map(|p| p <= 65535).unwrap_or(false);
        if !valid {
            return Err("has an invalid port".into());
        }
    }
    Ok(host.to_ascii_lowercase())
}

/// Hosts where plain `http://` cannot be observed by the network: the machine itself.
fn is_loopback_host(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") || host == "[::1]" {
        return true;
    }
    let mut octets = host.split('.');
    let first_is_127 = octets.next() == Some("127");
    let rest: Vec<&str> = octets.collect();
    first_is_127
        && rest.len() == 3
        && rest.iter().all(|o| {
            !o.is_empty()
                && o.len() <= 3
                && o.bytes().all(|b| b.is_ascii_digit())
                && o.parse::<u16>().map(|n| n <= 255).unwrap_or(false)
        })
}

/// A validated call id (any non-empty text that can stand as one URL path segment).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CallId(String);

impl CallId {
    /// Validate. `.` and `..` are refused: URL parsers treat them (even percent-encoded as
    /// `%2E%2E`) as dot segments that would change the path.
    pub fn parse(input: &str) -> Result<CallId, String> {
        if input.is_empty() {
            return Err("must be a non-empty string".into());
        }
        if input.len() > MAX_CALL_ID_BYTES {
            return Err(
                "is longer than 1024 bytes; pass the call_id from connection-details".into(),
            );
        }
        if input == "." || input == ".." {
            return Err("must not be '.' or '..' (they cannot stand as a URL path segment)".into());
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
    pub fn parse(input: &str) -> Result<EndToken, String> {
        if input.is_empty() {
            return Err("must be a non-empty string".into());
        }
        if input.len() > MAX_TOKEN_BYTES {
            return Err("is longer than 4096 bytes".into());
        }
        if !input.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "contains spaces, line breaks, control or non-ASCII characters; pass the end_token from connection-details unchanged"
                    .into(),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    fn id(s: &str) -> CallId {
        CallId::parse(s).unwrap()
    }

    #[test]
    fn default_base_is_the_production_api() {
        let url = BaseUrl::default().end_url(&id("call_1"));
        assert_eq!(url, "https://dev.voice.ai/api/v1/calls/call_1/end");
    }

    #[test]
    fn normalizes_scheme_host_and_trailing_slash() {
        let base = BaseUrl::parse("HTTPS://API.Example.com:8443/v/").unwrap();
        assert_eq!(base.as_str(), "https://api.example.com:8443/v");
        assert_eq!(
            base.end_url(&id("x")),
            "https://api.example.com:8443/v/api/v1/calls/x/end"
        );
    }

    #[test]
    fn same_origin_paths_are_accepted() {
        assert_eq!(
            BaseUrl::parse("/voice-proxy/").unwrap().as_str(),
            "/voice-proxy"
        );
        assert_eq!(
            BaseUrl::parse("/").unwrap().end_url(&id("c")),
            "/api/v1/calls/c/end"
        );
    }

    #[test]
    fn http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:3000/api",
            "http://app.localhost",
            "http://[::1]:9000",
        ] {
            assert!(BaseUrl::parse(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in [
            "http://example.com",
            "http://127.0.0.1.evil.com",
            "http://128.0.0.1",
            "http://127.0.0.256",
            "http://localhost.evil.com",
            "http://[::2]",
        ] {
            let err = BaseUrl::parse(bad).unwrap_err();
            assert!(err.contains("http") || err.contains("host"), "{bad}: {err}");
        }
    }

    #[test]
    fn refuses_malformed_bases() {
        for bad in [
            "",
            "dev.voice.ai",
            "//evil.example",
            "ftp://host",
            "https://",
            "https://user:pw@host",
            "https://host:99999",
            "https://host:",
            "https://host:12a",
            "https://host/path?x=1",
            "https://host/#frag",
            "https://ho st",
            "https://[::1",
            "https://host\\evil",
            "https://hôst",
            "javascript:alert(1)",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn call_id_is_one_encoded_segment() {
        let base = BaseUrl::parse("https://h").unwrap();
        assert_eq!(
            base.end_url(&id("a/b?c#d%e f")),
            "https://h/api/v1/calls/a%2Fb%3Fc%23d%25e%20f/end"
        );
        assert_eq!(base.end_url(&id("é")), "https://h/api/v1/calls/%C3%A9/end");
        assert_eq!(base.end_url(&id("...")), "https://h/api/v1/calls/.../end");
    }

    #[test]
    fn call_id_rules() {
        assert!(CallId::parse("").is_err());
        assert!(CallId::parse(".").is_err());
        assert!(CallId::parse("..").is_err());
        assert!(CallId::parse(&"x".repeat(MAX_CALL_ID_BYTES)).is_ok());
        assert!(CallId::parse(&"x".repeat(MAX_CALL_ID_BYTES + 1)).is_err());
    }

    #[test]
    fn token_rules_and_redaction() {
        let token = EndToken::parse("et_abc.DEF-123_~+/=").unwrap();
        assert_eq!(token.bearer(), "Bearer et_abc.DEF-123_~+/=");
        assert_eq!(format!("{token:?}"), "EndToken(<redacted>)");
        for bad in ["", "a b", "a\r\nX-Evil: 1", "a\n", "tök", "a\0"] {
            let err = EndToken::parse(bad).unwrap_err();
            assert!(!bad.is_empty() || err.contains("non-empty"));
            assert!(
                bad.len() < 2 || !err.contains(bad),
                "message quotes the token"
            );
        }
        assert!(EndToken::parse(&"t".repeat(MAX_TOKEN_BYTES + 1)).is_err());
        assert!(EndToken::parse("vk_live_123").unwrap().looks_like_api_key());
        assert!(!EndToken::parse("et_123").unwrap().looks_like_api_key());
    }

    /// Decode a percent-encoded segment (test helper, the inverse of the encoder).
    fn decode(segment: &str) -> Vec<u8> {
        let bytes = segment.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&segment[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    }

    proptest! {
        #[test]
        fn any_valid_id_round_trips_as_a_single_segment(raw in "\\PC{1,64}|[./?#%\\\\ ]{1,8}") {
            prop_assume!(CallId::parse(&raw).is_ok());
            let url = BaseUrl::default().end_url(&id(&raw));
            let segment = url
                .strip_prefix("https://dev.voice.ai/api/v1/calls/")
                .and_then(|rest| rest.strip_suffix("/end"))
                .unwrap();
            prop_assert!(!segment.contains(['/', '?', '#']));
            prop_assert!(segment.bytes().all(|b| b.is_ascii_graphic()));
            prop_assert_eq!(decode(segment), raw.as_bytes().to_vec());
        }

        #[test]
        fn base_url_parse_never_panics_and_accepts_only_safe_schemes(raw in "\\PC{0,40}") {
            if let Ok(base) = BaseUrl::parse(&raw) {
                let s = base.as_str();
                prop_assert!(s.is_empty() || s.starts_with("https://") || s.starts_with("http://") || (s.starts_with('/') && !s.starts_with("//")));
                prop_assert!(!s.contains(['?', '#', '@', ' ']));
            }
        }

        #[test]
        fn accepted_tokens_cannot_inject_headers(raw in "\\PC{0,40}|[a-z\r\n: ]{1,20}") {
            if let Ok(token) = EndToken::parse(&raw) {
                let header = token.bearer();
                prop_assert!(!header.contains(['\r', '\n', '\0']));
            }
        }
    }
}
