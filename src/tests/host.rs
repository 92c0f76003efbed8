//! Host unit and property tests of the pure modules (URL building and encoding, input and
//! option validation, the per-call state machine, response checks). They live here, not in
//! `src/`, so that library code has no `unwrap` anywhere; clippy denies it there.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod endpoint {
    use crate::endpoint::*;
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
            "https://user@host/path",
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
                prop_assert!(!s.contains(['?', '#', ' ']));
                // No credentials in an absolute URL's authority (an '@' in a same-origin
                // path such as "/@" is an ordinary path character).
                if let Some(rest) = s.split_once("://").map(|(_, rest)| rest) {
                    let authority = rest.split('/').next().unwrap_or("");
                    prop_assert!(!authority.contains('@'), "credentials in {}", s);
                }
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

mod options {
    use crate::options::*;

    #[test]
    fn timeouts() {
        assert_eq!(timeout_from_number(1.0), Ok(1));
        assert_eq!(timeout_from_number(0.2), Ok(1));
        assert_eq!(timeout_from_number(10_000.0), Ok(10_000));
        assert_eq!(timeout_from_number(MAX_TIMEOUT_MS), Ok(2_147_483_647));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, MAX_TIMEOUT_MS + 1.0] {
            assert!(timeout_from_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults() {
        let config = Config::default();
        assert_eq!(config.base_url.as_str(), "https://dev.voice.ai");
        assert_eq!(config.timeout_ms, 10_000);
        assert!(config.before_unload);
        assert!(config.deferred);
    }

    #[test]
    fn decimals() {
        for n in [0u32, 7, 10, 422, 65_535, u32::MAX] {
            let mut out = String::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }
}

mod registry {
    use crate::endpoint::{CallId, EndToken};
    use crate::registry::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn call(id: &str, token: &str) -> Armed<()> {
        Armed {
            id: CallId::parse(id).unwrap(),
            token: EndToken::parse(token).unwrap(),
            url: format!("/api/v1/calls/{id}/end"),
            deferred: None,
        }
    }

    fn cid(id: &str) -> CallId {
        CallId::parse(id).unwrap()
    }

    #[test]
    fn track_replaces_the_token_of_the_same_id() {
        let mut reg = Registry::<(), u32>::default();
        assert_eq!(reg.track(call("a", "t1")), Ok(None));
        assert_eq!(reg.track(call("a", "t2")), Ok(Some(call("a", "t1"))));
        let drained = reg.drain_armed();
        assert_eq!(drained, vec![call("a", "t2")]);
        assert!(!reg.has_armed());
    }

    #[test]
    fn drain_where_leaves_the_rest_armed() {
        let mut reg = Registry::<(), u32>::default();
        for id in ["a", "b", "c"] {
            reg.track(call(id, "t")).unwrap();
        }
        let out = reg.drain_armed_where(|armed| armed.id.as_str() != "b");
        assert_eq!(out.len(), 2);
        assert!(reg.is_armed(&cid("b")));
        assert!(!reg.is_armed(&cid("a")));
    }

    #[test]
    fn an_id_being_ended_cannot_be_armed() {
        let mut reg = Registry::<(), u32>::default();
        reg.track(call("a", "t")).unwrap();
        let armed = reg.disarm(&cid("a")).unwrap();
        reg.begin_ending(armed.id.clone());
        assert!(reg.is_ending(&cid("a")));
        assert_eq!(
            reg.ending(&cid("a")),
            None,
            "no promise yet, but already ending"
        );
        assert_eq!(reg.track(call("a", "t")), Err(BeingEnded));
        reg.set_ending_handle(&cid("a"), 7);
        assert_eq!(reg.ending(&cid("a")), Some(&7));
        assert_eq!(reg.track(call("a", "t")), Err(BeingEnded));
        assert!(reg.drain_armed().is_empty(), "page leave must not resend");
        assert!(reg.finish_ending(&cid("a"), Some(armed)));
        assert_eq!(reg.ending(&cid("a")), None);
        assert_eq!(reg.drain_armed().len(), 1, "a retryable failure re-arms");
    }

    #[test]
    fn rearm_does_not_override_a_newer_tracking() {
        let mut reg = Registry::<(), u32>::default();
        reg.track(call("a", "old")).unwrap();
        let armed = reg.disarm(&cid("a")).unwrap();
        reg.begin_ending(armed.id.clone());
        reg.finish_ending(&cid("a"), None);
        reg.track(call("a", "new")).unwrap();
        assert!(!reg.finish_ending(&cid("a"), Some(armed)));
        assert_eq!(reg.drain_armed(), vec![call("a", "new")]);
    }

    #[test]
    fn untrack_during_an_end_forbids_rearming() {
        let mut reg = Registry::<(), u32>::default();
        reg.track(call("a", "t")).unwrap();
        let armed = reg.disarm(&cid("a")).unwrap();
        reg.begin_ending(armed.id.clone());
        assert!(reg.forbid_rearm(&cid("a")).is_some());
        assert!(!reg.finish_ending(&cid("a"), Some(armed)));
        assert!(!reg.has_armed());
        assert!(
            reg.forbid_rearm(&cid("a")).is_none(),
            "nothing in flight any more"
        );
    }

    #[derive(Clone, Debug)]
    enum Op {
        Track(u8, u8),
        Untrack(u8),
        EndStart(u8),
        EndSettle(u8, bool),
        Leave,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..4, 0u8..3).prop_map(|(i, t)| Op::Track(i, t)),
            (0u8..4).prop_map(Op::Untrack),
            (0u8..4).prop_map(Op::EndStart),
            (0u8..4, any::<bool>()).prop_map(|(i, r)| Op::EndSettle(i, r)),
            Just(Op::Leave),
        ]
    }

    proptest! {
        /// Against a simple model: every send is of the latest token, no id is ever
        /// armed and in flight at once, and an id is sent at most once per tracking
        /// (a retryable failure counts as "not delivered", so it may be sent again).
        #[test]
        fn exactly_once_per_tracking(ops in proptest::collection::vec(op(), 0..60)) {
            let mut reg = Registry::<(), u8>::default();
            let mut latest_token: BTreeMap<String, String> = BTreeMap::new();
            // id -> sends since it was last tracked, not counting retryable failures
            let mut delivered: BTreeMap<String, u32> = BTreeMap::new();
            let mut in_flight: BTreeMap<String, Armed<()>> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Track(i, t) => {
                        let (id, token) = (format!("c{i}"), format!("t{t}"));
                        let result = reg.track(call(&id, &token));
                        prop_assert_eq!(result.is_err(), in_flight.contains_key(&id));
                        if result.is_ok() {
                            latest_token.insert(id.clone(), token);
                            delivered.insert(id, 0);
                        }
                    }
                    Op::Untrack(i) => {
                        let id = format!("c{i}");
                        let was = reg.armed_ids().any(|a| a.as_str() == id);
                        prop_assert_eq!(reg.disarm(&cid(&id)).is_some(), was);
                        reg.forbid_rearm(&cid(&id));
                    }
                    Op::EndStart(i) => {
                        let id = format!("c{i}");
                        if !reg.is_ending(&cid(&id)) {
                            if let Some(armed) = reg.disarm(&cid(&id)) {
                                prop_assert_eq!(Some(armed.token.bearer()), latest_token.get(&id).map(|t| format!("Bearer {t}")));
                                *delivered.entry(id.clone()).or_default() += 1;
                                reg.begin_ending(armed.id.clone());
                                reg.set_ending_handle(&armed.id, i);
                                in_flight.insert(id, armed);
                            }
                        }
                    }
                    Op::EndSettle(i, retryable) => {
                        let id = format!("c{i}");
                        if let Some(armed) = in_flight.remove(&id) {
                            if retryable {
                                *delivered.entry(id.clone()).or_default() -= 1;
                            }
                            reg.finish_ending(&cid(&id), retryable.then_some(armed));
                        }
                    }
                    Op::Leave => {
                        for armed in reg.drain_armed() {
                            let id = armed.id.as_str().to_string();
                            prop_assert!(!in_flight.contains_key(&id));
                            prop_assert_eq!(Some(armed.token.bearer()), latest_token.get(&id).map(|t| format!("Bearer {t}")));
                            *delivered.entry(id).or_default() += 1;
                        }
                    }
                }
                for (id, count) in &delivered {
                    prop_assert!(*count <= 1, "{} sent {} times in one tracking", id, count);
                }
                for id in reg.armed_ids() {
                    prop_assert!(!in_flight.contains_key(id.as_str()));
                }
            }
        }
    }
}

