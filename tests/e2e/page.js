// The page the e2e tests drive. Query parameters:
//   api=<stand-in base URL>  calls=<id>:<token>,...  beforeUnload=0  deferred=0  confirm=1 (a host
//   "Leave page?" listener)  noinit=1 (do not call init)
// Sets window.ready once everything is tracked; exposes the package as window.lib.
import init, * as lib from '/dist/index.js';

const query = new URLSearchParams(location.search);
window.lib = lib;
window.init = init;

if (!query.has('noinit')) {
  await init();
  lib.configure({
    baseUrl: query.get('api'),
    beforeUnload: query.get('beforeUnload') !== '0',
    deferred: query.get('deferred') !== '0',
  });
  for (const pair of (query.get('calls') || '').split(',').filter(Boolean)) {
    const [callId, endToken] = pair.split(':');
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
