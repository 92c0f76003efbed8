#!/usr/bin/env bash
# `npm run bench`: build dist/, then measure sizes, browser timings and delivery (scripts/bench.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
node scripts/bench.mjs "$@"
