#!/usr/bin/env bash
# Builds (configuring first if needed) and runs the scale benchmark: the thin
# link of a one-function edit against programs of 50, 200 and 1,000 files
# (about 2,500 to 51,000 functions), as the thinlink command and in one
# process as hotpatch dev runs it, and along a chain of patches; a relink of
# all objects with ld.lld is the baseline measured in the same run.
# docs/performance.md ("Thin link against program size") comes from it.
#
# Usage: bench/run-scale.sh [build-dir] [driver options]
#   build-dir       defaults to build/ in the repository root
#   driver options  --sizes 50,200,1000, --rounds N, --chain N, --raw, --strict
#                   (see bench/scale/run_scale.py)
# The first run compiles the programs (1,250 files at -O1 -g): about 15
# minutes on two cores.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cmake --build "$BUILD" --target hotpatch_bench_scale_deps -j 2
echo "nproc: $(nproc)"
exec python3 "$ROOT/bench/scale/run_scale.py" \
  --config "$BUILD/bench/scale/scale-config.json" "$@"
