// Public entry point of voice-end-call. The work is done in Rust (wasm); this file only
// loads the module once and refuses calls made before it is loaded, with a typed error
// instead of wasm-bindgen's "cannot read properties of undefined".
import initWasm, * as wasm from './voice_end_call.js';
import { EndCallError } from './errors.js';

export { EndCallError };

// Internal, not in index.d.ts: the very module instance init() loads, for voice-end-call/relay
// (its checks are the wasm's) and the soak test (the wasm's memory). This file is shipped
// bundled with the glue (scripts/build.sh), so nothing else can import the glue itself.
export { default as _initWasm } from './voice_end_call.js';
export const _relayRequest = (callId, endToken, apiBaseUrl) => thrown(wasm.relayRequest(callId, endToken, apiBaseUrl));

// The module's exports return their error instead of throwing it (every error is an
// EndCallError; see src/api.rs): thrown here.
function thrown(result) {
  if (result instanceof EndCallError) throw result;
  return result;
}

let loading; // the one init promise, kept while it is pending or fulfilled
let ready = false;

/**
 * Load the WebAssembly module. Idempotent: later calls return the same promise.
 * @param {unknown} [moduleOrPath] URL, Response, bytes or WebAssembly.Module of
 *   `voice_end_call_bg.wasm`; defaults to the file next to this module, or to the copy
 *   inlined in the package when that file cannot be loaded (see loadDefault).
 */
export default function init(moduleOrPath) {
  if (!loading) {
    if (moduleOrPath === undefined) moduleOrPath = nodeDefaultInput();
    if (moduleOrPath instanceof EndCallError) return Promise.reject(moduleOrPath); // old Node
    const input =
      moduleOrPath !== null && typeof moduleOrPath === 'object' && 'module_or_path' in moduleOrPath
        ? moduleOrPath
        : { module_or_path: moduleOrPath };
    const violations = watchCspViolations();
    loading = (input.module_or_path === undefined ? loadDefault(violations.seen) : initWasm(input)).then(
      () => {
        violations.stop();
        ready = true;
        // The early pagehide listener, the ends earlier pages of this origin could not send
        // (offline), and the watch for pages that die with a call. One task later, so a
        // configure() right after `await init()` applies to them. Never throws.
        setTimeout(() => wasm.started(), 0);
      },
      // The violation event is queued as a task of its own, after the fetch has failed.
      (cause) =>
        nextTask()
          .then(diagnose)
          .then((messages) => {
            violations.stop();
            loading = undefined; // a failed load may be retried (e.g. after going online)
            const seen = violations.seen;
            const message = messages
              ? messages.loadMessage(cause, seen, cspBlock(seen))
              : `voice-end-call: could not load voice_end_call_bg.wasm (${String(cause?.message ?? cause)}).`;
            throw new EndCallError('not-initialized', message, { cause });
          }),
    );
  }
  return loading;
}

// Node (SSR, scripts, tests): its fetch() cannot read the file: URL the glue would fetch, so
// read the wasm next to this module from disk. process.getBuiltinModule (Node >= 20.16, Deno,
// Bun) keeps `node:` imports out of this module, so bundlers never see one; in a browser
// bundle `process` is absent and this returns undefined (loadDefault applies). Where
// it cannot read the file, the error that init() rejects with.
function nodeDefaultInput() {
  const node = globalThis.process;
  const here = import.meta.url;
  if (typeof node?.versions?.node !== 'string' || typeof here !== 'string' || !here.startsWith('file:')) {
    return undefined;
  }
  // Built by hand, not `new URL(name, import.meta.url)`: bundlers treat that form as an asset.
  const file = new URL(here.replace(/[^/]*$/, 'voice_end_call_bg.wasm'));
  if (typeof node.getBuiltinModule !== 'function') {
    return new EndCallError(
      'not-initialized',
      `voice-end-call: init() with no argument needs Node 20.16 or later to find voice_end_call_bg.wasm; pass its bytes instead: await init(await readFile(new URL(import.meta.resolve('voice-end-call/voice_end_call_bg.wasm')))) with readFile from 'node:fs/promises'.`,
    );
  }
  return node.getBuiltinModule('node:fs').promises.readFile(file);
}

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

