// voice-end-call/relay (dist/relay.js): the server-side relay of beacon ends, over real HTTP on
// loopback. The stand-in API records what reached it; the relay is called both as a Fetch
// handler (with `Request` objects) and through `toNodeHandler` on a real Node http server, and
// behind real Express and Hono apps. A second server ("elsewhere") stands for every place an
// end must never go: it must receive nothing. Run after `npm run build`.
//
// The relay answers only after the API answered, so once its response is here every forward
// it made has been recorded: "nothing reached the API" is a count, not a wait. The last tests
// wait one quiet period (settledRecords) for anything sent late, and read the console.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import express from 'express';
import { Hono } from 'hono';
import { createRelay, toNodeHandler } from '../dist/relay.js';
import { EndCallError } from '../dist/index.js';
import { startStandin } from './support/standin.mjs';
import { settledRecords, waitFor } from './support/records.mjs';
import { unusedPort } from './support/net.mjs';

// Every test has a deadline, so that a broken relay (one that reads an endless body, or waits for
// a body that never comes) fails its test instead of hanging the suite.
const test = (name, fn) => nodeTest(name, { timeout: 30_000 }, fn);

const MAX = 8192; // the default maxBodyBytes
const BEACON_TYPE = 'text/plain;charset=UTF-8'; // what navigator.sendBeacon(url, string) sends

// Everything written to the console while the suite runs (the relay must write nothing, and
// above all no token). node:test's own report does not go through these.
const consoleOutput = [];
const tokens = new Set();
let restoreConsole;

let standin, elsewhere, relay, relayServer, relayUrl;
let forwarded = 0; // end requests the stand-in should have received, in all

before(async () => {
  restoreConsole = captureConsole();
  standin = await startStandin();
  elsewhere = await startRecorder();
  relay = createRelay({ apiBaseUrl: standin.url });
  await relay.ready;
  relayServer = await listen(http.createServer(toNodeHandler(relay)));
  relayUrl = `http://127.0.0.1:${relayServer.address().port}/voice-end`;
});

after(async () => {
  restoreConsole?.();
  await standin?.close();
  await elsewhere?.close();
  if (relayServer) await closeServer(relayServer);
});

// ---- helpers -------------------------------------------------------------

function captureConsole() {
  const originals = {};
  for (const name of ['log', 'info', 'warn', 'error', 'debug', 'trace']) {
    originals[name] = console[name];
    console[name] = (...args) => {
      consoleOutput.push(args.map((a) => (typeof a === 'string' ? a : (a?.stack ?? JSON.stringify(a) ?? String(a)))).join(' '));
      originals[name].apply(console, args);
    };
  }
  const write = process.stderr.write;
  process.stderr.write = function (chunk, ...rest) {
    consoleOutput.push(String(chunk));
    return write.call(this, chunk, ...rest);
  };
  return () => {
    Object.assign(console, originals);
    process.stderr.write = write;
  };
}

async function listen(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function closeServer(server) {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** A server that records every request it gets and answers with `answer` (default 200 `{}`). */
async function startRecorder(answer = (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')) {
  const requests = [];
  const server = await listen(
    http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        requests.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
        answer(req, res);
      });
    }),
  );
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, port, requests, close: () => closeServer(server) };
}

/** A call the stand-in knows; its token is watched for in the console. */
function mint() {
  const call = standin.state.mintCall();
  tokens.add(call.end_token);
  return { callId: call.call_id, endToken: call.end_token };
}

const beaconBody = (callId, endToken) => JSON.stringify({ callId, endToken });

/** The relay's answer to a POST, via the Fetch handler or via HTTP through toNodeHandler. */
const VIA = {
  handler: (init = {}) =>
    relay(new Request(init.url ?? 'http://app.test/voice-end', { method: 'POST', ...init, headers: { 'content-type': BEACON_TYPE, ...init.headers } })),
  http: (init = {}) => fetch(relayUrl, { method: 'POST', ...init, headers: { 'content-type': BEACON_TYPE, ...init.headers } }),
};

async function read(response) {
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: text ? JSON.parse(text) : null };
}

/** Runs `send`, asserting that neither the API nor any other server received anything. */
async function nothingSent(send) {
  const mark = standin.state.records().length;
  const elsewhereMark = elsewhere.requests.length;
  const result = await send();
  assert.deepEqual(standin.state.records().slice(mark), [], 'nothing reached the API');
  assert.equal(elsewhere.requests.length, elsewhereMark, 'nothing reached any other server');
  return result;
}

