// What init() says when the wasm file cannot be used: the error it rejects with, and the notice
// when it fell back to the inlined copy. js/index.js imports this module (a chunk of its own)
// only on those paths, so a page whose init() loads the file never downloads these messages.
// `blocked` is the CSP violation that blocked fetching the .wasm file, if one did.

/** The message of the error init() rejects with when the module could not be loaded. */
export function loadMessage(cause, violations, blocked) {
  const text = String(cause && cause.message ? cause.message : cause);
  if (/Content Security Policy|unsafe-eval|wasm-eval|CSP/i.test(text) || violations.some((v) => v.blockedURI === 'wasm-eval')) {
    return "voice-end-call: the page's Content Security Policy blocks WebAssembly. Add 'wasm-unsafe-eval' to script-src (e.g. script-src 'self' 'wasm-unsafe-eval').";
  }
  if (blocked) {
    return `voice-end-call: the page's Content Security Policy (${blocked.effectiveDirective}) blocks fetching voice_end_call_bg.wasm from ${blocked.blockedURI}. Add its origin (usually 'self') to connect-src, next to the API's origin.`;
  }
  return `voice-end-call: could not load voice_end_call_bg.wasm (${text}). Check that the file is served (with Content-Type application/wasm) and pass its URL to init() if your bundler moved it.`;
}

/** The console notice after init() loaded the inlined copy because `url` could not be used. */
export function inlineNotice(url, problem, blocked) {
  return (
    `voice-end-call: loaded the wasm inlined in the package (about a third larger) because ${url} could not be used: ${problem}. ` +
    (blocked
      ? "Add the page's origin ('self') to connect-src to load the file instead."
      : url.pathname.includes('/.vite/deps/')
        ? "Vite's dev server pre-bundled this module away from the file (builds are not affected): optimizeDeps: { exclude: ['voice-end-call'] } in vite.config loads the file."
        : 'To load the file instead, serve voice_end_call_bg.wasm there or pass its URL to init().')
  );
}
