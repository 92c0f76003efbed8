/**
 * voice-end-call/react: tie a Voice AI call to the lifetime of the React component that
 * shows it. React (18 or later) is an optional peer dependency of voice-end-call; only this
 * entry imports it.
 */
import type { CallToTrack, ConnectionDetails, EndCallError, EndCallResponse } from './index.js';

/**
 * Where the call of a `useEndCall` hook stands.
 * - `'idle'`: no call was given (`null`/`undefined`).
 * - `'initializing'`: waiting for `init()` (the hook calls it; it is idempotent).
 * - `'tracked'`: armed: closing, reloading or leaving the page — or unmounting the
 *   component, unless `endOnUnmount: false` — ends it.
 * - `'ending'`: `hangUp()` is in flight.
 * - `'ended'`: ended by `hangUp()`, or by any other `endCall` or page-leave send this page
 *   was told about (see `onCallEnded`).
 * - `'failed'`: `init()` failed, `trackCall` refused the call (e.g. `end_token: null`), or a
 *   `hangUp()` failed in a way that left the call untracked (e.g. the API answered 4xx);
 *   see `error`.
 */
export type EndCallStatus = 'idle' | 'initializing' | 'tracked' | 'ending' | 'ended' | 'failed';

/** Options of `useEndCall`. */
export interface UseEndCallOptions {
  /**
   * `true` (default): when the component unmounts for real (a route change, the call view
   * closing), end the call if it is still tracked — once, only if no other mounted
   * `useEndCall` holds the same call id. `false`: only stop tracking it (your code ends it,
   * e.g. on the room's `Disconnected` event or from your backend). The value in force when
   * the component unmounts applies.
   */
  endOnUnmount?: boolean;
}

/** What `useEndCall` returns. */
export interface UseEndCallResult {
  /** Where the call stands. */
  status: EndCallStatus;
  /**
   * Why `status` is `'failed'`, or why the last `hangUp()` failed while the call stayed
   * tracked (`'network'`, `'timeout'`, 429, 5xx: a page leave or another `hangUp()` still
   * ends it). `null` otherwise.
   */
  error: EndCallError | null;
  /**
   * End the call now (for a hang-up button). Waits for `init()` if needed. Resolves the API's
   * answer, or `null` when there was nothing to end (already over, never tracked) or the end
   * failed (see `error`). Never rejects, so it can be an `onClick` handler as it is. A second
   * call while one is in flight shares its request.
   */
  hangUp: () => Promise<EndCallResponse | null>;
}

/**
 * Track `call` while the calling component is mounted, and end it when the component goes
 * away.
 *
 * - **Mount**: awaits `init()` (no argument: call `init(yourUrl)` yourself before the first
 *   render if your bundler needs the wasm's URL), then `trackCall(call)`; the page leaving
 *   ends it from then on. Options set with `configure` must be set before that (or pass
 *   `baseUrl` in the call).
 * - **Unmount** (a route change): ends the call if it is still tracked, exactly once
 *   (`endOnUnmount: false`: untracks it instead). Nothing is sent after a `hangUp()` or when
 *   the call already ended some other way.
 * - **StrictMode / Fast Refresh**: React's development mount → cleanup → mount never ends,
 *   duplicates or throws. The unmount's end is deferred by one task and dropped when a hook
 *   (this one re-run, or another) holds the same call id again by then.
 * - **A different call** (another `callId`, token or `baseUrl`): the previous one is treated
 *   as unmounted, the new one tracked.
 *
 * `call` is `{ callId, endToken, baseUrl? }` or the raw connection-details response; pass
 * `null` until there is a call. A new object with the same values each render is fine.
 *
 * @example
 * ```jsx
 * import { useEndCall } from 'voice-end-call/react';
 *
 * function CallView({ call }) {
 *   const { status, hangUp, error } = useEndCall(call); // call: { callId, endToken }
 *   return <button onClick={hangUp} disabled={status !== 'tracked'}>Hang up</button>;
 * }
 * ```
 */
export function useEndCall(
  call: CallToTrack | ConnectionDetails | null | undefined,
  options?: UseEndCallOptions,
): UseEndCallResult;
