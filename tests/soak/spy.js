// Installed before the package loads (a classic script runs before module scripts).
//
// 1. A live count of window's listeners per event type, for the types the package uses.
//    The browser keeps one registration per (type, callback, capture) — adding the same one
//    again is a no-op, and removal matches on the same triple — so the spy keeps a Set of
//    those keys per type and its size is the truthful count. `once` and `signal` (which the
//    browser removes by itself) are not modelled: the package passes only the capture flag (a
//    boolean), and any call with an options object is counted in `withOptions`, so the test
//    can see the model held.
// 2. unhandledrejection and error events on window.
// 3. fetchLater calls and refusals (a refusal, e.g. QuotaExceededError, is swallowed by the
//    package, which then falls back to its own pagehide send; a leak of the browser's deferred
//    quota would show up here as refusals).
(() => {
  const WATCHED = ['pagehide', 'beforeunload', 'pageshow'];
  const spy = {
    registrations: Object.fromEntries(WATCHED.map((type) => [type, new Map()])),
    adds: Object.fromEntries(WATCHED.map((type) => [type, 0])),
    removes: Object.fromEntries(WATCHED.map((type) => [type, 0])),
    withOptions: 0,
    counts() {
      return Object.fromEntries(WATCHED.map((type) => [type, this.registrations[type].size]));
    },
    unhandledRejections: [],
    errors: [],
    fetchLater: { supported: typeof window.fetchLater === 'function', calls: 0, refused: {} },
  };
  window.__spy = spy;

  const captureOf = (options) =>
    typeof options === 'boolean' ? options : Boolean(options && typeof options === 'object' && options.capture);
  // A registration's identity: the callback object and the capture flag.
  const keyed = new WeakMap(); // callback -> {true: key, false: key}
  const keyOf = (callback, capture) => {
    let byCapture = keyed.get(callback);
    if (!byCapture) keyed.set(callback, (byCapture = {}));
    return (byCapture[capture] ??= { callback, capture });
  };

  const proto = EventTarget.prototype;
  const add = proto.addEventListener;
  const remove = proto.removeEventListener;
  proto.addEventListener = function (type, callback, options) {
    if (this === window && WATCHED.includes(type) && callback != null) {
      spy.adds[type] += 1;
      if (options !== undefined && typeof options !== 'boolean') spy.withOptions += 1;
      const key = keyOf(callback, captureOf(options));
      spy.registrations[type].set(key, true); // a Map keyed by identity dedupes like the browser
    }
    return add.call(this, type, callback, options);
  };
  proto.removeEventListener = function (type, callback, options) {
    if (this === window && WATCHED.includes(type) && callback != null) {
      spy.removes[type] += 1;
      if (options !== undefined && typeof options !== 'boolean') spy.withOptions += 1;
      spy.registrations[type].delete(keyOf(callback, captureOf(options)));
    }
    return remove.call(this, type, callback, options);
  };

  add.call(window, 'unhandledrejection', (event) => {
    const reason = event.reason;
    spy.unhandledRejections.push(
      reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason),
    );
  });
  add.call(window, 'error', (event) => {
    spy.errors.push(String(event.message || (event.error && event.error.message) || event.type));
  });

  if (spy.fetchLater.supported) {
    const original = window.fetchLater;
    window.fetchLater = function (...args) {
      spy.fetchLater.calls += 1;
      try {
        return original.apply(this, args);
      } catch (error) {
        const name = (error && error.name) || 'Error';
        spy.fetchLater.refused[name] = (spy.fetchLater.refused[name] ?? 0) + 1;
        throw error;
      }
    };
  }
})();
