#!/usr/bin/env bash
# Builds everything with AddressSanitizer and UndefinedBehaviorSanitizer
# (-DHOTPATCH_SANITIZE=address,undefined: the runtime, the tools, the tests
# and the programs the tests build; not the plugin, which runs inside clang)
# in its own build directory, and runs the whole test suite there.
#
#   bash scripts/test-sanitized.sh [ctest options, e.g. -R patch_checks]
#
# Slower than scripts/test.sh (the linker's sources take several minutes to
# build instrumented), so not part of it. Any sanitizer report fails the test
# that caused it (-fno-sanitize-recover=all; ASan aborts at its first error).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HOTPATCH_SANITIZE_BUILD_DIR:-$ROOT/build-sanitized}
bash "$ROOT/scripts/setup.sh"
if [[ ! -f $BUILD/build.ninja ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHOTPATCH_SANITIZE=address,undefined
fi
cmake --build "$BUILD" -j 2
# Leaks are not errors here: the tools exit with what they allocated, and
# the runtime keeps every patch for the life of the program by design.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD" && ctest --output-on-failure -j 2 "$@"
