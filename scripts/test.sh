#!/usr/bin/env bash
# `npm test`: every check, in order, one browser suite at a time. Installs what is missing.
# Ends with the time each layer took, so slow creep is visible.
set -euo pipefail
cd "$(dirname "$0")/.."

timings=()
current=""
started=0
# Every test runner's output is also kept here, to add up passed/failed at the end.
log=$(mktemp)
step() {
  finish_step
  current="$*"
  started=$SECONDS
  printf '\n== %s\n' "$current"
}
finish_step() {
  if [ -n "$current" ]; then timings+=("$(printf '%5ds  %s' $((SECONDS - started)) "$current")"); fi
  current=""
}
report() {
  local status=$?
  finish_step
  printf '\n== time per layer (%s)\n' "$([ "$status" = 0 ] && echo passed || echo "FAILED, exit $status")"
  printf '%s\n' "${timings[@]}"
  printf '%5ds  total\n' "$SECONDS"
  # Rust: "test result: ok. N passed; M failed"; node: "# pass N" / "# fail N" (or ℹ).
  local passed failed
  passed=$(sed -nE 's/^test result: .* ([0-9]+) passed.*/\1/p; s/^(#|ℹ) pass ([0-9]+)$/\2/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
  failed=$(sed -nE 's/^test result: .* ([0-9]+) failed.*/\1/p; s/^(#|ℹ) fail ([0-9]+)$/\2/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
  rm -f "$log"
  printf 'tests: %s passed, %s failed\n' "${passed:-0}" "${failed:-0}"
}
trap report EXIT

step "set-up (installs only what is missing)"
bash scripts/setup.sh --browsers

step "format and lints (clippy denies unwrap/expect/panic/indexing in src/)"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --test web_leave --test web_manual --test web_outbox --test web_recover -- -D warnings
# The shipped configuration (no `std`: the crate's own panic handler), as scripts/build.sh builds it.
cargo clippy --target wasm32-unknown-unknown --lib --no-default-features -- -D warnings

step "Rust unit and property tests (host)"
cargo test --lib 2>&1 | tee -a "$log"

step "build the package (dist/)"
bash scripts/build.sh

step "wasm-bindgen tests in headless Chromium, against the stand-in API (compile + run)"
# The suites wait on conditions and finish in about a second each; the runner's limit (for
# a whole suite, not a test) is only a guard against a hang, not what keeps them in time.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$PWD/.tools/bin/wasm-bindgen-test-runner" \
CHROMEDRIVER="$(command -v chromedriver)" \
WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-60}" \
  node tests/support/with-standin.mjs cargo test --target wasm32-unknown-unknown --test web_leave --test web_manual --test web_outbox --test web_recover 2>&1 | tee -a "$log"

# Node's test runner, one file at a time (--test-concurrency=1 and one process per file):
# never two browser suites at once, and each file's time is reported.
for file in tests/*.test.mjs; do
  step "node --test $file"
  node --test --test-concurrency=1 "$file" 2>&1 | tee -a "$log"
done
