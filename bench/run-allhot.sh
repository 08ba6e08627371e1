#!/usr/bin/env bash
# Builds (configuring first if needed) and runs the all-hot benchmark: three
# real-shaped programs (an interpreter in C, a header-only C++ JSON library's
# workload, a game's frame loop) built plain and with every function hot, at
# -O0, -O1 and -O2, timed interleaved in the same run, with their code sizes.
# docs/performance.md ("All-hot builds") comes from it.
#
# Usage: bench/run-allhot.sh [build-dir] [driver options]
#   build-dir       defaults to build/ in the repository root
#   driver options  --rounds N, --levels O0,O1,O2, --target-ms MS, --raw,
#                   --strict (see bench/allhot/run_allhot.py)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cmake --build "$BUILD" --target hotpatch_plugin hotpatch_runtime thinlink -j 2
echo "nproc: $(nproc)"
exec python3 "$ROOT/bench/allhot/run_allhot.py" --build "$BUILD" "$@"
