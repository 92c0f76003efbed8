// voice-end-call/relay: the server side of beacon ends.
//
// When Firefox quits it cancels every keepalive fetch, but a `navigator.sendBeacon` to a
// same-origin URL still goes out. A beacon cannot carry an `Authorization` header, so the page
// sends `{"callId": "…", "endToken": "…"}` as its body to the app's own backend, and this relay
// forwards the end to the API with the token as the bearer:
//
//   POST {apiBaseUrl}/api/v1/calls/{callId, percent-encoded as one segment}/end
//   Authorization: Bearer {endToken}
//
// Where the end goes is the relay's own configuration, never anything in the request (no URL,
// Host header or body key can redirect it), and the call id and token are checked by the same
// code the browser library uses (`relayRequest` in the wasm module). Nothing here logs: a token
// must never reach a log line.
//
// Unminified on purpose: it runs on servers, where size does not matter and a reader should be
// able to audit what happens to a token.
import init, { EndCallError, _relayRequest as relayRequest } from './index.js';

const NAME = 'voice-end-call/relay';
const OPTIONS = ['apiBaseUrl', 'fetch', 'timeoutMs', 'maxBodyBytes', 'wasm'];
const BODY_KEYS = ['callId', 'endToken'];
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BODY_BYTES = 8192;
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's limit
// The wasm checks apiBaseUrl together with a call id and a token; these two pass every rule.
const PROBE = 'relay-config-check';

/**
 * A standard Fetch-API handler that relays beacon ends to the API.
 * Throws `EndCallError('config')` synchronously for options that are obviously wrong (unknown
 * keys, a relative `apiBaseUrl`, a `timeoutMs` that is not a positive number, …); everything
 * the wasm checks (https, or http only to loopback, no credentials, no `?`/`#`) is reported by
 * `relay.ready` and, while it stands, by a 500 answer to every request.
 * @param {import('./relay.js').RelayOptions} options
 * @returns {import('./relay.js').RelayHandler}
 */
export function createRelay(options) {
  const config = readOptions(options);

  // The wasm is loaded once per process (init() is idempotent), then apiBaseUrl is checked with
  // the crate's own rules. A failed load may be retried by a later request; a refused
  // apiBaseUrl is final.
  let preparing;
  const prepare = () => {
    preparing ??= init(config.wasm)
      .then(() => {
        relayRequest(PROBE, PROBE, config.apiBaseUrl);
      })
      .catch((error) => {
        if (!(error instanceof EndCallError && error.kind === 'config')) preparing = undefined;
        throw error instanceof EndCallError && error.kind === 'config'
          ? new EndCallError('config', `${NAME}: createRelay(options).${error.message}`)
          : error;
      });
    return preparing;
  };
  // Start now, so the first beacon does not wait for the wasm; a failure is reported by `ready`
  // and by the requests, never as an unhandled rejection.
  prepare().catch(() => {});

  async function relay(request) {
    try {
      try {
        await prepare();
      } catch (error) {
        const kind = error instanceof EndCallError ? error.kind : 'not-initialized';
        return fail(500, kind, error instanceof EndCallError ? error.message : `${NAME}: the wasm module did not load.`);
      }
      return await handle(config, request);
    } catch {
      // A bug of ours, or a request object that throws when read. Its message is not echoed:
      // it could quote the request.
      return fail(500, 'internal', `${NAME}: the relay failed unexpectedly.`);
    }
  }
  Object.defineProperty(relay, 'ready', {
    enumerable: true,
    get: () => prepare().then(() => undefined),
  });
  return relay;
}

