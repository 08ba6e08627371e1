#!/usr/bin/env bash
# Builds (configuring first if needed) and runs the call-cost benchmark:
# ns/call of a hot function in each plugin mode, against a direct call, at
# -O0 and -O2. The figures in docs/performance.md ("Call cost") come from it.
#
# Usage: bench/run-call-cost.sh [build-dir] [driver options]
#   build-dir       defaults to build/ in the repository root
#   driver options  --rounds N, --iters-O2 N, --iters-O0 N, --strict, --raw
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cmake --build "$BUILD" --target hotpatch_bench_call_cost -j 2
echo "nproc: $(nproc)"
exec "$BUILD/bench/hotpatch_bench_call_cost" "$@"