/** Asserts a relay-made error answer. */
function assertRelayError(answer, status, kind, message) {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.json?.error?.kind, kind, answer.text);
  assert.deepEqual(Object.keys(answer.json), ['error']);
  assert.deepEqual(Object.keys(answer.json.error).sort(), ['kind', 'message']);
  if (message) assert.match(answer.json.error.message, message);
  assert.match(answer.headers.get('content-type'), /^application\/json/);
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  assert.equal(answer.headers.get('x-content-type-options'), 'nosniff');
}

/** One raw HTTP exchange over a socket: writes `text`, ends, returns what came back. */
function rawExchange(port, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

// ---- forwarding ----------------------------------------------------------

for (const [via, send] of Object.entries(VIA)) {
  test(`${via}: a beacon body is forwarded once with the bearer; no cookie, origin or client header goes along`, async () => {
    const { callId, endToken } = mint();
    const answer = await read(
      await send({
        body: beaconBody(callId, endToken),
        headers: { cookie: 'session=secret', origin: 'http://app.test', referer: 'http://app.test/call', 'user-agent': 'client-ua', 'x-forwarded-for': '203.0.113.9' },
      }),
    );
    forwarded += 1;
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.call_id, callId);
    assert.equal(answer.json.status, 'ended');
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.match(answer.headers.get('content-type'), /^application\/json/);
    const records = standin.state.records({ callId });
    assert.equal(records.length, 1, 'exactly one end request');
    const [record] = records;
    assert.equal(record.method, 'POST');
    assert.equal(record.rawPath, `/api/v1/calls/${callId}/end`);
    assert.equal(record.query, null);
    assert.equal(record.auth, 'valid', 'Authorization: Bearer <the end token>');
    assert.equal(record.cookie, false, 'no cookie forwarded');
    assert.equal(record.origin, null, 'no Origin forwarded');
    assert.equal(record.bodyBytes, 0, 'no body');
    assert.equal(record.headers.referer, undefined);
    assert.notEqual(record.headers['user-agent'], 'client-ua');
    assert.equal(elsewhere.requests.length, 0);
  });
}

test('the API receives only Authorization (plus what fetch itself adds), and the id a/b as the one segment a%2Fb', async () => {
  const api = await startRecorder();
  try {
    const direct = createRelay({ apiBaseUrl: api.url });
    const answer = await read(
      await direct(
        new Request('http://app.test/voice-end', {
          method: 'POST',
          headers: { 'content-type': BEACON_TYPE, cookie: 'session=secret', authorization: 'Basic c2VjcmV0', 'x-custom': 'copied?', origin: 'http://app.test' },
          body: beaconBody('a/b', 'et_exact'),
        }),
      ),
    );
    assert.equal(answer.status, 200, answer.text);
    assert.equal(api.requests.length, 1);
    const [request] = api.requests;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/api/v1/calls/a%2Fb/end');
    assert.equal(request.body, '');
    assert.equal(request.headers.authorization, 'Bearer et_exact', "the token's bearer, not the client's Authorization");
    // What Node's fetch sends on its own; nothing of the client's request.
    const own = new Set(['host', 'connection', 'content-length', 'accept', 'accept-language', 'accept-encoding', 'sec-fetch-mode', 'user-agent']);
    assert.deepEqual(Object.keys(request.headers).filter((name) => name !== 'authorization' && !own.has(name)), []);
    assert.equal(request.headers['content-length'], '0');
  } finally {
    await api.close();
  }
});

test("the API's status and JSON body are passed through (404, 422, 503, 401, unknown call)", async () => {
  const cases = [
    { status: 404, body: { detail: 'Call not found' } },
    { status: 422, body: { detail: [{ loc: ['path', 'call_id'], msg: 'bad id', type: 'value_error' }] } },
    { status: 503, body: { detail: 'try later' }, headers: { 'retry-after': '1' } },
  ];
  for (const fault of cases) {
    const { callId, endToken } = mint();
    standin.state.addFault({ callId, ...fault, body: JSON.stringify(fault.body) });
    const answer = await read(await VIA.http({ body: beaconBody(callId, endToken) }));
    forwarded += 1;
    assert.equal(answer.status, fault.status);
    assert.deepEqual(answer.json, fault.body);
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.equal(answer.headers.get('retry-after'), null, "the API's other headers are not copied");
    assert.equal(standin.state.records({ callId }).length, 1);
  }
  const { callId } = mint();
  const wrongToken = await read(await VIA.handler({ body: beaconBody(callId, 'et_not_the_token') }));
  forwarded += 1;
  assert.equal(wrongToken.status, 401);
  assert.deepEqual(wrongToken.json, { detail: 'Invalid or missing end token' });
  const unknown = await read(await VIA.handler({ body: beaconBody('call_unknown', 'et_whatever') }));
  forwarded += 1;
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.json, { detail: 'Call not found' });
});

