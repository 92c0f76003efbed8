#!/usr/bin/env bash
# Builds dist/: exactly the files the npm package ships.
#   scripts/wasm-pipeline.sh (release wasm, no std → wasm-bindgen → wasm-opt → short import
#   names → trimmed, minified glue and snippets, in target/glue/) → the wasm and its inlined
#   copy; the entry bundled with the glue and snippets; the React entry and types; the
#   server-side relay as is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The wasm and its glue: release, size profile, no `std` feature (the crate brings its own
# panic handler, see Cargo.toml), then wasm-bindgen, wasm-opt and the glue's post-processing,
# into a staging folder: the page loads them bundled into dist/index.js (below).
rm -rf dist
stage=target/glue
bash scripts/wasm-pipeline.sh Cargo.toml voice_end_call target "$stage" --no-default-features
mkdir -p dist
cp "$stage/voice_end_call_bg.wasm" dist/
# The same bytes as base64 in a module of their own, for init() when the file cannot be loaded
# (a bundler that does not emit it, Vite 7's dev server; see loadDefault in js/index.js). Made
# from the final wasm, so the two are always the same module; a dynamic import, so bundlers
# that split chunks download it only then.
node --input-type=module -e "
  import { readFileSync, writeFileSync } from 'node:fs';
  const base64 = readFileSync('dist/voice_end_call_bg.wasm').toString('base64');
  writeFileSync('dist/voice_end_call_bg.inline.js', 'export default \"' + base64 + '\";\n');"

# The EndCallError class is a wasm-bindgen snippet (so Rust can construct it); the entry
# imports it by a stable path, so that both have the very same class.
snippet=$(cd "$stage" && ls snippets/*/js/errors.js)
printf "export { EndCallError } from './%s';\n" "$snippet" > "$stage/errors.js"
cp js/index.js "$stage/"
# One module for everything a page loads besides the wasm: the entry, the glue and the JS the
# Rust side imports (its snippets), bundled and then minified like the glue. Together they
# compress 0.9 KB (brotli) smaller than as the five files they are written as, and a page
# makes one request instead of five. The inlined copy stays a chunk of its own (dynamic
# import, external), and `new URL('./voice_end_call_bg.wasm', import.meta.url)` is kept as
# written, so bundlers still find the file.
node_modules/.bin/esbuild "$stage/index.js" --bundle --format=esm --platform=neutral \
  --external:./voice_end_call_bg.inline.js --external:./diagnose.js --log-level=warning --outfile=dist/index.js
node scripts/minify-js.mjs dist/index.js
# init()'s messages for when the wasm file cannot be used: a chunk of its own, imported only
# then (js/index.js), so that a page whose init() succeeds does not download them.
cp js/diagnose.js dist/
node scripts/minify-js.mjs dist/diagnose.js
# The short names' post-condition, on the module as shipped.
node scripts/shorten-imports.mjs --check dist/voice_end_call_bg.wasm dist/index.js
cp js/index.d.ts js/react.js js/react.d.ts dist/
# voice-end-call/relay runs on servers: copied as written (readable, not minified), so whoever
# deploys it can audit what happens to a token.
cp js/relay.js js/relay.d.ts dist/
node scripts/minify-js.mjs dist/react.js
# terser drops directives; Next.js needs this one to use the hook from client components.
printf '"use client";%s' "$(cat dist/react.js)" > dist/react.js
echo "build: dist/ ready ($(du -sb dist | cut -f1) bytes)"