// The messages of the rare paths (the wasm file could not be used), in a chunk of their own
// (js/diagnose.js), so that pages whose init() succeeds never download them; null when that
// chunk cannot be loaded either (offline): the error then says less.
const diagnose = () => import('./diagnose.js').catch(() => null);

// `init()` with no argument, in any toolchain with no configuration (issue 13). Why this shape:
// - The file first, written as `new URL('./x.wasm', import.meta.url)` right here: webpack,
//   Next.js (webpack and Turbopack) and Vite's build recognise that pattern and emit the file,
//   and the browser compiles it while it downloads (instantiateStreaming). That is the normal
//   path and the cheapest one (the wasm alone, no base64).
// - Some toolchains keep the pattern but do not emit the file, or move this module away from
//   it: esbuild and Rollup (404), Vite 7's dev server (its dependency pre-bundling puts this
//   module in .vite/deps/, where Vite answers with index.html), a CSP whose connect-src does
//   not allow the file. Then the same bytes come from
//   voice_end_call_bg.inline.js (base64, made by scripts/build.sh), a dynamic import: bundlers
//   that split chunks (Vite, webpack, Next.js, Rollup with output.dir, esbuild --splitting)
//   make it a chunk of its own that only this path downloads; esbuild without --splitting
//   inlines it into the bundle, which then always carries it.
// - What decides "cannot be loaded" is what came back, not the toolchain: a failed fetch, a
//   status that is not ok, or bytes that do not start with wasm's magic number. A file served
//   as application/wasm is compiled as it streams; its bytes are only checked if that fails,
//   so a CSP without 'wasm-unsafe-eval' (or any other failure of real wasm) still rejects with
//   the error that names its fix, without fetching the inlined copy for nothing.
async function loadDefault(violations) {
  const url = new URL('./voice_end_call_bg.wasm', import.meta.url);
  let response;
  let problem;
  try {
    response = await fetch(url);
    if (!response.ok) problem = `HTTP ${response.status}`;
  } catch (error) {
    await nextTask(); // a CSP violation event, if that is why, comes one task later
    // (worded without "CSP": js/diagnose.js's loadMessage reads that as a block of WebAssembly)
    const block = cspBlock(violations);
    problem = block ? `refused by the page's ${block.effectiveDirective}` : String(error?.message ?? error);
  }
  if (!problem) {
    const type = response.headers.get('content-type') ?? '';
    if (/^application\/wasm\s*(;|$)/i.test(type)) {
      const spare = response.clone();
      try {
        return await initWasm({ module_or_path: response });
      } catch (error) {
        if (isWasm(await spare.arrayBuffer().catch(() => null))) throw error;
      }
    } else {
      const bytes = await response.arrayBuffer().catch(() => null);
      if (isWasm(bytes)) return initWasm({ module_or_path: bytes });
    }
    problem = `the response is not WebAssembly (Content-Type: ${type || 'none'})`;
  }
  let base64;
  try {
    base64 = (await import('./voice_end_call_bg.inline.js'))?.default;
  } catch (error) {
    throw new Error(`${url}: ${problem}; its inlined copy did not load either (${error?.message ?? error})`);
  }
  if (typeof base64 !== 'string') {
    // A bundle that inlines dynamic imports (Rollup's inlineDynamicImports, which its error for
    // output.file suggests) puts the copy after the app's code: with a top-level `await init()`
    // the import resolves before the copy's module is evaluated, to undefined.
    throw new Error(
      `${url}: ${problem}; its inlined copy is not evaluated yet: a bundle that inlines dynamic imports (Rollup's inlineDynamicImports) runs it after a top-level await. Bundle with output.dir instead, or copy voice_end_call_bg.wasm next to the bundle`,
    );
  }
  await initWasm({ module_or_path: fromBase64(base64) });
  if (typeof document === 'object') {
    // Before init() resolves, so that the notice is there when the app goes on.
    const messages = await diagnose();
    if (messages) console.info(messages.inlineNotice(url, problem, cspBlock(violations)));
  }
}

