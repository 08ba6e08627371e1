#!/usr/bin/env bash
# The main job: builds Hotpatch and runs the bundled example, whose hot
# function is redirected while the program runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${HOTPATCH_BUILD_DIR:-$ROOT/build}"

bash "$ROOT/scripts/build.sh"
echo "== examples/ticker: describe() is hot; it is redirected after 3 ticks =="
"$BUILD/examples/ticker/ticker" --ticks 6 --redirect-after 3
