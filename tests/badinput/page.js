// The page tests/badinput.test.mjs drives. It loads the built package, spies on everything that
// could reach the network (fetch, fetchLater), counts unhandled rejections and page errors, and
// holds the catalog of bad inputs. Those are made here, fresh for every use, because most of
// them cannot cross the driver boundary (Proxies, throwing getters, Symbols, BigInts, lone
// surrogates).
//
// window.badinput.runCatalog({ sentinel, group }) runs every case of a group once and returns the
// problems found; window.badinput.fuzz({ sentinel, seed, count }) runs `count` cases drawn by a
// seeded generator from the catalog and from random strings that are bad by construction.
// `sentinel` is the id of a good call tracked before: no bad call may untrack, end or re-token it.
import init, * as lib from '/dist/index.js';

const spy = { fetch: [], fetchLater: [], unhandled: [], errors: [] };
window.spy = spy;

const realFetch = window.fetch;
window.fetch = function (url, init) {
  spy.fetch.push(String(url));
  return realFetch.call(this, url, init);
};
if (typeof window.fetchLater === 'function') {
  const realFetchLater = window.fetchLater;
  window.fetchLater = function (url, init) {
    spy.fetchLater.push(String(url));
    return realFetchLater.call(this, url, init);
  };
}
addEventListener('unhandledrejection', (event) => spy.unhandled.push(describe(event.reason)));
addEventListener('error', (event) => spy.errors.push(String(event.message)));

/** In every bad token: an error message containing it quotes the token. */
const SECRET = 'SECRET_MARKER';
/** Where the package keeps ends it could not send (read back by init()). */
const OUTBOX_KEY = 'voice-end-call:outbox:v1';
const GOOD_TOKEN = 'et_well_formed_token';
const boom = () => {
  throw new Error('boom');
};
let freshCount = 0;
/** A well-formed id that is never tracked: a bad call must not start tracking it. */
const freshId = () => `call_fresh_${++freshCount}`;

const NOT_STRING = /must be a string/;
const NOT_OBJECT = /must be an object/;
const HEADER_UNSAFE = /contains spaces, line breaks, control or non-ASCII characters/;
const LONE = /contains a lone UTF-16 surrogate/;
const THREW = /threw an exception/;
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// A Proxy whose every trap throws (as an id or token: must not be touched at all).
const TRAPS = ['get', 'has', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf', 'apply', 'defineProperty', 'set', 'deleteProperty', 'isExtensible', 'preventExtensions', 'setPrototypeOf'];
const allTrapsThrow = () => new Proxy({}, Object.fromEntries(TRAPS.map((t) => [t, boom])));
const revoked = () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};

// [label, make(), why] — `make` returns a fresh bad value.
const BAD_IDS = [
  ['empty', () => '', /must be a non-empty string/],
  ['10 KB long', () => 'x'.repeat(10 * 1024), /longer than 1024 bytes/],
  ['1025 UTF-8 bytes (512 × é + x)', () => 'é'.repeat(512) + 'x', /longer than 1024 bytes/],
  ["'.'", () => '.', /must not be '\.' or '\.\.'/],
  ["'..'", () => '..', /must not be '\.' or '\.\.'/],
  ['lone high surrogate', () => 'call_\uD83D', LONE],
  ['lone low surrogate', () => '\uDE00call', LONE],
  ['reversed surrogate pair', () => '\uDE00\uD83D', LONE],
  ['number', () => 42, NOT_STRING],
  ['NaN', () => NaN, NOT_STRING],
  ['null', () => null, NOT_STRING],
  ['undefined', () => undefined, NOT_STRING],
  ['boolean', () => true, NOT_STRING],
  ['Symbol', () => Symbol('call_1'), NOT_STRING],
  ['BigInt', () => 10n ** 30n, NOT_STRING],
  ['array', () => ['call_1'], NOT_STRING],
  ['plain object', () => ({ callId: 'call_1' }), NOT_STRING],
  ['String object', () => new String('call_1'), NOT_STRING],
  ['function', () => function call_1() {}, NOT_STRING],
  ['object whose toString/valueOf/toPrimitive throw', () => ({ toString: boom, valueOf: boom, [Symbol.toPrimitive]: boom }), NOT_STRING],
  ['Proxy whose every trap throws', allTrapsThrow, NOT_STRING],
];

