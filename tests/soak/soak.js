// The soak page's driver. tests/soak.test.mjs calls window.soak.* through page.evaluate;
// the cycles run here, in the page, so only a batch's summary crosses the driver boundary.
import init, * as lib from '/dist/index.js';
// The glue's own init, bundled in dist/index.js (an internal export): called after init()
// resolved, it returns the cached wasm exports instead of instantiating again (checked in
// setup()).
const wasmBindgenInit = lib._initWasm;

const spy = window.__spy;
let wasmExports;
const endedEvents = { manual: 0, other: 0 };

function wasmFigures() {
  return {
    memoryBytes: wasmExports.memory.buffer.byteLength,
    // wasm-bindgen's table of JS values held by Rust: leaked JS references would grow it.
    externrefs: wasmExports.__wbindgen_externrefs ? wasmExports.__wbindgen_externrefs.length : null,
  };
}

/** A watched-type listener add/remove self-test of the spy, then back to nothing. */
function spySelfTest() {
  const f = () => {};
  const g = () => {};
  const seen = [];
  const note = () => seen.push(spy.counts().pageshow);
  addEventListener('pageshow', f);
  note(); // 1
  addEventListener('pageshow', f); // same (type, callback, capture): the browser ignores it
  note(); // 1
  addEventListener('pageshow', f, { capture: true }); // another capture flag: a new one
  note(); // 2
  addEventListener('pageshow', g, false);
  note(); // 3
  removeEventListener('pageshow', f); // removes the non-capture f only
  note(); // 2
  removeEventListener('pageshow', f); // nothing left to remove
  note(); // 2
  removeEventListener('pageshow', f, true);
  removeEventListener('pageshow', g);
  note(); // 0
  // Cross-check against the browser: dispatch and count real invocations.
  let calls = 0;
  const h = () => (calls += 1);
  addEventListener('pageshow', h);
  addEventListener('pageshow', h);
  dispatchEvent(new Event('pageshow'));
  removeEventListener('pageshow', h);
  dispatchEvent(new Event('pageshow'));
  const after = spy.counts();
  // The self-test's adds/removes are not the package's: start its tallies from zero.
  for (const type of Object.keys(spy.adds)) spy.adds[type] = spy.removes[type] = 0;
  spy.withOptions = 0;
  return { seen, invocations: calls, after };
}