function readOptions(options) {
  const where = `${NAME}: createRelay(options)`;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw configError(`${where}: options must be an object such as { apiBaseUrl: 'https://dev.voice.ai' }.`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTIONS.includes(key)) {
      throw configError(`${where}: unknown option ${quote(key)}. Known options: ${OPTIONS.join(', ')}.`);
    }
  }
  const { apiBaseUrl, fetch: fetchOption, timeoutMs = DEFAULT_TIMEOUT_MS, maxBodyBytes = DEFAULT_MAX_BODY_BYTES, wasm } = options;
  if (typeof apiBaseUrl !== 'string') {
    throw configError(`${where}.apiBaseUrl must be a string: the API's absolute https:// URL, such as https://dev.voice.ai.`);
  }
  // The browser library also accepts an origin-relative path (`/voice-proxy`); a server has no
  // page origin to resolve it against. The rest of the rules are the wasm's (see prepare()).
  let absolute = true;
  try {
    new URL(apiBaseUrl); // no base: throws for a path
  } catch {
    absolute = false;
  }
  if (!absolute) {
    throw configError(
      `${where}.apiBaseUrl must be an absolute URL such as https://dev.voice.ai; a path (like /voice-proxy) only means something in a browser page.`,
    );
  }
  if (fetchOption !== undefined && typeof fetchOption !== 'function') {
    throw configError(`${where}.fetch must be a function with the signature of the global fetch.`);
  }
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > MAX_TIMER_MS) {
    throw configError(`${where}.timeoutMs must be a positive number of milliseconds (at most ${MAX_TIMER_MS}).`);
  }
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw configError(`${where}.maxBodyBytes must be a positive whole number of bytes.`);
  }
  return {
    apiBaseUrl,
    // Looked up when a request is forwarded, not now: a runtime or test may replace it later.
    fetch: fetchOption ?? ((url, init) => globalThis.fetch(url, init)),
    timeoutMs,
    maxBodyBytes,
    wasm,
  };
}

async function handle(config, request) {
  if (request.method !== 'POST') {
    return fail(405, 'method-not-allowed', `${NAME}: only POST is accepted (navigator.sendBeacon sends POST).`, {
      Allow: 'POST',
    });
  }
  const typeProblem = contentTypeProblem(request.headers.get('content-type'));
  if (typeProblem) return fail(415, 'unsupported-media-type', `${NAME}: ${typeProblem}`);

  const tooLarge = () =>
    fail(413, 'payload-too-large', `${NAME}: the body is larger than ${config.maxBodyBytes} bytes.`);
  // The declared length first (nothing is read then), and the bytes as they stream in: a
  // chunked body has no length, and a declared one may be a lie.
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\s*\d+\s*$/.test(declared) && Number(declared) > config.maxBodyBytes) return tooLarge();
  let bytes;
  try {
    bytes = await readAtMost(request, config.maxBodyBytes);
  } catch (error) {
    if (error instanceof EndCallError) return fail(500, 'config', error.message);
    return fail(400, 'bad-request', `${NAME}: the body could not be read (the client went away?).`);
  }
  if (bytes === null) return tooLarge();

  const body = parseBody(bytes);
  if (typeof body === 'string') return fail(400, 'bad-request', `${NAME}: ${body}`);

  let url, authorization;
  try {
    // The browser's own checks (one implementation): a non-empty id that can stand as one path
    // segment, percent-encoded; a token of visible ASCII (no CR/LF). The error names the field
    // and never quotes the token.
    [url, authorization] = relayRequest(body.callId, body.endToken, config.apiBaseUrl);
  } catch (error) {
    if (error instanceof EndCallError && error.kind === 'config') {
      return fail(400, 'bad-request', `${NAME}: ${error.message}`);
    }
    throw error;
  }
  return forward(config, url, authorization);
}

/**
 * Whether a Content-Type is one a beacon sends (`text/plain;charset=UTF-8` for a string body)
 * or JSON; a charset, if any, must be UTF-8. A sentence saying what is wrong, or null.
 */