mod response {
    use crate::response::*;

    #[test]
    fn status_messages_are_actionable() {
        assert!(http_status_message(401).contains("end_token"));
        assert!(http_status_message(404).contains("call id"));
        assert!(http_status_message(503).starts_with("The API answered HTTP 503"));
    }
}

/// The fuzz target, as properties: arbitrary text, bytes and UTF-16 into every input-handling
/// function of the pure modules (call ids, end tokens, base URLs, option numbers, error-message
/// quoting, the outbox's base-URL recovery, the API's status answers; its date check is JS, in tests/input.test.mjs). A failure
/// prints the shrunk input; `PROPTEST_CASES=100000 cargo test --test host fuzz` runs longer.
///
/// The JS boundary hands these functions `&str`, never UTF-16: a lone surrogate is refused
/// before (`options::string_value`, which needs a JS engine; covered by
/// tests/badinput.test.mjs). Here UTF-16 and bytes go in decoded lossily, as a careless
/// boundary would pass them, to show that nothing downstream panics either way.
mod fuzz {
    use crate::endpoint::*;
    use crate::options::*;
    use crate::policy;
    use crate::response::http_status_message;
    use proptest::prelude::*;
    fn retry_after_ms(value: &str, now: f64) -> Option<f64> {
        policy::retry_after_ms(value, now, |_| None)
    }

