// js/errors.js's reading of the caller's objects (configure, trackCall and endCall options),
// which the wasm validates value by value: run in Node on the source file, no wasm, no browser.
// The behaviour through the library, in browsers, is in tests/badinput.test.mjs and the wasm
// suites (tests/web_*.rs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndCallError, clip, readCall, readOptions } from '../js/errors.js';

const KNOWN = 'baseUrl, timeoutMs, retries';

function configError(fn) {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EndCallError, String(error));
    assert.equal(error.kind, 'config');
    return error;
  }
  assert.fail('did not throw');
}

/** Random text: ASCII, control characters, astral characters and lone surrogates. */
function randomText(random, max) {
  const pool = ['a', 'Z', ' ', '\n', '\x7f', '\x00', 'é', '😀', '\uD800', '\uDC00', '…', '"'];
  let out = '';
  const length = Math.floor(random() * max);
  for (let i = 0; i < length; i++) out += pool[Math.floor(random() * pool.length)];
  return out;
}

function seeded(seed) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

test('clip: the first 64 characters without control characters, and … when there were more', () => {
  assert.equal(clip('abc'), 'abc');
  assert.equal(clip('a\nb'), 'ab');
  assert.equal([...clip('x'.repeat(100))].length, 65);
  const random = seeded(7);
  for (let i = 0; i < 2000; i++) {
    const s = randomText(random, 140);
    const chars = [...s];
    const quoted = clip(s);
    const more = chars.length > 64;
    const expected = chars.slice(0, 64).filter((c) => c >= ' ' && c !== '\x7f').join('');
    assert.equal(more ? quoted.slice(0, -1) : quoted, expected, JSON.stringify(s));
    assert.equal(quoted.endsWith('…') && more, more);
    assert.ok(![...quoted].some((c) => c < ' ' || c === '\x7f'));
  }
});

test('readOptions: known keys in the object\'s order, numbered as known; undefined kept or skipped', () => {
  assert.deepEqual(readOptions({ retries: 1, baseUrl: 'x' }, 'f()', KNOWN, false), [2, 1, 0, 'x']);
  assert.deepEqual(readOptions({ retries: undefined }, 'f()', KNOWN, false), [2, undefined]);
  assert.deepEqual(readOptions({ retries: undefined, other: undefined }, 'f()', KNOWN, true), []);
  assert.deepEqual(readOptions(Object.create(null), 'f()', KNOWN, false), []);
  // Inherited and non-enumerable keys are not options.
  const withProto = Object.create({ retries: 3 });
  Object.defineProperty(withProto, 'timeoutMs', { value: 5, enumerable: false });
  assert.deepEqual(readOptions(withProto, 'f()', KNOWN, false), []);
});

test('readOptions: an unknown key ends the list with its error, after the keys before it', () => {
  const out = readOptions({ timeoutMs: -1, 'bad\nkey': 1, baseUrl: 'x' }, 'configure(options)', KNOWN, false);
  assert.equal(out.length, 4);
  assert.deepEqual(out.slice(0, 2), [1, -1]);
  assert.equal(out[2], -1);
  assert.ok(out[3] instanceof EndCallError);
  assert.equal(out[3].kind, 'config');
  assert.equal(out[3].message, 'configure(options): unknown option "badkey". Known options: baseUrl, timeoutMs, retries.');
});

test('readOptions: not an object, and anything that throws, are config errors naming what', () => {
  for (const value of [null, undefined, 1, 'x', [], () => {}, true]) {
    const error = configError(() => readOptions(value, 'endCall(callId, options)', KNOWN, true));
    assert.equal(error.message, 'endCall(callId, options): options must be an object');
  }
  const boom = new Error('boom');
  const getter = configError(() => readOptions({ get retries() { throw boom; } }, 'f()', KNOWN, false));
  assert.equal(getter.message, 'reading options.retries threw an exception');
  assert.equal(getter.cause, boom);
  const trap = configError(() => readOptions(new Proxy({}, { ownKeys() { throw boom; } }), 'f()', KNOWN, false));
  assert.equal(trap.message, 'inspecting f(): options threw an exception');
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  assert.equal(configError(() => readOptions(proxy, 'f()', KNOWN, false)).message, 'inspecting f(): options threw an exception');
});

test('readCall: both shapes, own properties only, and the errors of each', () => {
  assert.deepEqual(readCall({ callId: 'a', endToken: 't', baseUrl: '/p', other: 1 }), ['a', 't', '/p', true]);
  assert.deepEqual(readCall({ endToken: 't' }), [undefined, 't', undefined, true]);
  assert.deepEqual(readCall({ call_id: 'a', end_token: 't', baseUrl: '/ignored' }), ['a', 't', undefined, false]);
  // Inherited ids and tokens are not the call's.
  const polluted = Object.create({ callId: 'a', endToken: 't' });
  assert.match(configError(() => readCall(polluted)).message, /must be \{callId, endToken\} or the connection-details response/);
  assert.equal(
    configError(() => readCall({ call_id: 'a', end_token: null })).message,
    'call.end_token is null: the API issued no end token for this call, so the browser cannot end it; end it from your backend',
  );
  assert.equal(configError(() => readCall('a')).message, 'trackCall(call): call must be an object');
  const boom = new Error('boom');
  const getter = configError(() => readCall({ endToken: 't', get callId() { throw boom; } }));
  assert.equal(getter.message, 'reading call.callId threw an exception');
  assert.equal(getter.cause, boom);
  const trap = configError(() => readCall(new Proxy({}, { getOwnPropertyDescriptor() { throw boom; } })));
  assert.equal(trap.message, 'inspecting trackCall(call): call threw an exception');
});
