#!/usr/bin/env bash
# `npm run bench:delivery`: build dist/, then the delivery benchmark (scripts/bench-delivery.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browsers
bash scripts/build.sh
node scripts/bench-delivery.mjs "$@"