const BAD_TOKENS = [
  ['empty', () => '', /must be a non-empty string/],
  ['CR', () => `${SECRET}\r`, HEADER_UNSAFE],
  ['LF', () => `${SECRET}\nx`, HEADER_UNSAFE],
  ['CRLF header injection', () => `${SECRET}\r\nX-Injected: 1`, HEADER_UNSAFE],
  ['CRLF CRLF request splitting', () => `${SECRET}\r\n\r\nPOST /x HTTP/1.1`, HEADER_UNSAFE],
  ['NUL', () => `${SECRET}\0x`, HEADER_UNSAFE],
  ['tab', () => `${SECRET}\tx`, HEADER_UNSAFE],
  ['space', () => `${SECRET} x`, HEADER_UNSAFE],
  ['leading space', () => ` ${SECRET}`, HEADER_UNSAFE],
  ['DEL', () => `${SECRET}\x7f`, HEADER_UNSAFE],
  ['ESC', () => `${SECRET}\x1b`, HEADER_UNSAFE],
  ['Latin-1 ö', () => `${SECRET}ö`, HEADER_UNSAFE],
  ['U+010D U+010A (low bytes CR LF)', () => `${SECRET}\u010d\u010aX-Injected: 1`, HEADER_UNSAFE],
  ['U+560D U+560A (low bytes CR LF)', () => `${SECRET}\u560d\u560aX-Injected: 1`, HEADER_UNSAFE],
  ['U+2028 line separator', () => `${SECRET}\u2028`, HEADER_UNSAFE],
  ['emoji', () => `${SECRET}😀`, HEADER_UNSAFE],
  ['lone surrogate', () => `${SECRET}\uD800`, LONE],
  ['4097 bytes', () => SECRET + 'S'.repeat(4097 - SECRET.length), /longer than 4096 bytes/],
  ['10 KB', () => SECRET + 'S'.repeat(10 * 1024), /longer than 4096 bytes/],
  ['number', () => 12345, NOT_STRING],
  ['null', () => null, NOT_STRING],
  ['undefined', () => undefined, NOT_STRING],
  ['boolean', () => true, NOT_STRING],
  ['Symbol', () => Symbol(SECRET), NOT_STRING],
  ['BigInt', () => 12345n, NOT_STRING],
  ['array', () => [SECRET], NOT_STRING],
  ['plain object', () => ({ token: SECRET }), NOT_STRING],
  ['String object', () => new String(SECRET), NOT_STRING],
  ['function', () => function token() {}, NOT_STRING],
  ['object whose toString/valueOf/toPrimitive throw', () => ({ toString: boom, valueOf: boom, [Symbol.toPrimitive]: boom }), NOT_STRING],
  ['Proxy whose every trap throws', allTrapsThrow, NOT_STRING],
];

