#!/usr/bin/env bash
# `npm test`: every check, in order, one browser suite at a time. Installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }

step "set-up (installs only what is missing)"
bash scripts/setup.sh --browsers

step "format and lints (clippy denies unwrap/expect/panic/indexing in src/)"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --test web_leave --test web_manual --test web_outbox -- -D warnings
# The shipped configuration (no `std`: the crate's own panic handler), as scripts/build.sh builds it.
cargo clippy --target wasm32-unknown-unknown --lib --no-default-features -- -D warnings

step "Rust unit and property tests (host)"
cargo test --test host --test host_retry

step "build the package (dist/)"
bash scripts/build.sh

step "wasm-bindgen tests in headless Chromium, against the stand-in API"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$PWD/.tools/bin/wasm-bindgen-test-runner" \
CHROMEDRIVER="$(command -v chromedriver)" \
  node tests/support/with-standin.mjs cargo test --target wasm32-unknown-unknown --test web_leave --test web_manual --test web_outbox

step "stand-in contract, packaging and end-to-end tests (node --test, headless Chromium)"
# One file at a time (--test-concurrency=1): never two browser suites at once.
node --test --test-concurrency=1 tests/*.test.mjs
