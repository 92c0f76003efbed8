'use client';
// React binding of voice-end-call (the `voice-end-call/react` entry): one hook that ties a
// call's tracking to the lifetime of the component that shows it. Types and docs: react.d.ts.
import { useCallback, useEffect, useRef, useState } from 'react';
import init, { endCall, onCallEnded, trackCall, trackedCalls, untrackCall } from './index.js';

// How many mounted hooks hold each call id. A cleanup only ends (or untracks) a call when no
// hook holds it one task later: StrictMode's mount → cleanup → mount, Fast Refresh and a
// remount elsewhere in the same commit all take the call back before that task runs.
const holders = new Map();

function hold(id) {
  holders.set(id, (holders.get(id) ?? 0) + 1);
}

function release(id, end) {
  const left = holders.get(id) - 1;
  if (left > 0) holders.set(id, left);
  else holders.delete(id);
  setTimeout(() => {
    if (holders.has(id) || typeof id !== 'string') return; // taken back, or never trackable
    if (!end) {
      untrackCall(id);
      return;
    }
    // Only if still tracked: after a hang-up, or before init() resolved, nothing is sent;
    // an end already in flight is shared, not repeated.
    endCall(id, { ifTracked: true }).catch((error) => {
      console.warn('voice-end-call: ending the call of an unmounted component failed', error);
    });
  }, 0);
}

// What to track, from either accepted shape, as primitives (the effect's dependencies): a
// new object with the same call each render must not re-run the effect.
function parts(call) {
  if (call == null) return null;
  if (typeof call === 'object' && ('callId' in call || 'endToken' in call)) {
    return { id: call.callId, token: call.endToken, baseUrl: call.baseUrl, raw: false };
  }
  return { id: call.call_id, token: call.end_token, baseUrl: undefined, raw: true };
}

/**
 * Track a call while the component is mounted; see react.d.ts.
 * @param {object | null | undefined} call
 * @param {{endOnUnmount?: boolean}} [options]
 */
export function useEndCall(call, options = {}) {
  const { endOnUnmount = true } = options;
  const p = parts(call);
  const id = p?.id;
  const token = p?.token;
  const baseUrl = p?.baseUrl;
  const raw = p?.raw;
  const key = p === null ? null : [id, token, baseUrl, raw];

  const [state, setState] = useState({ key: null, status: 'idle', error: null });
  const live = useRef(null); // the dependency array of the effect run now in force
  const endOnUnmountRef = useRef(endOnUnmount);
  useEffect(() => {
    endOnUnmountRef.current = endOnUnmount;
  });

  useEffect(() => {
    if (key === null) return undefined;
    const mine = key;
    live.current = mine;
    let active = true;
    let unsubscribe;
    const set = (next) => {
      if (active) setState({ key: mine, ...next });
    };
    hold(id);
    init().then(
      () => {
        if (!active) return;
        try {
          trackCall(raw ? { call_id: id, end_token: token } : { callId: id, endToken: token, baseUrl });
        } catch (error) {
          set({ status: 'failed', error });
          return;
        }
        unsubscribe = onCallEnded((event) => {
          if (event.callId === id) set({ status: 'ended', error: null });
        });
        set({ status: 'tracked', error: null });
      },
      (error) => set({ status: 'failed', error }),
    );
    return () => {
      active = false;
      if (live.current === mine) live.current = null;
      unsubscribe?.();
      release(id, endOnUnmountRef.current);
    };
    // The key's parts, not `call`: the same call in a new object must not re-run this.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, token, baseUrl, raw]);

  const hangUp = useCallback(async () => {
    if (key === null) return null;
    const mine = live.current;
    const set = (update) =>
      setState((prev) => (live.current === mine && mine !== null ? { key: mine, ...update(prev) } : prev));
    try {
      await init();
    } catch {
      return null; // the effect reports the failed init()
    }
    set((prev) => (prev.status === 'tracked' ? { status: 'ending', error: null } : prev));
    try {
      const response = await endCall(id, { ifTracked: true });
      // null: not tracked — already over (ended), or never tracked (keep its failure).
      set((prev) => (response === null && prev.status === 'failed' ? prev : { status: 'ended', error: null }));
      return response;
    } catch (error) {
      // A network failure, timeout, 429 or 5xx leaves the call tracked: a page leave or
      // another hangUp() still ends it.
      set(() => ({ status: trackedCalls().includes(id) ? 'tracked' : 'failed', error }));
      return null;
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, token, baseUrl, raw]);

  const current =
    key === null
      ? { status: 'idle', error: null }
      : sameKey(state.key, key)
        ? state
        : { status: 'initializing', error: null };
  return { status: current.status, error: current.error, hangUp };
}

function sameKey(a, b) {
  return a !== null && a.length === b.length && a.every((part, i) => Object.is(part, b[i]));
}
