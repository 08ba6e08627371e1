#!/usr/bin/env bash
# A working day: 5,000 patches made with thinlink --patch and applied in
# order to one running program, with figures (time to make and to apply a
# patch, first 100 against last 100; address space, mappings and resident
# memory). docs/performance.md ("A working day") comes from it.
#
# Usage: bench/run-working-day.sh [build-dir] [--count N] [--resume | --apply-only]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cmake --build "$BUILD" --target thinlink hotpatch_runtime hotpatch_plugin -j 2
exec python3 "$ROOT/bench/working-day/working_day.py" --build "$BUILD" \
  --workdir "$BUILD/bench/working-day" "$@"