const PLAIN_HTTP = /plain http:\/\/ to a non-loopback host/;
const NOT_ABSOLUTE = /must be an absolute https:\/\/ URL or a path starting with '\/'/;
const NOT_ASCII = /must be ASCII without spaces or control characters/;
const BAD_BASES = [
  ['http:// to a non-loopback host', () => 'http://api.example.com', PLAIN_HTTP],
  ['http:// to a loopback look-alike', () => 'http://127.0.0.1.evil.example', PLAIN_HTTP],
  ['http:// to localhost.evil.example', () => 'http://localhost.evil.example', PLAIN_HTTP],
  ['javascript:', () => 'javascript:alert(1)', NOT_ABSOLUTE],
  ['data:', () => 'data:text/plain,x', NOT_ABSOLUTE],
  ['no scheme', () => 'api.example.com', NOT_ABSOLUTE],
  ['ftp://', () => 'ftp://api.example.com', /must use https:\/\//],
  ['protocol-relative //host', () => '//evil.example', /starts with '\/\/'/],
  ['credentials', () => 'https://user:pw@evil.example', /credentials/],
  ['query', () => 'https://api.example.com/?x=1', /must not contain '\?', '#' or '\\'/],
  ['fragment', () => 'https://api.example.com/#x', /must not contain '\?', '#' or '\\'/],
  ['backslash', () => 'https://api.example.com\\@evil.example', /must not contain '\?', '#' or '\\'/],
  ['CRLF', () => 'https://api.example.com/\r\nX-Injected: 1', NOT_ASCII],
  ['space', () => 'https://api.example.com/a b', NOT_ASCII],
  ['non-ASCII host', () => 'https://exämple.com', NOT_ASCII],
  ['lone surrogate', () => 'https://api.example.com/\uD800', LONE],
  ['empty', () => '', /must not be empty/],
  ['no host', () => 'https://', /has no host/],
  ['bad port', () => 'https://api.example.com:99999', /invalid port/],
  ['number', () => 443, NOT_STRING],
  ['null', () => null, NOT_STRING],
  ['URL object', () => new URL('https://api.example.com'), NOT_STRING],
  ['Proxy whose every trap throws', allTrapsThrow, NOT_STRING],
];

const BAD_TIMEOUTS = [
  ['0', () => 0, /must be a positive, finite number/],
  ['-1', () => -1, /must be a positive, finite number/],
  ['NaN', () => NaN, /must be a positive, finite number/],
  ['Infinity', () => Infinity, /must be a positive, finite number/],
  ['2^31', () => 2 ** 31, /must be at most 2147483647/],
  ['numeric string', () => '1000', /must be a number of milliseconds/],
  ['null', () => null, /must be a number of milliseconds/],
  ['BigInt', () => 1000n, /must be a number of milliseconds/],
  ['Number object', () => new Number(1000), /must be a number of milliseconds/],
  ['Symbol', () => Symbol('1000'), /must be a number of milliseconds/],
];

const BAD_RETRIES = [
  ['-1', () => -1],
  ['11', () => 11],
  ['1.5', () => 1.5],
  ['NaN', () => NaN],
  ['Infinity', () => Infinity],
  ['numeric string', () => '2'],
  ['null', () => null],
  ['boolean', () => true],
  ['BigInt', () => 2n],
  ['Number object', () => new Number(2)],
];

const BAD_TTLS = [
  ['0', () => 0],
  ['-1', () => -1],
  ['NaN', () => NaN],
  ['Infinity', () => Infinity],
  ['numeric string', () => '1000'],
  ['null', () => null],
  ['BigInt', () => 1000n],
];

const BAD_BOOLS = [
  ['"yes"', () => 'yes'],
  ['"false"', () => 'false'],
  ['1', () => 1],
  ['0', () => 0],
  ['null', () => null],
  ['Boolean object', () => new Boolean(false)],
  ['object', () => ({})],
];

// Not objects at all (configure's options, trackCall's call, endCall's options).
const NOT_OBJECTS = [
  ['null', () => null],
  ['undefined', () => undefined],
  ['number', () => 42],
  ['string', () => 'call_1'],
  ['boolean', () => true],
  ['Symbol', () => Symbol('x')],
  ['BigInt', () => 1n],
  ['array', () => ['call_1', GOOD_TOKEN]],
  ['function', () => Object.assign(function f() {}, { callId: 'call_1', endToken: GOOD_TOKEN, deferred: false })],
];

// Objects whose own enumerable keys include a prototype-polluting or unknown key.
const POLLUTING = [
  ['__proto__ (JSON.parse)', '__proto__', () => JSON.parse('{"__proto__": {"polluted": 1}}')],
  ['__proto__ (computed key)', '__proto__', () => ({ ['__proto__']: { polluted: 1 } })],
  ['__proto__ (defineProperty)', '__proto__', () => Object.defineProperty({}, '__proto__', { value: { polluted: 1 }, enumerable: true })],
  ['constructor', 'constructor', () => ({ constructor: { prototype: { polluted: 1 } } })],
  ['constructor (JSON.parse)', 'constructor', () => JSON.parse('{"constructor": {"prototype": {"polluted": 1}}}')],
  ['prototype', 'prototype', () => ({ prototype: { polluted: 1 } })],
  ['toString', 'toString', () => ({ toString: () => 'x' })],
  ['hasOwnProperty', 'hasOwnProperty', () => ({ hasOwnProperty: null })],
  ['__defineGetter__', '__defineGetter__', () => ({ __defineGetter__: boom })],
  ['empty key', '', () => ({ '': 1 })],
  ['10 KB key (quoted truncated)', 'k'.repeat(64) + '…', () => ({ ['k'.repeat(10 * 1024)]: 1 })],
  ['key with CRLF (quoted without it)', 'ab', () => ({ 'a\r\nb': 1 })],
];

/** Where the message must name the offending input, per function and input. */
const NAMES = {
  trackCall: { callId: /call\.callId/, call_id: /call\.call_id/, endToken: /call\.endToken/, end_token: /call\.end_token/, baseUrl: /call\.baseUrl/, call: /trackCall\(call\): call / },
  endCall: {
    callId: /endCall\(callId\): callId/,
    endToken: /options\.endToken/,
    baseUrl: /options\.baseUrl/,
    timeoutMs: /options\.timeoutMs/,
    retries: /options\.retries/,
    options: /endCall\(callId, options\): options/,
  },
  untrackCall: { callId: /untrackCall\(callId\): callId/ },
  configure: {
    baseUrl: /options\.baseUrl/,
    timeoutMs: /options\.timeoutMs/,
    retries: /options\.retries/,
    beforeUnload: /options\.beforeUnload/,
    deferred: /options\.deferred/,
    outbox: /options\.outbox /,
    outboxTtlMs: /options\.outboxTtlMs/,
    options: /configure\(options\): options/,
  },
};

/**
 * Every case: { fn, label, run() (calls the package), names, why, cause?, group? }.
 * `group: 'traps'`: Proxies whose traps throw and revoked Proxies (run by their own test).
 */
function buildCatalog(sentinel) {
  const cases = [];
  const add = (fn, label, args, names, why, extra = {}) => cases.push({ fn, label, run: () => lib[fn](...args()), names, why, ...extra });

  for (const [label, make, why] of BAD_IDS) {
    add('trackCall', `{callId: ${label}}`, () => [{ callId: make(), endToken: GOOD_TOKEN }], NAMES.trackCall.callId, why);
    add('trackCall', `{call_id: ${label}}`, () => [{ call_id: make(), end_token: GOOD_TOKEN }], NAMES.trackCall.call_id, why);
    add('endCall', `callId ${label}`, () => [make()], NAMES.endCall.callId, why);
    add('endCall', `callId ${label} with options.endToken`, () => [make(), { endToken: GOOD_TOKEN }], NAMES.endCall.callId, why);
    add('untrackCall', `callId ${label}`, () => [make()], NAMES.untrackCall.callId, why);
  }

  for (const [label, make, why] of BAD_TOKENS) {
    add('trackCall', `{endToken: ${label}}`, () => [{ callId: freshId(), endToken: make() }], NAMES.trackCall.endToken, why);
    add('trackCall', `sentinel re-tracked with {endToken: ${label}}`, () => [{ callId: sentinel, endToken: make() }], NAMES.trackCall.endToken, why);
    if (label === 'null') {
      add('trackCall', '{end_token: null} (connection-details without a token)', () => [{ call_id: freshId(), end_token: null }], NAMES.trackCall.end_token, /is null/);
    } else {
      add('trackCall', `{end_token: ${label}}`, () => [{ call_id: freshId(), end_token: make() }], NAMES.trackCall.end_token, why);
    }
    if (label === 'undefined') continue; // options.endToken: undefined means "not given"
    add('endCall', `options.endToken ${label}`, () => [freshId(), { endToken: make() }], NAMES.endCall.endToken, why);
    add('endCall', `sentinel with options.endToken ${label}`, () => [sentinel, { endToken: make() }], NAMES.endCall.endToken, why);
  }

  for (const [label, make, why] of BAD_BASES) {
    add('trackCall', `{baseUrl: ${label}}`, () => [{ callId: freshId(), endToken: GOOD_TOKEN, baseUrl: make() }], NAMES.trackCall.baseUrl, why);
    add('endCall', `options.baseUrl ${label}`, () => [freshId(), { endToken: GOOD_TOKEN, baseUrl: make() }], NAMES.endCall.baseUrl, why);
    add('endCall', `sentinel with options.baseUrl ${label}`, () => [sentinel, { baseUrl: make() }], NAMES.endCall.baseUrl, why);
    add('configure', `baseUrl ${label}`, () => [{ baseUrl: make() }], NAMES.configure.baseUrl, why);
  }

  for (const [label, make, why] of BAD_TIMEOUTS) {
    add('configure', `timeoutMs ${label}`, () => [{ timeoutMs: make() }], NAMES.configure.timeoutMs, why);
    add('endCall', `sentinel with options.timeoutMs ${label}`, () => [sentinel, { timeoutMs: make() }], NAMES.endCall.timeoutMs, why);
  }
  for (const [label, make] of BAD_RETRIES) {
    add('configure', `retries ${label}`, () => [{ retries: make() }], NAMES.configure.retries, /must be a whole number from 0 to 10/);
    add('endCall', `sentinel with options.retries ${label}`, () => [sentinel, { retries: make() }], NAMES.endCall.retries, /must be a whole number from 0 to 10/);
  }
  for (const [label, make] of BAD_TTLS) {
    add('configure', `outboxTtlMs ${label}`, () => [{ outboxTtlMs: make() }], NAMES.configure.outboxTtlMs, /must be a positive, finite number/);
  }
  for (const [label, make] of BAD_BOOLS) {
    for (const key of ['beforeUnload', 'deferred', 'outbox']) {
      add('configure', `${key} ${label}`, () => [{ [key]: make() }], NAMES.configure[key], /must be a boolean/);
    }
  }

  for (const [label, make] of NOT_OBJECTS) {
    add('trackCall', `call is ${label}`, () => [make()], NAMES.trackCall.call, NOT_OBJECT);
    add('configure', `options is ${label}`, () => [make()], NAMES.configure.options, NOT_OBJECT);
    // endCall(id, null | undefined) means "no options".
    if (label !== 'null' && label !== 'undefined') {
      add('endCall', `sentinel with options ${label}`, () => [sentinel, make()], NAMES.endCall.options, NOT_OBJECT);
    }
  }
  add('trackCall', 'call is {}', () => [{}], /trackCall\(call\): call must be \{callId, endToken\}/, /connection-details/);
  add('trackCall', 'call has only callId', () => [{ callId: freshId() }], NAMES.trackCall.endToken, NOT_STRING);
  add('trackCall', 'call has only endToken', () => [{ endToken: GOOD_TOKEN }], NAMES.trackCall.callId, NOT_STRING);
  add('trackCall', 'callId/endToken only on the prototype (JSON.parse __proto__ key)', () => [JSON.parse(`{"__proto__": {"callId": "call_proto", "endToken": "${GOOD_TOKEN}"}}`)], /must be \{callId, endToken\}/, /connection-details/);

  for (const [label, key, make] of POLLUTING) {
    const names = new RegExp(`unknown option "${escapeRe(key)}"`);
    add('configure', `unknown key ${label}`, () => [make()], names, /Known options: [^.]*baseUrl/);
    add('endCall', `sentinel with unknown option key ${label}`, () => [sentinel, make()], names, /Known options: [^.]*endToken/);
  }
  add('configure', 'unknown key baseurl (typo)', () => [{ baseurl: 'https://api.example.com' }], /unknown option "baseurl"/, /Known options/);
  for (const key of ['deferred', 'beforeUnload', 'outbox', 'outboxTtlMs']) {
    add('endCall', `sentinel with configure-only option ${key}`, () => [sentinel, { [key]: false }], new RegExp(`unknown option "${key}"`), /Known options: [^.]*endToken/);
  }

  // Throwing getters and Proxy traps.
  const getterOn = (object, key) => Object.defineProperty(object, key, { get: boom, enumerable: true });
  for (const key of ['callId', 'endToken', 'baseUrl']) {
    add('trackCall', `getter on ${key} throws`, () => [getterOn({ callId: freshId(), endToken: GOOD_TOKEN }, key)], new RegExp(`reading call\\.${key} threw`), THREW, { cause: 'boom' });
  }
  for (const key of ['call_id', 'end_token']) {
    add('trackCall', `getter on ${key} throws`, () => [getterOn({ call_id: freshId(), end_token: GOOD_TOKEN }, key)], new RegExp(`reading call\\.${key} threw`), THREW, { cause: 'boom' });
  }
  add('trackCall', 'Proxy: getOwnPropertyDescriptor trap throws', () => [new Proxy({ callId: freshId(), endToken: GOOD_TOKEN }, { getOwnPropertyDescriptor: boom })], /trackCall\(call\): call threw/, THREW, { cause: 'boom' });
  add('trackCall', 'Proxy: get trap throws', () => [new Proxy({ callId: freshId(), endToken: GOOD_TOKEN }, { get: boom })], /reading call\.\w+ threw/, THREW, { cause: 'boom' });
  // (A throwing getPrototypeOf or has trap is no reason to refuse: only own properties are read.)
  add('trackCall', 'Proxy: every trap throws', () => [allTrapsThrow()], NAMES.trackCall.call, THREW);
  for (const key of ['baseUrl', 'timeoutMs', 'retries', 'beforeUnload', 'deferred', 'outbox', 'outboxTtlMs']) {
    add('configure', `getter on ${key} throws`, () => [getterOn({}, key)], new RegExp(`reading options\\.${key} threw`), THREW, { cause: 'boom' });
  }
  add('configure', 'Proxy: get trap throws', () => [new Proxy({ deferred: false }, { get: boom })], /reading options\.deferred threw/, THREW, { cause: 'boom' });
  add('configure', 'Proxy: every trap throws', () => [allTrapsThrow()], NAMES.configure.options, THREW);
  add('endCall', 'sentinel with options a Proxy whose every trap throws', () => [sentinel, allTrapsThrow()], NAMES.endCall.options, THREW);
  for (const key of ['endToken', 'baseUrl', 'timeoutMs', 'retries']) {
    add('endCall', `getter on options.${key} throws`, () => [sentinel, getterOn({}, key)], new RegExp(`reading options\\.${key} threw`), THREW, { cause: 'boom' });
  }
  add('endCall', 'Proxy options: get trap throws', () => [sentinel, new Proxy({ timeoutMs: 5 }, { get: boom })], /reading options\.timeoutMs threw/, THREW, { cause: 'boom' });

  // Traps the library's own Object.keys / Array.isArray / Object.hasOwn calls run (they once
  // went straight through wasm as raw errors, and endCall threw synchronously).
  const bug = { group: 'traps' };
  add('configure', 'Proxy: ownKeys trap throws', () => [new Proxy({}, { ownKeys: boom })], NAMES.configure.options, THREW, bug);
  add('configure', 'Proxy: getOwnPropertyDescriptor trap throws', () => [new Proxy({ deferred: false }, { getOwnPropertyDescriptor: boom })], NAMES.configure.options, THREW, bug);
  add('configure', 'revoked Proxy', () => [revoked()], NAMES.configure.options, THREW, bug);
  add('trackCall', 'revoked Proxy', () => [revoked()], NAMES.trackCall.call, THREW, bug);
  add('endCall', 'sentinel with options a Proxy whose ownKeys trap throws', () => [sentinel, new Proxy({}, { ownKeys: boom })], NAMES.endCall.options, THREW, bug);
  add('endCall', 'sentinel with options a revoked Proxy', () => [sentinel, revoked()], NAMES.endCall.options, THREW, bug);
  return cases;
}

// ---- seeded random cases, bad by construction --------------------------------------------

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = (rand, list) => list[Math.floor(rand() * list.length)];

/** Random UTF-16: visible ASCII, URL/header specials, BMP, astral, and (possibly lone) surrogates. */
function randomText(rand, max) {
  let s = '';
  const length = Math.floor(rand() * (max + 1));
  for (let i = 0; i < length; i++) {
    const r = rand();
    if (r < 0.55) s += String.fromCharCode(0x21 + Math.floor(rand() * 94));
    else if (r < 0.7) s += pick(rand, ['\r', '\n', '\0', ' ', '\t', '\x7f', '/', '?', '#', '%', '.', '\\', '@', ':']);
    else if (r < 0.85) s += String.fromCharCode(0x80 + Math.floor(rand() * (0xd800 - 0x80)));
    else if (r < 0.93) s += String.fromCodePoint(0x10000 + Math.floor(rand() * 0xfffff));
    else s += String.fromCharCode(0xd800 + Math.floor(rand() * 0x800));
  }
  return s;
}

/** An id refused whatever the random part: a lone surrogate at an end, or too long. */
function randomBadId(rand) {
  const r = rand();
  if (r < 0.45) return '\uDC00' + randomText(rand, 30); // a low surrogate first is always lone
  if (r < 0.9) return randomText(rand, 30) + '\uD800'; // a high surrogate last is always lone
  return randomText(rand, 30) + 'x'.repeat(1025);
}

/** A token refused whatever the random part: a non-header-safe character, lone surrogate or too long. */
function randomBadToken(rand) {
  const s = randomText(rand, 30);
  const r = rand();
  if (r < 0.8) {
    const at = Math.floor(rand() * (s.length + 1));
    const bad = pick(rand, ['\r', '\n', '\r\n', '\0', ' ', '\t', '\x7f', '\x1b', 'é', '\u2028', '\u560a', '😀']);
    return SECRET + s.slice(0, at) + bad + s.slice(at);
  }
  if (r < 0.9) return SECRET + s + '\uD800';
  return SECRET + 'S'.repeat(4097) + s;
}

function randomBadBase(rand) {
  const bad = pick(rand, ['?', '#', '\\', ' ', '\r\n', '\0', 'é', '\uD800']);
  return pick(rand, ['https://api.example.com/', 'http://127.0.0.1:9/', '/voice-proxy/']) + randomText(rand, 10) + bad;
}

function randomCase(rand, sentinel) {
  const ID_WHY = /contains a lone UTF-16 surrogate|longer than 1024 bytes/;
  const TOKEN_WHY = /contains spaces, line breaks, control or non-ASCII characters|contains a lone UTF-16 surrogate|longer than 4096 bytes/;
  const shapes = [
    ['trackCall', 'random {callId}', () => [{ callId: randomBadId(rand), endToken: GOOD_TOKEN }], NAMES.trackCall.callId, ID_WHY],
    ['trackCall', 'random {call_id}', () => [{ call_id: randomBadId(rand), end_token: GOOD_TOKEN }], NAMES.trackCall.call_id, ID_WHY],
    ['trackCall', 'random {endToken}', () => [{ callId: freshId(), endToken: randomBadToken(rand) }], NAMES.trackCall.endToken, TOKEN_WHY],
    ['trackCall', 'sentinel, random {endToken}', () => [{ callId: sentinel, endToken: randomBadToken(rand) }], NAMES.trackCall.endToken, TOKEN_WHY],
    ['trackCall', 'random {end_token}', () => [{ call_id: freshId(), end_token: randomBadToken(rand) }], NAMES.trackCall.end_token, TOKEN_WHY],
    ['trackCall', 'random {baseUrl}', () => [{ callId: freshId(), endToken: GOOD_TOKEN, baseUrl: randomBadBase(rand) }], NAMES.trackCall.baseUrl, /./],
    ['endCall', 'random callId', () => [randomBadId(rand), { endToken: GOOD_TOKEN }], NAMES.endCall.callId, ID_WHY],
    ['endCall', 'random options.endToken', () => [freshId(), { endToken: randomBadToken(rand) }], NAMES.endCall.endToken, TOKEN_WHY],
    ['endCall', 'sentinel, random options.endToken', () => [sentinel, { endToken: randomBadToken(rand) }], NAMES.endCall.endToken, TOKEN_WHY],
    ['endCall', 'sentinel, random options.baseUrl', () => [sentinel, { baseUrl: randomBadBase(rand) }], NAMES.endCall.baseUrl, /./],
    ['untrackCall', 'random callId', () => [randomBadId(rand)], NAMES.untrackCall.callId, ID_WHY],
    ['configure', 'random baseUrl', () => [{ baseUrl: randomBadBase(rand) }], NAMES.configure.baseUrl, /./],
  ];
  const [fn, label, args, names, why] = pick(rand, shapes);
  return { fn, label, run: () => lib[fn](...args()), names, why };
}

// ---- running and checking ------------------------------------------------------------------

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).join();
/** Anything added to Object.prototype, or visible on a fresh object. */
function pollution() {
  const found = [];
  if (Object.getOwnPropertyNames(Object.prototype).join() !== PROTOTYPE_KEYS) found.push('Object.prototype gained keys');
  for (const key of ['polluted', 'callId', 'endToken', 'call_id', 'end_token', 'baseUrl']) {
    if ({}[key] !== undefined) found.push(`({}).${key} is defined`);
  }
  return found;
}

