#!/usr/bin/env bash
# Installs whatever is missing, idempotently: the wasm target, the exact wasm-bindgen-cli
# (into .tools/), npm packages from the lockfile, and — with --browsers — Debian's Chromium
# and ChromeDriver (when running as root). Safe to run again; does nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browsers=0
for arg in "$@"; do
  case "$arg" in
    --browsers) want_browsers=1 ;;
    *) echo "setup.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*" >&2; }

# 1. Rust target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen-cli, exactly the version Cargo.toml pins (the glue must match the crate).
version=$(sed -n 's/^wasm-bindgen = .*"=\([0-9.]*\)".*$/\1/p' Cargo.toml)
[ -n "$version" ] || { say "no exact wasm-bindgen pin found in Cargo.toml"; exit 1; }
if ! { [ -x .tools/bin/wasm-bindgen ] && .tools/bin/wasm-bindgen --version | grep -qx "wasm-bindgen $version" \
       && [ -x .tools/bin/wasm-bindgen-test-runner ]; }; then
  say "installing wasm-bindgen-cli $version into .tools/ (a few minutes the first time)"
  # No --locked: it fails against this registry (see README). The build directory is kept
  # outside the clone so that a fresh clone on the same machine reinstalls in seconds.
  cargo install wasm-bindgen-cli --version "$version" --root .tools --force \
    --target-dir "${XDG_CACHE_HOME:-$HOME/.cache}/voice-end-call/wasm-bindgen-cli-$version"
fi

# 3. npm packages, from the committed lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 4. Browsers for the tests: Chromium (+ driver), Firefox ESR, WebKitGTK's WebDriver with
#    MiniBrowser, and Xvfb (WebKit needs a display even when nobody looks).
if [ "$want_browsers" = 1 ]; then
  missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
  command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
  command -v WebKitWebDriver >/dev/null 2>&1 || missing+=(webkit2gtk-driver)
  command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      say "installing ${missing[*]} from Debian"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      say "missing ${missing[*]}: install them (sudo apt-get install ${missing[*]}) and run again"
      exit 1
    fi
  fi
fi
