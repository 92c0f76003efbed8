// Local stand-in for the Voice AI API (contract: spec/end-call.openapi.yaml).
//
// Serves the two routes the library and the demo touch:
//   POST /api/v1/connection/connection-details   (API key)   -> mints a call
//   POST /api/v1/calls/{call_id}/end             (end token) -> ends it
// plus loopback-only CORS, fault injection and /__standin/* control endpoints
// that expose what every end request and preflight looked like.
//
// Only node built-ins are used so the server starts anywhere Node 20 runs.
//
// Library:  const s = await startStandin({ port: 0 }); ...; await s.close();
// CLI:      node tests/support/standin.mjs [--port N] [--host H]
//             [--preflight-delay MS] [--end-delay MS] [--api-key KEY]
//           (STANDIN_PORT is used when --port is absent)

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const END_PATH = /^\/api\/v1\/calls\/([^/]*)\/end$/;
const CALL_ID = /^[A-Za-z0-9_-]{1,128}$/;
const CONTROL_PREFIX = '/__standin/';
// Request headers worth keeping in a record. Authorization and Cookie are
// deliberately absent: only *whether* they were sent is recorded.
const RECORDED_HEADERS = [
  'content-type',
  'content-length',
  'sec-fetch-mode',
  'sec-fetch-site',
  'sec-fetch-dest',
  'sec-purpose',
  'referer',
  'user-agent',
];
const MAX_BODY_BYTES = 1 << 20;

const hex = (bytes) => randomBytes(bytes).toString('hex');

/** True for http(s) origins on 127.0.0.0/8, localhost or [::1], any port. */
export function isLoopbackOrigin(origin) {
  if (typeof origin !== 'string' || origin === 'null') return false;
  let url;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  // WHATWG URL parsing already normalises forms like "127.1" to 127.0.0.1.
  return (
    url.hostname === 'localhost' ||
    url.hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname)
  );
}