function describe(value) {
  try {
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    return typeof value === 'symbol' ? value.toString() : String(value);
  } catch {
    return '<undescribable>';
  }
}

function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Run one case; returns the problems found (empty when the case behaved). */
async function runCase(c, expectedTracked) {
  const where = `${c.fn} ← ${c.label}`;
  const problems = [];
  const fetches = spy.fetch.length;
  const fetchLaters = spy.fetchLater.length;
  const outbox = localStorage.getItem(OUTBOX_KEY);
  let outcome;
  let error;
  let value;
  try {
    value = c.run();
    outcome = 'returned';
    if (c.fn === 'endCall') {
      if (!(value instanceof Promise)) problems.push(`${where}: endCall returned ${describe(value)}, not a Promise`);
      try {
        value = await value;
        outcome = 'resolved';
      } catch (e) {
        outcome = 'rejected';
        error = e;
      }
    }
  } catch (e) {
    outcome = 'threw';
    error = e;
  }
  {
    const expected = c.fn === 'endCall' ? 'rejected' : 'threw';
    if (outcome !== expected) problems.push(`${where}: ${outcome} (${describe(error ?? value)}) instead of being ${expected}`);
    if (error !== undefined) {
      if (!(error instanceof lib.EndCallError)) {
        problems.push(`${where}: ${describe(error)} is not an EndCallError`);
      } else {
        if (error.kind !== 'config') problems.push(`${where}: kind '${error.kind}', not 'config' (${error.message})`);
        if (!c.names.test(error.message)) problems.push(`${where}: message does not name ${c.names}: ${JSON.stringify(error.message)}`);
        if (!c.why.test(error.message)) problems.push(`${where}: message does not say ${c.why}: ${JSON.stringify(error.message)}`);
        if (c.cause && error.cause?.message !== c.cause) problems.push(`${where}: cause is ${describe(error.cause)}, not the thrown '${c.cause}'`);
      }
    }
  }
  // Whatever was thrown: never a token in it, nothing sent or stored, nothing (un)tracked, no
  // pollution.
  if (error !== undefined && describe(error).includes(SECRET)) problems.push(`${where}: the error quotes the token: ${describe(error)}`);
  if (spy.fetch.length !== fetches) problems.push(`${where}: fetch called: ${spy.fetch.slice(fetches).join(' ')}`);
  if (spy.fetchLater.length !== fetchLaters) problems.push(`${where}: fetchLater called: ${spy.fetchLater.slice(fetchLaters).join(' ')}`);
  if (localStorage.getItem(OUTBOX_KEY) !== outbox) problems.push(`${where}: the outbox in localStorage changed`);
  const tracked = lib.trackedCalls();
  if (!sameList(tracked, expectedTracked)) problems.push(`${where}: tracked calls are now ${JSON.stringify(tracked)}`);
  for (const p of pollution()) problems.push(`${where}: ${p}`);
  return { problems, outcome, typedConfig: error instanceof lib.EndCallError && error.kind === 'config' };
}

