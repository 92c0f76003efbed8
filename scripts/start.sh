#!/usr/bin/env bash
# `npm start`: build the package, then run the demo (stand-in API + page). Args go to the
# demo server, e.g. npm start -- --port 9000 --api-port 9001.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec node scripts/demo-server.mjs "$@"
