//! The decisions, as plain functions of their inputs (no JS, no clock, no randomness of their
//! own), so that they are property-tested on the host: how a page leave handles each call,
//! whether and when a failed manual end is tried again, and whether a failed end leaves the
//! call armed. The shell (`page`, `manual_end`) gathers the inputs and does what they say.

/// Which page-leave moment is being handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Leave {
    /// `beforeunload` that nobody cancelled: the leave is very likely but not certain.
    BeforeUnload,
    /// `pagehide` of a document being unloaded (close, navigation, reload).
    Unload,
    /// `pagehide` with `persisted`: the page enters the back/forward cache. A voice call
    /// cannot go on there, so it is ended now.
    BackForwardCache,
}

/// Whether a leave takes an armed call now. `beforeunload` leaves a call whose end the browser
/// holds (`fetchLater`) armed: if the leave happens, the browser sends it, and if it does not
/// (a download link, a 204), the call goes on with its end still held.
pub(crate) fn leave_takes(leave: Leave, held_by_browser: bool) -> bool {
    !(leave == Leave::BeforeUnload && held_by_browser)
}

/// Whether a leave does anything at all. Offline, `beforeunload` leaves everything to
/// `pagehide`, so that an end is stored once, not twice.
pub(crate) fn leave_acts(leave: Leave, offline: bool) -> bool {
    !(offline && leave == Leave::BeforeUnload)
}

/// The browser-held request of a call a leave took, as the shell found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Held {
    /// No `fetchLater` request.
    No,
    /// Armed, not sent yet.
    Armed,
    /// The browser has sent it already (`activated`).
    Sent,
}

/// What a leave does with one call it took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LeaveAction {
    /// Nothing: the browser sends its held request as the document is destroyed.
    LeaveToBrowser,
    /// Nothing to send: the browser sent the held request already (withdraw it anyway).
    AlreadySent,
    /// Send it now (withdrawing a held request first, if any).
    Send,
    /// Offline: keep it for a later page (withdrawing a held request first, if any).
    Store,
}

/// What a leave does with a call it took.
pub(crate) fn leave_action(leave: Leave, held: Held, offline: bool) -> LeaveAction {
    match (held, leave) {
        // The browser sends it as the document goes (offline it could not: store it).
        (Held::Armed, Leave::Unload) if !offline => LeaveAction::LeaveToBrowser,
        (Held::Sent, _) => LeaveAction::AlreadySent,
        _ if offline => LeaveAction::Store,
        _ => LeaveAction::Send,
    }
}

/// Whether a leave's action withdraws the call's held request.
pub(crate) fn withdraws_held(action: LeaveAction) -> bool {
    action != LeaveAction::LeaveToBrowser
}

/// What an attempt of a manual end came to, as far as the next step is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failed {
    /// Network error (offline, refused, CORS): may not have reached the API.
    Network,
    /// The time budget ran out: may have reached the API; nothing is left to retry in.
    Timeout,
    /// An HTTP status the API answered with.
    Status(u16),
    /// Anything else (validation, a bad body, bad input): trying again cannot help.
    Other,
}

/// Whether the end may not have reached the API, so that the call should stay armed for
/// page-leave sending: network errors, timeouts, 429 and 5xx.
pub(crate) fn may_not_have_arrived(failed: Failed) -> bool {
    match failed {
        Failed::Network | Failed::Timeout => true,
        Failed::Status(status) => status == 429 || (500..=599).contains(&status),
        Failed::Other => false,
    }
}

/// Whether another attempt could succeed: what may not have arrived, except a timeout (its
/// budget is spent).
pub(crate) fn worth_retrying(failed: Failed) -> bool {
    failed != Failed::Timeout && may_not_have_arrived(failed)
}

/// First retry's backoff; each further retry doubles it, up to [`BACKOFF_CAP_MS`].
pub(crate) const BACKOFF_BASE_MS: u32 = 250;
/// The longest backoff between two attempts (without a `Retry-After`).
pub(crate) const BACKOFF_CAP_MS: u32 = 4_000;
/// A retry is only worth it if at least this much of the budget is left for its answer.
pub(crate) const MIN_ATTEMPT_MS: f64 = 200.0;

/// The inputs of the decision after a failed attempt.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AfterFailure {
    /// What the attempt came to.
    pub failed: Failed,
    /// Retries issued so far (0 after the first attempt).
    pub retried: u32,
    /// Retries allowed.
    pub retries: u32,
    /// The API's `Retry-After`, in ms, when it sent one the page can read.
    pub retry_after_ms: Option<f64>,
    /// Milliseconds left of the end's time budget.
    pub remaining_ms: f64,
    /// A random number in 0..1, for the jitter.
    pub random: f64,
}

/// The next step after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Wait this many ms, then try again.
    RetryIn(u32),
    /// Give up with this failure; `rearm`: the call stays armed for page-leave sending.
    GiveUp {
        /// Whether the end may not have reached the API.
        rearm: bool,
    },
}

/// After a failed attempt: retry (when worth it, allowed, and it fits the budget) or give up.
pub(crate) fn after_failure(input: AfterFailure) -> Next {
    let delay = if worth_retrying(input.failed) && input.retried < input.retries {
        retry_delay(
            input.retried,
            input.retry_after_ms,
            input.remaining_ms,
            input.random,
        )
    } else {
        None
    };
    match delay {
        Some(ms) => Next::RetryIn(ms),
        None => Next::GiveUp {
            rearm: may_not_have_arrived(input.failed),
        },
    }
}

/// How long to wait before retry number `retry` (0 for the first), or `None` when the wait
/// plus a useful attempt does not fit in `remaining_ms`. Without `retry_after_ms`: the
/// exponential backoff with "equal jitter" (half fixed, half `random` in 0..1), so that many
/// pages failing at once do not retry in lockstep.
pub(crate) fn retry_delay(
    retry: u32,
    retry_after_ms: Option<f64>,
    remaining_ms: f64,
    random: f64,
) -> Option<u32> {
    let delay = match retry_after_ms.filter(|ms| !ms.is_nan()) {
        Some(ms) if ms > 0.0 => ms,
        Some(_) => 0.0,
        None => {
            let backoff = f64::from(
                BACKOFF_BASE_MS
                    .saturating_mul(1 << retry.min(8))
                    .min(BACKOFF_CAP_MS),
            );
            let random = if random.is_finite() {
                random.clamp(0.0, 1.0)
            } else {
                0.5
            };
            backoff * (0.5 + 0.5 * random)
        }
    };
    if delay.is_nan() || delay + MIN_ATTEMPT_MS > remaining_ms {
        return None;
    }
    // Below remaining_ms ≤ 2^31 by the check above, so the cast is exact.
    Some(crate::options::ceil_u32(delay))
}

/// A `Retry-After` value in milliseconds from `now_ms`: delay-seconds, or an HTTP date
/// (RFC 9110 §10.2.3) read by `parse_date` (ms since the epoch). `None` if it is neither.
pub(crate) fn retry_after_ms(
    value: &str,
    now_ms: f64,
    parse_date: impl FnOnce(&str) -> Option<f64>,
) -> Option<f64> {
    let value = value.trim_ascii();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // By hand: `str::parse::<f64>` costs kilobytes of wasm. Long digit strings grow to
        // infinity, which no budget fits.
        let seconds = value
            .bytes()
            .fold(0.0, |acc, digit| acc * 10.0 + f64::from(digit - b'0'));
        return Some(seconds * 1000.0);
    }
    parse_date(value).map(|at| (at - now_ms).max(0.0))
}