test("an API body that is not JSON is not served: the API's status, the relay's invalid-response error", async () => {
  const { callId, endToken } = mint();
  standin.state.addFault({ callId, status: 502, body: '<html>bad gateway</html>' });
  const answer = await read(await VIA.handler({ body: beaconBody(callId, endToken) }));
  forwarded += 1;
  assertRelayError(answer, 502, 'invalid-response', /not JSON/);
  assert.ok(!answer.text.includes('<html>'));
});

// ---- what is refused before anything is sent -------------------------------

const JSON_SHAPE = /the body must be the JSON object/;
const BAD_BODIES = [
  ['empty', '', /not valid JSON/],
  ['not JSON', 'callId=a&endToken=b', /not valid JSON/],
  ['an array', '["a","b"]', /not an object/],
  ['null', 'null', /not an object/],
  ['a string', '"a"', /not an object/],
  ['no keys', '{}', /body\.callId must be a string/],
  ['no endToken', '{"callId":"call_1"}', /body\.endToken must be a string/],
  ['no callId', '{"endToken":"et_1"}', /body\.callId must be a string/],
  ['a number id', '{"callId":42,"endToken":"et_1"}', /body\.callId must be a string/],
  ['a null token', '{"callId":"call_1","endToken":null}', /body\.endToken must be a string/],
  ['an object token', '{"callId":"call_1","endToken":{"toString":"x"}}', /body\.endToken must be a string/],
  ['an empty id', '{"callId":"","endToken":"et_1"}', /body\.callId must be a non-empty string/],
  ['an empty token', '{"callId":"call_1","endToken":""}', /body\.endToken must be a non-empty string/],
  ['the id ..', '{"callId":"..","endToken":"et_1"}', /body\.callId must not be '\.' or '\.\.'/],
  ['the id .', '{"callId":".","endToken":"et_1"}', /body\.callId must not be '\.' or '\.\.'/],
  ['a 1025-byte id', JSON.stringify({ callId: 'c'.repeat(1025), endToken: 'et_1' }), /body\.callId is longer than 1024 bytes/],
  ['a 4097-byte token', JSON.stringify({ callId: 'call_1', endToken: 't'.repeat(4097) }), /body\.endToken is longer than 4096 bytes/],
  ['an extra baseUrl', '{"callId":"call_1","endToken":"et_1","baseUrl":"http://127.0.0.1:1"}', /unknown key "baseUrl"/],
  ['an extra url', '{"callId":"call_1","endToken":"et_1","url":"http://127.0.0.1:1/x"}', /unknown key "url"/],
  ['an extra __proto__', '{"callId":"call_1","endToken":"et_1","__proto__":{"x":1}}', /unknown key "__proto__"/],
  ['snake_case keys', '{"call_id":"call_1","end_token":"et_1"}', /unknown key "call_id"/],
];

for (const [via, send] of Object.entries(VIA)) {
  test(`${via}: bad bodies are answered 400 naming the problem, and nothing is sent`, async () => {
    for (const [what, body, message] of BAD_BODIES) {
      const answer = await nothingSent(async () => read(await send({ body })));
      assertRelayError(answer, 400, 'bad-request', /^voice-end-call\/relay: /);
      assert.match(answer.json.error.message, message, what);
      if (/JSON|object/.test(message.source)) assert.match(answer.json.error.message, JSON_SHAPE, what);
    }
    // Not UTF-8.
    const answer = await nothingSent(async () => read(await send({ body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) })));
    assertRelayError(answer, 400, 'bad-request', /UTF-8/);
  });
}

for (const [via, send] of Object.entries(VIA)) {
  test(`${via}: a token with CR/LF, spaces or non-ASCII is answered 400 without quoting it, and nothing is sent`, async () => {
    for (const endToken of ['et_a\r\nX-Injected: 1', 'et_b\n', 'et_c\r', 'et d', 'et_é', 'et_\u2028', 'et_\u0000']) {
      tokens.add(endToken);
      const answer = await nothingSent(async () => read(await send({ body: beaconBody('call_crlf', endToken) })));
      assertRelayError(answer, 400, 'bad-request', /body\.endToken/);
      assert.ok(!answer.text.includes(endToken.trim()) && !answer.text.includes('et_a'), 'the token is not quoted');
    }
  });
}

