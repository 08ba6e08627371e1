#!/usr/bin/env bash
# Builds (configuring first if needed) and runs the dev-loop benchmark:
# save-to-new-code-running latency of `hotpatch dev` on examples/counter,
# against the compile of the changed file alone and against a rebuild +
# relink + restart of the same example, all in one run.
# docs/performance.md ("hotpatch dev") comes from it.
#
# Usage: bench/run-dev.sh [build-dir] [driver options]
#   build-dir       defaults to build/ in the repository root
#   driver options  --rounds N, --phases N, --raw, --strict
#                   (see bench/dev/run_dev.py)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# Builds hotpatch, thinlink, the runtime, the plugin and the timeline shim;
# the driver configures and builds its copies of examples/counter itself.
cmake --build "$BUILD" --target hotpatch_bench_dev_deps -j 2
echo "nproc: $(nproc)"
exec python3 "$ROOT/bench/dev/run_dev.py" \
  --config "$BUILD/bench/dev/dev-config.json" "$@"
