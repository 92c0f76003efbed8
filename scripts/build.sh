#!/usr/bin/env bash
# Builds dist/: exactly the files the npm package ships.
#   scripts/wasm-pipeline.sh (release wasm, no std → wasm-bindgen → wasm-opt → short import
#   names → trimmed, minified glue and snippets) → inlined copy, entries and types; the
#   server-side relay as is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The wasm and its glue: release, size profile, no `std` feature (the crate brings its own
# panic handler, see Cargo.toml), then wasm-bindgen, wasm-opt and the glue's post-processing.
rm -rf dist
bash scripts/wasm-pipeline.sh Cargo.toml voice_end_call target dist --no-default-features
# The same bytes as base64 in a module of their own, for init() when the file cannot be loaded
# (a bundler that does not emit it, Vite 7's dev server; see loadDefault in js/index.js). Made
# from the final wasm, so the two are always the same module; a dynamic import, so bundlers
# that split chunks download it only then.
node --input-type=module -e "
  import { readFileSync, writeFileSync } from 'node:fs';
  const base64 = readFileSync('dist/voice_end_call_bg.wasm').toString('base64');
  writeFileSync('dist/voice_end_call_bg.inline.js', 'export default \"' + base64 + '\";\n');"

# The EndCallError class is a wasm-bindgen snippet (so Rust can construct it); give it a
# stable path for the JS entry, which must have the very same class.
snippet=$(cd dist && ls snippets/*/js/errors.js)
printf "export { EndCallError } from './%s';\n" "$snippet" > dist/errors.js
cp js/index.js js/index.d.ts js/react.js js/react.d.ts dist/
# voice-end-call/relay runs on servers: copied as written (readable, not minified), so whoever
# deploys it can audit what happens to a token.
cp js/relay.js js/relay.d.ts dist/
# The entries are minified like the glue (0.8 KB less, brotli); js/ holds the readable source.
node scripts/minify-js.mjs dist/index.js
node scripts/minify-js.mjs dist/react.js
# terser drops directives; Next.js needs this one to use the hook from client components.
printf '"use client";%s' "$(cat dist/react.js)" > dist/react.js
echo "build: dist/ ready ($(du -sb dist | cut -f1) bytes)"
