/**
 * voice-end-call: end a Voice AI call exactly once — when your code says so, or when the
 * page is closed, reloaded or navigated away.
 */

/** What went wrong. */
export type EndCallErrorKind =
  /** The API answered 422; see `detail`. */
  | 'validation'
  /** The API answered another non-2xx status; see `status`. */
  | 'http'
  /** The request did not complete (offline, connection refused, blocked by CORS). */
  | 'network'
  /** No answer within `timeoutMs`; the request was aborted. */
  | 'timeout'
  /** A 2xx answer whose body is not an EndCallResponse (the call did end). */
  | 'invalid-response'
  /** Bad options or input; the message names the offending key. */
  | 'config'
  /** `endCall` for a call that is not tracked, without `options.endToken` (or `ifTracked`). */
  | 'not-tracked'
  /** Called before `init()` resolved (all but `untrackCall`, `trackedCalls` and `endCall` with `ifTracked`), or `init()` failed to load the module. */
  | 'not-initialized';

/** One entry of the API's `HTTPValidationError.detail`. */
export interface ValidationErrorItem {
  loc: Array<string | number>;
  msg: string;
  type: string;
}

/** What every `EndCallError` has, whatever its `kind`. */
export interface EndCallErrorBase extends Error {
  readonly name: 'EndCallError';
  /** The category of the failure; narrows the error to the member of `EndCallError` with it. */
  readonly kind: EndCallErrorKind;
  /** The underlying error, for `network`, `timeout`, `not-initialized` and some `config`. */
  readonly cause?: unknown;
}

/** `kind: 'http'`: the API answered a non-2xx status other than 422. */
export interface HttpEndCallError extends EndCallErrorBase {
  readonly kind: 'http';
  /** The HTTP status. */
  readonly status: number;
  readonly detail?: undefined;
}

/** `kind: 'validation'`: the API answered 422. */
export interface ValidationEndCallError extends EndCallErrorBase {
  readonly kind: 'validation';
  /** Always 422. */
  readonly status: number;
  /** The 422 body's `detail` (an empty array when the body had none). */
  readonly detail: ValidationErrorItem[];
}

/** `kind: 'invalid-response'`: a 2xx answer whose body is not an EndCallResponse. */
export interface InvalidResponseEndCallError extends EndCallErrorBase {
  readonly kind: 'invalid-response';
  /** The (2xx) HTTP status. */
  readonly status: number;
  readonly detail?: undefined;
}

/** The kinds without an HTTP answer: `network`, `timeout`, `config`, `not-tracked`, `not-initialized`. */
export interface OtherEndCallError extends EndCallErrorBase {
  readonly kind: Exclude<EndCallErrorKind, 'http' | 'validation' | 'invalid-response'>;
  readonly status?: undefined;
  readonly detail?: undefined;
}

/**
 * Every failure of this package. Messages never contain a token. A union discriminated by
 * `kind`: after `error.kind === 'http'`, `error.status` is a `number`. `instanceof
 * EndCallError` narrows `unknown` to this union.
 */
export type EndCallError = HttpEndCallError | ValidationEndCallError | InvalidResponseEndCallError | OtherEndCallError;

/** The `EndCallError` whose `kind` is `K`. */
export type EndCallErrorOf<K extends EndCallErrorKind> = Extract<EndCallError, { readonly kind: K }>;

/** The third argument of `new EndCallError(kind, message, extra)` for each kind. */
export type EndCallErrorExtra<K extends EndCallErrorKind> = K extends 'validation'
  ? [extra: { status: number; detail: ValidationErrorItem[]; cause?: unknown }]
  : K extends 'http' | 'invalid-response'
    ? [extra: { status: number; cause?: unknown }]
    : [extra?: { cause?: unknown }];

/**
 * The class of every `EndCallError` (a real `Error` subclass). Mostly for `instanceof`; the
 * constructor is there for tests and mocks: `status` is required for `http`,
 * `invalid-response` and `validation` (with `detail`), and not accepted for other kinds.
 */
export declare const EndCallError: {
  new <K extends EndCallErrorKind>(kind: K, message: string, ...extra: EndCallErrorExtra<K>): EndCallErrorOf<K>;
  readonly prototype: EndCallError;
};

/** The API's EndCallResponse, in camelCase. */
export interface EndCallResponse {
  callId: string;
  status: string;
  /** ISO 8601 date-time, as the API sent it. */
  endedAt: string;
  actualDurationSeconds: number;
  creditsUsed: number;
}