    /// 2048 cases per property unless `PROPTEST_CASES` says otherwise.
    fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(2048);
        ProptestConfig::with_cases(cases)
    }

    /// Any text: any Unicode scalar values (controls, CR/LF/NUL, non-characters), lossily
    /// decoded bytes and UTF-16 (lone surrogates become U+FFFD), URL/header specials, and
    /// lengths around the id and token limits.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::collection::vec(any::<char>(), 0..48).prop_map(String::from_iter),
            proptest::collection::vec(any::<u8>(), 0..48)
                .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
            proptest::collection::vec(any::<u16>(), 0..48)
                .prop_map(|units| String::from_utf16_lossy(&units)),
            "[./?#%\\\\@:\\[\\] \r\n\t\0a-zA-Z0-9~_-]{0,24}",
            "[.]{1,3}|[.%2eE]{1,6}",
            "\\PC{0,24}",
            (MAX_CALL_ID_BYTES - 2..MAX_CALL_ID_BYTES + 3, "[a-zé\r]").prop_map(|(n, c)| c
                .repeat(n)
                .chars()
                .take(n)
                .collect()),
            (MAX_TOKEN_BYTES - 2..MAX_TOKEN_BYTES + 3, "[!-~ ]").prop_map(|(n, c)| c.repeat(n)),
        ]
    }

    /// Strings shaped like base URLs, from parts that are each sometimes wrong.
    fn base_text() -> impl Strategy<Value = String> {
        let scheme = prop_oneof![
            3 => Just("https://"),
            6 => Just("http://"),
            1 => Just("HTTPS://"),
            1 => Just("Http://"),
            1 => Just("ftp://"),
            1 => Just("javascript:"),
            1 => Just("//"),
            1 => Just("/"),
            1 => Just(""),
            1 => Just("https:/"),
        ];
        let userinfo = prop_oneof![3 => Just(""), 1 => Just("user:pw@"), 1 => Just("@")];
        let host = prop_oneof![
            1 => Just("localhost".to_string()),
            1 => Just("LOCALHOST".to_string()),
            1 => Just("app.localhost".to_string()),
            1 => Just("localhost.evil.example".to_string()),
            1 => Just("evil.example%2f.localhost".to_string()),
            1 => Just("[::1]".to_string()),
            1 => Just("[::2]".to_string()),
            1 => Just("[0:0:0:0:0:0:0:1]".to_string()),
            1 => Just("[::1".to_string()),
            1 => Just("2130706433".to_string()),
            1 => Just("0x7f.0.0.1".to_string()),
            1 => Just("127.0.0.1.evil.example".to_string()),
            2 => (0u16..300, 0u16..300, 0u16..300, 0u16..300)
                .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
            2 => (0u16..300, 0u16..300, 0u16..300).prop_map(|(b, c, d)| format!("127.{b}.{c}.{d}")),
            4 => "127(\\.[0-9]{1,3}){1,5}\\.?",
            2 => "[a-z0-9.-]{0,12}",
            1 => "\\PC{0,6}",
        ];
        let port = prop_oneof![
            Just(String::new()),
            Just(String::new()),
            (0u32..100_000).prop_map(|p| format!(":{p}")),
            Just(":".to_string()),
            Just(":8a".to_string()),
        ];
        let path = prop_oneof![
            Just(String::new()),
            "(/[a-zA-Z0-9._~%-]{0,6}){0,3}/?",
            "[/?#\\\\ @]{0,3}[a-z]{0,3}",
            "\\PC{0,6}",
        ];
        // http:// to hosts that look like loopback, with a valid port and path, so that the
        // loopback rule itself is what decides.
        let near_loopback = prop_oneof![
            "127(\\.[0-9]{1,3}){1,5}\\.?",
            (0u16..300, 0u16..300, 0u16..300).prop_map(|(b, c, d)| format!("127.{b}.{c}.{d}")),
            "[a-z.]{0,6}localhost[a-z.%0-9]{0,6}",
            "localhost(%[0-9a-f]{2}|[.a-z]){0,4}",
            "\\[[0-9a-f:.]{1,12}\\]",
        ];
        let valid_port = prop_oneof![
            Just(String::new()),
            (1u32..65536).prop_map(|p| format!(":{p}"))
        ];
        prop_oneof![
            4 => (scheme, userinfo, host, port, path)
                .prop_map(|(s, u, h, p, rest)| format!("{s}{u}{h}{p}{rest}")),
            2 => (near_loopback, valid_port, "(/[a-z]{0,4}){0,2}")
                .prop_map(|(h, p, rest)| format!("http://{h}{p}{rest}")),
            1 => text(),
        ]
    }

    /// Accepted base URLs of every kind.
    fn accepted_base() -> impl Strategy<Value = BaseUrl> {
        prop_oneof![
            Just(DEFAULT_BASE_URL.to_string()),
            "/[a-z0-9/_~.-]{0,12}",
            "https://[a-z0-9][a-z0-9.-]{0,10}(:[0-9]{1,4})?(/[a-zA-Z0-9_.~%-]{0,8}){0,2}/?",
            "http://(localhost|127\\.[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}|\\[::1\\]|[a-z]{1,5}\\.localhost)(:[0-9]{1,4})?(/[a-z]{0,6})?",
            base_text(),
        ]
        .prop_filter_map("accepted by BaseUrl::parse", |s| BaseUrl::parse(&s).ok())
    }

    /// A character that can never be part of a header-safe token.
    fn unsafe_char() -> impl Strategy<Value = char> {
        prop_oneof![
            Just('\r'),
            Just('\n'),
            Just('\0'),
            Just(' '),
            Just('\t'),
            Just('\x7f'),
            Just('\u{0b}'),
            Just('\u{85}'),
            Just('\u{2028}'),
            Just('\u{560a}'),
            Just('\u{fffd}'),
            any::<char>().prop_filter("not visible ASCII", |c| !c.is_ascii_graphic()),
        ]
    }

    /// Percent-decode (test helper); `None` on a malformed escape.
    fn percent_decode(segment: &str) -> Option<Vec<u8>> {
        let bytes = segment.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = segment.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        Some(out)
    }

    /// Whether a URL host is the machine itself, judged independently of the library: the
    /// host as a browser reads it (percent-decoded), `localhost` or a subdomain of it, `[::1]`
    /// or any IPv6 loopback spelling, or a dotted IPv4 address in 127.0.0.0/8.
    fn oracle_is_loopback(host: &str) -> bool {
        let decoded = percent_decode(host)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_else(|| host.to_string())
            .to_ascii_lowercase();
        if decoded == "localhost" || decoded.ends_with(".localhost") {
            return true;
        }
        if let Some(v6) = decoded.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            return v6
                .parse::<std::net::Ipv6Addr>()
                .is_ok_and(|a| a.is_loopback());
        }
        let labels: Vec<&str> = decoded.split('.').collect();
        labels.len() == 4
            && labels[0] == "127"
            && labels.iter().all(|l| {
                !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) && l.parse::<u8>().is_ok()
            })
    }

    proptest! {
        #![proptest_config(config())]

        /// Every input-handling function on the same arbitrary text: none panics.
        #[test]
        fn nothing_panics_on_any_text(s in text(), n in any::<f64>(), status in any::<u16>()) {
            let id = CallId::parse(&s);
            let token = EndToken::parse(&s);
            let base = BaseUrl::parse(&s);
            let _ = retry_after_ms(&s, n);
            let _ = timeout_from_number(n);
            let _ = retries_from_number(n);
            let _ = http_status_message(status);
            if let Ok(id) = &id {
                let _ = base_of_end_url(&s, id);
                let url = BaseUrl::default().end_url(id);
                prop_assert_eq!(base_of_end_url(&url, id), Some(DEFAULT_BASE_URL.to_string()));
            }
            if let Ok(token) = &token {
                let _ = token.bearer();
                let _ = token.looks_like_api_key();
            }
            if let (Ok(base), Ok(id)) = (&base, &id) {
                let _ = base.end_url(id);
            }
        }

        /// `CallId::parse` accepts exactly: non-empty, at most 1024 UTF-8 bytes, not `.`/`..`.
        #[test]
        fn call_id_accepts_exactly_its_rules(s in text()) {
            let expected = !s.is_empty() && s.len() <= MAX_CALL_ID_BYTES && s != "." && s != "..";
            match CallId::parse(&s) {
                Ok(id) => {
                    prop_assert!(expected, "accepted {:?}", s);
                    prop_assert_eq!(id.as_str(), s.as_str());
                }
                Err(why) => {
                    prop_assert!(!expected, "refused {:?}: {}", s, why);
                    prop_assert!(!why.is_empty());
                }
            }
        }

        /// Any accepted id under any accepted base: the URL is the base plus exactly
        /// `/api/v1/calls/<one segment>/end`, with no `?` or `#` anywhere, a segment of
        /// unreserved characters and `%XX` only that is no dot segment and decodes to the id;
        /// the outbox recovers the base from it, and the base re-parses to itself.
        #[test]
        fn accepted_ids_add_exactly_one_segment_under_any_base(base in accepted_base(), s in text()) {
            let Ok(id) = CallId::parse(&s) else { return Ok(()) };
            let url = base.end_url(&id);
            let prefix = format!("{}/api/v1/calls/", base.as_str());
            let segment = url
                .strip_prefix(prefix.as_str())
                .and_then(|rest| rest.strip_suffix("/end"))
                .expect("base + /api/v1/calls/ + segment + /end");
            prop_assert!(!url.contains(['?', '#']), "{}", url);
            prop_assert_eq!(url.matches('/').count(), base.as_str().matches('/').count() + 5);
            prop_assert!(segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)), "{}", segment);
            prop_assert!(segment != "." && segment != "..");
            prop_assert_eq!(percent_decode(segment), Some(s.as_bytes().to_vec()));
            prop_assert_eq!(base_of_end_url(&url, &id), Some(base.as_stored().to_string()));
            prop_assert_eq!(BaseUrl::parse(base.as_stored()), Ok(base.clone()));
        }

        /// `base_of_end_url` on arbitrary URLs: when it answers, the URL is exactly that base
        /// followed by the id's end path.
        #[test]
        fn base_recovery_answers_only_for_that_ids_end_url(url in text(), s in text()) {
            let Ok(id) = CallId::parse(&s) else { return Ok(()) };
            if let Some(base) = base_of_end_url(&url, &id) {
                let suffix = BaseUrl::parse("/").unwrap().end_url(&id);
                let prefix = if base == "/" { "" } else { base.as_str() };
                prop_assert_eq!(format!("{prefix}{suffix}"), url);
            }
        }

        /// Whatever `BaseUrl::parse` accepts is normalized and safe: idempotent, visible
        /// ASCII without `?`, `#`, `\` or a trailing `/`; absolute ones are https, or http
        /// only to a host that is loopback by an independent check, with a lowercase scheme
        /// and host, no credentials, a non-empty host and a valid port; relative ones are a
        /// same-origin path (never `//`, which names another host).
        #[test]
        fn accepted_base_urls_are_safe_and_normalized(s in base_text()) {
            let Ok(base) = BaseUrl::parse(&s) else { return Ok(()) };
            let b = base.as_str();
            prop_assert_eq!(BaseUrl::parse(base.as_stored()), Ok(base.clone()), "{:?}", s);
            prop_assert!(b.bytes().all(|c| c.is_ascii_graphic()), "{:?}", b);
            prop_assert!(!b.contains(['?', '#', '\\']) && !b.ends_with('/'), "{:?}", b);
            let absolute = if b.is_empty() || b.starts_with('/') { None } else { b.split_once("://") };
            match absolute {
                None => prop_assert!(b.is_empty() || (b.starts_with('/') && !b.starts_with("//")), "{:?}", b),
                Some((scheme, rest)) => {
                    let authority = rest.split('/').next().unwrap_or("");
                    prop_assert_eq!(authority, authority.to_ascii_lowercase());
                    prop_assert!(!authority.contains('@'), "credentials in {:?}", b);
                    let (host, port) = match authority.rsplit_once(':') {
                        Some((host, port)) if !host.ends_with(':') && (!host.starts_with('[') || host.ends_with(']')) => (host, Some(port)),
                        _ => (authority, None),
                    };
                    prop_assert!(!host.is_empty() && host != "[]", "{:?}", b);
                    if let Some(port) = port {
                        prop_assert!(port.parse::<u16>().is_ok(), "port {:?} in {:?}", port, b);
                    }
                    match scheme {
                        "https" => {}
                        "http" => prop_assert!(oracle_is_loopback(host), "http:// to {:?} ({:?})", host, s),
                        other => prop_assert!(false, "scheme {:?} in {:?}", other, b),
                    }
                }
            }
        }

        /// `EndToken::parse` accepts exactly: non-empty, at most 4096 bytes, visible ASCII;
        /// the header value is then `Bearer <token>` with one space and nothing a header
        /// could break on. Redacted in debug output.
        #[test]
        fn end_token_accepts_exactly_header_safe_text(s in text()) {
            let expected = !s.is_empty()
                && s.len() <= MAX_TOKEN_BYTES
                && s.bytes().all(|b| (0x21..=0x7e).contains(&b));
            match EndToken::parse(&s) {
                Ok(token) => {
                    prop_assert!(expected, "accepted {:?}", s);
                    let header = token.bearer();
                    prop_assert_eq!(header.strip_prefix("Bearer "), Some(s.as_str()));
                    prop_assert!(header.bytes().all(|b| b == b' ' || b.is_ascii_graphic()));
                    prop_assert_eq!(header.matches(' ').count(), 1);
                    prop_assert!(!header.contains(['\r', '\n', '\0']));
                    prop_assert_eq!(format!("{token:?}"), "EndToken(<redacted>)");
                }
                Err(_) => prop_assert!(!expected, "refused {:?}", s),
            }
        }

        /// A token with any character that is not visible ASCII anywhere in it (CR, LF,
        /// NUL, space, DEL, a code point whose low byte is CR or LF, …) is refused, and the
        /// message does not quote it.
        #[test]
        fn tokens_with_an_unsafe_character_are_refused(
            before in "[!-~]{0,32}",
            bad in unsafe_char(),
            after in "[!-~]{0,32}",
        ) {
            let token = format!("SECRET{before}{bad}{after}");
            let why = EndToken::parse(&token).map(|_| ()).unwrap_err();
            prop_assert!(!why.contains("SECRET"), "{}", why);
        }

        /// Numbers from JS (`timeoutMs`, `retries`): any f64, including NaN, ±∞, −0 and
        /// subnormals, is accepted exactly in range, and mapped as documented.
        #[test]
        fn option_numbers_accept_exactly_their_range(
            n in prop_oneof![any::<f64>(), (-3i32..15).prop_map(f64::from), -3.0..15.0f64, Just(MAX_TIMEOUT_MS), Just(MAX_TIMEOUT_MS + 0.5)],
        ) {
            match timeout_from_number(n) {
                Ok(ms) => {
                    prop_assert!(n.is_finite() && n > 0.0 && n <= MAX_TIMEOUT_MS, "{}", n);
                    prop_assert_eq!(f64::from(ms), n.ceil());
                    prop_assert!(ms >= 1);
                }
                Err(_) => prop_assert!(!(n.is_finite() && n > 0.0 && n <= MAX_TIMEOUT_MS), "{}", n),
            }
            let whole = n.is_finite() && n.fract() == 0.0 && (0.0..=f64::from(MAX_RETRIES)).contains(&n);
            match retries_from_number(n) {
                Ok(r) => {
                    prop_assert!(whole, "{}", n);
                    prop_assert_eq!(f64::from(r), n);
                }
                Err(_) => prop_assert!(!whole, "{}", n),
            }
        }

        /// Decimal formatting without `core::fmt`, and status messages, for every value.
        #[test]
        fn decimals_and_status_messages(n in any::<u32>(), status in any::<u16>()) {
            let mut out = String::new();
            push_decimal(&mut out, n);
            prop_assert_eq!(out, n.to_string());
            let message = http_status_message(status);
            let expected_prefix = format!("The API answered HTTP {status}: ");
            prop_assert!(message.starts_with(&expected_prefix), "{}", message);
        }

        /// Why the JS boundary must refuse lone surrogates rather than decode lossily: every
        /// lone surrogate becomes U+FFFD, so two different ids would name the same call.
        #[test]
        fn lossy_utf16_would_alias_distinct_ids(
            prefix in "[a-z0-9_]{1,16}",
            lone in prop_oneof![0xd800u16..0xdc00, 0xdc00u16..0xe000],
        ) {
            let mut units: Vec<u16> = prefix.encode_utf16().collect();
            units.push(lone);
            prop_assert!(String::from_utf16(&units).is_err());
            let lossy = String::from_utf16_lossy(&units);
            let aliased = format!("{prefix}\u{fffd}");
            prop_assert_eq!(lossy.as_str(), aliased.as_str());
            prop_assert!(CallId::parse(&lossy).is_ok());
        }
    }
}
