#!/usr/bin/env bash
# Configures (once) and builds Hotpatch in build/ with Ninja, two jobs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${HOTPATCH_BUILD_DIR:-$ROOT/build}"

bash "$ROOT/scripts/setup.sh"
if [[ ! -f "$BUILD/build.ninja" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=/usr/lib/llvm-19/bin/clang \
    -DCMAKE_CXX_COMPILER=/usr/lib/llvm-19/bin/clang++ >/dev/null
fi
cmake --build "$BUILD" -j 2
