/**
 * voice-end-call/relay: the server side of beacon ends.
 *
 * When Firefox quits it cancels every `keepalive` fetch, but a `navigator.sendBeacon` to a
 * same-origin URL still goes out. A beacon cannot carry `Authorization`, so the page sends
 * `{"callId": "…", "endToken": "…"}` to your backend, where this relay forwards the end to the
 * API: `POST {apiBaseUrl}/api/v1/calls/{callId}/end` with `Authorization: Bearer {endToken}`.
 *
 * The target is always `apiBaseUrl`: nothing in the request (URL, Host header, body keys) can
 * change it. The id and token are checked with the browser library's own rules. The token in
 * the body is the only credential (no cookies or other ambient credentials are used or
 * forwarded), so a cross-site POST can only end a call whose token it already has.
 */
import type { InitInput } from './index.js';

// The instance type of a global class where the project's libs declare it (the DOM lib,
// @types/node, a Workers or Deno lib), else nothing: these declarations type-check either way.
type GlobalInstance<Name extends string> = typeof globalThis extends { [K in Name]: { prototype: infer T } } ? T : never;

/** The Fetch API's `Request`, as the runtime declares it. */
export type FetchRequest = GlobalInstance<'Request'>;
/** The Fetch API's `Response`, as the runtime declares it. */
export type FetchResponse = GlobalInstance<'Response'>;

/** Options for `createRelay`. Unknown keys throw. */
export interface RelayOptions {
  /**
   * The Voice AI API's absolute URL, such as `https://dev.voice.ai` (`http://` only to a
   * loopback host; no credentials, `?` or `#`). Every end goes here and nowhere else.
   * A relative path throws at once; the other rules are the wasm's: see `RelayHandler.ready`.
   */
  apiBaseUrl: string;
  /** The `fetch` used to reach the API. Default: the global `fetch`, looked up on each request. */
  fetch?: (url: string, init: RelayForwardInit) => Promise<FetchResponse>;
  /**
   * Time limit for the API's answer (headers and body), in ms; the request is aborted and the
   * relay answers 504 when it runs out. Default 10000.
   */
  timeoutMs?: number;
  /**
   * The largest body accepted, in bytes; larger ones are answered 413 (by `Content-Length`
   * before anything is read, and by counting the bytes as they arrive). Default 8192.
   */
  maxBodyBytes?: number;
  /**
   * The wasm module, for runtimes where `init()` cannot load `voice_end_call_bg.wasm` by itself
   * (Cloudflare Workers: `import wasm from 'voice-end-call/voice_end_call_bg.wasm'`). Passed
   * to `init()`, which loads the module once per process whoever asks first.
   */
  wasm?: InitInput | Promise<InitInput>;
}

/** What the relay passes to `fetch` when it forwards an end: nothing else is sent. */
export interface RelayForwardInit {
  method: 'POST';
  /** Only `Authorization: Bearer <endToken>`: no header, cookie or body of the beacon is copied. */
  headers: { Authorization: string };
  /** Never followed: a redirect is answered 502, so the token cannot be sent elsewhere. */
  redirect: 'manual';
  /** Aborted after `timeoutMs`. */
  signal: GlobalInstance<'AbortSignal'>;
}

/**
 * A Fetch-API handler: `POST` a beacon body, get the API's answer (or the relay's error).
 *
 * | Answer | When |
 * |---|---|
 * | the API's status and JSON body | the end was forwarded (200, 401, 404, 422, 5xx, …) |
 * | 400 `bad-request` | not JSON, not an object, a key other than `callId`/`endToken`, a missing or invalid id or token (CR/LF, `..`, …) |
 * | 405 `method-not-allowed` (`Allow: POST`) | any method but POST |
 * | 413 `payload-too-large` | the body is larger than `maxBodyBytes` |
 * | 415 `unsupported-media-type` | Content-Type not `text/plain` or `application/json`, or a charset other than UTF-8 |
 * | 500 `config` / `not-initialized` | `apiBaseUrl` refused by the wasm, or the wasm did not load |
 * | 502 `network` / `invalid-response` | the API could not be reached; it redirected; its body was not JSON (then with its status) |
 * | 504 `timeout` | no answer within `timeoutMs` |
 *
 * Every answer has `Cache-Control: no-store`; the relay's own errors are `RelayErrorBody`.
 */
export interface RelayHandler {
  (request: FetchRequest): Promise<FetchResponse>;
  /**
   * Resolves once the wasm is loaded and `apiBaseUrl` passed its checks; rejects with an
   * `EndCallError` (`'config'` naming the rule, or `'not-initialized'`) otherwise. Await it at
   * start-up to fail fast; until the problem is fixed every request is answered 500 with the
   * same message. Reading it again after a failed load tries the load again.
   */
  readonly ready: Promise<void>;
}

/** What the relay itself answers when it does not forward, or the forward failed. */
export type RelayErrorKind =
  | 'bad-request'
  | 'method-not-allowed'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'config'
  | 'not-initialized'
  | 'network'
  | 'invalid-response'
  | 'timeout'
  | 'internal';

/** The JSON body of the relay's own errors. Messages never contain a token. */
export interface RelayErrorBody {
  error: { kind: RelayErrorKind; message: string };
}

/**
 * Make the relay. Mount it where the page's `relayUrl` points, same-origin:
 * - Next.js route handler: `export const POST = createRelay({ apiBaseUrl })`
 * - Hono: `app.post(path, (c) => relay(c.req.raw))`; Bun, Deno, Workers: call it with the request
 * - Node `http` and Express: `toNodeHandler(relay)`
 *
 * Throws `EndCallError('config')` at once for an unknown option, an `apiBaseUrl` that is not an
 * absolute URL (such as `/voice-proxy`: a server has no page to resolve it against), a `fetch`
 * that is not a function, a `timeoutMs` or `maxBodyBytes` that is not positive.
 */
export function createRelay(options: RelayOptions): RelayHandler;

/** The parts of a Node `http.IncomingMessage` (or Express `Request`) the adapter uses. */
export interface NodeRequestLike {
  method?: string | undefined;
  url?: string | undefined;
  headers: { [name: string]: string | string[] | undefined };
  /** Set by Express body parsers: a string or Buffer is relayed, an object cannot be. */
  body?: unknown;
  complete?: boolean;
  readableEnded?: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** The parts of a Node `http.ServerResponse` (or Express `Response`) the adapter uses. */
export interface NodeResponseLike {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  writeHead(status: number, headers: { [name: string]: string }): unknown;
  end(body?: Uint8Array): unknown;
}

/**
 * Adapt a Fetch handler to Node's `http` servers and Express: `(req, res) => void`.
 *
 * The body is read only as fast as the handler reads it, so the relay's size cap stops the
 * reading (the connection is closed after the 413). Mount it **before** any body parser; a
 * `req.body` that a parser left as a string or Buffer (`express.text()`, `express.raw()`) is
 * used, but one parsed into an object (`express.json()` on an `application/json` request) is
 * answered 500, naming the fix. `express.json()` leaves the beacon's `text/plain` alone.
 */
export function toNodeHandler(
  handler: (request: FetchRequest) => FetchResponse | Promise<FetchResponse>,
): (req: NodeRequestLike, res: NodeResponseLike) => void;
