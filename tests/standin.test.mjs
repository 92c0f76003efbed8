// Tests for the Voice AI stand-in (tests/support/standin.mjs).
// Run: node --test tests/standin.test.mjs
//
// Response bodies are checked against the OpenAPI contract itself, so the
// stand-in cannot silently drift from spec/end-call.openapi.yaml.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { sleep, waitFor } from './support/records.mjs';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { startStandin } from './support/standin.mjs';

const SPEC_PATH = fileURLToPath(new URL('../spec/end-call.openapi.yaml', import.meta.url));
const STANDIN_PATH = fileURLToPath(new URL('./support/standin.mjs', import.meta.url));
const SPEC_ID = 'end-call.openapi.yaml';
const API_KEY = 'vk_test_key_do_not_leak';
const LOOPBACK_ORIGIN = 'http://localhost:5173';

let standin;
let validateEnd;
let validateHttpError;

before(async () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // The whole OpenAPI document is registered so internal $refs
  // (#/components/schemas/ValidationError) resolve exactly as written.
  ajv.addSchema(YAML.parse(await readFile(SPEC_PATH, 'utf8')), SPEC_ID);
  validateEnd = ajv.getSchema(`${SPEC_ID}#/components/schemas/EndCallResponse`);
  validateHttpError = ajv.getSchema(`${SPEC_ID}#/components/schemas/HTTPValidationError`);
  assert.equal(typeof validateEnd, 'function', 'EndCallResponse schema not found in spec');
  assert.equal(typeof validateHttpError, 'function', 'HTTPValidationError schema not found in spec');

  standin = await startStandin({ apiKey: API_KEY });
});

after(() => standin?.close());

// reset() deliberately leaves the delay knobs alone, so restore them too.
beforeEach(() => {
  standin.state.reset();
  standin.state.configure({ preflightDelayMs: 0, endDelayMs: 0 });
});

// ---- helpers -----------------------------------------------------------

function assertValid(validate, body, label) {
  assert.ok(validate(body), `${label} violates the contract: ${JSON.stringify(validate.errors)}\n${JSON.stringify(body)}`);
}

async function mint(headers = { authorization: `Bearer ${API_KEY}` }) {
  const res = await fetch(`${standin.url}/api/v1/connection/connection-details`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ agent_id: 'agent_test' }),
  });
  return { res, body: await res.json() };
}

async function newCall() {
  const { res, body } = await mint();
  assert.equal(res.status, 200);
  return body;
}

function endUrl(segment, query = '') {
  return `${standin.url}/api/v1/calls/${segment}/end${query}`;
}

async function end(segment, { token, headers = {}, query = '' } = {}) {
  const res = await fetch(endUrl(segment, query), {
    method: 'POST',
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
  });
  const text = await res.text();
  const json = /^application\/json/.test(res.headers.get('content-type') ?? '');
  return { res, text, body: json && text ? JSON.parse(text) : undefined };
}