function nonNegativeMs(value, name) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative number of milliseconds`);
  }
  return value;
}

/**
 * Start the stand-in.
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>, state: object}>}
 */
export async function startStandin(opts = {}) {
  const {
    host = '127.0.0.1',
    port = 0,
    apiKey = 'vk_standin_demo_key',
    preflightDelayMs = 0,
    endDelayMs = 0,
  } = opts;

  const config = {
    preflightDelayMs: nonNegativeMs(preflightDelayMs, 'preflightDelayMs'),
    endDelayMs: nonNegativeMs(endDelayMs, 'endDelayMs'),
  };
  /** call_id -> { endToken, mintedAt, endResponse|null } */
  const calls = new Map();
  /** call_id -> [{ status, body, headers, remaining, hang }] (FIFO) */
  const faults = new Map();
  /** call_id -> how many more preflights to answer without CORS headers */
  const preflightFaults = new Map();
  let records = [];
  let preflights = [];
  // One counter for records and preflights so tests can order them.
  let seq = 0;

  // Everything that could keep the process alive or delay close().
  const sockets = new Set();
  const timers = new Set();
  let closing = false;

  // ---- state: the in-process face of the control endpoints -------------

  const byCallId = (list, callId) =>
    structuredClone(callId == null ? list : list.filter((r) => r.callId === callId));

  const state = {
    records: ({ callId } = {}) => byCallId(records, callId),
    preflights: ({ callId } = {}) => byCallId(preflights, callId),
    reset() {
      records = [];
      preflights = [];
      seq = 0;
      faults.clear();
      preflightFaults.clear();
      calls.clear();
    },
    /** Change knobs at runtime; returns the resulting configuration. */
    configure(patch = {}) {
      if (patch === null || typeof patch !== 'object') throw new TypeError('config must be an object');
      // Validate everything before applying anything.
      const next = { ...config };
      for (const key of ['preflightDelayMs', 'endDelayMs']) {
        if (patch[key] !== undefined) next[key] = nonNegativeMs(patch[key], key);
      }
      Object.assign(config, next);
      return { ...config };
    },
    mintCall() {
      const call_id = `call_${hex(12)}`;
      const end_token = `et_${hex(16)}`;
      calls.set(call_id, { endToken: end_token, mintedAt: Date.now(), endResponse: null });
      return {
        server_url: 'wss://standin.invalid/rtc',
        participant_token: `pt_${hex(16)}`,
        call_id,
        end_token,
      };
    },
    /** Answer the next `times` end requests for callId with a canned response; with
     *  `preflight: true`, answer its next `times` preflights without CORS headers instead
     *  (the browser then refuses to send the end request at all). */
    addFault({ callId, status, body, headers, times = 1, hang = false, preflight = false } = {}) {
      if (typeof callId !== 'string' || callId === '') throw new TypeError('fault needs a callId');
      if (preflight) {
        if (!(Number.isInteger(times) && times >= 1)) throw new TypeError('fault times must be a positive integer');
        preflightFaults.set(callId, (preflightFaults.get(callId) ?? 0) + times);
        return;
      }
      if (!hang && !(Number.isInteger(status) && status >= 100 && status <= 599)) {
        throw new TypeError('fault needs an HTTP status (100-599) unless hang is true');
      }
      if (body !== undefined && typeof body !== 'string') throw new TypeError('fault body must be a string');
      if (headers !== undefined && (headers === null || typeof headers !== 'object' || Array.isArray(headers))) {
        throw new TypeError('fault headers must be an object');
      }
      if (!(Number.isInteger(times) && times >= 1)) throw new TypeError('fault times must be a positive integer');
      const fault = {
        status: hang ? null : status,
        body: body ?? JSON.stringify({ detail: 'Injected fault' }),
        headers: Object.fromEntries(
          Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
        ),
        remaining: times,
        hang: Boolean(hang),
      };
      if (!faults.has(callId)) faults.set(callId, []);
      faults.get(callId).push(fault);
    },
  };

  function takeFault(callId) {
    const queue = faults.get(callId);
    if (!queue) return null;
    const fault = queue[0];
    if (--fault.remaining === 0) queue.shift();
    if (queue.length === 0) faults.delete(callId);
    return fault;
  }

  // ---- response helpers ------------------------------------------------

  function later(ms, fn) {
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }

  function corsHeaders(req) {
    // Responses differ by Origin, so caches must key on it even when it is refused.
    const headers = { vary: 'Origin' };
    const origin = req.headers.origin;
    if (isLoopbackOrigin(origin)) {
      headers['access-control-allow-origin'] = origin;
      // Without this a cross-origin page cannot read Retry-After (not a safelisted header).
      headers['access-control-expose-headers'] = 'retry-after';
    }
    // Never Access-Control-Allow-Credentials: the end call must work without
    // cookies, and a credentialed request should fail loudly in the browser.
    return headers;
  }

  function send(req, res, status, body, extraHeaders = {}) {
    // The client may have gone away while a delay was pending.
    if (res.writableEnded || res.destroyed || res.socket?.destroyed) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      ...corsHeaders(req),
      ...extraHeaders,
    });
    res.end(text);
  }

  // ---- routes ----------------------------------------------------------

  function handlePreflight(req, res, path, query) {
    const origin = req.headers.origin ?? null;
    const allowed = isLoopbackOrigin(origin);
    const headers = allowed
      ? {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': 'POST, GET, OPTIONS',
          'access-control-allow-headers': 'authorization, content-type',
          // 0 keeps browsers from caching, so every end request is preflighted
          // and preflightDelayMs applies every time.
          'access-control-max-age': '0',
        }
      : {};
    const reply = () => {
      if (res.writableEnded || res.destroyed || res.socket?.destroyed) return;
      res.writeHead(204, { vary: 'Origin', ...headers });
      res.end();
    };
    // Preflights for the control endpoints are neither recorded nor delayed:
    // a test page reading records must not disturb or wait on what it measures.
    if (path.startsWith(CONTROL_PREFIX)) return reply();
    const m = END_PATH.exec(path);
    let callId = null;
    if (m) {
      try {
        callId = decodeURIComponent(m[1]);
      } catch {
        callId = null;
      }
    }
    const refused = callId !== null && (preflightFaults.get(callId) ?? 0) > 0;
    if (refused) {
      const left = preflightFaults.get(callId) - 1;
      if (left === 0) preflightFaults.delete(callId);
      else preflightFaults.set(callId, left);
    }
    preflights.push({
      refused,
      seq: ++seq,
      path,
      query,
      callId,
      origin,
      allowed,
      requestMethod: req.headers['access-control-request-method'] ?? null,
      requestHeaders: req.headers['access-control-request-headers'] ?? null,
      receivedAt: Date.now(),
    });
    later(config.preflightDelayMs, refused ? () => {
      if (res.writableEnded || res.destroyed || res.socket?.destroyed) return;
      res.writeHead(204, { vary: 'Origin' });
      res.end();
    } : reply);
  }

  function handleConnectionDetails(req, res) {
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return send(req, res, 401, { detail: 'Invalid or missing API key' }, { 'www-authenticate': 'Bearer' });
    }
    // The body (agent id etc. in the real API) is irrelevant here and ignored.
    send(req, res, 200, state.mintCall());
  }

  /** Any non-OPTIONS request under /api/v1/calls/ lands here, so mistakes
   *  (wrong method, unencoded slash) show up in the records too. */
  function handleEnd(req, res, path, query, bodyBytes) {
    const now = Date.now();
    const record = {
      seq: ++seq,
      method: req.method,
      callId: null,
      rawPath: path,
      query,
      auth: 'missing',
      cookie: req.headers.cookie !== undefined,
      origin: req.headers.origin ?? null,
      status: null,
      duplicate: false,
      fault: false,
      receivedAt: now,
      bodyBytes,
      headers: Object.fromEntries(
        RECORDED_HEADERS.filter((h) => req.headers[h] !== undefined).map((h) => [h, req.headers[h]]),
      ),
    };
    records.push(record);

    // Decide the whole outcome now (the call is ended at receipt, like a real
    // server), and only delay the answer.
    const answer = (status, body, headers) => {
      record.status = status;
      later(config.endDelayMs, () => send(req, res, status, body, headers));
    };
    const invalid = (msg) =>
      answer(422, { detail: [{ loc: ['path', 'call_id'], msg, type: 'value_error' }] });

    const m = END_PATH.exec(path);
    if (!m) return answer(404, { detail: 'Not Found' });

    let callId;
    try {
      callId = decodeURIComponent(m[1]);
    } catch {
      return invalid('call_id is not valid percent-encoding');
    }
    record.callId = callId;

    const call = calls.get(callId);
    const authHeader = req.headers.authorization;
    if (authHeader !== undefined) {
      // Scheme is case-insensitive (RFC 9110); the token must match exactly.
      const mm = /^Bearer (.*)$/i.exec(authHeader);
      record.auth = call && mm && mm[1] === call.endToken ? 'valid' : 'wrong';
    }

    if (req.method !== 'POST') return answer(405, { detail: 'Method Not Allowed' }, { allow: 'POST' });

    const fault = takeFault(callId);
    if (fault) {
      record.fault = true;
      if (fault.hang) {
        // Never answered; close() destroys the socket. `closedAt` notes when the connection
        // closed (the client aborting, or close()), so a test can tell an aborted request
        // from one left hanging. Only hung records have the field.
        record.closedAt = null;
        res.once('close', () => {
          record.closedAt = Date.now();
        });
        return;
      }
      return answer(fault.status, fault.body, fault.headers);
    }

    if (!CALL_ID.test(callId)) return invalid('call_id must match ^[A-Za-z0-9_-]{1,128}$');
    if (!call) return answer(404, { detail: 'Call not found' });
    if (record.auth !== 'valid') {
      return answer(401, { detail: 'Invalid or missing end token' }, { 'www-authenticate': 'Bearer' });
    }

    if (call.endResponse) {
      record.duplicate = true;
    } else {
      const seconds = Math.round((now - call.mintedAt) / 100) / 10;
      call.endResponse = {
        call_id: callId,
        status: 'ended',
        ended_at: new Date(now).toISOString(),
        actual_duration_seconds: seconds,
        credits_used: Math.round((seconds / 60) * 100) / 100,
      };
    }
    answer(200, call.endResponse);
  }

  function handleControl(req, res, path, query, body) {
    const route = `${req.method} ${path}`;
    const parseJson = () => {
      const text = body.toString('utf8').trim();
      return text === '' ? {} : JSON.parse(text);
    };
    try {
      switch (route) {
        case 'GET /__standin/health':
          res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store', ...corsHeaders(req) });
          return res.end('ok');
        case 'GET /__standin/records': {
          const callId = new URLSearchParams(query ?? '').get('callId') ?? undefined;
          return send(req, res, 200, { records: state.records({ callId }), preflights: state.preflights({ callId }) });
        }
        case 'POST /__standin/reset':
          state.reset();
          return send(req, res, 200, { ok: true });
        case 'POST /__standin/config':
          return send(req, res, 200, state.configure(parseJson()));
        case 'POST /__standin/fault':
          state.addFault(parseJson());
          return send(req, res, 200, { ok: true });
        default:
          return send(req, res, 404, { detail: 'Not Found' });
      }
    } catch (err) {
      // Bad JSON or invalid knob values: the caller's fault, not a crash.
      return send(req, res, 400, { detail: String(err?.message ?? err) });
    }
  }

  function route(req, res, body, bodyBytes) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? null : url.slice(q + 1);

    if (req.method === 'OPTIONS') return handlePreflight(req, res, path, query);
    if (path.startsWith(CONTROL_PREFIX)) return handleControl(req, res, path, query, body);
    if (path === '/api/v1/connection/connection-details' && req.method === 'POST') {
      return handleConnectionDetails(req, res);
    }
    if (path.startsWith('/api/v1/calls/')) return handleEnd(req, res, path, query, bodyBytes);
    send(req, res, 404, { detail: 'Not Found' });
  }

  const server = http.createServer((req, res) => {
    res.on('error', () => {});
    req.on('error', () => {}); // aborted uploads: nothing to answer
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      // Keep counting but stop buffering; the body is never needed in full.
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (closing) return;
      try {
        route(req, res, Buffer.concat(chunks), size);
      } catch (err) {
        send(req, res, 500, { detail: `stand-in error: ${err?.message ?? err}` });
      }
    });
  });

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    // Malformed HTTP: answer if still possible, never throw.
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {}); // after listen: never let a late error crash the process

  const actualPort = server.address().port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closed = null;
  function close() {
    // Idempotent: every caller gets the same promise.
    closed ??= new Promise((resolve) => {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.close(() => resolve());
      // Keep-alive and hung (fault hang / delayed) sockets would otherwise
      // hold server.close() open until they time out.
      for (const socket of sockets) socket.destroy();
    });
    return closed;
  }

  return { url: `http://${urlHost}:${actualPort}`, port: actualPort, close, state };
}

// ---- CLI ---------------------------------------------------------------

function parseCliArgs(argv) {
  const opts = {};
  const take = (i, name) => {
    if (i + 1 >= argv.length) throw new Error(`${name} needs a value`);
    return argv[i + 1];
  };
  const num = (value, name) => {
    const n = Number(value);
    if (value === '' || !Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
    return n;
  };
  if (process.env.STANDIN_PORT) opts.port = num(process.env.STANDIN_PORT, 'STANDIN_PORT');
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = take(i, flag);
    if (flag === '--port') opts.port = num(value, flag);
    else if (flag === '--host') opts.host = value;
    else if (flag === '--preflight-delay') opts.preflightDelayMs = num(value, flag);
    else if (flag === '--end-delay') opts.endDelayMs = num(value, flag);
    else if (flag === '--api-key') opts.apiKey = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return opts;
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  let opts;
  try {
    opts = parseCliArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`standin: ${err.message}`);
    console.error('usage: node tests/support/standin.mjs [--port N] [--host H] [--preflight-delay MS] [--end-delay MS] [--api-key KEY]');
    process.exit(2);
  }
  const standin = await startStandin(opts);
  console.log(`standin listening on ${standin.url}`);
  const stop = () => standin.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
