# Sourced by bench/run-*.sh. Picks the build directory (the first argument
# unless it is an option; build/ in the repository root by default), installs
# what is missing and configures the build if needed. Leaves ROOT and BUILD
# set and the remaining arguments in "$@".
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
if [[ $# -gt 0 && "$1" != --* ]]; then
  BUILD="$1"
  shift
fi
bash "$ROOT/scripts/setup.sh"
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=/usr/lib/llvm-19/bin/clang \
    -DCMAKE_CXX_COMPILER=/usr/lib/llvm-19/bin/clang++ >/dev/null
fi