function contentTypeProblem(value) {
  const expected = 'send text/plain or application/json (navigator.sendBeacon with a string body sends text/plain;charset=UTF-8).';
  if (value === null) return `the request has no Content-Type; ${expected}`;
  const [essence, ...parameters] = value.split(';');
  const type = essence.trim().toLowerCase();
  if (type !== 'text/plain' && type !== 'application/json') return `the Content-Type is not accepted; ${expected}`;
  for (const parameter of parameters) {
    const equals = parameter.indexOf('=');
    if (equals === -1 || parameter.slice(0, equals).trim().toLowerCase() !== 'charset') continue;
    const charset = parameter.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') return 'the body must be UTF-8 (charset=utf-8, or no charset).';
  }
  return null;
}

/** The body's bytes, or null as soon as more than `max` have arrived (the rest is not read). */
async function readAtMost(request, max) {
  if (request.body === null) return new Uint8Array(0);
  if (request.bodyUsed || request.body.locked) {
    throw configError(
      `${NAME}: the request body was already read before the relay got it (a body parser ran first); mount the relay before it, or use a parser that keeps the text (express.text()).`,
    );
  }
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** `{ callId, endToken }` as sent (their values are checked by the wasm), or what is wrong. */
function parseBody(bytes) {
  const shape = 'the body must be the JSON object {"callId": "…", "endToken": "…"}';
  let value;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return `${shape}; it is not valid JSON (or not UTF-8).`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${shape}; it is not an object.`;
  // Only these two keys: where the end goes is the relay's configuration, so a `baseUrl`, `url`
  // or anything else in the body is refused rather than ignored.
  for (const key of Object.keys(value)) {
    if (!BODY_KEYS.includes(key)) {
      return `${shape}; unknown key ${quote(key)} (the relay takes only callId and endToken, and sends every end to its configured API).`;
    }
  }
  return { callId: value.callId, endToken: value.endToken };
}

/** POST the end with only the bearer, no body, no redirects, within the time limit. */
async function forward(config, url, authorization) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), config.timeoutMs);
  const timedOut = () => fail(504, 'timeout', `${NAME}: the API did not answer within ${config.timeoutMs} ms.`);
  const unreachable = () => fail(502, 'network', `${NAME}: the API could not be reached.`);
  try {
    let response;
    try {
      response = await config.fetch(url, {
        method: 'POST',
        headers: { Authorization: authorization },
        // A redirect would carry the token to wherever it points: never followed.
        redirect: 'manual',
        signal: controller.signal,
      });
    } catch {
      return controller.signal.aborted ? timedOut() : unreachable();
    }
    const status = response.status;
    if (response.type === 'opaqueredirect' || !(status >= 200 && status <= 599) || (status >= 300 && status < 400)) {
      response.body?.cancel().catch(() => {});
      return fail(
        502,
        'invalid-response',
        `${NAME}: the API answered with a redirect (or status ${status}); the relay does not follow it, so the token goes nowhere else.`,
      );
    }
    let text;
    try {
      text = await response.text();
    } catch {
      return controller.signal.aborted ? timedOut() : unreachable();
    }
    if (status === 204 || status === 205) return respond(status, null);
    // The API's own answer, as long as it is JSON; anything else (an HTML error page of a proxy
    // in between) is not served from the app's origin.
    try {
      JSON.parse(text);
    } catch {
      return fail(status, 'invalid-response', `${NAME}: the API answered ${status} with a body that is not JSON.`);
    }
    return respond(status, text);
  } finally {
    clearTimeout(timer);
  }
}

// The headers of every answer (Content-Type only with a body).
const ANSWER_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

function respond(status, text, headers = {}) {
  return new Response(text, { status, headers: { ...(text === null ? {} : JSON_TYPE), ...ANSWER_HEADERS, ...headers } });
}

/** The body of a relay-made error: `{ "error": { "kind": "…", "message": "…" } }`. */
const errorBody = (kind, message) => JSON.stringify({ error: { kind, message } });

function fail(status, kind, message, headers) {
  return respond(status, errorBody(kind, message), headers);
}

function configError(message) {
  return new EndCallError('config', message);
}

/** A key for a message: JSON-quoted (no control characters), at most 64 characters of it. */
function quote(key) {
  return JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);
}

/**
 * An adapter for Node's `http` servers and Express: `(req, res) => void`, which hands the
 * request to a Fetch handler as a `Request` and writes its `Response` back.
 *
 * The body is read only as fast as the handler reads it, so the relay's own size cap stops the
 * reading: past it the socket is closed after the 413. When a body parser already ran (Express),
 * a `req.body` that is a string or a Buffer (`express.text()`, `express.raw()`) is used; one
 * parsed into an object (`express.json()` on an application/json request) cannot be relayed
 * and is answered 500, naming the fix.
 * @param {(request: Request) => Response | Promise<Response>} handler
 */
export function toNodeHandler(handler) {
  if (typeof handler !== 'function') {
    throw configError(`${NAME}: toNodeHandler(handler): handler must be a function such as createRelay(options).`);
  }
  return (req, res) => {
    serveNode(handler, req, res).catch(() => failNode(req, res, 500, 'internal', `${NAME}: the relay failed unexpectedly.`));
  };
}

async function serveNode(handler, req, res) {
  let request;
  try {
    request = nodeRequest(req);
  } catch (error) {
    if (error instanceof EndCallError) return failNode(req, res, 500, 'config', error.message);
    if (req.method !== 'POST') return failNode(req, res, 405, 'method-not-allowed', `${NAME}: only POST is accepted.`, { allow: 'POST' });
    return failNode(req, res, 400, 'bad-request', `${NAME}: the request could not be read.`);
  }
  const response = await handler(request);
  const headers = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const body = response.body === null ? undefined : new Uint8Array(await response.arrayBuffer());
  writeNode(req, res, response.status, headers, body);
}

/** An error the adapter answers itself (the request never reached the handler). */
function failNode(req, res, status, kind, message, headers = {}) {
  writeNode(req, res, status, { ...JSON_TYPE, ...ANSWER_HEADERS, ...headers }, errorBody(kind, message));
}

function writeNode(req, res, status, headers, body) {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  // A body the handler did not read to the end (413, 405, 415) is not read either: the
  // connection is closed after the answer instead of being drained for the next request.
  if (req.complete === false) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/** The Fetch `Request` for a Node request (Express's `req` included). */
function nodeRequest(req) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
  }
  const method = req.method ?? 'GET';
  const init = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    const parsed = req.body;
    if (typeof parsed === 'string') {
      init.body = new TextEncoder().encode(parsed);
    } else if (parsed instanceof Uint8Array) {
      init.body = parsed; // express.raw(): a Buffer
    } else if (req._body === true || req.readableEnded) {
      throw configError(
        `${NAME}: the request body was already parsed (express.json()?), so the relay cannot read it; mount the relay before the body parser, or give its route express.text({ type: ['text/plain', 'application/json'] }).`,
      );
    } else {
      init.body = nodeBodyStream(req);
      init.duplex = 'half';
    }
  }
  // The relay never reads the URL (it never decides where the end goes); the path is kept for
  // other handlers, the Host header is not used.
  const path = typeof req.url === 'string' && req.url.startsWith('/') && !req.url.startsWith('//') ? req.url : '/';
  // Throws for a method the Fetch API refuses (TRACE, …): answered 405 by serveNode.
  return new Request(`http://localhost${path}`, init);
}

/** The Node request body as a stream that reads one chunk each time it is asked for one. */
function nodeBodyStream(req) {
  let settled = false;
  return new ReadableStream(
    {
      start(controller) {
        const finish = (action) => {
          if (settled) return;
          settled = true;
          action();
        };
        req.on('data', (chunk) => {
          if (settled) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          req.pause();
        });
        req.once('end', () => finish(() => controller.close()));
        req.once('error', (error) => finish(() => controller.error(error)));
        req.once('close', () => {
          if (!req.complete) finish(() => controller.error(new Error('the client closed the connection')));
        });
        req.pause();
      },
      pull() {
        req.resume();
      },
      cancel() {
        settled = true;
        req.pause();
      },
    },
    { highWaterMark: 0 },
  );
}
