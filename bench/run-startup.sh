#!/usr/bin/env bash
# Builds (configuring first if needed) and times the start-up of the
# commands: thinlink (static) against the same thinlink on libLLVM.so, and
# hotpatch (no LLVM) against hotpatch-dev (LLVM and Clang).
# docs/performance.md ("Start-up of the commands") comes from it.
#
# Usage: bench/run-startup.sh [build-dir] [--runs N]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
targets=(thinlink hotpatch_cli hotpatch_dev)
if grep -q '^HOTPATCH_STATIC_THINLINK:BOOL=ON' "$BUILD/CMakeCache.txt"; then
  targets+=(thinlink_shared)
fi
cmake --build "$BUILD" --target "${targets[@]}" -j 2
exec python3 "$ROOT/bench/startup/run_startup.py" --build "$BUILD" "$@"