async function control(path, body) {
  const res = await fetch(`${standin.url}/__standin/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body }),
  });
  return { res, text: await res.text() };
}

function corsHeaderNames(res) {
  return [...res.headers.keys()].filter((name) => name.startsWith('access-control-'));
}

// ---- contract validator sanity -----------------------------------------

test('contract validators reject bodies that break the spec', () => {
  // Guards against a validator that would accept anything (e.g. a wrong ref).
  assert.equal(validateEnd({}), false);
  assert.equal(
    validateEnd({ call_id: 'c', status: 'ended', ended_at: 'yesterday', actual_duration_seconds: 1, credits_used: 0 }),
    false,
    'date-time format must be enforced',
  );
  assert.equal(
    validateEnd({ call_id: 'c', status: 'ended', ended_at: new Date().toISOString(), actual_duration_seconds: '1', credits_used: 0 }),
    false,
  );
  assert.equal(validateHttpError({ detail: 'Call not found' }), false);
  assert.equal(validateHttpError({ detail: [{ loc: ['path'], msg: 'x' }] }), false, 'ValidationError.type is required');
});

// ---- connection-details ------------------------------------------------

test('connection-details requires the API key', async () => {
  for (const headers of [{}, { authorization: 'Bearer vk_wrong' }, { authorization: API_KEY }]) {
    const { res, body } = await mint(headers);
    assert.equal(res.status, 401, `headers ${JSON.stringify(headers)}`);
    assert.equal(typeof body.detail, 'string');
  }
});

test('connection-details returns the documented shape, unique per call', async () => {
  const a = await newCall();
  const b = await newCall();
  assert.deepEqual(Object.keys(a).sort(), ['call_id', 'end_token', 'participant_token', 'server_url']);
  assert.equal(a.server_url, 'wss://standin.invalid/rtc');
  assert.match(a.participant_token, /^pt_[0-9a-f]+$/);
  assert.match(a.call_id, /^call_[0-9a-f]{24}$/);
  assert.match(a.end_token, /^et_[0-9a-f]{32}$/);
  assert.notEqual(a.call_id, b.call_id);
  assert.notEqual(a.end_token, b.end_token);
});

test('connection-details tolerates an empty or non-JSON body', async () => {
  for (const body of [undefined, '', '{not json']) {
    const res = await fetch(`${standin.url}/api/v1/connection/connection-details`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
      body,
    });
    assert.equal(res.status, 200, `body ${JSON.stringify(body)}`);
    assert.match((await res.json()).call_id, /^call_/);
  }
});

// ---- end call ----------------------------------------------------------

test('200 end response matches EndCallResponse and is recorded', async () => {
  const call = await newCall();
  await sleep(250);
  const before = Date.now();
  const { res, body } = await end(call.call_id, { token: call.end_token, query: '?actual_duration_seconds=12' });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assertValid(validateEnd, body, 'EndCallResponse');
  assert.equal(body.call_id, call.call_id);
  assert.equal(body.status, 'ended');
  assert.ok(Math.abs(Date.parse(body.ended_at) - before) < 5000, `ended_at ${body.ended_at} is not now`);
  assert.ok(body.actual_duration_seconds >= 0.2 && body.actual_duration_seconds < 10, `duration ${body.actual_duration_seconds}`);
  assert.equal(body.actual_duration_seconds, Math.round(body.actual_duration_seconds * 10) / 10, 'one decimal');

  const [record, ...rest] = standin.state.records({ callId: call.call_id });
  assert.equal(rest.length, 0);
  assert.equal(record.status, 200);
  assert.equal(record.auth, 'valid');
  assert.equal(record.duplicate, false);
  assert.equal(record.cookie, false);
  assert.equal(record.origin, null);
  assert.equal(record.rawPath, `/api/v1/calls/${call.call_id}/end`);
  assert.equal(record.query, 'actual_duration_seconds=12');
  assert.ok(record.receivedAt >= before && record.receivedAt <= Date.now());
  assert.equal(record.headers['sec-fetch-mode'], 'cors');
});

test('401 for a missing, wrong or API-key bearer; the call stays open', async () => {
  const call = await newCall();
  const attempts = [
    [{}, 'missing'],
    [{ token: 'et_00000000000000000000000000000000' }, 'wrong'],
    [{ token: API_KEY }, 'wrong'], // the API key must not end calls
    [{ token: `${call.end_token}x` }, 'wrong'],
    [{ headers: { authorization: call.end_token } }, 'wrong'], // no Bearer scheme
  ];
  for (const [opts, auth] of attempts) {
    const { res, body } = await end(call.call_id, opts);
    assert.equal(res.status, 401, JSON.stringify(opts));
    assert.equal(typeof body.detail, 'string');
  }
  assert.deepEqual(
    standin.state.records({ callId: call.call_id }).map((r) => [r.status, r.auth]),
    attempts.map(([, auth]) => [401, auth]),
  );

  const ok = await end(call.call_id, { token: call.end_token });
  assert.equal(ok.res.status, 200);
  assert.equal(standin.state.records({ callId: call.call_id }).at(-1).duplicate, false, 'a 401 must not count as an end');
});

test("404 for a well-formed id that was never minted, even with another call's token", async () => {
  const other = await newCall();
  const { res, body } = await end('call_000000000000000000000000', { token: other.end_token });
  assert.equal(res.status, 404);
  assert.deepEqual(body, { detail: 'Call not found' });
  const [record] = standin.state.records({ callId: 'call_000000000000000000000000' });
  assert.equal(record.status, 404);
  assert.equal(record.auth, 'wrong');
});

test('422 HTTPValidationError for an encoded slash and for malformed encoding', async () => {
  for (const [segment, callId] of [['a%2Fb', 'a/b'], ['a%20b', 'a b'], ['%E0%A4%A', null]]) {
    const { res, body } = await end(segment, { token: 'et_x' });
    assert.equal(res.status, 422, segment);
    assertValid(validateHttpError, body, `HTTPValidationError for ${segment}`);
    assert.deepEqual(body.detail[0].loc, ['path', 'call_id']);
    const record = standin.state.records().at(-1);
    assert.equal(record.rawPath, `/api/v1/calls/${segment}/end`);
    assert.equal(record.callId, callId);
    assert.equal(record.status, 422);
  }
  // An unencoded slash is a different path altogether, still recorded.
  const { res } = await end('a/b', { token: 'et_x' });
  assert.equal(res.status, 404);
  const { rawPath, callId, status } = standin.state.records().at(-1);
  assert.deepEqual([rawPath, callId, status], ['/api/v1/calls/a/b/end', null, 404]);
});

test('repeated ends answer the identical body and are recorded as duplicates', async () => {
  const call = await newCall();
  const first = await end(call.call_id, { token: call.end_token });
  await sleep(120); // a fresh answer would now have a different ended_at/duration
  const second = await end(call.call_id, { token: call.end_token });
  const third = await end(call.call_id, { token: call.end_token });
  assert.equal(first.res.status, 200);
  assert.equal(second.res.status, 200);
  assert.equal(third.res.status, 200);
  assertValid(validateEnd, second.body, 'duplicate EndCallResponse');
  assert.equal(second.text, first.text);
  assert.equal(third.text, first.text);
  assert.deepEqual(
    standin.state.records({ callId: call.call_id }).map((r) => [r.status, r.duplicate]),
    [[200, false], [200, true], [200, true]],
  );
});

test('endDelayMs delays end answers', async () => {
  const call = await newCall();
  standin.state.configure({ endDelayMs: 200 });
  const t0 = performance.now();
  const { res } = await end(call.call_id, { token: call.end_token });
  const elapsed = performance.now() - t0;
  assert.equal(res.status, 200);
  assert.ok(elapsed >= 200, `answered after ${elapsed.toFixed(1)} ms`);
});

// ---- CORS --------------------------------------------------------------

test('preflight from a loopback origin gets CORS headers after preflightDelayMs', async () => {
  const call = await newCall();
  const cfg = await control('config', JSON.stringify({ preflightDelayMs: 300 }));
  assert.equal(cfg.res.status, 200);
  assert.equal(JSON.parse(cfg.text).preflightDelayMs, 300);

  const t0 = performance.now();
  const res = await fetch(endUrl(call.call_id), {
    method: 'OPTIONS',
    headers: {
      origin: LOOPBACK_ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });
  const elapsed = performance.now() - t0;
  assert.equal(res.status, 204);
  assert.ok(elapsed >= 300, `preflight answered after ${elapsed.toFixed(1)} ms`);
  assert.equal(res.headers.get('access-control-allow-origin'), LOOPBACK_ORIGIN);
  assert.equal(res.headers.get('access-control-allow-methods'), 'POST, GET, OPTIONS');
  assert.equal(res.headers.get('access-control-allow-headers'), 'authorization, content-type');
  assert.equal(res.headers.get('access-control-max-age'), '0');
  assert.equal(res.headers.get('access-control-allow-credentials'), null);
  assert.match(res.headers.get('vary') ?? '', /\bOrigin\b/);

  const [preflight, ...rest] = standin.state.preflights({ callId: call.call_id });
  assert.equal(rest.length, 0);
  assert.equal(preflight.path, `/api/v1/calls/${call.call_id}/end`);
  assert.equal(preflight.origin, LOOPBACK_ORIGIN);
  assert.equal(preflight.requestMethod, 'POST');
  assert.equal(preflight.requestHeaders, 'authorization,content-type');
  assert.equal(typeof preflight.receivedAt, 'number');
  assert.equal(standin.state.records({ callId: call.call_id }).length, 0, 'a preflight is not an end request');

  // The knob is live: back to 0 answers promptly.
  standin.state.configure({ preflightDelayMs: 0 });
  const t1 = performance.now();
  await fetch(endUrl(call.call_id), { method: 'OPTIONS', headers: { origin: LOOPBACK_ORIGIN } });
  assert.ok(performance.now() - t1 < 300);
});

test('control-endpoint preflights are answered at once and not recorded', async () => {
  // A browser page reading records must not add to or wait on what it measures.
  standin.state.configure({ preflightDelayMs: 300 });
  const t0 = performance.now();
  const res = await fetch(`${standin.url}/__standin/config`, {
    method: 'OPTIONS',
    headers: { origin: LOOPBACK_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  assert.ok(performance.now() - t0 < 300);
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), LOOPBACK_ORIGIN);
  assert.deepEqual(standin.state.preflights(), []);

  const records = await fetch(`${standin.url}/__standin/records`, { headers: { origin: LOOPBACK_ORIGIN } });
  assert.equal(records.headers.get('access-control-allow-origin'), LOOPBACK_ORIGIN);
});

test('every loopback origin form is reflected on actual responses', async () => {
  const call = await newCall();
  for (const origin of ['http://127.0.0.1:8080', 'https://127.10.0.3', 'http://[::1]:3000', 'https://localhost']) {
    const { res } = await end(call.call_id, { token: call.end_token, headers: { origin } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
  }
  assert.deepEqual(
    standin.state.records().map((r) => r.origin),
    ['http://127.0.0.1:8080', 'https://127.10.0.3', 'http://[::1]:3000', 'https://localhost'],
  );
});

test('no CORS headers for non-loopback origins', async () => {
  const call = await newCall();
  const foreign = [
    'https://evil.example',
    'http://localhost.evil.example',
    'http://127.0.0.1.evil.example',
    'null',
    'file://',
    'http://192.168.1.10:5173',
  ];
  for (const origin of foreign) {
    const pre = await fetch(endUrl(call.call_id), {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    assert.equal(pre.status, 204);
    assert.deepEqual(corsHeaderNames(pre), [], `preflight from ${origin}`);
    const { res } = await end(call.call_id, { token: call.end_token, headers: { origin } });
    assert.deepEqual(corsHeaderNames(res), [], `response to ${origin}`);
  }
  assert.equal(standin.state.preflights().filter((p) => p.allowed).length, 0);
});

// ---- faults ------------------------------------------------------------

test('a fault overrides the next end request once, then the call ends normally', async () => {
  const call = await newCall();
  standin.state.addFault({ callId: call.call_id, status: 503, body: 'busy', headers: { 'Content-Type': 'text/plain' } });
  const faulted = await end(call.call_id, { token: call.end_token });
  assert.equal(faulted.res.status, 503);
  assert.equal(faulted.text, 'busy');
  assert.equal(faulted.res.headers.get('content-type'), 'text/plain');

  const normal = await end(call.call_id, { token: call.end_token });
  assert.equal(normal.res.status, 200);
  assertValid(validateEnd, normal.body, 'EndCallResponse after a fault');
  assert.deepEqual(
    standin.state.records({ callId: call.call_id }).map((r) => [r.status, r.fault, r.duplicate]),
    [[503, true, false], [200, false, false]],
  );
});

test('faults can be injected over HTTP with a repeat count', async () => {
  const call = await newCall();
  const added = await control('fault', JSON.stringify({ callId: call.call_id, status: 429, times: 2, headers: { 'retry-after': '1' } }));
  assert.equal(added.res.status, 200);
  const statuses = [];
  for (let i = 0; i < 3; i++) {
    const { res } = await end(call.call_id, { token: call.end_token });
    statuses.push([res.status, res.headers.get('retry-after')]);
  }
  assert.deepEqual(statuses, [[429, '1'], [429, '1'], [200, null]]);

  const bad = await control('fault', JSON.stringify({ callId: call.call_id, status: 'nope' }));
  assert.equal(bad.res.status, 400);
});

test('close() resolves promptly with a hanging fault and keep-alive sockets', async (t) => {
  const local = await startStandin();
  const client = new AbortController();
  // Cleanup even if an assertion fails, so a broken close() cannot keep the run alive.
  t.after(() => {
    client.abort();
    return local.close();
  });
  const call = local.state.mintCall();
  local.state.addFault({ callId: call.call_id, hang: true });
  // Leaves an idle keep-alive connection behind.
  assert.equal((await fetch(`${local.url}/__standin/health`)).status, 200);

  const hanging = fetch(`${local.url}/api/v1/calls/${call.call_id}/end`, {
    method: 'POST',
    headers: { authorization: `Bearer ${call.end_token}` },
    signal: client.signal,
  }).then(
    (res) => `answered ${res.status}`,
    () => 'rejected',
  );
  // Wait until the server holds the request, so close() really has to cut it.
  await waitFor(() => local.state.records().length > 0, 'the stand-in to hold the request', { timeoutMs: 1000 });
  assert.deepEqual(
    local.state.records().map((r) => [r.status, r.fault]),
    [[null, true]],
  );

  const t0 = performance.now();
  const outcome = await Promise.race([local.close().then(() => 'closed'), sleep(2000).then(() => 'timeout')]);
  const elapsed = performance.now() - t0;
  assert.equal(outcome, 'closed');
  assert.ok(elapsed < 1000, `close() took ${elapsed.toFixed(0)} ms`);
  assert.equal(await hanging, 'rejected');
});

// ---- records hygiene & control endpoints -------------------------------

test('records never contain a bearer token or the cookie value', async () => {
  const call = await newCall();
  await fetch(endUrl(call.call_id), { method: 'OPTIONS', headers: { origin: LOOPBACK_ORIGIN } });
  await end(call.call_id, { token: API_KEY });
  await end(call.call_id, { token: `${call.end_token}-typo` });
  await end(call.call_id, { token: call.end_token, headers: { cookie: 'session=sekrit-cookie', origin: LOOPBACK_ORIGIN } });
  await end(call.call_id, { token: call.end_token });
  standin.state.addFault({ callId: call.call_id, status: 500 });
  await end(call.call_id, { token: call.end_token });

  const { text } = await control(`records?callId=${call.call_id}`);
  const serialised = [text, JSON.stringify(standin.state.records()), JSON.stringify(standin.state.preflights())];
  for (const s of serialised) {
    assert.ok(s.includes(call.call_id), 'records should be about this call');
    for (const secret of [call.end_token, API_KEY, 'sekrit-cookie', 'Bearer']) {
      assert.ok(!s.includes(secret), `records leak ${secret}`);
    }
  }
  const records = JSON.parse(text).records;
  assert.equal(records.length, 5);
  assert.deepEqual(records.map((r) => r.cookie), [false, false, true, false, false]);
  assert.deepEqual(records.map((r) => r.status), [401, 401, 200, 200, 500]);
});

test('control endpoints: filter, reset, health, bad input', async () => {
  const a = await newCall();
  const b = await newCall();
  await end(a.call_id, { token: a.end_token });
  await end(b.call_id, { token: b.end_token });

  const filtered = JSON.parse((await control(`records?callId=${a.call_id}`)).text);
  assert.deepEqual(filtered.records.map((r) => r.callId), [a.call_id]);
  const all = JSON.parse((await control('records')).text);
  assert.deepEqual(all.records.map((r) => r.callId), [a.call_id, b.call_id]);

  const health = await control('health');
  assert.equal(health.res.status, 200);
  assert.equal(health.text, 'ok');

  assert.equal((await control('config', '{not json')).res.status, 400);
  assert.equal((await control('config', JSON.stringify({ preflightDelayMs: -1 }))).res.status, 400);

  assert.equal((await control('reset', '')).res.status, 200);
  assert.deepEqual(JSON.parse((await control('records')).text), { records: [], preflights: [] });
  // reset forgets calls too
  assert.equal((await end(a.call_id, { token: a.end_token })).res.status, 404);
});

test('unknown routes and aborted requests do not hurt the server', async () => {
  for (const path of ['/', '/api/v1/calls', '/api/v1/unknown', '/%', '/api/v1/calls/x/end/extra']) {
    const res = await fetch(`${standin.url}${path}`, { method: 'POST', body: '{' });
    assert.equal(res.status, 404, path);
    assert.equal(typeof (await res.json()).detail, 'string');
  }

  const call = await newCall();
  standin.state.configure({ endDelayMs: 300 });
  const controller = new AbortController();
  const aborted = fetch(endUrl(call.call_id), {
    method: 'POST',
    headers: { authorization: `Bearer ${call.end_token}` },
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(aborted);
  await sleep(350); // let the delayed answer hit the dead socket
  standin.state.configure({ endDelayMs: 0 });
  assert.equal((await control('health')).text, 'ok');
  // The end was decided on receipt, so the call is ended even though the client left.
  const again = await end(call.call_id, { token: call.end_token });
  assert.equal(again.res.status, 200);
  assert.deepEqual(standin.state.records({ callId: call.call_id }).map((r) => r.duplicate), [false, true]);
});

// ---- CLI ---------------------------------------------------------------

test('CLI prints its URL and serves', async () => {
  const child = spawn(process.execPath, [STANDIN_PATH, '--port', '0', '--preflight-delay', '10'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const line = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.once('exit', (code) => reject(new Error(`standin exited early (${code})`)));
    });
    const m = /^standin listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
    assert.ok(m, `unexpected line: ${line}`);
    const res = await fetch(`${m[1]}/__standin/health`);
    assert.equal(await res.text(), 'ok');
  } finally {
    child.kill('SIGTERM');
  }
});
