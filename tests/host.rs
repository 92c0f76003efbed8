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
    use proptest::prelude::*;
    use voice_end_call::endpoint::*;

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
    use voice_end_call::options::*;

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
    fn message_truncation() {
        assert_eq!(truncate_for_message("abc"), "abc");
        assert_eq!(truncate_for_message("a\nb"), "ab");
        let long = "x".repeat(100);
        assert_eq!(truncate_for_message(&long).chars().count(), 65);
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
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use voice_end_call::endpoint::{CallId, EndToken};
    use voice_end_call::registry::*;

    fn call(id: &str, token: &str) -> Armed {
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
        let mut reg = Registry::<u32>::default();
        assert_eq!(reg.track(call("a", "t1")), Ok((Tracked::Added, None)));
        assert_eq!(
            reg.track(call("a", "t2")),
            Ok((Tracked::Replaced, Some(call("a", "t1"))))
        );
        let drained = reg.drain_armed();
        assert_eq!(drained, vec![call("a", "t2")]);
        assert!(!reg.has_armed());
    }

    #[test]
    fn drain_where_leaves_the_rest_armed() {
        let mut reg = Registry::<u32>::default();
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
        let mut reg = Registry::<u32>::default();
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
        let mut reg = Registry::<u32>::default();
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
        let mut reg = Registry::<u32>::default();
        reg.track(call("a", "t")).unwrap();
        let armed = reg.disarm(&cid("a")).unwrap();
        reg.begin_ending(armed.id.clone());
        assert!(reg.forbid_rearm(&cid("a")));
        assert!(!reg.finish_ending(&cid("a"), Some(armed)));
        assert!(!reg.has_armed());
        assert!(!reg.forbid_rearm(&cid("a")), "nothing in flight any more");
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
            let mut reg = Registry::<u8>::default();
            let mut latest_token: BTreeMap<String, String> = BTreeMap::new();
            // id -> sends since it was last tracked, not counting retryable failures
            let mut delivered: BTreeMap<String, u32> = BTreeMap::new();
            let mut in_flight: BTreeMap<String, Armed> = BTreeMap::new();
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
    use proptest::prelude::*;
    use voice_end_call::response::*;

    #[test]
    fn date_times() {
        for ok in [
            "2026-11-24T10:00:00Z",
            "2026-11-24T10:00:00.123456+00:00",
            "2026-11-24t10:00:00z",
            "2026-11-24T23:59:60-05:30",
            "2026-11-24T10:00:00.5",
            "2026-11-24 10:00:00",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "",
            "2026-11-24",
            "2026-13-24T10:00:00Z",
            "2026-11-24T24:00:00Z",
            "2026-11-24T10:00:00.Z",
            "2026-11-24T10:00:00+0000",
            "2026-11-24T10:00:00Zjunk",
            "yesterday",
            "2026-1-24T10:00:00Z",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn status_messages_are_actionable() {
        assert!(http_status_message(401).contains("end_token"));
        assert!(http_status_message(404).contains("call id"));
        assert!(http_status_message(503).starts_with("The API answered HTTP 503"));
    }

    proptest! {
        #[test]
        fn date_time_check_never_panics(s in "\\PC{0,40}") {
            let _ = is_date_time(&s);
        }
    }
}