/** Prove the unhandledrejection and error recording works, then start from empty lists. */
async function probeRecorders() {
  Promise.reject(new Error('soak-probe rejection'));
  setTimeout(() => {
    throw new Error('soak-probe error');
  });
  // Both are reported by later tasks; wait for them (a loaded machine may take a while).
  const deadline = Date.now() + 10_000;
  while ((spy.unhandledRejections.length === 0 || spy.errors.length === 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => setTimeout(resolve, 50)); // and nothing more comes
  const seen = { unhandledRejections: [...spy.unhandledRejections], errors: [...spy.errors] };
  spy.unhandledRejections.length = 0;
  spy.errors.length = 0;
  return seen;
}

// init(), and then what it starts one task later (so that a configure() right after it
// applies): its pagehide and pageshow listeners. Waits for that condition before counting.
async function initStarted() {
  await init();
  for (const deadline = Date.now() + 10_000; spy.counts().pageshow === 0; ) {
    if (Date.now() > deadline) throw new Error('init() did not add its pagehide/pageshow listeners');
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

window.soak = {
  async setup(api, deferred) {
    const probes = await probeRecorders();
    const selfTest = spySelfTest();
    const beforeInit = spy.counts();
    await initStarted();
    const afterInit = spy.counts();
    // timeoutMs: a machine stalled by other work must not fail the soak with 'timeout' (the
    // default is 10 s; the slowest end is reported, so a slowdown stays visible).
    lib.configure({ baseUrl: api, deferred, timeoutMs: 60_000 });
    lib.onCallEnded((event) => {
      if (event.via === 'manual') endedEvents.manual += 1;
      else endedEvents.other += 1;
    });
    // Read the wasm exports and prove they are the live instance, not a second one: a second
    // instantiation would replace the package's module state and lose this tracked call.
    const probe = { callId: 'probe_setup', endToken: 'et_probe_setup' };
    lib.trackCall(probe);
    const first = await wasmBindgenInit();
    const second = await wasmBindgenInit();
    const stillTracked = lib.trackedCalls();
    const whileTracked = spy.counts();
    const untracked = lib.untrackCall(probe.callId);
    wasmExports = first;
    return {
      probes,
      selfTest,
      beforeInit,
      afterInit,
      sameObject: first === second,
      isMemory: first && first.memory instanceof WebAssembly.Memory,
      hasTrackCall: first && typeof first.trackCall === 'function',
      stillTracked,
      whileTracked,
      untracked,
      afterUntrack: spy.counts(),
      fetchLaterSupported: spy.fetchLater.supported,
      ...wasmFigures(),
    };
  },

  /**
   * Run `cycles` (one object per cycle, minted by the test) with at most `concurrency` cycles
   * in flight. Resolves with a summary; never rejects (every expected rejection is caught and
   * checked, anything else is an anomaly).
   */
  async runBatch(cycles, concurrency) {
    const stats = {
      cycles: 0,
      resolved2xx: 0,
      expected2xx: 0,
      posts: 0, // end requests this batch should have sent
      rejections: {},
      listenersSeenWhileTracked: 0,
      slowestEndMs: 0,
      maxCounts: { pagehide: 0, beforeunload: 0, pageshow: 0 },
      anomalies: [],
      anomalyCount: 0,
    };
    const check = (ok, message) => {
      if (ok) return;
      stats.anomalyCount += 1;
      if (stats.anomalies.length < 20) stats.anomalies.push(message);
    };
    const noteCounts = () => {
      const counts = spy.counts();
      for (const type of Object.keys(counts)) {
        stats.maxCounts[type] = Math.max(stats.maxCounts[type], counts[type]);
      }
      return counts;
    };
    const rejection = (error) => {
      const key = error instanceof lib.EndCallError ? `${error.kind}${error.status ? ` ${error.status}` : ''}` : `non-EndCallError ${error}`;
      stats.rejections[key] = (stats.rejections[key] ?? 0) + 1;
      return key;
    };
    /** Expect `promise` to reject with `expected` (e.g. 'http 401'). */
    const expectRejection = async (promise, expected, label) => {
      try {
        const value = await promise;
        check(false, `${label}: resolved (${JSON.stringify(value)}), expected ${expected}`);
      } catch (error) {
        const key = rejection(error);
        check(key === expected, `${label}: rejected with ${key} (${error && error.message}), expected ${expected}`);
      }
    };
    const expectEnded = async (promise, id, label) => {
      stats.expected2xx += 1;
      const sent = performance.now();
      try {
        const response = await promise;
        stats.slowestEndMs = Math.max(stats.slowestEndMs, performance.now() - sent);
        check(response && response.callId === id && response.status === 'ended', `${label}: odd response ${JSON.stringify(response)}`);
        stats.resolved2xx += 1;
      } catch (error) {
        const key = rejection(error);
        check(false, `${label}: rejected with ${key} (${error && error.message})`);
      }
    };
    const throwsKind = (fn, kind) => {
      try {
        fn();
        return 'did not throw';
      } catch (error) {
        return error instanceof lib.EndCallError && error.kind === kind ? true : `${error && error.kind}: ${error && error.message}`;
      }
    };

    async function cycle({ n, a, b, c, d, unknown }) {
      // A: track, track again (token replacement, raw connection-details shape), untrack.
      // Nothing is sent for A.
      check(lib.trackCall({ callId: a.id, endToken: `et_first_${n}` }) === a.id, `#${n} trackCall(A)`);
      check(lib.trackCall({ call_id: a.id, end_token: a.token }) === a.id, `#${n} trackCall(A) again`);
      const counts = noteCounts();
      // pagehide: js/beacon.js's (import) and the library's (init).
      check(counts.pagehide === 2 && counts.beforeunload === 1, `#${n} while A tracked: listeners ${JSON.stringify(counts)}`);
      if (counts.pagehide === 2 && counts.beforeunload === 1) stats.listenersSeenWhileTracked += 1;
      check(lib.untrackCall(a.id) === true, `#${n} untrackCall(A) !== true`);
      check(lib.untrackCall(a.id) === false, `#${n} second untrackCall(A) !== false`);
      const notTracked = expectRejection(lib.endCall(a.id), 'not-tracked', `#${n} endCall(A) after untrack`);

      const waits = [notTracked];

      // B: tracked with a stale token, replaced by the real one, then ended by endCall. A
      // second endCall while it is in flight returns the same promise and sends nothing;
      // re-tracking it meanwhile is refused.
      if (b) {
        lib.trackCall({ callId: b.id, endToken: `et_stale_${n}` });
        lib.trackCall({ callId: b.id, endToken: b.token });
        noteCounts();
        const endB = lib.endCall(b.id);
        check(lib.endCall(b.id) === endB, `#${n} endCall(B) twice: not the same promise`);
        const refused = throwsKind(() => lib.trackCall({ callId: b.id, endToken: b.token }), 'config');
        check(refused === true, `#${n} trackCall(B) while its end is in flight: ${refused}`);
        stats.posts += 1;
        waits.push(expectEnded(endB, b.id, `#${n} endCall(B)`));
      }

      // C: never tracked, ended with options.endToken.
      if (c) {
        waits.push(expectEnded(lib.endCall(c.id, { endToken: c.token }), c.id, `#${n} endCall(C, {endToken})`));
        stats.posts += 1;
      }

      // D (1 cycle in 20): tracked with a wrong token; the API answers 401, which is final
      // (never retried) and forgets the call.
      if (d) {
        lib.trackCall({ callId: d.id, endToken: `et_wrong_${n}` });
        waits.push(
          expectRejection(lib.endCall(d.id), 'http 401', `#${n} endCall(D) wrong token`).then(() => {
            check(!lib.trackedCalls().includes(d.id), `#${n} D still tracked after a 401`);
          }),
        );
        stats.posts += 1;
      }
      // U (1 cycle in 20, another one): an id the API does not know: 404, final.
      if (unknown) {
        waits.push(expectRejection(lib.endCall(unknown, { endToken: `et_unknown_${n}` }), 'http 404', `#${n} endCall(unknown)`));
        stats.posts += 1;
      }
      await Promise.all(waits);
      stats.cycles += 1;
    }

    let next = 0;
    const worker = async () => {
      while (next < cycles.length) {
        const item = cycles[next++];
        try {
          await cycle(item);
        } catch (error) {
          check(false, `#${item.n} threw: ${error && error.stack ? error.stack : error}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, cycles.length) }, worker));
    return {
      ...stats,
      trackedAfter: lib.trackedCalls(),
      countsAfter: spy.counts(),
      ...wasmFigures(),
    };
  },

  /**
   * Positive control for the memory reading, in a page of its own (it raises the allocator's
   * high-water mark): tracking many calls at once must show up in the figure.
   */
  async memoryControl(api, calls) {
    await initStarted();
    // Thousands of fetchLater would hit the quota; thousands of recovery locks and records
    // would measure the browser's lock manager and storage, not the package's memory.
    lib.configure({ baseUrl: api, deferred: false, recover: false });
    wasmExports = await wasmBindgenInit();
    const before = wasmFigures().memoryBytes;
    for (let i = 0; i < calls; i++) lib.trackCall({ callId: `call_control_${i}`, endToken: `et_control_${i}` });
    const whileTracked = { memoryBytes: wasmFigures().memoryBytes, tracked: lib.trackedCalls().length, counts: spy.counts() };
    for (let i = 0; i < calls; i++) lib.untrackCall(`call_control_${i}`);
    return { before, whileTracked, after: wasmFigures().memoryBytes, tracked: lib.trackedCalls().length, counts: spy.counts() };
  },

  figures() {
    return {
      ...wasmFigures(),
      counts: spy.counts(),
      adds: { ...spy.adds },
      removes: { ...spy.removes },
      withOptions: spy.withOptions,
      unhandledRejections: spy.unhandledRejections.slice(0, 20),
      unhandledRejectionCount: spy.unhandledRejections.length,
      errors: spy.errors.slice(0, 20),
      errorCount: spy.errors.length,
      fetchLater: structuredClone(spy.fetchLater),
      endedEvents: { ...endedEvents },
      tracked: lib.trackedCalls(),
    };
  },
};
window.ready = true;
