#!/usr/bin/env bash
# Builds dist/: exactly the files the npm package ships.
#   wasm (release, size profile, no std) → wasm-bindgen (web target) → wasm-opt -Oz → short
#   import names → minified glue, entry and error class + types.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# No `std` feature: the crate brings its own panic handler (see Cargo.toml).
# Without reference-types and multivalue (on by default for wasm32 since Rust 1.82): wasm-bindgen
# then keeps JS values in a JS array instead of an externref table and returns results through
# memory, which is smaller in all (see docs/size.md). Only this build: the tests compile with the
# defaults. The precompiled `core` still lists both features in the `target_features` section,
# which is what wasm-bindgen goes by, so that section goes before wasm-bindgen reads the module.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=-reference-types,-multivalue" \
  cargo build --release --lib --target wasm32-unknown-unknown --no-default-features
rm -rf dist target/voice_end_call.wasm
cp target/wasm32-unknown-unknown/release/voice_end_call.wasm target/voice_end_call.wasm
node scripts/strip-custom-sections.mjs target/voice_end_call.wasm target_features
# --encode-into always: no TextEncoder.encodeInto fallback (Safari 14.1+; the entry's own
# `Object.hasOwn` use in trackCall already needs 15.4). --omit-default-module-path: no default
# wasm URL in the glue; js/index.js always passes what to load, and has its own URL for bundlers.
.tools/bin/wasm-bindgen --target web --no-typescript --out-dir dist --out-name voice_end_call \
  --encode-into always --omit-default-module-path target/voice_end_call.wasm
# binaryen from npm: Debian's wasm-opt 108 emits modules that fail to instantiate.
# --converge repeats -Oz until it stops shrinking; the two custom sections are tool metadata
# that no browser reads (0.35 KB less, brotli, together). With no target_features section to go
# by, wasm-opt is told the features the module uses: rustc's defaults for wasm32 less the two
# turned off above (a use of anything else fails validation here, not in a browser).
# --low-memory-unused: addresses below 1024 are never used (rustc puts the 1 MiB stack first,
# growing down towards 0, then the data; the allocator takes pages above both), so wasm-opt may
# fold constant address parts into load/store offsets.
# --one-caller-inline-max-function-size=30: -Oz inlines every function that has one caller
# whatever its size; keeping the larger ones as functions makes the module 1% larger raw but
# 2.7% smaller brotli (0.7 KB): the repeated shapes compress better than one merged body.
# 15 to 40 all give most of it (measured: 10 -0.54 KB, 20 -0.68, 30 -0.70, 40 -0.60, 80 -0.32).
node_modules/.bin/wasm-opt -Oz --converge --strip-producers --strip-target-features \
  --mvp-features --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals \
  --low-memory-unused --one-caller-inline-max-function-size=30 \
  dist/voice_end_call_bg.wasm -o dist/voice_end_call_bg.wasm
node scripts/shorten-imports.mjs dist/voice_end_call_bg.wasm dist/voice_end_call.js
node scripts/trim-glue.mjs dist/voice_end_call.js
# The same bytes as base64 in a module of their own, for init() when the file cannot be loaded
# (a bundler that does not emit it, Vite 7's dev server; see loadDefault in js/index.js). Made
# from the final wasm, so the two are always the same module; a dynamic import, so bundlers
# that split chunks download it only then.
node --input-type=module -e "
  import { readFileSync, writeFileSync } from 'node:fs';
  const base64 = readFileSync('dist/voice_end_call_bg.wasm').toString('base64');
  writeFileSync('dist/voice_end_call_bg.inline.js', 'export default \"' + base64 + '\";\n');"
node scripts/minify-js.mjs dist/voice_end_call.js

# The JS the Rust side imports (js/errors.js, js/locks.js) is copied as wasm-bindgen snippets;
# minified like the glue (locks.js 0.6 KB less, brotli).
for file in dist/snippets/*/js/*.js; do node scripts/minify-js.mjs "$file"; done
# The EndCallError class is a snippet (so Rust can construct it); give it a stable path for the
# JS entry, which must have the very same class.
snippet=$(cd dist && ls snippets/*/js/errors.js)
printf "export { EndCallError } from './%s';\n" "$snippet" > dist/errors.js
cp js/index.js js/index.d.ts js/react.js js/react.d.ts dist/
# The entries are minified like the glue (0.8 KB less, brotli); js/ holds the readable source.
node scripts/minify-js.mjs dist/index.js
node scripts/minify-js.mjs dist/react.js
# terser drops directives; Next.js needs this one to use the hook from client components.
printf '"use client";%s' "$(cat dist/react.js)" > dist/react.js
echo "build: dist/ ready ($(du -sb dist | cut -f1) bytes)"
