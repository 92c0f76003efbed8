// The JS shell's readers, run in Node on the source files, no wasm, no browser: js/errors.js's
// reading of the caller's objects (configure, trackCall and endCall options), which the wasm
// validates value by value, and js/beacon.js's reading of the API's answers (status, body, the
// spec's EndCallResponse fields), whose meaning for the call the wasm decides. The behaviour
// through the library, in browsers, is in tests/badinput.test.mjs, tests/e2e.test.mjs,
// tests/faults.test.mjs and the wasm suites (tests/web_*.rs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndCallError, clip, readCall, readOptions } from '../js/errors.js';
import { endCallResponse, isDateTime, outcome } from '../js/beacon.js';

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

// The date-time check (moved here from the host tests of src/response.rs with the check).
test('isDateTime: RFC 3339 date-times, the offset optional, every field in range', () => {
  for (const ok of [
    '2026-11-24T10:00:00Z',
    '2026-11-24T10:00:00.123456+00:00',
    '2026-11-24t10:00:00z',
    '2026-11-24T23:59:60-05:30',
    '2026-11-24T10:00:00.5',
    '2026-11-24 10:00:00',
  ]) {
    assert.equal(isDateTime(ok), true, ok);
  }
  for (const bad of [
    '',
    '2026-11-24',
    '2026-13-24T10:00:00Z',
    '2026-11-24T24:00:00Z',
    '2026-11-24T10:00:00.Z',
    '2026-11-24T10:00:00+0000',
    '2026-11-24T10:00:00Zjunk',
    'yesterday',
    '2026-1-24T10:00:00Z',
    '2026-11-24T10:00:00Z\n',
    '２０２６-11-24T10:00:00Z',
  ]) {
    assert.equal(isDateTime(bad), false, bad);
  }
});

// mulberry32: seeded, and spread over every bit (the LCG above loses its low bits in doubles).
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('isDateTime, as a property: an accepted date has a real month, day, hour, minute, second', () => {
  const random = mulberry32(11);
  const pick = (chars) => chars[Math.floor(random() * chars.length)];
  const digits = (n) => Array.from({ length: n }, () => pick('0123456789')).join('');
  // Two digits, the first from 0, 1, 2, 3, 5 or 6 (so about as many fields land in range as out).
  const field = () => pick('012356') + pick('0123456789');
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    // The shape of the old property's generator: fields of two digits, any offset form.
    const s =
      `${digits(4)}-${field()}-${field()}${pick('Tt ')}${field()}:${field()}:${field()}` +
      (random() < 0.5 ? `.${digits(Math.floor(random() * 5))}` : '') +
      pick(['', 'Z', 'z', `+${field()}:${field()}`, `-${field()}:${field()}`, `+${digits(4)}`]) +
      (random() < 0.2 ? pick('az') : '');
    if (!isDateTime(s)) continue;
    accepted++;
    const at = (from) => Number(s.slice(from, from + 2));
    assert.ok(at(5) >= 1 && at(5) <= 12, s);
    assert.ok(at(8) >= 1 && at(8) <= 31, s);
    assert.ok(at(11) <= 23 && at(14) <= 59 && at(17) <= 60, s);
  }
  assert.ok(accepted > 200, `only ${accepted} accepted: the generator no longer reaches valid dates`);
  for (let i = 0; i < 2000; i++) assert.equal(typeof isDateTime(randomText(random, 40)), 'boolean');
});

const RESPONSE = {
  call_id: 'c1',
  status: 'ended',
  ended_at: '2026-11-24T10:00:00Z',
  actual_duration_seconds: 12.5,
  credits_used: 3,
};

test('endCallResponse: the spec\'s fields in camelCase, or why not, naming the first wrong field', () => {
  assert.deepEqual(endCallResponse(JSON.stringify({ ...RESPONSE, extra: 1 })), [
    true,
    { callId: 'c1', status: 'ended', endedAt: '2026-11-24T10:00:00Z', actualDurationSeconds: 12.5, creditsUsed: 3 },
  ]);
  assert.deepEqual(endCallResponse('<html>'), [false, 'it is not JSON']);
  assert.deepEqual(endCallResponse('[1]'), [false, 'it is not a JSON object']);
  assert.deepEqual(endCallResponse('null'), [false, 'it is not a JSON object']);
  assert.deepEqual(endCallResponse('{}'), [false, 'call_id is missing']);
  assert.deepEqual(endCallResponse(JSON.stringify({ ...RESPONSE, status: 1 })), [false, 'status is not a string']);
  assert.deepEqual(endCallResponse(JSON.stringify({ ...RESPONSE, ended_at: 'now' })), [
    false,
    'ended_at is not an ISO 8601 date-time string',
  ]);
  assert.deepEqual(endCallResponse(JSON.stringify({ ...RESPONSE, actual_duration_seconds: '1' })), [
    false,
    'actual_duration_seconds is not a number',
  ]);
  assert.deepEqual(endCallResponse(JSON.stringify({ ...RESPONSE, credits_used: null })), [
    false,
    'credits_used is not a number',
  ]);
});

test('outcome: what an attempt came to, for every kind of answer, from real Response objects', async () => {
  const answer = (body, status, headers) => Promise.resolve(new Response(body, { status, headers }));
  assert.deepEqual(await outcome(answer(JSON.stringify(RESPONSE), 200)), [
    0,
    200,
    { callId: 'c1', status: 'ended', endedAt: '2026-11-24T10:00:00Z', actualDurationSeconds: 12.5, creditsUsed: 3 },
  ]);
  const detail = [{ loc: ['path', 'call_id'], msg: 'bad', type: 'value_error' }];
  assert.deepEqual(await outcome(answer(JSON.stringify({ detail }), 422)), [1, 422, detail]);
  assert.deepEqual(await outcome(answer('not json', 422)), [1, 422, []]);
  assert.deepEqual(await outcome(answer('{}', 201)), [2, 201, 'call_id is missing']);
  assert.deepEqual(await outcome(answer('', 503, { 'Retry-After': '2' })), [3, 503, '2']);
  assert.deepEqual(await outcome(answer('', 404)), [3, 404, null]);
  const refused = new TypeError('Failed to fetch');
  assert.deepEqual(await outcome(Promise.reject(refused)), [4, 0, refused]);
  const [code, status, cause] = await outcome(Promise.resolve({ ok: true }));
  assert.deepEqual([code, status, cause instanceof TypeError], [4, 0, true]);
  const unreadable = { status: 200, text: () => Promise.reject(new Error('reset')) };
  const read = await outcome(Promise.resolve(unreadable));
  assert.deepEqual([read[0], read[1], read[2].message], [5, 200, 'reset']);
  // A wrapper's text() that resolves with no string reads as an empty body.
  assert.deepEqual(await outcome(Promise.resolve({ status: 200, text: async () => 42 })), [2, 200, 'it is not JSON']);
});