for (const [via, send] of Object.entries(VIA)) {
  test(`${via}: methods other than POST are answered 405 with Allow: POST`, async () => {
    for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const withBody = method !== 'GET' && method !== 'HEAD';
      const response = await nothingSent(() => send({ method, ...(withBody ? { body: beaconBody('call_1', 'et_1') } : {}) }));
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get('allow'), 'POST');
      assert.equal(response.headers.get('cache-control'), 'no-store');
      if (method !== 'HEAD') assert.equal((await read(response)).json.error.kind, 'method-not-allowed');
    }
  });
}

test('http: TRACE (a method the Fetch API refuses) is answered 405 too', async () => {
  const { port } = relayServer.address();
  const raw = await nothingSent(() => rawExchange(port, 'TRACE /voice-end HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
  assert.match(raw, /^HTTP\/1\.1 405 /);
  assert.match(raw, /\r\nallow: POST\r\n/i);
  assert.match(raw, /\r\ncache-control: no-store\r\n/i);
  assert.match(raw, /"kind":"method-not-allowed"/);
});

for (const [via, send] of Object.entries(VIA)) {
  test(`${via}: Content-Type must be text/plain or application/json, UTF-8 if a charset is named`, async () => {
    const refused = [
      null,
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/html',
      'text/plain;charset=ISO-8859-1',
      'application/json; charset=utf-16',
      'text/plainx',
    ];
    for (const type of refused) {
      // A byte body: fetch adds no Content-Type of its own.
      const headers = type === null ? {} : { 'content-type': type };
      const body = new TextEncoder().encode(beaconBody('call_1', 'et_1'));
      const answer = await nothingSent(async () =>
        read(await (via === 'handler'
          ? relay(new Request('http://app.test/voice-end', { method: 'POST', headers, body }))
          : fetch(relayUrl, { method: 'POST', headers, body }))),
      );
      assertRelayError(answer, 415, 'unsupported-media-type');
    }
    const accepted = ['text/plain', BEACON_TYPE, 'application/json', 'application/json; charset=utf-8', 'TEXT/PLAIN; Charset="utf-8"', 'text/plain; charset=utf8'];
    for (const type of accepted) {
      const { callId, endToken } = mint();
      const answer = await read(await send({ body: beaconBody(callId, endToken), headers: { 'content-type': type } }));
      forwarded += 1;
      assert.equal(answer.status, 200, `${type}: ${answer.text}`);
    }
  });
}

// ---- sizes -----------------------------------------------------------------

/** A valid beacon body padded with JSON white space to exactly `size` bytes. */
function paddedBody({ callId, endToken }, size) {
  const body = beaconBody(callId, endToken);
  return `${body.slice(0, -1)}${' '.repeat(size - body.length)}}`;
}

for (const [via, send] of Object.entries(VIA)) {
  test(`${via}: a body of exactly maxBodyBytes is forwarded; one byte more is 413 and nothing is sent`, async () => {
    const ok = mint();
    const exact = paddedBody(ok, MAX);
    assert.equal(Buffer.byteLength(exact), MAX);
    const answer = await read(await send({ body: exact }));
    forwarded += 1;
    assert.equal(answer.status, 200, answer.text);
    assert.equal(standin.state.records({ callId: ok.callId }).length, 1);

    const over = paddedBody(mint(), MAX + 1);
    const refused = await nothingSent(async () => read(await send({ body: over })));
    assertRelayError(refused, 413, 'payload-too-large', new RegExp(`${MAX} bytes`));
  });
}

test('handler: a stream without Content-Length is read only up to the cap, then cancelled (413)', async () => {
  let pulled = 0;
  let cancelled = false;
  // 1 MiB of white space (bounded, so that a relay without a cap fails here instead of hanging).
  const body = new ReadableStream({
    pull(controller) {
      if (pulled >= 1024 * 1024) return controller.close();
      pulled += 1024;
      controller.enqueue(new Uint8Array(1024).fill(0x20));
    },
    cancel() {
      cancelled = true;
    },
  });
  const answer = await nothingSent(async () =>
    read(await relay(new Request('http://app.test/voice-end', { method: 'POST', headers: { 'content-type': BEACON_TYPE }, body, duplex: 'half' }))),
  );
  assertRelayError(answer, 413, 'payload-too-large');
  assert.ok(cancelled, 'the body stream was cancelled');
  assert.ok(pulled <= MAX + 4096, `read ${pulled} bytes of an endless body`);
});

test('handler: a Content-Length that lies small does not get a large body through (the bytes are counted)', async () => {
  const body = paddedBody(mint(), MAX + 1000);
  const answer = await nothingSent(async () => read(await VIA.handler({ body, headers: { 'content-length': '10' } })));
  assertRelayError(answer, 413, 'payload-too-large');
});

test('handler: a declared Content-Length over the cap is 413 before the body is read', async () => {
  const body = new ReadableStream({
    pull(controller) {
      controller.close();
    },
  });
  const request = new Request('http://app.test/voice-end', {
    method: 'POST',
    headers: { 'content-type': BEACON_TYPE, 'content-length': String(MAX + 1) },
    body,
    duplex: 'half',
  });
  const answer = await nothingSent(async () => read(await relay(request)));
  assertRelayError(answer, 413, 'payload-too-large');
  assert.equal(request.bodyUsed, false, 'the relay did not read the body');
});

test('http: a chunked body without Content-Length over the cap is 413, and the connection is closed', async () => {
  const response = await nothingSent(
    () =>
      new Promise((resolve, reject) => {
        const request = http.request(relayUrl, { method: 'POST', headers: { 'content-type': BEACON_TYPE, 'transfer-encoding': 'chunked' } });
        let answered = false;
        let sent = 0;
        request.on('error', (error) => {
          if (!answered) reject(error); // after the answer: the closed connection, as expected
        });
        request.on('response', (res) => {
          answered = true;
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => resolve({ res, text: Buffer.concat(chunks).toString() }));
        });
        // 1 KiB at a time until the relay answers (bounded: at most 256 KiB, then the end).
        const more = () => {
          if (answered) return;
          if (sent >= 256 * 1024) return request.end();
          sent += 1024;
          request.write(Buffer.alloc(1024, 0x20), more);
        };
        request.write('{"callId":"call_1","endToken":"et_1",', more);
      }),
  );
  assert.equal(response.res.statusCode, 413, response.text);
  assert.equal(JSON.parse(response.text).error.kind, 'payload-too-large');
  assert.equal(response.res.headers.connection, 'close', 'the rest of the body is not read');
});

test('http: a declared Content-Length over the cap is 413 at once, with the body never sent', async () => {
  const { port } = relayServer.address();
  const raw = await nothingSent(() =>
    rawExchange(port, `POST /voice-end HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${BEACON_TYPE}\r\nContent-Length: 100000\r\n\r\n`),
  );
  assert.match(raw, /^HTTP\/1\.1 413 /);
  assert.match(raw, /\r\nconnection: close\r\n/i);
});

test('http: a Content-Length that lies small cuts the body there, and what follows it is refused: 400, nothing sent', async () => {
  const { callId, endToken } = mint();
  const body = paddedBody({ callId, endToken }, MAX + 1000);
  const { port } = relayServer.address();
  const raw = await nothingSent(() =>
    rawExchange(port, `POST /voice-end HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${BEACON_TYPE}\r\nContent-Length: 10\r\n\r\n${body}`),
  );
  // Node reads 10 bytes as the body (not a beacon: the relay would answer 400) and refuses the
  // rest as a malformed next request (its own 400, which closes the connection first).
  assert.match(raw, /^HTTP\/1\.1 400 /);
  assert.equal(standin.state.records({ callId }).length, 0);
});

// ---- the target is the configured API, whatever the request says -----------

test('SSRF: ids with ../, %2e%2e, URLs or @host stay one encoded segment on the configured API, or are refused', async () => {
  const other = elsewhere.host;
  const ids = [
    '../../admin',
    '..%2F..%2Fadmin',
    '%2e%2e',
    '%2e%2e%2fadmin',
    '.%2e',
    `http://${other}/steal`,
    `//${other}/steal`,
    `@${other}`,
    `user@${other}`,
    `a/../../${other}`,
    '?x=1#frag',
    '\\..\\admin',
    'a\r\nHost: evil',
  ];
  for (const callId of ids) {
    const endToken = `et_ssrf_${forwarded}`;
    tokens.add(endToken);
    const mark = standin.state.records().length;
    const answer = await read(await VIA.http({ body: beaconBody(callId, endToken) }));
    const records = standin.state.records().slice(mark);
    if (answer.status === 400) {
      assert.deepEqual(records, [], callId);
      continue;
    }
    forwarded += 1;
    assert.equal(records.length, 1, `${callId}: one request to the configured API`);
    assert.match(records[0].rawPath, /^\/api\/v1\/calls\/[^/?#]+\/end$/, `${callId}: one segment`);
    assert.equal(records[0].query, null);
    assert.equal(records[0].callId, callId, `${callId}: the id arrives as sent`);
  }
  for (const callId of ['..', '.']) {
    const answer = await nothingSent(async () => read(await VIA.http({ body: beaconBody(callId, 'et_dots') })));
    assertRelayError(answer, 400, 'bad-request', /body\.callId must not be '\.' or '\.\.'/);
  }
  assert.equal(elsewhere.requests.length, 0, 'no other server received anything');
});

test('SSRF: a Host header, request URL or baseUrl/url key pointing elsewhere changes nothing', async () => {
  // Host header, over HTTP.
  const viaHost = mint();
  const response = await new Promise((resolve, reject) => {
    const request = http.request(relayUrl, {
      method: 'POST',
      headers: { host: elsewhere.host, 'content-type': BEACON_TYPE, 'x-forwarded-host': elsewhere.host },
    });
    request.on('error', reject);
    request.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    });
    request.end(beaconBody(viaHost.callId, viaHost.endToken));
  });
  forwarded += 1;
  assert.equal(response.statusCode, 200);
  assert.equal(standin.state.records({ callId: viaHost.callId }).length, 1);
  // The request's own URL.
  const viaUrl = mint();
  const answer = await read(await VIA.handler({ url: `${elsewhere.url}/api/v1/calls/x/end`, body: beaconBody(viaUrl.callId, viaUrl.endToken) }));
  forwarded += 1;
  assert.equal(answer.status, 200);
  assert.equal(standin.state.records({ callId: viaUrl.callId }).length, 1);
  // Body keys.
  for (const key of ['baseUrl', 'url', 'apiBaseUrl', 'target']) {
    const call = mint();
    const body = JSON.stringify({ ...call, [key]: elsewhere.url });
    const refused = await nothingSent(async () => read(await VIA.http({ body })));
    assertRelayError(refused, 400, 'bad-request', new RegExp(`unknown key "${key}"`));
  }
  assert.equal(elsewhere.requests.length, 0, 'no other server received anything');
});

test('a redirect from the API is not followed: 502, and the token goes nowhere else', async () => {
  const redirecting = await startRecorder((req, res) => res.writeHead(307, { location: `${elsewhere.url}/steal` }).end());
  try {
    const redirected = createRelay({ apiBaseUrl: redirecting.url });
    const answer = await read(await redirected(new Request('http://app.test/voice-end', { method: 'POST', headers: { 'content-type': BEACON_TYPE }, body: beaconBody('call_r', 'et_redirect') })));
    tokens.add('et_redirect');
    assertRelayError(answer, 502, 'invalid-response', /redirect/);
    assert.equal(redirecting.requests.length, 1);
    assert.equal(elsewhere.requests.length, 0, 'the redirect target received nothing');
  } finally {
    await redirecting.close();
  }
});

// ---- failures of the API ---------------------------------------------------

test('an API that does not answer within timeoutMs: 504, and the request to it is aborted', async () => {
  const quick = createRelay({ apiBaseUrl: standin.url, timeoutMs: 300 });
  const { callId, endToken } = mint();
  standin.state.addFault({ callId, hang: true });
  const answer = await read(await quick(new Request('http://app.test/voice-end', { method: 'POST', headers: { 'content-type': BEACON_TYPE }, body: beaconBody(callId, endToken) })));
  forwarded += 1;
  assertRelayError(answer, 504, 'timeout', /300 ms/);
  await waitFor(() => standin.state.records({ callId })[0]?.closedAt, 'the stand-in to see the hung request closed');
});

test('an API that cannot be reached: 502 network', async () => {
  const down = createRelay({ apiBaseUrl: `http://127.0.0.1:${await unusedPort()}` });
  const answer = await nothingSent(async () =>
    read(await down(new Request('http://app.test/voice-end', { method: 'POST', headers: { 'content-type': BEACON_TYPE }, body: beaconBody('call_down', 'et_down') }))),
  );
  tokens.add('et_down');
  assertRelayError(answer, 502, 'network', /could not be reached/);
});

test('the injected fetch is used, with exactly the URL, bearer, method, redirect mode and signal', async () => {
  const calls = [];
  const injected = createRelay({
    apiBaseUrl: 'https://api.example.test/base/',
    fetch: async (url, init) => {
      calls.push({ url, init });
      return new Response('{"call_id":"a b","status":"ended"}', { status: 201, headers: { 'set-cookie': 'x=y' } });
    },
  });
  const answer = await nothingSent(async () =>
    read(await injected(new Request('http://app.test/voice-end', { method: 'POST', headers: { 'content-type': 'application/json', cookie: 'a=b' }, body: beaconBody('a b', 'et_injected') }))),
  );
  tokens.add('et_injected');
  assert.equal(calls.length, 1);
  const [{ url, init }] = calls;
  assert.equal(url, 'https://api.example.test/base/api/v1/calls/a%20b/end');
  assert.deepEqual(Object.keys(init).sort(), ['headers', 'method', 'redirect', 'signal']);
  assert.equal(init.method, 'POST');
  assert.deepEqual(init.headers, { Authorization: 'Bearer et_injected' });
  assert.equal(init.redirect, 'manual');
  assert.ok(init.signal instanceof AbortSignal);
  assert.equal(answer.status, 201);
  assert.deepEqual(answer.json, { call_id: 'a b', status: 'ended' });
  assert.equal(answer.headers.get('set-cookie'), null, "the API's cookies are not passed on");
});

test('the client going away right after the body (a browser quitting) does not stop the end', async () => {
  // The API holds its answer until the relay's server has seen the client go; then the answer
  // must still be taken by the relay (a relay that aborted the forward has closed it by then).
  const held = [];
  const api = await startRecorder((req, res) => held.push(res));
  const server = await listen(http.createServer(toNodeHandler(createRelay({ apiBaseUrl: api.url }))));
  try {
    const body = beaconBody('call_quit', 'et_quit');
    tokens.add('et_quit');
    const socket = net.connect(server.address().port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const request = `POST /voice-end HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${BEACON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    await new Promise((resolve) => socket.end(request, resolve));
    socket.destroy();
    await waitFor(() => held.length === 1, 'the end to reach the API');
    const connections = () => new Promise((resolve) => server.getConnections((error, count) => resolve(error ? -1 : count)));
    await waitFor(async () => (await connections()) === 0, "the relay's server to see the client gone");
    const [res] = held;
    const outcome = res.destroyed
      ? 'closed by the relay'
      : new Promise((resolve) => {
          res.once('finish', () => resolve('answered'));
          res.once('close', () => resolve(res.writableFinished ? 'answered' : 'closed by the relay'));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ended"}');
        });
    assert.equal(await outcome, 'answered', 'the relay still waited for the API');
    assert.equal(api.requests[0].url, '/api/v1/calls/call_quit/end');
    assert.equal(api.requests[0].headers.authorization, 'Bearer et_quit');
  } finally {
    await closeServer(server);
    await api.close();
  }
});

// ---- configuration -----------------------------------------------------------

test('createRelay throws EndCallError config at once for options that are obviously wrong', () => {
  const bad = [
    [undefined, /options must be an object/],
    [null, /options must be an object/],
    [{}, /apiBaseUrl must be a string/],
    [{ apiBaseUrl: 42 }, /apiBaseUrl must be a string/],
    [{ apiBaseUrl: '/voice-proxy' }, /apiBaseUrl must be an absolute URL.*\/voice-proxy/],
    [{ apiBaseUrl: '//dev.voice.ai' }, /apiBaseUrl must be an absolute URL/],
    [{ apiBaseUrl: 'dev.voice.ai' }, /apiBaseUrl must be an absolute URL/],
    [{ apiBaseUrl: '' }, /apiBaseUrl must be an absolute URL/],
    [{ apiBaseUrl: 'https://dev.voice.ai', baseUrl: 'https://x' }, /unknown option "baseUrl"/],
    [{ apiBaseUrl: 'https://dev.voice.ai', fetch: 'fetch' }, /fetch must be a function/],
    [{ apiBaseUrl: 'https://dev.voice.ai', timeoutMs: 0 }, /timeoutMs must be a positive number/],
    [{ apiBaseUrl: 'https://dev.voice.ai', timeoutMs: Number.NaN }, /timeoutMs/],
    [{ apiBaseUrl: 'https://dev.voice.ai', timeoutMs: '5000' }, /timeoutMs/],
    [{ apiBaseUrl: 'https://dev.voice.ai', timeoutMs: 2 ** 31 }, /timeoutMs/],
    [{ apiBaseUrl: 'https://dev.voice.ai', maxBodyBytes: 0 }, /maxBodyBytes must be a positive whole number/],
    [{ apiBaseUrl: 'https://dev.voice.ai', maxBodyBytes: 1.5 }, /maxBodyBytes/],
  ];
  for (const [options, message] of bad) {
    assert.throws(
      () => createRelay(options),
      (error) => error instanceof EndCallError && error.kind === 'config' && message.test(error.message),
      JSON.stringify(options),
    );
  }
  assert.throws(() => toNodeHandler('relay'), (error) => error instanceof EndCallError && error.kind === 'config');
});

test("an apiBaseUrl the wasm refuses: ready rejects naming the rule, and every request is answered 500 with it", async () => {
  const refused = [
    ['http://example.com', /plain http:\/\/ to a non-loopback host/],
    ['https://user:pass@api.example.com', /credentials/],
    ['ftp://api.example.com', /https:\/\//],
    ['https://api.example.com/?x=1', /'\?', '#'/],
  ];
  for (const [apiBaseUrl, message] of refused) {
    const bad = createRelay({ apiBaseUrl, fetch: () => assert.fail('nothing is sent') });
    await assert.rejects(bad.ready, (error) => error instanceof EndCallError && error.kind === 'config' && /apiBaseUrl/.test(error.message) && message.test(error.message));
    for (const init of [{ method: 'POST', headers: { 'content-type': BEACON_TYPE }, body: beaconBody('call_1', 'et_1') }, { method: 'GET' }]) {
      const answer = await read(await bad(new Request('http://app.test/voice-end', init)));
      assertRelayError(answer, 500, 'config', message);
      assert.ok(!answer.text.includes('api.example.com') && !answer.text.includes('user:pass@'), 'the URL (and its credentials) is not quoted');
    }
  }
});

// ---- frameworks --------------------------------------------------------------

test('Express: mounted with toNodeHandler, after a global express.json(), before it, or with express.text()', async () => {
  const app = express();
  app.post('/before-json', toNodeHandler(relay));
  app.post('/text', express.text({ type: ['text/plain', 'application/json'] }), toNodeHandler(relay));
  app.use(express.json());
  app.post('/after-json', toNodeHandler(relay));
  const server = await listen(http.createServer(app));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    for (const [path, type, status] of [
      ['/before-json', BEACON_TYPE, 200],
      ['/before-json', 'application/json', 200],
      ['/after-json', BEACON_TYPE, 200], // express.json() leaves text/plain alone
      ['/text', BEACON_TYPE, 200],
      ['/text', 'application/json', 200],
    ]) {
      const { callId, endToken } = mint();
      const answer = await read(await fetch(base + path, { method: 'POST', headers: { 'content-type': type }, body: beaconBody(callId, endToken) }));
      forwarded += 1;
      assert.equal(answer.status, status, `${path} ${type}: ${answer.text}`);
      assert.equal(standin.state.records({ callId }).length, 1);
    }
    // express.json() consumed a JSON body: the relay cannot see it and says how to mount it.
    const consumed = await nothingSent(async () =>
      read(await fetch(`${base}/after-json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: beaconBody('call_1', 'et_1') })),
    );
    assertRelayError(consumed, 500, 'config', /express\.json|body parser/);
    // express.text() read the body: the relay's own cap still applies.
    const big = await nothingSent(async () =>
      read(await fetch(`${base}/text`, { method: 'POST', headers: { 'content-type': BEACON_TYPE }, body: paddedBody(mint(), MAX + 1) })),
    );
    assertRelayError(big, 413, 'payload-too-large');
  } finally {
    await closeServer(server);
  }
});

