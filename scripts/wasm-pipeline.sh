#!/usr/bin/env bash
# The wasm half of a build: a crate's cdylib → the wasm and JS a page loads, each step as small
# as we know how (every flag is measured in docs/size.md). scripts/build.sh runs it for the
# package; the bench runs it for its minimal comparison module (scripts/bench-minimal/), so
# that both go through exactly the same steps.
#
# Usage: bash scripts/wasm-pipeline.sh <Cargo.toml> <lib name> <target dir> <out dir> [cargo build args...]
# Writes <out dir>/<lib>.js (glue), <out dir>/<lib>_bg.wasm and <out dir>/snippets/, all
# minified, and <target dir>/<lib>_bg.named.wasm: the very same module plus its name section
# (function names), which the bench's size ledger reads (scripts/lib/ledger.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 4 ] || { echo "usage: bash scripts/wasm-pipeline.sh <Cargo.toml> <lib name> <target dir> <out dir> [cargo build args...]" >&2; exit 2; }
manifest=$1 lib=$2 target=$3 out=$4
shift 4

# Without reference-types and multivalue (on by default for wasm32 since Rust 1.82): wasm-bindgen
# then keeps JS values in a JS array instead of an externref table and returns results through
# memory, which is smaller in all. Only this build: the tests compile with the defaults. The
# precompiled `core` still lists both features in the `target_features` section, which is what
# wasm-bindgen goes by, so that section goes before wasm-bindgen reads the module.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=-reference-types,-multivalue" \
  cargo build --release --lib --target wasm32-unknown-unknown --manifest-path "$manifest" \
  --target-dir "$target" "$@"
input="$target/$lib.wasm"
cp "$target/wasm32-unknown-unknown/release/$lib.wasm" "$input"
node scripts/strip-custom-sections.mjs "$input" target_features

# --encode-into always: no TextEncoder.encodeInto fallback (Safari 14.1+; the package's
# trackCall already needs Object.hasOwn, 15.4). --omit-default-module-path: no default wasm URL
# in the glue; the entry always passes what to load (js/index.js has its own URL for bundlers).
rm -rf "$out"
.tools/bin/wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name "$lib" \
  --encode-into always --omit-default-module-path "$input"

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
# -g keeps the function names (the name section) in the named copy; stripping that section
# gives the shipped module byte for byte (checked by the bench: the ledger needs it so).
named="$target/${lib}_bg.named.wasm"
node_modules/.bin/wasm-opt -Oz --converge --strip-producers --strip-target-features \
  --mvp-features --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals \
  --low-memory-unused --one-caller-inline-max-function-size=30 -g \
  "$out/${lib}_bg.wasm" -o "$named"
node scripts/shorten-imports.mjs "$named" "$out/$lib.js"
cp "$named" "$out/${lib}_bg.wasm"
node scripts/strip-custom-sections.mjs "$out/${lib}_bg.wasm" name
node scripts/trim-glue.mjs "$out/$lib.js"

# Minified: the glue (about 1.4 KB less, brotli) and the JS the Rust side imports, which
# wasm-bindgen copies as snippets (js/locks.js 0.9 KB less).
node scripts/minify-js.mjs "$out/$lib.js"
if [ -d "$out/snippets" ]; then
  find "$out/snippets" -name '*.js' -print0 | while IFS= read -r -d '' file; do node scripts/minify-js.mjs "$file"; done
fi
# The short names' post-condition, on the files as shipped.
node scripts/shorten-imports.mjs --check "$out/${lib}_bg.wasm" "$out/$lib.js"