/** Options for `configure`. A key set to `undefined` goes back to its default. */
export interface Options {
  /**
   * Where end requests go: `https://…`, `http://` to a loopback host, or a same-origin path
   * such as `/voice-proxy` (your backend forwards to the API; no CORS preflight).
   * Default `https://dev.voice.ai`. Applies to calls tracked after the change.
   */
  baseUrl?: string | undefined;
  /**
   * Time limit of a manual `endCall`, in ms, for all its attempts together; the request in
   * flight is aborted when it runs out. Default 10000.
   */
  timeoutMs?: number | undefined;
  /**
   * How many times a manual `endCall` is tried again after a network error, a 5xx or a 429
   * (never after another 4xx), with jittered exponential backoff (250 ms, 500 ms, 1 s, … up
   * to 4 s) or the API's `Retry-After`, as long as the wait fits in `timeoutMs`.
   * A whole number from 0 to 10. Default 2.
   */
  retries?: number | undefined;
  /**
   * Also send on `beforeunload` when no listener cancels the leave (needed for reliable tab
   * close in Firefox). The listener exists only while calls are tracked. Default `true`.
   */
  beforeUnload?: boolean | undefined;
  /**
   * Where the browser has `fetchLater` (Chromium 135+, secure contexts), hand each tracked
   * call's end request to the browser up front; it sends it when the document is destroyed,
   * even if no page event gets to run. Withdrawn by `endCall`/`untrackCall`. Default `true`.
   */
  deferred?: boolean | undefined;
  /**
   * When the page is left offline (or `fetch` throws), keep the end in `localStorage`
   * (key `voice-end-call:outbox:v1`: `{callId, endToken, baseUrl, time}`) and send it on the
   * next `init()` on this origin, or when the page returns from the back/forward cache.
   * Default `true`.
   */
  outbox?: boolean | undefined;
  /** Outbox entries older than this many ms are dropped unsent. Default 86400000 (24 h). */
  outboxTtlMs?: number | undefined;
  /**
   * Your same-origin relay (`createRelay` from `voice-end-call/relay`): a path such as
   * `/api/end-call`, or a URL on `location.origin`. When set, a page-leave end that no
   * `fetchLater` holds is sent with `navigator.sendBeacon` to it (the one send that survives
   * quitting Firefox), falling back to the keepalive fetch if the browser refuses the beacon.
   * `endCall` still talks to the API directly (it needs the answer). `null`/`undefined`: none
   * (the default).
   */
  relayUrl?: string | null | undefined;
  /**
   * Orphan recovery: while a call is tracked and no `fetchLater` holds its end, keep a record
   * of it in `localStorage` (key `voice-end-call:live:v1:<callId>`: `{callId, endToken,
   * baseUrl, time}`) under a Web Lock, deleted when the call is ended, untracked or sent. If
   * the page dies without sending (crash, killed tab), another open page of this origin that
   * called `init()` ends the call at once, or else the next one to call `init()` does.
   * Needs Web Locks (Chromium 69+, Firefox 96+, Safari 15.4+). Default `true`.
   */
  recover?: boolean | undefined;
}

/** A call to track, as your backend hands it to the browser. */
export interface CallToTrack {
  callId: string;
  /** The call-scoped `end_token` from connection-details. Never the API key. */
  endToken: string;
  /** Overrides `Options.baseUrl` for this call. */
  baseUrl?: string;
}

/**
 * The raw `POST /api/v1/connection/connection-details` response. `end_token` may be `null`
 * per the API; `trackCall` then throws a `'config'` error (end such a call from your backend).
 */
export interface ConnectionDetails {
  call_id: string;
  end_token: string | null;
  server_url?: string;
  participant_token?: string;
}

/** Options for `endCall`. */
export interface EndCallOptions {
  /**
   * `true`: end the call only if it is still tracked (or its end is in flight: the same
   * promise is shared); resolve `null` when it is already over, was never tracked, or
   * `init()` has not resolved. For code that may run after the call ended some other way —
   * an effect cleanup, an `onbeforeunload`-like teardown, a "disconnected" event. Not with
   * `endToken`: that one is for ending calls that are not tracked. Default `false`.
   */
  ifTracked?: boolean;
  /** End a call that is not tracked (or with another token). */
  endToken?: string;
  /** Overrides the tracked/configured base URL. */
  baseUrl?: string;
  /** Overrides `Options.timeoutMs`. */
  timeoutMs?: number;
  /** Overrides `Options.retries`. */
  retries?: number;
}