test('Hono: app.post(path, (c) => relay(c.req.raw))', async () => {
  const app = new Hono();
  app.post('/voice-end', (c) => relay(c.req.raw));
  const { callId, endToken } = mint();
  const answer = await read(await app.request('/voice-end', { method: 'POST', headers: { 'content-type': BEACON_TYPE }, body: beaconBody(callId, endToken) }));
  forwarded += 1;
  assert.equal(answer.status, 200, answer.text);
  assert.equal(standin.state.records({ callId }).length, 1);
  const refused = await nothingSent(async () =>
    read(await app.request('/voice-end', { method: 'POST', headers: { 'content-type': BEACON_TYPE }, body: JSON.stringify({ callId, endToken, url: elsewhere.url }) })),
  );
  assertRelayError(refused, 400, 'bad-request');
});

// ---- last: nothing late, nothing logged ----------------------------------------

test('after a quiet period: exactly the expected ends reached the API, none a second time, nothing went elsewhere', async () => {
  const records = await settledRecords(standin, { atLeast: forwarded });
  assert.equal(records.length, forwarded, 'no stray or late end request');
  assert.equal(records.filter((r) => r.duplicate).length, 0, 'no call ended twice');
  assert.equal(elsewhere.requests.length, 0);
});

test('no token appeared in any console output during the suite', () => {
  assert.ok(tokens.size > 20, 'the suite used tokens');
  for (const token of tokens) {
    const needle = token.trim() || token;
    const hit = consoleOutput.find((line) => line.includes(needle));
    assert.equal(hit, undefined, 'a token was written to the console');
  }
});
