// The URL of tests/e2e/page.html (see its header for the parameters): a page on `origin`
// that configures `api` as its baseUrl and tracks `calls` (connection-details objects).
export function e2ePageUrl(origin, api, calls, params = {}) {
  const query = new URLSearchParams({
    api,
    calls: calls.map((c) => `${c.call_id}:${c.end_token}`).join(','),
    ...params,
  });
  return `${origin}/e2e/page.html?${query}`;
}

/**
 * In an e2e page loaded with `noinit=1` (Playwright), call init() and log the page's
 * onCallEnded events in `window.ended` as `{callId, via, status}`. The listener is subscribed
 * before init's start-up task (one task after init resolves), so the ends that task starts
 * (the outbox replay, orphan recovery) are logged too.
 */
export function initLoggingEnds(page) {
  return page.evaluate(async () => {
    window.ended = [];
    await window.init();
    window.lib.onCallEnded((event) => window.ended.push({ callId: event.callId, via: event.via, status: event.response?.status }));
  });
}
