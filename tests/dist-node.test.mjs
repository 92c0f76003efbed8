// The built dist/ in Node, no browser: the wasm instantiates against the shipped (shortened,
// trimmed, minified) glue, and the calls a page makes go through it, with a stand-in `window`
// (an EventTarget that passes `instanceof Window`) and the stand-in API. A quick check of the
// build's post-processing (scripts/wasm-pipeline.sh) before the browser suites run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startStandin } from './support/standin.mjs';

const ENTRY = path.resolve('dist/index.js');
const skip = !existsSync(ENTRY) && 'no build (bash scripts/build.sh)';
let standin;
let lib;

before(async () => {
  if (skip) return;
  standin = await startStandin({ preflightDelayMs: 0 });
  // What the package needs of a window: the global object as a Window, its events, a location.
  const events = new EventTarget();
  globalThis.Window = function Window() {};
  Object.defineProperty(globalThis.Window, Symbol.hasInstance, { value: (value) => value === globalThis });
  globalThis.window = globalThis;
  globalThis.addEventListener = events.addEventListener.bind(events);
  globalThis.removeEventListener = events.removeEventListener.bind(events);
  globalThis.dispatchEvent = events.dispatchEvent.bind(events);
  globalThis.location = new URL('http://127.0.0.1/app/page');
  lib = await import(pathToFileURL(ENTRY).href);
  await lib.default();
  await new Promise((resolve) => setTimeout(resolve, 0)); // init's start-up task
});

after(async () => {
  await standin?.close();
});

const ends = (call) => standin.state.records({ callId: call.call_id }).length;

test('typed errors come from the wasm through the glue', { skip }, () => {
  assert.throws(() => lib.configure({ baseUrl: 42 }), (e) => e instanceof lib.EndCallError && e.kind === 'config');
  assert.throws(
    () => lib.trackCall({ callId: 'call_\uD800', endToken: 'token' }),
    (e) => e.kind === 'config' && /lone UTF-16 surrogate/.test(e.message),
  );
  // A valid surrogate pair is no lone surrogate (the base URL is refused for not being ASCII).
  assert.throws(
    () => lib.configure({ baseUrl: 'https://api.example/\uD83D\uDE00' }),
    (e) => e.kind === 'config' && !/surrogate/.test(e.message),
  );
});

test('track, list, untrack, end by hand, and the page-leave send', { skip }, async () => {
  lib.configure({ baseUrl: standin.url, deferred: false });
  const [a, b, c] = [standin.state.mintCall(), standin.state.mintCall(), standin.state.mintCall()];
  const ended = [];
  const unsubscribe = lib.onCallEnded((event) => ended.push(event.callId));
  lib.trackCall({ callId: a.call_id, endToken: a.end_token });
  lib.trackCall({ callId: b.call_id, endToken: b.end_token });
  assert.deepEqual(lib.trackedCalls().sort(), [a.call_id, b.call_id].sort());
  assert.equal(lib.untrackCall(b.call_id), true);

  const response = await lib.endCall(a.call_id);
  assert.equal(response.callId, a.call_id);
  assert.equal(response.status, 'ended');
  assert.deepEqual(ended, [a.call_id]);
  await assert.rejects(lib.endCall(a.call_id), (e) => e.kind === 'not-tracked');
  unsubscribe();

  lib.trackCall({ callId: c.call_id, endToken: c.end_token });
  globalThis.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: false }));
  const deadline = Date.now() + 3000;
  while (ends(c) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual([a, b, c].map(ends), [1, 0, 1], 'one end each for the ended calls, none for the untracked one');
  assert.deepEqual(lib.trackedCalls(), []);
});
