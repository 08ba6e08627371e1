#!/usr/bin/env bash
# Builds (configuring first if needed) and runs the fat-link benchmark:
# thinlink's fat link against ld.lld's on a generated program of 10,000
# functions in 200 files, the module cache's size against the binary, and
# the time to load the cache. The figures in docs/performance.md ("Fat link")
# come from it.
#
# Usage: bench/run-fatlink.sh [build-dir] [driver options]
#   build-dir       defaults to build/ in the repository root
#   driver options  --rounds N, --loads N, --builds N, --phases N, --raw,
#                   --strict (see bench/fatlink/run_fatlink.py)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# Generates the program (first time only) and compiles its 201 files, builds
# thinlink, the runtime and the benchmark's helpers.
cmake --build "$BUILD" --target hotpatch_bench_fatlink_deps -j 2
echo "nproc: $(nproc)"
exec python3 "$ROOT/bench/fatlink/run_fatlink.py" \
  --config "$BUILD/bench/fatlink/fatlink-config.json" "$@"
