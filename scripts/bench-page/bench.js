// The page scripts/bench.mjs drives. On load it times `await init()` (window.initMs), then
// exposes the package and the measurement helpers below and sets window.ready.
// Served with COOP/COEP so that the page is cross-origin isolated: performance.now() is then
// coarsened to ~5 µs instead of ~100 µs, fine enough for the pagehide handler.
import init, * as lib from '/dist/index.js';

const t0 = performance.now();
await init();
window.initMs = performance.now() - t0;
window.lib = lib;

/** Smallest positive step of performance.now() seen in a busy loop (µs). */
function timerResolutionUs() {
  let best = Infinity;
  for (let i = 0; i < 2000; i++) {
    const a = performance.now();
    let b = performance.now();
    while (b === a) b = performance.now();
    best = Math.min(best, b - a);
  }
  return best * 1000;
}

/** Track one call, then time a synthetic pagehide. Returns µs and what was tracked after. */
function timePagehide(call) {
  if (call) lib.trackCall({ callId: call.call_id, endToken: call.end_token });
  const before = lib.trackedCalls().length;
  const start = performance.now();
  window.dispatchEvent(new Event('pagehide'));
  const us = (performance.now() - start) * 1000;
  return { us, trackedBefore: before, trackedAfter: lib.trackedCalls().length };
}

/** One manual endCall round trip (ms), on an untracked call with its token. */
async function timeEndCall(base, call) {
  const start = performance.now();
  const response = await lib.endCall(call.call_id, { endToken: call.end_token });
  const ms = performance.now() - start;
  return { ms, ok: response.status === 'ended' };
}

/** The same request as a plain keepalive fetch, body read as the library does (ms). */
async function timePlainFetch(base, call) {
  const start = performance.now();
  const response = await fetch(`${base}/api/v1/calls/${encodeURIComponent(call.call_id)}/end`, {
    method: 'POST',
    keepalive: true,
    headers: { Authorization: `Bearer ${call.end_token}` },
  });
  await response.text();
  const ms = performance.now() - start;
  return { ms, ok: response.status === 200 };
}

window.bench = { timerResolutionUs, timePagehide, timeEndCall, timePlainFetch };
window.ready = true;
