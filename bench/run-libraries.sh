#!/usr/bin/env bash
# Runs the libraries benchmark: a generated CMake project of a few thousand
# lines whose code lives in a static library, two shared libraries and a
# dlopen'ed module; for an edit in each, the thin link against that image
# against relinking it with ld.lld, in the same run. docs/performance.md
# ("Libraries") comes from it.
#
# Usage: bench/run-libraries.sh [build-dir] [--rounds N]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cmake --build "$BUILD" -j 2
exec python3 "$ROOT/bench/libraries/run_libraries.py" --build "$BUILD" "$@"
