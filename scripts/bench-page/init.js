// The page scripts/bench.mjs opens, fresh each time, to time loading one module: the import of
// its entry and `await init()` (the entry fetches the wasm next to it and compiles it while it
// streams). ?module=package: the package (/dist/index.js); ?module=minimal: the bench's minimal
// wasm-bindgen module (scripts/bench-minimal/, built the same way). Sets window.initMs, then
// window.ready.
const ENTRIES = { package: '/dist/index.js', minimal: '/minimal/index.js' };
const entry = ENTRIES[new URLSearchParams(location.search).get('module')];

const t0 = performance.now();
const lib = await import(entry);
await lib.default();
window.initMs = performance.now() - t0;
window.lib = lib;
window.ready = true;
