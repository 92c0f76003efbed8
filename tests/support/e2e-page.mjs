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
