#!/usr/bin/env bash
# Builds (configuring first if needed) and runs the dev-loop benchmark:
# save-to-new-code-running latency of `hotpatch dev` on examples/counter,
# against the compile of the changed file alone and against a rebuild +
# relink + restart of the same example, all in one run.
# docs/performance.md ("hotpatch dev") comes from it.
#
# Then the resident compiler's benchmark (bench/dev/run_resident.py): per
# file (the http-server example, a file including much of the standard
# library, a small C file), the command-line compile against the first and
# the later saves under `hotpatch dev`.
#
# Then, or alone with --many-files, hotpatch dev's own cost per save on
# generated programs of 200 and 1,000 files (bench/dev/run_manyfiles.py).
#
# Usage: bench/run-dev.sh [build-dir] [--resident-only | --many-files] [driver options]
#   build-dir       defaults to build/ in the repository root
#   --resident-only only the resident compiler's benchmark
#   --many-files    only the many-file benchmark (options: --files 200,1000,
#                   --saves N, --raw, --hotpatch <an earlier hotpatch>)
#   driver options  --rounds N, --phases N, --raw, --strict
#                   (see bench/dev/run_dev.py; run_resident.py takes --rounds
#                   and --raw)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# Builds hotpatch, thinlink, the runtime, the plugin and the timeline shim;
# the driver configures and builds its copies of examples/counter itself.
cmake --build "$BUILD" --target hotpatch_bench_dev_deps -j 2
echo "nproc: $(nproc)"
if [[ "${1:-}" == --many-files ]]; then
  shift
  exec python3 "$ROOT/bench/dev/run_manyfiles.py" --config "$BUILD/bench/dev/dev-config.json" "$@"
fi
if [[ "${1:-}" == --resident-only ]]; then
  shift
else
  python3 "$ROOT/bench/dev/run_dev.py" --config "$BUILD/bench/dev/dev-config.json" "$@"
fi
RESIDENT_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) RESIDENT_ARGS+=("$1" "$2"); shift 2 ;;
    --raw) RESIDENT_ARGS+=("$1"); shift ;;
    --phases) shift 2 ;;
    *) shift ;;
  esac
done
python3 "$ROOT/bench/dev/run_resident.py" \
  --config "$BUILD/bench/dev/dev-config.json" "${RESIDENT_ARGS[@]}"
exec python3 "$ROOT/bench/dev/run_manyfiles.py" --config "$BUILD/bench/dev/dev-config.json"