function isWasm(bytes) {
  const head = bytes ? new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength)) : [];
  return head.length === 4 && head[0] === 0x00 && head[1] === 0x61 && head[2] === 0x73 && head[3] === 0x6d;
}

function fromBase64(text) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// While init() runs, note the page's CSP violations: a blocked fetch of the .wasm file
// rejects with a bare "Failed to fetch", and only the violation event says why.
function watchCspViolations() {
  const seen = [];
  const target = typeof document === 'object' && document ? document : null;
  const note = (event) => seen.push(event);
  target?.addEventListener('securitypolicyviolation', note);
  return { seen, stop: () => target?.removeEventListener('securitypolicyviolation', note) };
}

/** The CSP violation that blocked fetching the .wasm file, if one did. */
function cspBlock(violations) {
  return violations.find(
    (v) => /^connect-src|^default-src/.test(v.effectiveDirective) && /\.wasm($|\?)/.test(v.blockedURI),
  );
}

function notReady(name) {
  return new EndCallError(
    'not-initialized',
    `voice-end-call: ${name}() was called before init() resolved; await init() first.`,
  );
}

/** Update options; throws EndCallError('config') and keeps the old options on bad input. */
export function configure(options) {
  if (!ready) throw notReady('configure');
  thrown(wasm.configure(options));
}

/** Arm page-leave ending for a call; returns its id. */
export function trackCall(call) {
  if (!ready) throw notReady('trackCall');
  return thrown(wasm.trackCall(call));
}

/**
 * End a call now. Every failure, including not-initialized, is a rejection. With
 * `options.ifTracked: true` only a call that is tracked (or being ended) is ended; one that
 * is already over (or was never tracked, or init() has not resolved) resolves `null`.
 */
export function endCall(callId, options) {
  const split = splitIfTracked(options);
  if (split) {
    const { ifTracked, rest } = split;
    if (ifTracked !== undefined && typeof ifTracked !== 'boolean') {
      return Promise.reject(new EndCallError('config', 'voice-end-call: endCall options.ifTracked must be a boolean.'));
    }
    if (ifTracked) {
      if (rest.endToken !== undefined) {
        return Promise.reject(
          new EndCallError(
            'config',
            'voice-end-call: endCall options.ifTracked ends only tracked calls, with their own token; drop endToken or ifTracked.',
          ),
        );
      }
      // Before init() nothing can be tracked. Otherwise the module decides, in one step:
      // a tracked call is ended, an end in flight is shared, anything else is 'not-tracked'.
      if (!ready) return Promise.resolve(null);
      return wasm.endCall(callId, rest).catch((error) => {
        if (error instanceof EndCallError && error.kind === 'not-tracked') return null;
        throw error;
      });
    }
    options = rest;
  }
  if (!ready) return Promise.reject(notReady('endCall'));
  return wasm.endCall(callId, options);
}

// `options` without its `ifTracked` key, when it has one. Reading a hostile object (a Proxy
// whose traps throw, a revoked Proxy, a throwing getter) must not throw out of endCall: such
// options are left to the module, which rejects them with a typed 'config' error.
function splitIfTracked(options) {
  try {
    if (options === null || typeof options !== 'object' || !Object.prototype.hasOwnProperty.call(options, 'ifTracked')) {
      return undefined;
    }
    const { ifTracked, ...rest } = options;
    return { ifTracked, rest };
  } catch {
    return undefined;
  }
}

/** Forget a call without ending it; whether it was tracked (false before init(): nothing is). */
export function untrackCall(callId) {
  if (!ready) return false;
  return thrown(wasm.untrackCall(callId));
}

/** The ids of the calls armed for page-leave ending ([] before init(): nothing is). */
export function trackedCalls() {
  if (!ready) return [];
  return thrown(wasm.trackedCalls());
}

/**
 * Subscribe to ended calls: `endCall` successes (`via: 'manual'`, with `response`), ends sent on
 * an uncancelled `beforeunload` (`'beforeunload'`), and — when the page comes back from the
 * back/forward cache — the calls ended as it entered it (`'pagehide'`). Returns unsubscribe.
 */
export function onCallEnded(listener) {
  if (!ready) throw notReady('onCallEnded');
  return thrown(wasm.onCallEnded(listener));
}
