#!/usr/bin/env bash
# `npm run bench:delivery`: build dist/, then the delivery benchmark (scripts/bench-delivery.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browsers
bash scripts/build.sh
status=0
node scripts/bench-delivery.mjs "$@" || status=$?
# The table is written even when a check failed (exit 1): the figures are the point.
[ -f bench-results/delivery.json ] && node scripts/support-table.mjs > /dev/null
exit "$status"
