// The page the e2e tests drive. Query parameters:
//   api=<stand-in base URL>  calls=<id>:<token>,...  beforeUnload=0  deferred=0  spy=1  confirm=1 (a host
//   "Leave page?" listener)  noinit=1 (do not call init)  relay=<same-origin path> (configure({relayUrl}):
//   page-leave ends no fetchLater holds go by sendBeacon to that relay route)  stopPagehide=1 (a host
//   capture `pagehide` listener, added after the import and before init(), that stops
//   propagation: the library's own listener never runs, js/beacon.js's, added at import, does)
// Sets window.ready once everything is tracked; exposes the package as window.lib.
import init, * as lib from '/dist/index.js';

const query = new URLSearchParams(location.search);

// spy=1: record each end request's init.keepalive in localStorage (synchronous, survives the
// page), so a test can check keepalive directly — in Firefox a non-keepalive fetch may also
// survive a navigation, so delivery alone proves nothing there.
if (query.has('spy')) {
  const original = window.fetch;
  window.fetch = function (url, init) {
    const id = decodeURIComponent(String(url).split('/calls/')[1]?.split('/')[0] ?? '');
    localStorage.setItem(`spy:${id}`, JSON.stringify({ keepalive: init?.keepalive === true }));
    return original.call(this, url, init);
  };
}
window.lib = lib;
window.init = init;

if (query.has('stopPagehide')) {
  addEventListener('pagehide', (event) => event.stopImmediatePropagation(), true);
}

if (!query.has('noinit')) {
  await init();
  lib.configure({
    baseUrl: query.get('api'),
    beforeUnload: query.get('beforeUnload') !== '0',
    deferred: query.get('deferred') !== '0',
    relayUrl: query.get('relay'), // null (absent): no relay
  });
  for (const pair of (query.get('calls') || '').split(',').filter(Boolean)) {
    const [callId, endToken] = pair.split(':');
    // Once per tab, like an app: a reloaded page must not re-arm the call its previous load
    // ended (the query string is still there after a reload).
    if (sessionStorage.getItem(`tracked:${callId}`)) continue;
    sessionStorage.setItem(`tracked:${callId}`, '1');
    lib.trackCall({ callId, endToken });
  }
  if (query.has('confirm')) {
    addEventListener('beforeunload', (event) => {
      event.preventDefault();
      event.returnValue = '';
    });
  }
}
window.ready = true;
