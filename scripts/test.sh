#!/usr/bin/env bash
# The whole test suite: installs and builds what it needs, then runs CTest,
# which runs the GoogleTest binaries, the example checks and the lit suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${HOTPATCH_BUILD_DIR:-$ROOT/build}"

bash "$ROOT/scripts/build.sh"
cd "$BUILD"
ctest --output-on-failure -j 2 --timeout 1500
