#!/usr/bin/env bash
# Builds (configuring first if needed) and runs the patch benchmark: on the
# fat-link benchmark's 10,000-function program, the thin link of a
# one-function edit (thinlink --patch), its apply inside the running process,
# the compile of the edited file, and a full relink of all objects with
# ld.lld in the same run as the baseline. docs/performance.md ("Patch")
# comes from it.
#
# Usage: bench/run-patch.sh [build-dir] [driver options]
#   build-dir       defaults to build/ in the repository root
#   driver options  --rounds N, --compiles N, --phases N, --raw, --strict
#                   (see bench/patch/run_patch.py)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# Generates the program (first time only) and compiles its 201 files, builds
# thinlink, hotpatch, the runtime, the plugin and the helpers.
cmake --build "$BUILD" --target hotpatch_bench_patch_deps -j 2
echo "nproc: $(nproc)"
exec python3 "$ROOT/bench/patch/run_patch.py" \
  --config "$BUILD/bench/patch/patch-config.json" "$@"
