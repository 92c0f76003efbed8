// What the library says to the app, and reads from it: the error class shared by the JS
// wrapper and the wasm module (imported by both, so that `instanceof EndCallError` holds
// whichever side made the error), the walk over the caller's objects, and the onCallEnded
// subscribers. The Rust side (src/api.rs, src/options.rs, src/events.rs) checks every value
// and decides when to tell.

/** Every failure of voice-end-call is an EndCallError; `kind` says which. */
export class EndCallError extends Error {
  /**
   * @param {string} kind one of the documented kinds
   * @param {string} message what happened and what to do
   * @param {{status?: number, detail?: unknown[], cause?: unknown}} [extra]
   */
  constructor(kind, message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'EndCallError';
    this.kind = kind;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.detail !== undefined) this.detail = extra.detail;
  }
}

// Positional factory for the Rust side (cheaper to call from wasm than building an object).
export function createError(kind, message, status, detail, cause) {
  return new EndCallError(kind, message, { status, detail, cause });
}

// For the wasm, which is never thrown into: [true, f(...args)], or [false, the EndCallError it
// threw] (readOptions, readCall and subscribe throw nothing else). js/beacon.js has the same
// five lines for its own calls: the shell's three files import nothing from each other (each
// is a wasm-bindgen snippet of its own), and src/promise.rs's `pair` reads both.
function tried(f, args) {
  try {
    return [true, f(...args)];
  } catch (error) {
    return [false, error];
  }
}

export const tryReadOptions = (...args) => tried(readOptions, args);
export const tryReadCall = (...args) => tried(readCall, args);
export const trySubscribe = (...args) => tried(subscribe, args);

// ---- Reading the caller's objects (configure, trackCall, endCall options) ----
// The Rust side validates each value (src/api.rs, src/options.rs); walking untrusted objects is
// done here, where it costs a fraction of the bytes it costs from wasm. Anything that throws
// (a Proxy's traps, a revoked Proxy, a getter) becomes a typed 'config' error naming the key,
// with the exception as `cause`.

const configError = (message, cause) => new EndCallError('config', message, { cause });

/** At most 64 characters of caller text, without control characters, for a message. */
export function clip(text) {
  let out = '';
  let taken = 0;
  for (const c of text) {
    if (taken++ === 64) return out + '…';
    if (c >= ' ' && c !== '\x7f') out += c;
  }
  return out;
}

// `value` as a plain object (not null, an array or a function; prototype-less and other
// frames' objects count).
function plain(value, what) {
  let array;
  try {
    array = Array.isArray(value);
  } catch (cause) {
    throw configError(`inspecting ${what} threw an exception`, cause);
  }
  if (value === null || typeof value !== 'object' || array) throw configError(`${what} must be an object`);
  return value;
}

function read(object, key, owner) {
  try {
    return object[key];
  } catch (cause) {
    throw configError(`reading ${owner}.${clip(key)} threw an exception`, cause);
  }
}

/**
 * The options object of `fn` ("configure(options)", "endCall(callId, options)"): its own
 * enumerable keys as a flat [index in `known` (", "-separated), value, ...], in the object's
 * order. A key that is not known ends the list as [-1, its error], so that a bad value of an
 * earlier key is still reported first. With `skipUndefined`, keys set to undefined are left
 * out (unknown ones too).
 */
export function readOptions(value, fn, known, skipUndefined) {
  const what = `${fn}: options`;
  const object = plain(value, what);
  let keys;
  try {
    keys = Object.keys(object);
  } catch (cause) {
    throw configError(`inspecting ${what} threw an exception`, cause);
  }
  const names = known.split(', ');
  const out = [];
  for (const key of keys) {
    const found = read(object, key, 'options');
    if (skipUndefined && found === undefined) continue;
    const at = names.indexOf(key);
    if (at < 0) {
      out.push(-1, configError(`${fn}: unknown option "${clip(key)}". Known options: ${known}.`));
      break;
    }
    out.push(at, found);
  }
  return out;
}

/**
 * trackCall's argument, own properties only (a polluted Object.prototype must not supply an id
 * or a token): [callId, endToken, baseUrl, camelCase] from {callId, endToken, baseUrl?}, or
 * from the connection-details response {call_id, end_token} (camelCase false).
 */
export function readCall(value) {
  const what = 'trackCall(call): call';
  const call = plain(value, what);
  const has = (key) => {
    try {
      return Object.hasOwn(call, key);
    } catch (cause) {
      throw configError(`inspecting ${what} threw an exception`, cause);
    }
  };
  const get = (key) => (has(key) ? read(call, key, 'call') : undefined);
  if (has('callId') || has('endToken')) {
    const baseUrl = get('baseUrl');
    return [get('callId'), get('endToken'), baseUrl, true];
  }
  if (has('call_id')) {
    const token = get('end_token');
    if (token === null) {
      throw configError(
        'call.end_token is null: the API issued no end token for this call, so the browser cannot end it; end it from your backend',
      );
    }
    return [get('call_id'), token, undefined, false];
  }
  throw configError(`${what} must be {callId, endToken} or the connection-details response {call_id, end_token}`);
}

// ---- onCallEnded: the subscribers, told of every ended call ----

let subscribers = [];
// Calls ended as the page entered the back/forward cache, reported if it comes back.
let endedAsCached = [];

// Calls a page leave ended: told now (beforeunload: the page may stay after all), or, as the
// page enters the back/forward cache (`cached`), kept to report if it comes back.
export function endedOnLeave(cached, callIds) {
  if (cached) endedAsCached.push(...callIds);
  else for (const callId of callIds) emit(callId, 'beforeunload');
}

export function reportRestored() {
  const ended = endedAsCached;
  endedAsCached = [];
  for (const callId of ended) emit(callId, 'pagehide');
}

/** Subscribe; returns the unsubscribe function (calling it twice is harmless). */
export function subscribe(listener) {
  if (typeof listener !== 'function') throw configError('onCallEnded(listener): listener must be a function');
  subscribers.push(listener);
  return () => {
    subscribers = subscribers.filter((l) => l !== listener);
  };
}

/**
 * Tell every subscriber (as subscribed now) that `callId` was ended `via`, with the API's
 * `response` when there is one. A throwing subscriber is logged and does not stop the others
 * (nor escapes into a page-lifecycle handler).
 */
export function emit(callId, via, response) {
  const event = { callId, via };
  if (response !== undefined) event.response = response;
  for (const listener of subscribers.slice()) {
    try {
      listener(event);
    } catch (error) {
      try {
        console.error('voice-end-call: an onCallEnded listener threw', error);
      } catch {}
    }
  }
}
