// The host page of tests/hostpage.test.mjs: an app page that uses the package under the
// Content Security Policy the test server sends with it. Query parameters:
//   api=<stand-in base URL>  (configure({baseUrl}) after a successful init)
//   cookie=1                 (set a first-party session cookie before anything else)
// Sets window.ready once its own script has run to the end, whatever init() did; exposes
// the package as window.lib / window.init and the init outcome as window.initOutcome.
import init, * as lib from '/dist/index.js';

const query = new URLSearchParams(location.search);

window.lib = lib;
window.init = init;

// CSP violations the page sees (the test checks its CSP is really enforced).
window.violations = [];
addEventListener('securitypolicyviolation', (event) => {
  window.violations.push({ directive: event.effectiveDirective, blockedURI: event.blockedURI });
});

// The host's own UI: must keep working whatever the library does.
let clicks = 0;
document.getElementById('button').addEventListener('click', () => {
  clicks += 1;
  document.getElementById('clicks').textContent = String(clicks);
});

if (query.get('cookie') === '1') document.cookie = 'session=s3cret; path=/';

/** Every way an app might turn an error into text, for the test to search for tokens. */
window.describe = function describe(error) {
  const text = (value) => {
    try {
      return String(value);
    } catch {
      return '<String() threw>';
    }
  };
  return {
    isEndCallError: error instanceof lib.EndCallError,
    isError: error instanceof Error,
    name: error?.name,
    kind: error?.kind,
    status: error?.status,
    message: error?.message,
    string: text(error),
    json: JSON.stringify(error) ?? null,
    stack: error?.stack ?? null,
    cause:
      error?.cause === undefined
        ? null
        : { message: error.cause?.message ?? null, string: text(error.cause), stack: error.cause?.stack ?? null },
  };
};

/** Run fn (sync or async) and report how it ended, errors described. */
window.outcome = async function outcome(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error: window.describe(error) };
  }
};

window.initOutcome = await window.outcome(() => init());
if (window.initOutcome.ok && query.has('api')) lib.configure({ baseUrl: query.get('api') });

// Still here after a rejected init: the host page goes on without the library.
document.getElementById('status').textContent = window.initOutcome.ok ? 'ready' : 'running without voice-end-call';
window.ready = true;