async function runAll(cases, expectedTracked) {
  const problems = [];
  const byFn = {};
  let typedConfig = 0;
  for (const c of cases) {
    const result = await runCase(c, expectedTracked);
    problems.push(...result.problems);
    byFn[c.fn] = (byFn[c.fn] ?? 0) + 1;
    if (result.typedConfig) typedConfig += 1;
  }
  return { count: cases.length, byFn, typedConfig, problems };
}

window.badinput = {
  SECRET,
  /** group: 'traps' (just the throwing/revoked Proxy cases) or undefined (all the others). */
  runCatalog({ sentinel, group }) {
    const cases = buildCatalog(sentinel).filter((c) => c.group === group);
    return runAll(cases, lib.trackedCalls());
  },
  /**
   * `count` seeded draws: 45% from the catalog, 10% from its Proxy-trap cases (raw errors
   * unwinding through wasm were the likeliest way to leave state behind), 45% random bad
   * strings.
   */
  fuzz({ sentinel, seed, count }) {
    const rand = mulberry32(seed);
    const catalog = buildCatalog(sentinel);
    const plain = catalog.filter((c) => c.group === undefined);
    const traps = catalog.filter((c) => c.group === 'traps');
    const draw = () => {
      const r = rand();
      if (r < 0.45) return pick(rand, plain);
      if (r < 0.55) return pick(rand, traps);
      return randomCase(rand, sentinel);
    };
    const cases = Array.from({ length: count }, draw);
    return runAll(cases, lib.trackedCalls());
  },
  pollution,
};
window.lib = lib;

await init();
window.ready = true;