// The instance type of a global class where the project's libs declare it, else nothing: these
// declarations then type-check with the DOM lib, with only @types/node, or with neither.
type GlobalInstance<Name extends string> = typeof globalThis extends { [K in Name]: { prototype: infer T } } ? T : never;
type WasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer T } } } ? T : never;

/**
 * What `init` accepts: the wasm file's URL (string, `URL` or `Request`), a `Response`, its
 * bytes (`ArrayBuffer`, a typed array, a Node `Buffer`) or a compiled `WebAssembly.Module`.
 */
export type InitInput =
  | string
  | GlobalInstance<'URL'>
  | GlobalInstance<'Request'>
  | GlobalInstance<'Response'>
  | ArrayBuffer
  | ArrayBufferView
  | WasmModule;

/**
 * Load the WebAssembly module. Idempotent. Rejects with `EndCallError('not-initialized')`
 * when the module cannot be loaded (e.g. a CSP without `'wasm-unsafe-eval'`).
 *
 * With no argument it loads `voice_end_call_bg.wasm` next to the module: fetched in a
 * browser, read from disk in Node 20.16+ (older Node rejects, saying how to pass the bytes).
 */
export default function init(
  moduleOrPath?: InitInput | Promise<InitInput> | { module_or_path: InitInput | Promise<InitInput> },
): Promise<void>;

/** Update options. Throws `EndCallError('config')`; the previous options stay in force. */
export function configure(options: Options): void;

/**
 * Arm page-leave ending for a call (many may be tracked; tracking an id again replaces its
 * token). Returns the call id. Throws `EndCallError('config')` on bad input, and for an id
 * whose `endCall` is in flight (wait for its promise first).
 */
export function trackCall(call: CallToTrack | ConnectionDetails): string;

/**
 * End a call now and disarm it. While one end of an id is in flight, calling again returns
 * the same promise. Network errors, 5xx and 429 are retried (`retries`, within `timeoutMs`).
 * Rejects with `EndCallError`; after `network`, `timeout`, 429 and 5xx a tracked call stays
 * tracked, so a page leave still ends it.
 */
export function endCall(callId: string, options?: EndCallOptions & { ifTracked?: false }): Promise<EndCallResponse>;
/**
 * End a call if it is still tracked (or its end is in flight); `null` when it is already
 * over. Other failures reject as without `ifTracked`.
 */
export function endCall(
  callId: string,
  options: EndCallOptions & { ifTracked: true; endToken?: undefined },
): Promise<EndCallResponse | null>;
/** `endCall` with an `ifTracked` known only at run time (never together with `endToken`). */
export function endCall(
  callId: string,
  options?: EndCallOptions & ({ ifTracked?: false } | { endToken?: undefined }),
): Promise<EndCallResponse | null>;

/**
 * Forget a call without ending it. Whether it was tracked (or its end was in flight).
 * `false` before `init()` resolved: nothing can be tracked yet.
 */
export function untrackCall(callId: string): boolean;

/** The ids of the calls armed for page-leave ending; `[]` before `init()` resolved. */
export function trackedCalls(): string[];

/** How an ended call was sent. */
export type EndedVia = 'manual' | 'beforeunload' | 'pagehide' | 'outbox' | 'recovered';

/** What `onCallEnded` listeners receive. */
export interface CallEndedEvent {
  callId: string;
  via: EndedVia;
  /** The API's answer, for `via: 'manual'`, `'outbox'` and `'recovered'`. */
  response?: EndCallResponse;
}

/**
 * Subscribe to ended calls. Fired for `endCall` successes, for ends sent on an uncancelled
 * `beforeunload` (the page may stay, e.g. after a download link), and on `pageshow` with
 * `persisted` for the calls ended as the page entered the back/forward cache, and for ends
 * sent from the outbox (`'outbox'`, shortly after `init()`), and for calls of pages that died
 * without sending, ended by this page (`'recovered'`). A page that is
 * destroyed is not told. Returns a function that unsubscribes. A throwing listener is logged
 * and does not affect others.
 */
export function onCallEnded(listener: (event: CallEndedEvent) => void): () => void;
